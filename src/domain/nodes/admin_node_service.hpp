// What an admin does with the nodes of the deployment (#23-#26): search every node the server
// knows (a private deployment: admins see all nodes) by type -> model -> fw_version, admin tags,
// status, subtype and project name; count them by activity; tag them; deactivate and activate
// them at once (the broker's CRL is rewritten, the live connection closed); and, for
// superadmins, the user-node associations both ways.
//
// node_status of a node, from its stored state:
//   deactivated    an admin deactivated it (#24 activate=false): every certificate is refused
//   online         not deactivated, connected now
//   offline        not deactivated, disconnected, but connected at some time before
//   not_activated  not deactivated, never connected to the broker
// and, as filters over a window (start_time, default the last kDefaultActiveWindow):
//   active         not deactivated, connected now or at some time since start_time
//   inactive       not deactivated, connected once, but not since start_time
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/resource_role.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/certificate_revocations.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

inline constexpr std::chrono::hours kDefaultActiveWindow{24 * 30};
inline constexpr std::size_t kMaxNodesPerUpdate = 25;

struct AdminNodeConfig {
    // The time a search (#23: its page, the page's tags and its total) may take in the store;
    // past it the search stops and answers 100001 (config admin.node_search_budget_ms).
    std::chrono::milliseconds search_budget{1000};
};

// The query of #23 as given (nullopt = absent).
struct AdminNodeQuery {
    std::optional<std::string> node_id;
    std::optional<std::string> type;
    std::optional<std::string> model;
    std::optional<std::string> fw_version;
    std::optional<std::string> tags;
    std::optional<std::string> node_status;
    std::optional<std::string> subtype;
    std::optional<std::string> project_name;
    bool summary = false;
    std::optional<std::string> start_time;  // epoch ms
    std::string start_id;                   // exclusive: the next_id of the previous page
    int num_records = 1000;
};

struct AdminNodeInfo {
    storage::NodeRow node;  // config and params are only filled for the single-node answer
    std::vector<std::string> tags;
    std::string node_status;  // deactivated | online | offline | not_activated
    bool with_config = false;
};

struct AdminNodePage {
    std::vector<AdminNodeInfo> nodes;
    std::string next_id;  // "" = last page
    int total = 0;
};

struct NodeCounts {
    int active = 0;
    int inactive = 0;
    int not_activated = 0;
    int deactivated = 0;
};

// One node's outcome in #24.
struct NodeUpdateResult {
    std::string node_id;
    std::optional<core::ErrorCode> error;  // nullopt = done
    std::string description;
};

// #26 answers.
struct UserNodes {
    std::vector<std::string> primary;  // node ids of this page
    std::vector<std::string> secondary;
    int primary_total = 0;
    int secondary_total = 0;
    std::string next_id;
    std::vector<AdminNodeInfo> details;  // node_details=true
};

struct NodeUser {
    std::string user_id;
    std::string user_name;
};

struct NodeUsers {
    std::vector<NodeUser> primary;
    std::vector<NodeUser> secondary;
};

struct UserNodesQuery {
    std::optional<std::string> user_id;
    std::optional<std::string> user_name;
    std::optional<std::string> node_id;
    std::optional<core::NamedRole> role;  // only this role's nodes or users
    bool node_details = false;
    std::string start_id;
    int num_records = 1000;
};

class AdminNodeService {
public:
    AdminNodeService(
        storage::Database& db,
        CertificateRevocations& revocations,
        const core::Clock& clock,
        AdminNodeConfig config = {}
    )
        : db_(db), revocations_(revocations), clock_(clock), config_(config) {}

    // #23 search. Throws kModelNeedsType, kFwNeedsTypeModel, kInvalidNodeStatus, kInvalidTags,
    // kTagOperators, kInvalidStartTime, kInvalidStartId, kInvalidQuery; kSearchTimeBudget when
    // the store takes longer than config.search_budget.
    // For an admin restricted by RBAC node filters (caller.node_scope) only the nodes in reach
    // are found and counted, by the store's query; each node of the page is checked against
    // the scope again, and one out of it fails the search (kInternal, logged).
    AdminNodePage Search(const auth::AuthContext& caller, const AdminNodeQuery& query);
    // #23 node_id: one node with config and params. Throws kNodesNotFound.
    AdminNodeInfo One(const auth::AuthContext& caller, std::string_view node_id);
    // #23 summary=true: counts with `start_time` (epoch ms) as the activity window. Throws
    // kInvalidStartTime.
    // 100004 for an admin restricted by RBAC node filters (the counts span every node).
    NodeCounts Summary(
        const auth::AuthContext& caller, const std::optional<std::string>& start_time
    );

    // #24: for each node of the comma list (at most 25, no repeats), attaches `tags` and/or
    // sets `activate`. Deactivation and activation take effect at once (CRL rewritten and the
    // broker reloaded after the commit). Throws kAdminNodeIdMissing, kTooManyNodes, kActivateFlag,
    // kNoTagsToAttach, kInvalidNodeTag (before any change); per node: kNodesNotFound.
    std::vector<NodeUpdateResult> Update(
        const auth::AuthContext& caller,
        std::string_view node_ids,
        const std::optional<std::string>& activate,
        const std::optional<std::vector<std::string>>& tags,
        bool has_body
    );
    // Deactivates (`active` false) or activates one node (the command line). Throws
    // kNodesNotFound. Returns false when it was so already.
    bool SetActive(std::string_view node_id, bool active);

    // #25: tag names of nodes, or the values of `tag_name`.
    struct Names {
        std::vector<std::string> items;
        std::string next_id;
        int total = 0;
    };

    // 100004 for an admin restricted by RBAC node filters (the names span every node).
    Names NodeTagNames(
        const auth::AuthContext& caller,
        const std::optional<std::string>& tag_name,
        const std::string& start_id,
        int num_records
    );

    // #26 (superadmins). Throws kUserNodesTarget, kUserIdAndNodeId, kUserNameAndNodeId,
    // kUserNodesRole, kUserLookupFailed, kNodesNotFound.
    UserNodes NodesOfUser(const UserNodesQuery& query);
    NodeUsers UsersOfNode(const UserNodesQuery& query);

    // The status word of a node (see above).
    static std::string StatusOf(const storage::NodeRow& node);

private:
    AdminNodeInfo Info(storage::NodeRow node, bool with_config);
    // Throws kInternal (logged) when the caller's RBAC scope leaves out the node of `info`.
    static void CheckInScope(const auth::AuthContext& caller, const AdminNodeInfo& info);

    storage::Database& db_;
    CertificateRevocations& revocations_;
    const core::Clock& clock_;
    AdminNodeConfig config_;
};

}  // namespace rainmaker::domain::nodes

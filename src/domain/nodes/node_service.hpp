// What a user does with nodes: list them with their details, read config, status and params,
// set params (checked against the config, sent to the node), tag them and keep metadata.
// Access: only a user mapped to the node (primary) may read or control it; the sharing issue
// extends RequireMapping into the full access model.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/error.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

struct NodeListQuery {
    std::optional<std::string> node_id;
    bool node_details = false;
    bool status = true;
    bool config = true;
    bool params = true;
    bool show_tags = true;
    bool is_matter = false;
    std::string start_id;
    int num_records = 1000;
    std::optional<std::string> tags;  // "k:v OR k:v" / "k:v AND k:v" / "k:v"
};

class NodeService {
public:
    NodeService(storage::Database& db, NodePublisher& publisher);

    // #9. Throws kNodeNotOwned (node_id form), kTagOperators, kInvalidNodeTag.
    boost::json::object ListNodes(const auth::AuthContext& caller, const NodeListQuery& query);
    // #11. Throws kNodeNotOwned, kConfigNotFound.
    boost::json::value GetConfig(const auth::AuthContext& caller, std::string_view node_id);
    // #22. Throws kNodeNotOwnedAlt.
    boost::json::object GetStatus(const auth::AuthContext& caller, std::string_view node_id);
    // #28. Throws kNodeNotOwned, kNoReportedState.
    boost::json::value GetParams(const auth::AuthContext& caller, std::string_view node_id);
    // #27. Validates `delta` against the node's config and publishes it on params/remote.
    // Throws kNodeNotOwned, kConfigNotFound, kInvalidBody, kParamsUpdateFailed.
    void SetParams(
        const auth::AuthContext& caller, std::string_view node_id, const boost::json::object& delta
    );
    // #10 (and DELETE /user/nodes): adds (or removes) tags, merges metadata, sets the admin
    // access grant. Throws kNodeNotOwnedAlt, kInvalidNodeTag, kInvalidBody.
    void UpdateNode(
        const auth::AuthContext& caller,
        std::string_view node_id,
        const std::optional<std::vector<std::string>>& add_tags,
        const std::optional<std::vector<std::string>>& remove_tags,
        const boost::json::value* metadata,
        const std::optional<std::string>& grant_admin_access
    );

    // The caller's node_details entry for one node, as `query` shapes it; nullopt when the
    // caller has no access to it (or it is gone).
    std::optional<boost::json::object> DetailsFor(
        const auth::AuthContext& caller, std::string_view node_id, const NodeListQuery& query
    );

    // An admin's view of any node: id, type, model, firmware version and connectivity;
    // nullopt for an unknown node.
    std::optional<boost::json::object> Summary(std::string_view node_id);

    // The caller's mapping of the node; throws `error` when there is none.
    storage::UserNodeRow RequireMapping(
        const auth::AuthContext& caller, std::string_view node_id, core::ErrorCode error
    );

private:
    boost::json::object Details(
        const storage::UserNodeRow& mapping,
        const storage::NodeRow& node,
        const NodeListQuery& query
    ) const;

    storage::Database& db_;
    NodePublisher& publisher_;
};

// Connectivity as the clients read it: {"connected": bool, "timestamp": unix ms}.
boost::json::object Connectivity(const storage::NodeRow& node);

}  // namespace rainmaker::domain::nodes

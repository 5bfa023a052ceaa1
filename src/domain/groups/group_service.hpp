// User node groups (#56-#59): homes, rooms and sub-rooms of one owner, at most three levels,
// a sub-group's nodes a subset of its parent's, and mutually exclusive groups per (type,
// parent). A group shared with other users (domain/sharing/group_sharing_service.hpp) is
// theirs to read and leave; only its owner changes it. A home with is_matter is a Matter
// fabric (domain/groups/fabric_service.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/resource_role.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/groups/fabric_service.hpp"
#include "domain/nodes/node_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::groups {

// User groups (homes and rooms, shareable) or admin groups (fleet groups of any node, by list
// or by node type/model/firmware version), one service instance each.
enum class GroupKind { kUser, kAdmin };

struct GroupFields {
    std::optional<std::string> group_name;
    std::optional<std::string> parent_group_id;  // create only
    std::optional<std::string> type;
    std::optional<bool> mutually_exclusive;
    std::optional<std::vector<std::string>> nodes;
    std::optional<std::string> operation;  // update only: add | remove
    std::optional<std::string> description;
    std::optional<boost::json::value> group_metadata;
    std::optional<boost::json::value> custom_data;
    std::optional<bool> is_matter;
    bool matter = false;  // is_matter true or any other fabric member in the body
    // Admin dynamic groups: the group_query (create) and its re-evaluation (update).
    std::optional<std::string> node_type;
    std::optional<std::string> node_model;
    std::optional<std::string> node_fw_version;
    std::optional<bool> regroup;
};

struct GroupQuery {
    std::optional<std::string> group_id;
    std::optional<std::string> group_name;
    bool node_list = false;
    bool sub_groups = false;
    bool node_details = false;
    bool is_matter = false;         // fabrics only
    bool fabric_details = false;    // each fabric's fabric_details
    bool matter_node_list = false;  // with group_id / group_name: the fabric's devices
    // Admin: the groups made from exactly this group_query.
    std::optional<std::string> node_type;
    std::optional<std::string> node_model;
    std::optional<std::string> node_fw_version;
    std::string start_id;
    int num_records = 25;
};

// What a user holds in a group: its owner holds it as primary; anyone else, their share's
// role (the best of their shares of it and of its parents).
struct GroupRole {
    core::ResourceRole role = core::ResourceRole::kSecondary;
    bool owner = false;

    bool Primary() const { return role == core::ResourceRole::kPrimary; }
};

// The user's role in the group (shared with the user, or with the user through a parent
// group); nullopt when the user holds none.
std::optional<GroupRole> RoleInGroup(
    storage::Database& db, std::string_view user_id, const storage::GroupRow& group
);

// Whether the group has a parent the user may see (a sub-group shared alone does not name
// the parent it came from).
bool ParentVisible(storage::Database& db, std::string_view user_id, const storage::GroupRow& group);

struct GroupLimits {
    // Groups one user owns, at any level (user groups; admins are not limited). 0 = no limit.
    int max_per_user = 1000;
    // Matter fabrics (homes with is_matter) one user owns; each holds its own root CA. 0 = no
    // limit.
    int max_matter_fabrics_per_user = 20;
};

class GroupService {
public:
    GroupService(
        storage::Database& db,
        nodes::NodeService& nodes,
        const core::Clock& clock,
        GroupKind kind = GroupKind::kUser,
        GroupLimits limits = {},
        FabricService* fabrics = nullptr  // null: Matter fabrics are refused (100012)
    );

    // #56: returns the new group id.
    std::string Create(const auth::AuthContext& caller, const GroupFields& fields);
    // #57
    void Update(
        const auth::AuthContext& caller, std::string_view group_id, const GroupFields& fields
    );
    // #58: {"groups": [...]} (+ next_id and total when listing).
    boost::json::object Get(const auth::AuthContext& caller, const GroupQuery& query);
    // #59: the owner deletes the group and its sub-groups (108028 while an active OTA job
    // names one of them); `leave` (the default for a secondary) leaves it. remove_sharing goes
    // to the group sharing service.
    void Delete(const auth::AuthContext& caller, std::string_view group_id, bool leave);
    // The user's account goes: every share of their groups goes first, with what it gave.
    // Call inside the deletion's transaction.
    void ForgetOwner(std::string_view user_id);
    // Takes `user_id`'s share of the group away, with the access it gave (no permission
    // check: the callers have made theirs).
    void RemoveShare(const storage::GroupRow& group, std::string_view user_id);
    // The group or, for another user's group the caller may only read, 108056.
    storage::GroupRow RequireOwned(const auth::AuthContext& caller, std::string_view group_id);
    // A group the caller owns or that is shared with them, else 108023.
    storage::GroupRow RequireVisible(const auth::AuthContext& caller, std::string_view group_id);
    // Makes `heir` the owner of the top-level `group` and its sub-groups (the owner leaving,
    // or a transfer): the heir holds in their own right what `from` holds directly; a node
    // `from` has only through someone else's group leaves the group; the group's other share
    // holders follow the heir's roles. Checks CheckHandOver first.
    void HandOver(const storage::GroupRow& group, std::string_view from, std::string_view heir);
    // `heir` may own the group: no group of theirs with its name at its level, and the
    // mutual exclusion of their groups holds with its nodes.
    void CheckHandOver(const storage::GroupRow& group, std::string_view heir);
    // The group and every group below it, parents before children.
    std::vector<storage::GroupRow> Tree(const storage::GroupRow& group);

    // {fabric_id, fabric_details} of a fabric the caller sees (for the answer to #56).
    boost::json::object FabricSummary(const auth::AuthContext& caller, std::string_view group_id);
    // `user_id` now holds a share of the group: their identity in its fabric, if it is one.
    // Call inside the sharing transaction.
    void MemberJoined(const storage::GroupRow& group, std::string_view user_id);
    // A share holder's role changed from `from` to `to`: the fabric, if the group is one,
    // revokes the admin CAT on a demotion (FabricService::MemberRoleChanged).
    void MemberRoleChanged(
        const storage::GroupRow& group, core::ResourceRole from, core::ResourceRole to
    );
    // Whether the group is a Matter fabric or a sub-group of one.
    bool InFabric(const storage::GroupRow& group);
    // `user_id` accepts a transfer of `groups`: the fabrics among them must fit their quota
    // (108132 past groups.max_matter_fabrics_per_user). A home inherited from an owner who
    // leaves is not checked (the heir did not ask for it).
    void CheckFabricsReceived(
        std::string_view user_id, const std::vector<storage::GroupRow>& groups
    );

    // Mapping with group_id: adds a node the user was just mapped to. Throws ApiError when
    // the group is not the user's or the node cannot join it.
    void AddMappedNode(
        std::string_view user_id, std::string_view group_id, std::string_view node_id
    );

private:
    void CheckFields(const GroupFields& fields) const;
    // #57 {is_matter: true}: the top-level group becomes a fabric.
    void Convert(
        const auth::AuthContext& caller, std::string_view group_id, const GroupFields& fields
    );
    void CheckNodesMapped(std::string_view user_id, const std::vector<std::string>& nodes);
    // For an admin restricted by RBAC: every node must be in their scope (108012 otherwise,
    // as for a node that does not exist).
    void RequireInScope(const auth::AuthContext& caller, const std::vector<std::string>& nodes);
    void CheckInParent(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    void CheckExclusive(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    void AddNodes(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    // Nodes added to a fabric's home or rooms by nodes[]: one commissioned into another fabric
    // joins only by being commissioned into this one (108122).
    void CheckMatterNodes(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    // The owner may make one more fabric (108132 past groups.max_matter_fabrics_per_user).
    void CheckFabricQuota(std::string_view owner_id);
    void RemoveNodes(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    // The caller leaves a group shared with them. The owner may leave only while another
    // primary remains: the oldest primary becomes the owner.
    void Leave(const auth::AuthContext& caller, const storage::GroupRow& group);

    boost::json::object Describe(
        const auth::AuthContext& caller, const storage::GroupRow& group, const GroupQuery& query
    );

    // GET with is_matter: the caller's fabrics, paged like the groups.
    boost::json::object ListFabrics(
        const auth::AuthContext& caller, const GroupQuery& query, int page_size
    );

    bool Admin() const { return kind_ == GroupKind::kAdmin; }

    const char* Kind() const { return Admin() ? "admin" : "user"; }

    // An admin group's {node_type, node_model, node_fw_version} as stored ("" for none).
    static std::string QueryOf(
        const std::optional<std::string>& node_type,
        const std::optional<std::string>& node_model,
        const std::optional<std::string>& node_fw_version
    );
    // Sets a dynamic group's nodes to those its group_query matches now.
    void Regroup(const storage::GroupRow& group);

    storage::Database& db_;
    nodes::NodeService& nodes_;
    const core::Clock& clock_;
    GroupKind kind_;
    GroupLimits limits_;
    FabricService* fabrics_;
};

}  // namespace rainmaker::domain::groups

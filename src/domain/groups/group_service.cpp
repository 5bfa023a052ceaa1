// Group rules over the group store; every change runs in one transaction.
#include "domain/groups/group_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/nodes/node_access.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/json_merge.hpp"

namespace rainmaker::domain::groups {

using core::ApiError;
using core::ErrorCode;
using core::ResourceRole;
using storage::GroupRow;

namespace {

constexpr int kMaxLevels = 3;
constexpr std::size_t kMaxSubGroups = 100;
constexpr std::size_t kMaxNodes = 100;

void CheckName(std::string_view name) {
    if (name.empty()) {
        throw ApiError(ErrorCode::kGroupNameMissing);
    }
    if (name.size() > 256 || name.find_first_of("#$\\|") != std::string_view::npos) {
        throw ApiError(ErrorCode::kBadGroupName);
    }
}

void CheckObject(const std::optional<boost::json::value>& value, const char* name) {
    if (value && !value->is_object() && !value->is_null()) {
        throw ApiError(
            ErrorCode::kInvalidBody,
            std::string("Invalid request body: ") + name + " must be an object"
        );
    }
}

}  // namespace

GroupService::GroupService(
    storage::Database& db,
    nodes::NodeService& nodes,
    const core::Clock& clock,
    GroupKind kind,
    GroupLimits limits,
    FabricService* fabrics
)
    : db_(db), nodes_(nodes), clock_(clock), kind_(kind), limits_(limits), fabrics_(fabrics) {}

std::string GroupService::QueryOf(
    const std::optional<std::string>& node_type,
    const std::optional<std::string>& node_model,
    const std::optional<std::string>& node_fw_version
) {
    boost::json::object query;
    if (node_type && !node_type->empty()) {
        query["node_type"] = *node_type;
    }
    if (node_model && !node_model->empty()) {
        query["node_model"] = *node_model;
    }
    if (node_fw_version && !node_fw_version->empty()) {
        query["node_fw_version"] = *node_fw_version;
    }
    return query.empty() ? "" : core::Serialize(query);
}

void GroupService::Regroup(const GroupRow& group) {
    const auto query = ParseObject(group.group_query);
    const auto text = [&](const char* key) -> std::string {
        const auto* v = query.if_contains(key);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
    };
    const auto matching =
        db_.Nodes().NodeIdsMatching(text("node_type"), text("node_model"), text("node_fw_version"));
    const auto present = db_.Groups().Nodes(group.group_id);
    for (const auto& node : present) {
        if (!std::binary_search(matching.begin(), matching.end(), node)) {
            db_.Groups().RemoveNode(group.group_id, node);
        }
    }
    for (const auto& node : matching) {
        if (!std::binary_search(present.begin(), present.end(), node)) {
            db_.Groups().AddNode(group.group_id, node);
        }
    }
}

std::optional<GroupRole> RoleInGroup(
    storage::Database& db, std::string_view user_id, const storage::GroupRow& group
) {
    if (group.owner_id == user_id) {
        return GroupRole{ResourceRole::kPrimary, true};
    }
    std::optional<GroupRole> role;
    std::optional<GroupRow> level = group;
    for (int depth = 0; level && depth < kMaxLevels; ++depth) {
        if (const auto share = db.Groups().FindShare(level->group_id, user_id)) {
            if (share->role == ResourceRole::kPrimary) {
                return GroupRole{ResourceRole::kPrimary, false};
            }
            role = GroupRole{ResourceRole::kSecondary, false};
        }
        if (level->parent_id.empty()) {
            break;
        }
        level = db.Groups().Find(level->parent_id);
    }
    return role;
}

bool ParentVisible(
    storage::Database& db, std::string_view user_id, const storage::GroupRow& group
) {
    if (group.parent_id.empty()) {
        return false;
    }
    if (group.owner_id == user_id) {
        return true;
    }
    const auto parent = db.Groups().Find(group.parent_id);
    return parent && RoleInGroup(db, user_id, *parent).has_value();
}

GroupRow GroupService::RequireVisible(const auth::AuthContext& caller, std::string_view group_id) {
    if (group_id.empty()) {
        throw ApiError(ErrorCode::kGroupIdMissing);
    }
    auto group = db_.Groups().Find(group_id);
    // Another user's group does not exist for the caller unless it is shared with them.
    if (!group || group->kind != Kind() || !RoleInGroup(db_, caller.user_id, *group)) {
        throw ApiError(ErrorCode::kGroupNotFound);
    }
    return *group;
}

GroupRow GroupService::RequireOwned(const auth::AuthContext& caller, std::string_view group_id) {
    auto group = RequireVisible(caller, group_id);
    if (group.owner_id != caller.user_id) {
        throw ApiError(ErrorCode::kSharedGroupReadOnly);
    }
    return group;
}

void GroupService::CheckNodesMapped(
    std::string_view user_id, const std::vector<std::string>& nodes
) {
    if (nodes.size() > kMaxNodes) {
        throw ApiError(ErrorCode::kGroupNodeCount);
    }
    for (const auto& node : nodes) {
        if (Admin()) {
            // Every node of this server is its operator's: an admin groups any known node.
            if (!db_.Nodes().Find(node)) {
                throw ApiError(
                    ErrorCode::kGroupNodesNotClaimed, "Some of the nodes are not claimed: " + node
                );
            }
        } else if (!db_.Nodes().FindMapping(user_id, node)) {
            throw ApiError(
                ErrorCode::kGroupNodesNotMapped, "Some of the nodes are not mapped by user: " + node
            );
        }
    }
}

void GroupService::RequireInScope(
    const auth::AuthContext& caller, const std::vector<std::string>& nodes
) {
    if (!Admin() || !caller.node_scope) {
        return;
    }
    if (nodes.size() > kMaxNodes) {
        throw ApiError(ErrorCode::kGroupNodeCount);
    }
    for (const auto& node : nodes) {
        // A node outside the admin's RBAC scope answers like one that does not exist.
        if (!nodes::FindForAdmin(db_, caller, node)) {
            throw ApiError(
                ErrorCode::kGroupNodesNotClaimed, "Some of the nodes are not claimed: " + node
            );
        }
    }
}

void GroupService::CheckInParent(const GroupRow& group, const std::vector<std::string>& nodes) {
    if (group.parent_id.empty()) {
        return;
    }
    const auto parent_nodes = db_.Groups().Nodes(group.parent_id);
    for (const auto& node : nodes) {
        if (std::find(parent_nodes.begin(), parent_nodes.end(), node) == parent_nodes.end()) {
            throw ApiError(
                ErrorCode::kNodesNotInParent,
                "Some of the nodes are not present in parent group: " + node
            );
        }
    }
}

// A node may be in only one mutually exclusive group of the same type and parent (top-level
// groups share the "no parent" parent).
void GroupService::CheckExclusive(const GroupRow& group, const std::vector<std::string>& nodes) {
    for (const auto& node : nodes) {
        for (const auto& other : db_.Groups().GroupsOfNode(Kind(), group.owner_id, node)) {
            if (other.group_id != group.group_id && other.type == group.type &&
                other.parent_id == group.parent_id && group.mutually_exclusive &&
                other.mutually_exclusive) {
                throw ApiError(
                    ErrorCode::kInvalidBody,
                    "Invalid request body: node " + node +
                        " is already in the mutually exclusive group " + other.group_name +
                        " of the same type and parent"
                );
            }
        }
    }
}

void GroupService::AddNodes(const GroupRow& group, const std::vector<std::string>& nodes) {
    CheckNodesMapped(group.owner_id, nodes);
    CheckInParent(group, nodes);
    CheckExclusive(group, nodes);
    for (const auto& node : nodes) {
        db_.Groups().AddNode(group.group_id, node);
        nodes::SyncGroupShares(db_, group.group_id, {node}, clock_.NowSeconds());
        db_.Events().Append(
            "user_node_group_added",
            group.owner_id,
            node,
            core::Serialize(boost::json::object{{"group_id", group.group_id}, {"node_id", node}}),
            clock_.NowSeconds()
        );
    }
}

void GroupService::CheckMatterNodes(const GroupRow& group, const std::vector<std::string>& nodes) {
    if (Admin() || fabrics_ == nullptr || nodes.empty()) {
        return;
    }
    const auto fabric = fabrics_->FabricOf(group);
    if (!fabric) {
        return;
    }
    for (const auto& node : nodes) {
        const auto commissioned = db_.Matter().FindByRainmakerNode(node);
        if (commissioned && commissioned->group_id != fabric->group_id) {
            throw ApiError(
                ErrorCode::kMatterNodesViaCommissioning,
                "Some requested nodes are matter nodes which can be only added in the matter "
                "fabric via node commissioning flow: " +
                    node
            );
        }
    }
}

void GroupService::CheckFabricQuota(std::string_view owner_id) {
    const int limit = limits_.max_matter_fabrics_per_user;
    if (limit > 0 && db_.Matter().CountFabricsOwnedBy(owner_id) >= limit) {
        throw ApiError(
            ErrorCode::kFabricQuotaExceeded,
            "Matter fabric quota is exceeded: a user owns at most " + std::to_string(limit) +
                " Matter fabrics"
        );
    }
}

void GroupService::CheckFabricsReceived(
    std::string_view user_id, const std::vector<GroupRow>& groups
) {
    const int limit = limits_.max_matter_fabrics_per_user;
    if (Admin() || limit <= 0) {
        return;
    }
    int received = 0;
    for (const auto& group : groups) {
        if (group.parent_id.empty() && db_.Matter().FindFabric(group.group_id)) {
            ++received;
        }
    }
    if (received > 0 && db_.Matter().CountFabricsOwnedBy(user_id) + received > limit) {
        throw ApiError(
            ErrorCode::kFabricQuotaExceeded,
            "Matter fabric quota is exceeded: a user owns at most " + std::to_string(limit) +
                " Matter fabrics"
        );
    }
}

void GroupService::RemoveNodes(const GroupRow& group, const std::vector<std::string>& nodes) {
    // A sub-group's nodes stay a subset of its parent's: removal goes down the tree.
    for (const auto& child : db_.Groups().Children(group.group_id)) {
        RemoveNodes(child, nodes);
    }
    const auto present = db_.Groups().Nodes(group.group_id);
    for (const auto& node : nodes) {
        if (std::find(present.begin(), present.end(), node) == present.end()) {
            continue;
        }
        db_.Groups().RemoveNode(group.group_id, node);
        nodes::SyncGroupShares(db_, group.group_id, {node}, clock_.NowSeconds());
        db_.Events().Append(
            "user_node_group_removed",
            group.owner_id,
            node,
            core::Serialize(boost::json::object{{"group_id", group.group_id}, {"node_id", node}}),
            clock_.NowSeconds()
        );
    }
}

// What Create and Update check alike: Matter on admin groups (or without a fabric service)
// refused, the description's length, the object members.
void GroupService::CheckFields(const GroupFields& f) const {
    if (f.matter) {
        if (Admin()) {
            throw ApiError(ErrorCode::kAdminGroupMatter);
        }
        if (fabrics_ == nullptr) {
            throw ApiError(
                ErrorCode::kNotSupportedYet, "Invalid Request: Matter fabrics are not supported yet"
            );
        }
    }
    if (f.description && f.description->size() >= 500) {
        throw ApiError(ErrorCode::kGroupDescription);
    }
    CheckObject(f.group_metadata, "group_metadata");
    CheckObject(f.custom_data, "custom_data");
}

std::string GroupService::Create(const auth::AuthContext& caller, const GroupFields& f) {
    CheckFields(f);
    const std::string group_query =
        Admin() ? QueryOf(f.node_type, f.node_model, f.node_fw_version) : "";
    if (Admin() && f.regroup) {
        throw ApiError(ErrorCode::kRegroupOnCreate);
    }
    if (!group_query.empty() && f.nodes) {
        throw ApiError(ErrorCode::kNodesWithGroupQuery);
    }
    if (!group_query.empty() && f.parent_group_id && !f.parent_group_id->empty()) {
        throw ApiError(ErrorCode::kDynamicSubGroup);
    }
    if (!group_query.empty()) {
        // A dynamic group gathers every matching node: for an admin whose RBAC roles reach only
        // some it would hold (and its "no node matches" answer reveal) nodes out of reach.
        nodes::RequireEveryNode(caller, "A dynamic group");
    }
    const bool fabric = f.is_matter.value_or(false);
    if (fabric && f.parent_group_id && !f.parent_group_id->empty()) {
        throw ApiError(ErrorCode::kFabricWithParent);
    }
    CheckName(f.group_name.value_or(""));
    GroupRow group;
    group.group_id = core::RandomAlnum(22);
    group.owner_id = caller.user_id;
    group.kind = Kind();
    group.group_query = group_query;
    group.group_name = *f.group_name;
    group.type = f.type.value_or("");
    group.description = f.description.value_or("");
    group.mutually_exclusive = f.mutually_exclusive.value_or(false);
    if (f.group_metadata && f.group_metadata->is_object()) {
        group.group_metadata = SerializeBounded(*f.group_metadata, "group_metadata");
    }
    if (f.custom_data) {
        group.custom_data = SerializeBounded(
            users::ShadowMerge(boost::json::object{}, *f.custom_data), "custom_data"
        );
    }
    group.created_at = clock_.NowSeconds();
    db_.Transaction([&] {
        // A tree of thousands of groups makes every read of it slow: one user owns at most
        // limits_.max_per_user.
        if (!Admin() && limits_.max_per_user > 0 &&
            db_.Groups().CountOwned(Kind(), caller.user_id) >= limits_.max_per_user) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many requests: a user owns at most " + std::to_string(limits_.max_per_user) +
                    " groups"
            );
        }
        if (f.parent_group_id && !f.parent_group_id->empty()) {
            const auto parent = db_.Groups().Find(*f.parent_group_id);
            if (!parent || parent->owner_id != caller.user_id || parent->kind != Kind()) {
                throw ApiError(ErrorCode::kBadParentGroup);
            }
            if (!parent->group_query.empty()) {
                throw ApiError(ErrorCode::kDynamicParent);
            }
            if (parent->level >= kMaxLevels) {
                throw ApiError(ErrorCode::kSubGroupDepth);
            }
            if (db_.Groups().Children(parent->group_id).size() >= kMaxSubGroups) {
                throw ApiError(ErrorCode::kTooManySubGroups);
            }
            group.parent_id = parent->group_id;
            group.level = parent->level + 1;
        }
        if (db_.Groups().FindByName(Kind(), caller.user_id, group.parent_id, group.group_name)) {
            throw ApiError(ErrorCode::kGroupNameExists);
        }
        if (!group_query.empty() &&
            !db_.Groups().ListByQuery(caller.user_id, group_query).empty()) {
            throw ApiError(ErrorCode::kDynamicGroupExists);
        }
        db_.Groups().Insert(group);
        if (fabric) {
            CheckFabricQuota(caller.user_id);
            fabrics_->MakeFabric(group);
        }
        if (f.nodes) {
            RequireInScope(caller, *f.nodes);
            CheckMatterNodes(group, *f.nodes);
            AddNodes(group, *f.nodes);
        }
        if (!group_query.empty()) {
            Regroup(group);
            if (db_.Groups().Nodes(group.group_id).empty()) {
                throw ApiError(ErrorCode::kDynamicGroupNoNodes);
            }
        }
    });
    return group.group_id;
}

void GroupService::Update(
    const auth::AuthContext& caller, std::string_view group_id, const GroupFields& f
) {
    CheckFields(f);
    if (f.is_matter.value_or(false)) {
        Convert(caller, group_id, f);
        return;
    }
    const bool regroup = Admin() && f.regroup.value_or(false);
    if (Admin() && (f.node_type || f.node_model || f.node_fw_version)) {
        throw ApiError(ErrorCode::kGroupQueryOnUpdate);
    }
    if (regroup && (f.operation || f.nodes || f.group_name || f.description || f.type)) {
        throw ApiError(ErrorCode::kRegroupWithOthers);
    }
    if (regroup) {
        nodes::RequireEveryNode(caller, "A dynamic group");  // as in Create
    }
    const bool has_field = f.group_name || f.type || f.mutually_exclusive || f.description ||
                           f.group_metadata || f.custom_data || regroup;
    if (!has_field && !f.operation && !f.nodes) {
        throw ApiError(ErrorCode::kGroupNothingToUpdate);
    }
    if (f.operation && *f.operation != "add" && *f.operation != "remove") {
        throw ApiError(ErrorCode::kGroupOperation);
    }
    if (f.nodes && !f.operation) {
        throw ApiError(ErrorCode::kGroupOperation);
    }
    if (f.group_name) {
        CheckName(*f.group_name);
    }
    db_.Transaction([&] {
        auto group = RequireOwned(caller, group_id);
        if (regroup && group.group_query.empty()) {
            throw ApiError(ErrorCode::kRegroupNotDynamic);
        }
        if (!group.group_query.empty() && f.nodes) {
            throw ApiError(ErrorCode::kDynamicGroupWithNodes);
        }
        RequireInScope(caller, f.nodes.value_or(std::vector<std::string>{}));
        if (Admin() && f.operation == "remove") {
            const auto present = db_.Groups().Nodes(group.group_id);
            for (const auto& node : f.nodes.value_or(std::vector<std::string>{})) {
                if (std::find(present.begin(), present.end(), node) == present.end()) {
                    throw ApiError(
                        ErrorCode::kNodesNotInGroup,
                        "Some of the nodes do not exist in the group: " + node
                    );
                }
            }
        }
        if (f.group_name && *f.group_name != group.group_name) {
            if (db_.Groups().FindByName(Kind(), caller.user_id, group.parent_id, *f.group_name)) {
                throw ApiError(ErrorCode::kGroupNameExists);
            }
            group.group_name = *f.group_name;
        }
        group.type = f.type.value_or(group.type);
        group.description = f.description.value_or(group.description);
        group.mutually_exclusive = f.mutually_exclusive.value_or(group.mutually_exclusive);
        if (f.group_metadata) {
            group.group_metadata = f.group_metadata->is_null()
                                       ? "{}"
                                       : SerializeBounded(*f.group_metadata, "group_metadata");
        }
        if (f.custom_data) {
            group.custom_data = SerializeBounded(
                users::ShadowMerge(
                    ParseOr(group.custom_data, boost::json::object{}), *f.custom_data
                ),
                "custom_data"
            );
        }
        // A changed type or exclusivity must still hold for the nodes already in the group.
        CheckExclusive(group, db_.Groups().Nodes(group.group_id));
        db_.Groups().Update(group);
        if (f.operation == "add") {
            CheckMatterNodes(group, f.nodes.value_or(std::vector<std::string>{}));
            AddNodes(group, f.nodes.value_or(std::vector<std::string>{}));
        } else if (f.operation == "remove") {
            const auto nodes = f.nodes.value_or(std::vector<std::string>{});
            RemoveNodes(group, nodes);
            if (fabrics_ != nullptr && group.parent_id.empty()) {
                fabrics_->RemoveFromFabric(group.group_id, nodes);
            }
        }
        if (regroup) {
            Regroup(group);
        }
    });
}

void GroupService::Convert(
    const auth::AuthContext& caller, std::string_view group_id, const GroupFields& f
) {
    if (f.group_name || f.type || f.mutually_exclusive || f.description || f.group_metadata ||
        f.custom_data || f.operation || f.nodes || f.parent_group_id) {
        throw ApiError(ErrorCode::kFabricConvertOnly);
    }
    db_.Transaction([&] {
        const auto group = RequireOwned(caller, group_id);
        if (!group.parent_id.empty()) {
            throw ApiError(ErrorCode::kFabricTopLevelOnly);
        }
        // A fabric's members are the home's: a room shared on its own has members the fabric
        // would not know.
        const auto tree = Tree(group);
        for (std::size_t i = 1; i < tree.size(); ++i) {
            if (!db_.Groups().SharesOfGroup(tree[i].group_id).empty()) {
                throw ApiError(ErrorCode::kConvertSharedSubGroups);
            }
        }
        if (!db_.Matter().FindFabric(group.group_id)) {
            CheckFabricQuota(group.owner_id);
        }
        fabrics_->MakeFabric(group);
    });
}

bool GroupService::InFabric(const GroupRow& group) {
    return !Admin() && fabrics_ != nullptr && fabrics_->FabricOf(group).has_value();
}

void GroupService::MemberJoined(const GroupRow& group, std::string_view user_id) {
    if (!Admin() && fabrics_ != nullptr && group.parent_id.empty() &&
        db_.Matter().FindFabric(group.group_id)) {
        fabrics_->EnsureMember(group.group_id, user_id);
    }
}

void GroupService::MemberRoleChanged(const GroupRow& group, ResourceRole from, ResourceRole to) {
    if (!Admin() && fabrics_ != nullptr && group.parent_id.empty()) {
        fabrics_->MemberRoleChanged(group.group_id, from, to);
    }
}

boost::json::object GroupService::FabricSummary(
    const auth::AuthContext& caller, std::string_view group_id
) {
    return storage::ReadSnapshot(db_, [&] {
        const auto group = RequireVisible(caller, group_id);
        boost::json::object out;
        if (fabrics_ == nullptr) {
            return out;
        }
        if (const auto fabric = fabrics_->FabricOf(group)) {
            out["is_matter"] = true;
            out["fabric_id"] = fabric->fabric_id;
            out["fabric_details"] = fabrics_->Details(*fabric, caller.user_id);
        }
        return out;
    });
}

boost::json::object GroupService::Describe(
    const auth::AuthContext& caller, const GroupRow& group, const GroupQuery& query
) {
    // An admin restricted by RBAC sees only the nodes of their scope.
    const auto node_ids = nodes::InAdminScope(db_, caller, db_.Groups().Nodes(group.group_id));
    boost::json::object out{
        {"group_id", group.group_id},
        {"group_name", group.group_name},
        {"type", group.type},
        {"mutually_exclusive", group.mutually_exclusive},
        {"description", group.description},
        {"group_metadata", ParseOr(group.group_metadata, boost::json::object{})},
        {"custom_data", ParseOr(group.custom_data, boost::json::object{})},
        {"total", node_ids.size()}};
    if (ParentVisible(db_, caller.user_id, group)) {
        out["parent_group_id"] = group.parent_id;
    }
    if (Admin()) {
        if (!group.group_query.empty()) {
            out["group_query"] = ParseObject(group.group_query);
        }
    } else {
        const auto role = RoleInGroup(db_, caller.user_id, group);
        out["primary"] = !role || role->role != ResourceRole::kSecondary;
    }
    const bool one = query.group_id || query.group_name;
    if (!Admin()) {
        const auto fabric =
            fabrics_ != nullptr ? fabrics_->FabricOf(group) : std::optional<storage::FabricRow>{};
        out["is_matter"] = fabric.has_value();
        if (fabric) {
            out["fabric_id"] = fabric->fabric_id;
            if (query.fabric_details) {
                out["fabric_details"] = fabrics_->Details(*fabric, caller.user_id);
            }
            if (query.matter_node_list && one && !query.node_details) {
                out["matter_node_list"] = fabrics_->NodeList(*fabric);
            }
        }
    }
    if (query.node_details && one) {
        boost::json::array details;
        for (const auto& id : node_ids) {
            if (Admin()) {
                if (auto summary = nodes_.Summary(id)) {
                    details.push_back(std::move(*summary));
                }
                continue;
            }
            // A node unmapped since it joined the group is not shown.
            if (auto detail = nodes_.DetailsFor(caller, id, nodes::NodeListQuery{})) {
                details.push_back(std::move(*detail));
            }
        }
        out["node_details"] = std::move(details);
    } else if (query.node_list) {
        boost::json::array list;
        for (const auto& id : node_ids) {
            list.emplace_back(id);
        }
        out["nodes"] = std::move(list);
    }
    if (query.sub_groups) {
        boost::json::array children;
        for (const auto& child : db_.Groups().Children(group.group_id)) {
            GroupQuery inner = query;
            inner.node_details = false;
            children.push_back(Describe(caller, child, inner));
        }
        out["sub_groups"] = std::move(children);
    }
    return out;
}

boost::json::object GroupService::Get(const auth::AuthContext& caller, const GroupQuery& query) {
    // One snapshot: every read below sees the same state.
    return storage::ReadSnapshot(db_, [&] {
        if (query.group_id && query.group_name) {
            throw ApiError(ErrorCode::kGroupIdOrName);
        }
        const int page_size = PageSize(query.num_records);
        if (query.is_matter && !query.group_id && !query.group_name) {
            return ListFabrics(caller, query, page_size);
        }
        if (query.group_id) {
            return boost::json::object{
                {"groups",
                 boost::json::array{
                     Describe(caller, RequireVisible(caller, *query.group_id), query)}}};
        }
        if (query.group_name) {
            auto group = db_.Groups().FindByName(Kind(), caller.user_id, "", *query.group_name);
            if (!group && !Admin()) {
                group = db_.Groups().FindSharedByName(caller.user_id, *query.group_name);
            }
            if (!group) {
                throw ApiError(ErrorCode::kGroupNameNotFound);
            }
            return boost::json::object{
                {"groups", boost::json::array{Describe(caller, *group, query)}}};
        }
        if (Admin() && (query.node_type || query.node_model || query.node_fw_version)) {
            boost::json::array groups;
            const auto group_query =
                QueryOf(query.node_type, query.node_model, query.node_fw_version);
            for (const auto& group : db_.Groups().ListByQuery(caller.user_id, group_query)) {
                groups.push_back(Describe(caller, group, query));
            }
            const auto total = groups.size();
            return boost::json::object{{"groups", std::move(groups)}, {"total", total}};
        }
        const int total = db_.Groups().CountTopLevel(Kind(), caller.user_id);
        if (Admin() && total == 0) {
            throw ApiError(ErrorCode::kNoAdminGroups);
        }
        auto page =
            db_.Groups().ListTopLevel(Kind(), caller.user_id, query.start_id, page_size + 1);
        std::string next_id;
        if (static_cast<int>(page.size()) > page_size) {
            next_id = page.back().group_id;
            page.pop_back();
        }
        boost::json::array groups;
        for (const auto& group : page) {
            groups.push_back(Describe(caller, group, query));
        }
        boost::json::object out{{"groups", std::move(groups)}, {"total", total}};
        if (!next_id.empty()) {
            out["next_id"] = next_id;
        }
        return out;
    });
}

boost::json::object GroupService::ListFabrics(
    const auth::AuthContext& caller, const GroupQuery& query, int page_size
) {
    // A user owns at most limits_.max_per_user groups: the fabrics are picked from all of the
    // user's top-level groups, then paged.
    boost::json::array groups;
    int total = 0;
    std::string next_id;
    if (fabrics_ != nullptr) {
        const auto all = db_.Groups().ListTopLevel(
            Kind(), caller.user_id, "", db_.Groups().CountTopLevel(Kind(), caller.user_id) + 1
        );
        for (const auto& group : all) {
            if (!db_.Matter().FindFabric(group.group_id)) {
                continue;
            }
            ++total;
            if (group.group_id < query.start_id) {
                continue;
            }
            if (static_cast<int>(groups.size()) == page_size) {
                if (next_id.empty()) {
                    next_id = group.group_id;
                }
                continue;
            }
            groups.push_back(Describe(caller, group, query));
        }
    }
    boost::json::object out{{"groups", std::move(groups)}, {"total", total}};
    if (!next_id.empty()) {
        out["next_id"] = next_id;
    }
    return out;
}

std::vector<GroupRow> GroupService::Tree(const GroupRow& group) {
    std::vector<GroupRow> tree{group};
    for (std::size_t i = 0; i < tree.size(); ++i) {
        for (auto& child : db_.Groups().Children(tree[i].group_id)) {
            tree.push_back(std::move(child));
        }
    }
    return tree;
}

void GroupService::RemoveShare(const GroupRow& group, std::string_view user_id) {
    const auto share = db_.Groups().FindShare(group.group_id, user_id);
    db_.Groups().DeleteShare(group.group_id, user_id);
    if (fabrics_ != nullptr && group.parent_id.empty()) {
        fabrics_->MemberLeft(
            group.group_id, user_id, share && share->role == ResourceRole::kPrimary
        );
    }
    for (const auto& node : db_.Groups().Nodes(group.group_id)) {
        nodes::SyncAccess(db_, user_id, node, clock_.NowSeconds());
    }
}

void GroupService::Leave(const auth::AuthContext& caller, const GroupRow& group) {
    if (group.owner_id != caller.user_id) {
        if (!db_.Groups().FindShare(group.group_id, caller.user_id)) {
            throw ApiError(ErrorCode::kGroupShareViaParent);
        }
        RemoveShare(group, caller.user_id);
        return;
    }
    std::optional<storage::GroupShareRow> heir;
    if (group.parent_id.empty()) {
        for (const auto& share : db_.Groups().SharesOfGroup(group.group_id)) {
            if (share.role == ResourceRole::kPrimary) {
                heir = share;
                break;
            }
        }
    }
    if (!heir) {
        throw ApiError(ErrorCode::kSolePrimaryLeave);
    }
    HandOver(group, caller.user_id, heir->user_id);
}

void GroupService::HandOver(const GroupRow& group, std::string_view from, std::string_view heir) {
    CheckHandOver(group, heir);
    const auto now = clock_.NowSeconds();
    const auto heirs_share = db_.Groups().FindShare(group.group_id, heir);
    db_.Groups().DeleteShare(group.group_id, heir);
    db_.Groups().SetOwner(group.group_id, heir);
    if (fabrics_ != nullptr && group.parent_id.empty()) {
        // The former owner leaves the fabric (a transfer may make them a secondary again: a
        // new member then); a secondary heir becoming its owner loses nothing (no CAT raised).
        fabrics_->MemberLeft(group.group_id, from, true);
        if (heirs_share) {
            fabrics_->MemberRoleChanged(group.group_id, heirs_share->role, ResourceRole::kPrimary);
        }
    }
    auto handed = group;
    handed.owner_id = std::string(heir);
    std::vector<std::string> dropped;
    for (const auto& node : db_.Groups().Nodes(group.group_id)) {
        const auto held_by_from = db_.Nodes().FindMapping(from, node);
        if (!held_by_from || !held_by_from->direct_role) {
            dropped.push_back(node);  // `from` could not pass it on
            continue;
        }
        const auto held = db_.Nodes().FindMapping(heir, node);
        const bool primary = held_by_from->direct_role == ResourceRole::kPrimary ||
                             (held && held->direct_role == ResourceRole::kPrimary);
        nodes::SetDirectRole(
            db_, heir, node, primary ? ResourceRole::kPrimary : ResourceRole::kSecondary, now
        );
    }
    RemoveNodes(handed, dropped);
    // The heir's share is gone: what it gave them is recomputed.
    for (const auto& node : dropped) {
        nodes::SyncAccess(db_, heir, node, now);
    }
    // What the group gives its other share holders now follows the heir's roles.
    for (const auto& member : Tree(handed)) {
        nodes::SyncGroupShares(db_, member.group_id, db_.Groups().Nodes(member.group_id), now);
    }
}

void GroupService::CheckHandOver(const GroupRow& group, std::string_view heir) {
    if (db_.Groups().FindByName(Kind(), heir, group.parent_id, group.group_name)) {
        throw ApiError(
            ErrorCode::kGroupNameExists,
            "Group name already exists: the new owner has a group called " + group.group_name
        );
    }
    auto theirs = group;
    theirs.owner_id = std::string(heir);
    CheckExclusive(theirs, db_.Groups().Nodes(group.group_id));
}

void GroupService::ForgetOwner(std::string_view user_id) {
    for (const auto& group : db_.Groups().Owned(Kind(), user_id)) {
        for (const auto& share : db_.Groups().SharesOfGroup(group.group_id)) {
            RemoveShare(group, share.user_id);
        }
    }
    // The fabrics the user was a member of revoke what they held (the rows would go with the
    // account; the CATs in their NOCs would still match).
    if (Admin() || fabrics_ == nullptr) {
        return;
    }
    for (const auto& group_id : db_.Matter().FabricsOfMember(user_id)) {
        const auto group = db_.Groups().Find(group_id);
        if (group && group->owner_id != user_id && db_.Groups().FindShare(group_id, user_id)) {
            RemoveShare(*group, user_id);
        }
    }
}

void GroupService::Delete(const auth::AuthContext& caller, std::string_view group_id, bool leave) {
    db_.Transaction([&] {
        const auto group = RequireVisible(caller, group_id);
        const auto role = RoleInGroup(db_, caller.user_id, group);
        if (leave || (role && role->role == ResourceRole::kSecondary)) {
            Leave(caller, group);
            return;
        }
        if (!role || !role->owner) {
            throw ApiError(ErrorCode::kSharedGroupReadOnly);
        }
        const auto tree = Tree(group);
        // An active OTA job that names the group (or a sub-group) keeps it.
        for (const auto& member : tree) {
            if (db_.OtaJobs().GroupTargetedByActiveJob(member.group_id)) {
                throw ApiError(ErrorCode::kGroupTargetedByOtaJob);
            }
        }
        // Everyone the group or a sub-group is shared with loses what it gave them.
        for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
            for (const auto& share : db_.Groups().SharesOfGroup(it->group_id)) {
                RemoveShare(*it, share.user_id);
            }
        }
        db_.Groups().Delete(group.group_id);
    });
}

void GroupService::AddMappedNode(
    std::string_view user_id, std::string_view group_id, std::string_view node_id
) {
    auto group = db_.Groups().Find(group_id);
    // Only the user's own user groups of listed nodes (not admin or dynamic groups).
    if (!group || group->owner_id != user_id || group->kind != Kind() ||
        !group->group_query.empty()) {
        throw ApiError(ErrorCode::kGroupNotFound);
    }
    AddNodes(*group, {std::string(node_id)});
}

}  // namespace rainmaker::domain::groups

// Group sharing over the common request flow; access changes go through node_access.
#include "domain/sharing/group_sharing_service.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "domain/nodes/node_access.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::sharing {

using core::ApiError;
using core::ErrorCode;
using core::ResourceRole;
using groups::GroupRole;
using groups::ParentVisible;
using groups::RoleInGroup;
using storage::GroupRow;
using storage::SharingRequestRow;

namespace {

constexpr std::size_t kMaxGroups = 10;
// Sharing details list every group of the user (the contract has no paging there).
constexpr int kAllRows = 1000000;

constexpr SharingErrors kGroupErrors{
    ErrorCode::kGroupShareUserNameMissing,
    ErrorCode::kGroupShareUserNotFound,
    ErrorCode::kGroupShareSelf,
    ErrorCode::kGroupShareRequestIdMissing,
    ErrorCode::kGroupShareRequestClosed,
    ErrorCode::kGroupShareRequestNotFound,
    ErrorCode::kGroupShareRequestDeclined,
    ErrorCode::kGroupSharePrimaryUserFlag,
    ErrorCode::kGroupShareBadNewRole,
    ErrorCode::kGroupShareNewRoleNeedsTransfer};

bool IsPrimary(const std::optional<GroupRole>& role) {
    return role && role->Primary();
}

ResourceRole OfferedRole(bool primary) {
    return primary ? ResourceRole::kPrimary : ResourceRole::kSecondary;
}

}  // namespace

GroupSharingService::GroupSharingService(
    storage::Database& db,
    const core::Clock& clock,
    groups::GroupService& groups,
    SharingLimits limits
)
    : SharingFlow(db, clock, "group", kGroupErrors, limits), groups_(groups) {}

std::vector<GroupRow> GroupSharingService::CheckGroups(const std::vector<std::string>& group_ids) {
    if (group_ids.empty()) {
        throw ApiError(ErrorCode::kGroupShareNoGroups);
    }
    if (group_ids.size() > kMaxGroups) {
        throw ApiError(ErrorCode::kGroupShareTooMany);
    }
    std::set<std::string> seen;
    std::vector<GroupRow> rows;
    for (const auto& id : group_ids) {
        if (!seen.insert(id).second) {
            throw ApiError(ErrorCode::kGroupShareDuplicate, "Duplicate group id in request: " + id);
        }
        auto group = db_.Groups().Find(id);
        if (!group || group->kind != "user") {
            throw ApiError(
                ErrorCode::kGroupShareGroupsMissing, "Error some groupIds are missing: " + id
            );
        }
        // A fabric's members are the home's: its rooms are not shared on their own.
        if (!group->parent_id.empty() && groups_.InFabric(*group)) {
            throw ApiError(ErrorCode::kMatterSubGroupShare);
        }
        rows.push_back(std::move(*group));
    }
    return rows;
}

std::string GroupSharingService::Share(const auth::AuthContext& caller, const ShareRequest& r) {
    if (r.items.empty()) {
        throw ApiError(ErrorCode::kGroupShareNoGroups);
    }
    CheckRequestFields(r);
    std::string id;
    db_.Transaction([&] {
        const auto groups = CheckGroups(r.items);
        const auto target = RequireTarget(caller, r.user_name);
        const auto offered = OfferedRole(r.primary || r.transfer);
        bool has_all = !r.transfer;
        for (const auto& group : groups) {
            CheckSender(caller.user_id, group, r.transfer);
            for (const auto& node : db_.Groups().Nodes(group.group_id)) {
                for (const auto& source : nodes::GroupSources(db_, target.user_id, node)) {
                    if (source.group_id != group.group_id && source.role != offered) {
                        throw ApiError(
                            ErrorCode::kShareViaGroupRole,
                            "Error, the node " + node +
                                " is already shared via group sharing with a different role"
                        );
                    }
                }
            }
            has_all = has_all && (group.owner_id == target.user_id ||
                                  db_.Groups().FindShare(group.group_id, target.user_id));
        }
        id = Create(caller, target, r, has_all);
    });
    return id;
}

// The sender may offer the group: a primary of it and of every node in it; for a transfer,
// its owner, of a top-level group, holding every node in their own right (what came through
// someone else's group cannot be handed over). Checked when the request is made and again
// when it is accepted (the group may have changed in between).
void GroupSharingService::CheckSender(
    const std::string& sender, const GroupRow& group, bool transfer
) {
    const auto role = RoleInGroup(db_, sender, group);
    if (!role) {
        throw ApiError(
            ErrorCode::kGroupShareNotMember,
            "Error, the group " + group.group_id + " does not belong to the user"
        );
    }
    if (!IsPrimary(role)) {
        throw ApiError(ErrorCode::kGroupShareNotPrimary);
    }
    if (transfer && !role->owner) {
        throw ApiError(ErrorCode::kGroupShareTransferViaParent);
    }
    if (transfer && !group.parent_id.empty()) {
        throw ApiError(
            ErrorCode::kGroupShareTransferViaParent,
            "Error, only a top-level group can be transferred (its sub-groups go with it)"
        );
    }
    for (const auto& node : db_.Groups().Nodes(group.group_id)) {
        const auto held = db_.Nodes().FindMapping(sender, node);
        if (!held ||
            (transfer ? held->direct_role : std::optional(held->role)) != ResourceRole::kPrimary) {
            throw ApiError(
                ErrorCode::kGroupShareNodesNotPrimary,
                "Error, User should be primary owner for all nodes in the groups: " + node
            );
        }
    }
}

// Accepted: the receiver holds a share of each group in the offered role; a transfer makes
// the receiver the owner (the sender stays as secondary when new_role says so).
void GroupSharingService::Apply(const SharingRequestRow& request) {
    const auto now = clock_.NowSeconds();
    const auto role = OfferedRole(request.primary || request.transfer);
    std::vector<GroupRow> groups;
    for (const auto& id : Items(request)) {
        auto group = db_.Groups().Find(id);
        if (!group || group->owner_id == request.to_user) {
            continue;  // gone since, or theirs already
        }
        // A room offered alone before its home became a fabric: not shared on its own now.
        if (!group->parent_id.empty() && groups_.InFabric(*group)) {
            throw ApiError(ErrorCode::kMatterSubGroupShare);
        }
        CheckSender(request.from_user, *group, request.transfer);
        groups.push_back(std::move(*group));
    }
    if (request.transfer) {
        groups_.CheckFabricsReceived(request.to_user, groups);  // 108132: nothing changes
    }
    for (const auto& group : groups) {
        const auto nodes = db_.Groups().Nodes(group.group_id);
        auto given = role;  // what the receiver ends up with, for the event
        if (request.transfer) {
            // The sender held every node directly (CheckSender): the receiver now does, and
            // the sender keeps a secondary share only when new_role says so.
            groups_.HandOver(group, request.from_user, request.to_user);
            groups_.MemberJoined(group, request.to_user);
            if (request.new_role == ResourceRole::kSecondary) {
                db_.Groups().PutShare(storage::GroupShareRow{
                    group.group_id, request.from_user, ResourceRole::kSecondary, "{}", now});
                groups_.MemberJoined(group, request.from_user);
            }
            for (const auto& node : nodes) {
                nodes::SetDirectRole(db_, request.from_user, node, std::nullopt, now);
            }
        } else {
            // As for nodes: a share is never lowered by a new request.
            const auto existing = db_.Groups().FindShare(group.group_id, request.to_user);
            if (existing && existing->role == ResourceRole::kPrimary) {
                given = ResourceRole::kPrimary;
            }
            db_.Groups().PutShare(storage::GroupShareRow{
                group.group_id,
                request.to_user,
                given,
                request.metadata,
                existing ? existing->created_at : now});
            for (const auto& node : nodes) {
                nodes::SyncAccess(db_, request.to_user, node, now);
            }
            groups_.MemberJoined(group, request.to_user);
            if (existing && existing->role != given) {
                groups_.MemberRoleChanged(group, existing->role, given);
            }
        }
        const std::string event = core::Serialize(boost::json::object{
            {"group_id", group.group_id},
            {"role", core::Name(given)},
            {"request_id", request.request_id}});
        db_.Events().Append("user_node_group_sharing_add", request.to_user, "", event, now);
    }
}

boost::json::array GroupSharingService::AcceptedFabrics(
    const auth::AuthContext& caller, std::string_view request_id
) {
    boost::json::array out;
    const auto request = db_.Sharing().Find(request_id);
    if (!request) {
        return out;
    }
    for (const auto& id : Items(*request)) {
        const auto group = db_.Groups().Find(id);
        if (!group || !RoleInGroup(db_, caller.user_id, *group)) {
            continue;
        }
        auto summary = groups_.FabricSummary(caller, id);
        if (!summary.contains("fabric_id")) {
            continue;
        }
        boost::json::object item{{"group_id", id}, {"fabric_id", summary.at("fabric_id")}};
        for (const auto& [key, value] : summary.at("fabric_details").as_object()) {
            item[key] = value;
        }
        out.push_back(std::move(item));
    }
    return out;
}

void GroupSharingService::RequireShare(const GroupRow& group, std::string_view user_id) {
    if (db_.Groups().FindShare(group.group_id, user_id)) {
        return;
    }
    if (RoleInGroup(db_, user_id, group)) {
        throw ApiError(ErrorCode::kGroupShareViaParent);
    }
    throw ApiError(
        ErrorCode::kGroupShareNotMember,
        "Error, the group " + group.group_id + " is not shared with the user"
    );
}

void GroupSharingService::Remove(
    const auth::AuthContext& caller,
    const std::vector<std::string>& group_ids,
    std::string_view user_name
) {
    db_.Transaction([&] {
        const auto groups = CheckGroups(group_ids);
        const auto target = FindTarget(user_name);
        const bool self = target.user_id == caller.user_id;
        for (const auto& group : groups) {
            const auto role = RoleInGroup(db_, caller.user_id, group);
            if (!role) {
                throw ApiError(ErrorCode::kGroupShareNotMember);
            }
            if (self) {
                // A secondary takes their own share away (primaries leave the group).
                RequireShare(group, caller.user_id);
                if (db_.Groups().FindShare(group.group_id, caller.user_id)->role !=
                    ResourceRole::kSecondary) {
                    throw ApiError(ErrorCode::kGroupShareSelfNotSecondary);
                }
                continue;
            }
            if (!IsPrimary(role) || target.user_id == group.owner_id) {
                throw ApiError(ErrorCode::kGroupShareNotPrimary);
            }
            RequireShare(group, target.user_id);
        }
        for (const auto& group : groups) {
            groups_.RemoveShare(group, target.user_id);
        }
    });
}

void GroupSharingService::RemoveFromGroup(
    const auth::AuthContext& caller, std::string_view group_id, std::string_view user_name
) {
    db_.Transaction([&] {
        const auto group = groups_.RequireVisible(caller, group_id);
        if (!IsPrimary(RoleInGroup(db_, caller.user_id, group))) {
            throw ApiError(ErrorCode::kSecondaryRemoveSharing);
        }
        const auto target = FindTarget(user_name);
        if (target.user_id == caller.user_id) {
            throw ApiError(ErrorCode::kRemoveSharingSelf);
        }
        if (target.user_id == group.owner_id) {
            throw ApiError(ErrorCode::kGroupShareNotPrimary, "The group's owner cannot be removed");
        }
        RequireShare(group, target.user_id);
        groups_.RemoveShare(group, target.user_id);
    });
}

boost::json::object GroupSharingService::Describe(
    const auth::AuthContext& caller, const GroupRow& group, const GroupSharingQuery& q
) {
    const bool caller_primary = IsPrimary(RoleInGroup(db_, caller.user_id, group));

    // Everyone holding a share of the group or of a parent, in their best role, with the
    // metadata of their share.
    struct Member {
        std::string user_id;
        ResourceRole role;
        std::string metadata;
    };

    std::vector<Member> members{{group.owner_id, ResourceRole::kPrimary, "{}"}};
    std::optional<GroupRow> level = group;
    while (level) {
        for (const auto& share : db_.Groups().SharesOfGroup(level->group_id)) {
            auto it = std::find_if(members.begin(), members.end(), [&](const auto& m) {
                return m.user_id == share.user_id;
            });
            if (it == members.end()) {
                members.push_back(Member{share.user_id, share.role, share.metadata});
            } else if (share.role == ResourceRole::kPrimary) {
                it->role = ResourceRole::kPrimary;
            }
        }
        // The parents' shares count only where the caller may see the parent.
        level = ParentVisible(db_, caller.user_id, *level) ? db_.Groups().Find(level->parent_id)
                                                           : std::nullopt;
    }
    boost::json::object users;
    for (const auto role : {ResourceRole::kPrimary, ResourceRole::kSecondary}) {
        if (role == ResourceRole::kSecondary && !caller_primary) {
            continue;  // a secondary user does not see the other secondaries
        }
        boost::json::array names;
        boost::json::array with_metadata;
        for (const auto& member : members) {
            const auto user = db_.Users().FindById(member.user_id);
            if (!user || member.role != role) {
                continue;
            }
            names.emplace_back(user->user_name);
            if (q.metadata) {
                with_metadata.push_back(boost::json::object{
                    {"user_name", user->user_name}, {"metadata", ParseObject(member.metadata)}});
            }
        }
        // The lists are named after the role: primary, secondary, primary_metadata, ...
        const std::string name(core::Name(role));
        users[name] = std::move(names);
        if (q.metadata) {
            users[name + "_metadata"] = std::move(with_metadata);
        }
    }
    boost::json::object out{
        {"group_id", group.group_id},
        {"group_name", group.group_name},
        {"mutually_exclusive", group.mutually_exclusive},
        {"users", std::move(users)}};
    if (ParentVisible(db_, caller.user_id, group)) {
        out["parent_group_id"] = group.parent_id;
    }
    // Sub-groups nest their own sub-groups; parents are listed flat.
    GroupSharingQuery nested;
    nested.metadata = q.metadata;
    if (q.sub_groups) {
        nested.sub_groups = true;
        boost::json::array children;
        for (const auto& child : db_.Groups().Children(group.group_id)) {
            children.push_back(Describe(caller, child, nested));
        }
        out["sub_groups"] = std::move(children);
        nested.sub_groups = false;
    }
    if (q.parent_groups) {
        // Nearest first, and only the parents the caller belongs to: a sub-group shared
        // alone does not reveal who shares its parent.
        boost::json::array parents;
        auto parent = group.parent_id.empty() ? std::nullopt : db_.Groups().Find(group.parent_id);
        while (parent && RoleInGroup(db_, caller.user_id, *parent)) {
            parents.push_back(Describe(caller, *parent, nested));
            parent =
                parent->parent_id.empty() ? std::nullopt : db_.Groups().Find(parent->parent_id);
        }
        out["parent_groups"] = std::move(parents);
    }
    return out;
}

// One entry per group asked for (or per top-level group of the caller), sub-groups and
// parents nested inside it as SDK 2.1.1 reads them.
boost::json::object GroupSharingService::Details(
    const auth::AuthContext& caller, const GroupSharingQuery& q
) {
    // One snapshot: every read below sees the same state.
    return storage::ReadSnapshot(db_, [&] {
        std::vector<GroupRow> roots;
        if (q.group_id) {
            roots.push_back(groups_.RequireVisible(caller, *q.group_id));
        } else {
            roots = db_.Groups().ListTopLevel("user", caller.user_id, "", kAllRows);
        }
        boost::json::array out;
        for (const auto& root : roots) {
            out.push_back(Describe(caller, root, q));
        }
        return boost::json::object{{"group_sharing", std::move(out)}};
    });
}

void GroupSharingService::DescribeItems(
    const SharingRequestRow& request, boost::json::object& out
) {
    boost::json::array ids;
    boost::json::array names;
    for (const auto& id : Items(request)) {
        const auto group = db_.Groups().Find(id);
        ids.emplace_back(id);
        names.emplace_back(group ? group->group_name : "");
    }
    out["group_ids"] = std::move(ids);
    out["group_names"] = std::move(names);
}

}  // namespace rainmaker::domain::sharing

// Effective role = the best of the direct role and the roles of the shared groups, where a
// group gives only what its owner holds in their own right: followed back to a direct role,
// never round a loop of users sharing groups with each other.
#include "domain/nodes/node_access.hpp"

#include <algorithm>

namespace rainmaker::domain::nodes {

namespace {

// Access changes can ripple: a user who loses a node takes it out of their groups, which
// changes the access of the users those groups are shared with. Each step recomputes from
// the sources, so the ripple ends; the bound is a guard against a store that says otherwise.
constexpr int kMaxDepth = 16;

std::string Best(const std::string& a, const std::string& b) {
    return a == "primary" || b == "primary" ? "primary" : (a.empty() ? b : a);
}

// What a share gives: its role, capped by the owner's.
std::string Given(const std::string& share_role, const std::string& owner_role) {
    if (owner_role.empty()) {
        return "";
    }
    return share_role == "primary" && owner_role == "primary" ? "primary" : "secondary";
}

// The user's grounded role on the node: the direct role, or what shared groups give when
// their owners' roles are grounded without passing through a user already on `path`.
std::string Grounded(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::vector<std::string>& path
) {
    const auto mapping = db.Nodes().FindMapping(user_id, node_id);
    std::string role = mapping ? mapping->direct_role : "";
    if (role == "primary" || path.size() > static_cast<std::size_t>(kMaxDepth)) {
        return role;
    }
    path.emplace_back(user_id);
    for (const auto& source : db.Groups().SharedNodeSources(user_id, node_id)) {
        if (std::find(path.begin(), path.end(), source.owner_id) != path.end()) {
            continue;  // a loop gives nothing
        }
        role = Best(role, Given(source.role, Grounded(db, source.owner_id, node_id, path)));
        if (role == "primary") {
            break;
        }
    }
    path.pop_back();
    return role;
}

// The groups that give the user the node, with what each gives.
std::vector<storage::SharedNodeSource> Giving(
    storage::Database& db, std::string_view user_id, std::string_view node_id
) {
    std::vector<storage::SharedNodeSource> giving;
    std::vector<std::string> path{std::string(user_id)};
    for (auto& source : db.Groups().SharedNodeSources(user_id, node_id)) {
        if (source.owner_id == user_id) {
            continue;
        }
        source.role = Given(source.role, Grounded(db, source.owner_id, node_id, path));
        if (!source.role.empty()) {
            giving.push_back(std::move(source));
        }
    }
    return giving;
}

void Sync(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::int64_t now,
    int depth
);

// The user's own groups holding the node: their shares follow the user's role.
void SyncOwnGroups(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    bool remove,
    std::int64_t now,
    int depth
) {
    for (const auto& group : db.Groups().GroupsOfNode("user", user_id, node_id)) {
        if (remove) {
            db.Groups().RemoveNode(group.group_id, node_id);
        }
        for (const auto& share : db.Groups().SharesOfGroup(group.group_id)) {
            Sync(db, share.user_id, node_id, now, depth + 1);
        }
    }
}

void Sync(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::int64_t now,
    int depth
) {
    if (depth > kMaxDepth) {
        return;
    }
    const auto mapping = db.Nodes().FindMapping(user_id, node_id);
    std::vector<std::string> path;
    const std::string role = Grounded(db, user_id, node_id, path);
    if (role.empty()) {
        if (mapping) {
            db.Nodes().DeleteMapping(user_id, node_id);
            SyncOwnGroups(db, user_id, node_id, true, now, depth);
        }
        return;
    }
    if (mapping && mapping->role == role) {
        return;
    }
    storage::UserNodeRow row;
    if (mapping) {
        row = *mapping;
    } else {
        row.user_id = std::string(user_id);
        row.node_id = std::string(node_id);
        row.direct_role.clear();
        row.created_at = now;
    }
    row.role = role;
    db.Nodes().PutMapping(row);
    if (mapping) {
        // A changed role changes what the user's groups give to their share holders.
        SyncOwnGroups(db, user_id, node_id, false, now, depth);
    }
}

}  // namespace

void SyncAccess(
    storage::Database& db, std::string_view user_id, std::string_view node_id, std::int64_t now
) {
    Sync(db, user_id, node_id, now, 0);
}

void SetDirectRole(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::string_view role,
    std::int64_t now
) {
    auto mapping = db.Nodes().FindMapping(user_id, node_id);
    if (!mapping && role.empty()) {
        return;
    }
    if (!mapping) {
        mapping.emplace();
        mapping->user_id = std::string(user_id);
        mapping->node_id = std::string(node_id);
        mapping->role = std::string(role);
        mapping->created_at = now;
    }
    mapping->direct_role = std::string(role);
    db.Nodes().PutMapping(*mapping);
    Sync(db, user_id, node_id, now, 0);
}

void SyncGroupShares(
    storage::Database& db,
    std::string_view group_id,
    const std::vector<std::string>& node_ids,
    std::int64_t now
) {
    for (const auto& share : db.Groups().SharesOfGroup(group_id)) {
        for (const auto& node : node_ids) {
            Sync(db, share.user_id, node, now, 0);
        }
    }
}

std::vector<std::string> AccessSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
) {
    std::vector<std::string> sources;
    const auto mapping = db.Nodes().FindMapping(user_id, node_id);
    if (mapping && !mapping->direct_role.empty()) {
        sources.emplace_back("NODE");
    }
    for (auto& source : Giving(db, user_id, node_id)) {
        sources.push_back(std::move(source.group_id));
    }
    return sources;
}

std::vector<storage::SharedNodeSource> GroupSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
) {
    return Giving(db, user_id, node_id);
}

}  // namespace rainmaker::domain::nodes

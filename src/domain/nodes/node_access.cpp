// Effective role = the best of the direct role and the roles of the shared groups.
#include "domain/nodes/node_access.hpp"

namespace rainmaker::domain::nodes {

namespace {

// Access changes can ripple: a user who loses a node takes it out of their groups, which
// changes the access of the users those groups are shared with. Roles only go down along
// such a chain, so it ends; the bound is a guard against a store that says otherwise.
constexpr int kMaxDepth = 16;

std::string Best(const std::string& a, const std::string& b) {
    return a == "primary" || b == "primary" ? "primary" : (a.empty() ? b : a);
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
    std::string role = mapping ? mapping->direct_role : "";
    for (const auto& source : db.Groups().SharedNodeSources(user_id, node_id)) {
        role = Best(role, source.role);
    }
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
    for (auto& source : db.Groups().SharedNodeSources(user_id, node_id)) {
        sources.push_back(std::move(source.group_id));
    }
    return sources;
}

}  // namespace rainmaker::domain::nodes

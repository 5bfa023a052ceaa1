// Where a user's access to a node comes from, kept in one place. A user reaches a node
// directly (mapping it, node sharing: the "NODE" source, user_nodes.direct_role) or through
// groups shared with them that hold the node (group_shares). user_nodes.role is the best of
// these and is what every node operation checks; these functions keep it true whenever a
// source changes. A group gives no more than its owner holds in their own right: access is
// followed back to a direct role, never round a loop of users sharing groups with each
// other. Call them inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource_role.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

// These call the store's NodeAccessHooks (storage/database.hpp): node_left_group when a user
// who lost access has the node taken out of their groups, node_released when a deleted
// mapping was the node's last.

// Releases the node (NodeAccessHooks::node_released) when no user maps it any longer. For a
// mapping deleted outside these functions; they call it themselves.
void ReleaseIfUnmapped(storage::Database& db, std::string_view node_id);

// Recomputes the user's access to the node from its sources. A user left without access
// loses the mapping, and the node leaves that user's own groups (and so the users those
// groups are shared with, recursively).
void SyncAccess(
    storage::Database& db, std::string_view user_id, std::string_view node_id, std::int64_t now
);

// Sets the direct ("NODE") role (nullopt: none), then recomputes.
void SetDirectRole(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::optional<core::ResourceRole> role,
    std::int64_t now
);

// Recomputes the access of every user the group is shared with, for these nodes.
void SyncGroupShares(
    storage::Database& db,
    std::string_view group_id,
    const std::vector<std::string>& node_ids,
    std::int64_t now
);

// The sources of the user's access to the node, as GET /user/nodes/sharing names them:
// "NODE" for a direct role, then the ids of the shared groups that give it.
std::vector<std::string> AccessSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
);

// The shared groups that give the user the node, each with the role it gives (a share's role
// capped by its owner's grounded role); groups that give nothing are left out.
std::vector<storage::SharedNodeSource> GroupSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
);

}  // namespace rainmaker::domain::nodes

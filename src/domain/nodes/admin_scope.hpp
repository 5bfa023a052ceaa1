// The nodes an admin reaches on an admin route: every node the server knows, narrowed for an
// admin restricted by RBAC roles to the nodes their policies' filters allow (the caller's
// AuthContext::node_scope, set by the route guard). A node outside the scope answers exactly
// like one that does not exist.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

// Whether the caller's scope allows `node` (always, without a scope).
bool InAdminScope(
    storage::Database& db, const auth::AuthContext& caller, const storage::NodeRow& node
);

// The node, when it exists and the caller's scope allows it.
std::optional<storage::NodeRow> FindForAdmin(
    storage::Database& db, const auth::AuthContext& caller, std::string_view node_id
);

// For what spans every node (counts, tag names and lookups, node tag writes, dynamic groups):
// throws 100004 ("`what` needs an admin whose roles reach every node") when the caller's RBAC
// roles reach only some nodes.
void RequireEveryNode(const auth::AuthContext& caller, std::string_view what);

// The caller's scope as a store filter (nullopt without a scope): the allow and deny filters of
// every policy, each once; allow_all when a policy allowing the route has no filters.
std::optional<storage::NodeScopeFilter> ScopeFilterOf(const auth::AuthContext& caller);

// `node_ids` without the nodes the caller's scope leaves out (all of them without a scope).
std::vector<std::string> InAdminScope(
    storage::Database& db, const auth::AuthContext& caller, std::vector<std::string> node_ids
);

}  // namespace rainmaker::domain::nodes

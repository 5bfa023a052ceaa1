// Admin node scopes: a node's type and admin tags against the caller's RBAC filters.
#include "domain/nodes/admin_scope.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace rainmaker::domain::nodes {

namespace {

// The admin tags of the node ("name:value").
std::vector<std::string> AdminTags(storage::Database& db, std::string_view node_id) {
    return db.Tags().Of(storage::TagResource::kNode, node_id);
}

}  // namespace

bool InAdminScope(
    storage::Database& db, const auth::AuthContext& caller, const storage::NodeRow& node
) {
    if (!caller.node_scope) {
        return true;
    }
    const auto tags = AdminTags(db, node.node_id);
    return caller.node_scope->Allows(rbac::NodeFacts{node.node_type, tags});
}

void RequireEveryNode(const auth::AuthContext& caller, std::string_view what) {
    if (caller.node_scope) {
        throw core::ApiError(
            core::ErrorCode::kNotPermitted,
            std::string(what) + " needs an admin whose roles reach every node"
        );
    }
}

std::optional<storage::NodeRow> FindForAdmin(
    storage::Database& db, const auth::AuthContext& caller, std::string_view node_id
) {
    auto node = db.Nodes().Find(node_id);
    if (node && !InAdminScope(db, caller, *node)) {
        return std::nullopt;
    }
    return node;
}

std::vector<std::string> InAdminScope(
    storage::Database& db, const auth::AuthContext& caller, std::vector<std::string> node_ids
) {
    if (!caller.node_scope) {
        return node_ids;
    }
    std::erase_if(node_ids, [&](const std::string& id) { return !FindForAdmin(db, caller, id); });
    return node_ids;
}

}  // namespace rainmaker::domain::nodes

// Admin node scopes: a node's type and admin tags against the caller's RBAC filters.
#include "domain/nodes/admin_scope.hpp"

#include <algorithm>
#include <set>
#include <utility>

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

std::optional<storage::NodeScopeFilter> ScopeFilterOf(const auth::AuthContext& caller) {
    if (!caller.node_scope) {
        return std::nullopt;
    }
    // Rules with their tags and types sorted and each once, so a filter held through several
    // policies (or roles) is compiled once.
    using Key = std::pair<std::vector<std::string>, std::vector<std::string>>;
    const auto rules = [](const std::vector<rbac::PolicyNodes>& policies, bool& every) {
        std::set<Key> keys;
        for (const auto& filters : policies) {
            every = every || filters.empty();  // a policy without filters matches every node
            for (const auto& filter : filters) {
                std::set<std::string> tags(filter.tags.begin(), filter.tags.end());
                std::set<std::string> types(filter.types.begin(), filter.types.end());
                keys.emplace(
                    std::vector<std::string>(tags.begin(), tags.end()),
                    std::vector<std::string>(types.begin(), types.end())
                );
            }
        }
        std::vector<storage::NodeRule> out;
        for (const auto& key : keys) {
            out.push_back({key.first, key.second});
        }
        return out;
    };
    storage::NodeScopeFilter scope;
    scope.allow = rules(caller.node_scope->allow, scope.allow_all);
    bool deny_every = false;
    scope.deny = rules(caller.node_scope->deny, deny_every);
    if (deny_every) {
        scope.deny.push_back({});  // a rule with neither tags nor types: every node
    }
    if (scope.allow_all) {
        scope.allow.clear();
    }
    return scope;
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

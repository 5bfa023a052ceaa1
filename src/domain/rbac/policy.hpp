// RBAC policies (#91-#93): the policy_json document, checked and compiled, and how a statement
// matches a request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "domain/rbac/node_scope.hpp"

namespace rainmaker::domain::rbac {

constexpr std::size_t kMaxPolicyJsonBytes = 2048;  // of policy_json, serialized compactly
constexpr std::size_t kMaxStatements = 20;
constexpr std::size_t kMaxFilters = 10;
constexpr std::size_t kMaxListItems = 50;  // actions, resources, tags or types of one entry

enum class Effect { kAllow, kDeny };

struct Statement {
    Effect effect = Effect::kAllow;
    std::vector<std::string> methods;    // "GET", "POST", "PUT", "DELETE" or "*"
    std::vector<std::string> resources;  // paths without the version prefix; '*' is a wildcard
};

struct Policy {
    PolicyNodes filters;
    std::vector<Statement> statements;
};

// Checks and compiles a policy_json document:
// {"version": "1.0.0", "filters": [{"type": "nodes", "rules": {"tags": ["name:value", ...],
//  "type": ["led_light", ...]}}], "statement": [{"Effect": "Allow"|"Deny", "Action":
//  ["api:Get"|"api:Post"|"api:Put"|"api:Delete"|"api:*", ...], "Resource": ["/v1/admin/nodes",
//  "/admin/*", "*", ...]}]}
// Keys of statements may be written Effect/effect, Action/action, Resource/resource; values are
// case-insensitive ("allow", "api:get"). Unknown keys are refused, so that a misspelt key never
// grants more than meant. Throws ApiError 129026 when the document exceeds 2 KB and 129010 with
// what is wrong otherwise.
Policy ParsePolicy(const boost::json::value& policy_json);

// A route pattern or resource path without its version: "/v1/admin/nodes" and
// "/{version}/admin/nodes" -> "/admin/nodes".
std::string WithoutVersion(std::string_view path);

// Whether `statement` names `method` (upper case) on `route` (a route pattern, "/v1/...").
bool Matches(const Statement& statement, std::string_view method, std::string_view route);
// The same for a path already without its version (WithoutVersion).
bool MatchesPath(const Statement& statement, std::string_view method, std::string_view path);

}  // namespace rainmaker::domain::rbac

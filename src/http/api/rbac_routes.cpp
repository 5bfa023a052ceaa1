// Thin handlers over the RBAC service.
#include "http/api/rbac_routes.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::rbac::Operation;
using domain::rbac::RbacService;

namespace {

std::string QueryText(const ApiRequest& r, std::string_view key) {
    return r.query.Text(key).value_or("");
}

// ?operation=add|remove: 129041 when absent, 129022 otherwise.
std::optional<Operation> OperationOf(const ApiRequest& r) {
    const auto text = r.query.Text("operation");
    if (!text || text->empty()) {
        return std::nullopt;
    }
    if (*text == "add") {
        return Operation::kAdd;
    }
    if (*text == "remove") {
        return Operation::kRemove;
    }
    throw ApiError(ErrorCode::kRbacBadOperation);
}

// role_level: a whole number >= 0 (129035 otherwise); nullopt when absent.
std::optional<int> LevelOf(const boost::json::object& body) {
    const auto* v = body.if_contains("role_level");
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    constexpr double kMax = 1'000'000;
    double level = -1;
    if (v->is_int64()) {
        level = static_cast<double>(v->as_int64());
    } else if (v->is_uint64()) {
        level = static_cast<double>(v->as_uint64());
    } else if (v->is_double()) {
        level = v->as_double();
    } else {
        throw ApiError(ErrorCode::kRbacBadLevel);
    }
    if (!(level >= 0) || level > kMax || std::floor(level) != level) {
        throw ApiError(ErrorCode::kRbacBadLevel, "role_level must be a whole number from 0");
    }
    return static_cast<int>(level);
}

boost::json::value PolicyJsonOf(const boost::json::object& body) {
    const auto* v = body.if_contains("policy_json");
    if (v == nullptr || v->is_null()) {
        throw ApiError(ErrorCode::kRbacPolicyJsonMissing);
    }
    return *v;
}

// Catalog #91 POST /{version}/admin/policy
ApiResponse AddPolicy(const ApiRequest& r, RbacService& rbac) {
    const auto body = r.JsonObject();
    const auto name = OptionalString(body, "policy_name").value_or("");
    rbac.AddPolicy(r.Caller(), name, PolicyJsonOf(body));
    return ApiResponse::Success("Policy added successfully");
}

// Catalog #92 PUT /{version}/admin/policy?policy_name=
ApiResponse UpdatePolicy(const ApiRequest& r, RbacService& rbac) {
    const auto body = r.JsonObject();
    rbac.UpdatePolicy(r.Caller(), QueryText(r, "policy_name"), PolicyJsonOf(body));
    return ApiResponse::Success("Policy updated successfully");
}

// Catalog #93 GET /{version}/admin/policy[?policy_name=]
ApiResponse GetPolicies(const ApiRequest& r, RbacService& rbac) {
    boost::json::array policies;
    for (auto& p : rbac.GetPolicies(r.query.Text("policy_name"))) {
        policies.push_back(boost::json::object{
            {"policy_name", std::move(p.policy_name)}, {"policy_json", std::move(p.policy_json)}});
    }
    return ApiResponse::Json(boost::json::object{{"policies", std::move(policies)}});
}

// Catalog #94 DELETE /{version}/admin/policy?policy_name=
ApiResponse DeletePolicy(const ApiRequest& r, RbacService& rbac) {
    rbac.DeletePolicy(r.Caller(), QueryText(r, "policy_name"));
    return ApiResponse::Success("Policy deleted successfully");
}

// Catalog #95 POST /{version}/admin/role
ApiResponse AddRole(const ApiRequest& r, RbacService& rbac) {
    const auto body = r.JsonObject();
    domain::rbac::RoleInfo role;
    role.role_name = OptionalString(body, "role_name").value_or("");
    role.policies = OptionalStrings(body, "policies").value_or(std::vector<std::string>{});
    role.role_level = LevelOf(body);
    rbac.AddRole(r.Caller(), role);
    return ApiResponse::Success("Role added successfully");
}

// Catalog #96 PUT /{version}/admin/role?role_name=&operation=add|remove
ApiResponse UpdateRole(const ApiRequest& r, RbacService& rbac) {
    domain::rbac::RoleUpdate update;
    update.operation = OperationOf(r);
    const auto body = r.JsonObject();
    update.policies = OptionalStrings(body, "policies").value_or(std::vector<std::string>{});
    update.role_level = LevelOf(body);
    update.remove_role_level = OptionalBool(body, "remove_role_level").value_or(false);
    rbac.UpdateRole(r.Caller(), QueryText(r, "role_name"), update);
    return ApiResponse::Success("Role updated successfully");
}

// Catalog #97 GET /{version}/admin/role[?role_name=]
ApiResponse GetRoles(const ApiRequest& r, RbacService& rbac) {
    boost::json::array roles;
    for (auto& role : rbac.GetRoles(r.query.Text("role_name"))) {
        boost::json::array policies;
        for (auto& p : role.policies) {
            policies.emplace_back(std::move(p));
        }
        boost::json::object item{
            {"role_name", std::move(role.role_name)}, {"policies", std::move(policies)}};
        if (role.role_level) {
            item["role_level"] = *role.role_level;
        }
        roles.push_back(std::move(item));
    }
    return ApiResponse::Json(boost::json::object{{"roles", std::move(roles)}});
}

// Catalog #98 DELETE /{version}/admin/role?role_name=
ApiResponse DeleteRole(const ApiRequest& r, RbacService& rbac) {
    rbac.DeleteRole(r.Caller(), QueryText(r, "role_name"));
    return ApiResponse::Success("Role deleted successfully");
}

// The user of #99/#100: user_id wins over user_name (the reference's rule for admin queries).
domain::users::UserSelector TargetUser(const ApiRequest& r) {
    domain::users::UserSelector target;
    if (auto id = r.query.Text("user_id"); id && !id->empty()) {
        target.user_id = std::move(id);
    } else if (auto name = r.query.Text("user_name"); name && !name->empty()) {
        target.user_name = std::move(name);
    }
    return target;
}

boost::json::array Strings(std::vector<std::string> items) {
    boost::json::array out;
    for (auto& item : items) {
        out.emplace_back(std::move(item));
    }
    return out;
}

// Catalog #99 PUT /{version}/admin/user_role?user_name=|user_id=&operation=add|remove
ApiResponse UpdateUserRoles(const ApiRequest& r, RbacService& rbac) {
    const auto operation = OperationOf(r);
    if (!operation) {
        throw ApiError(ErrorCode::kRbacOperationMissing);
    }
    const auto body = r.JsonObject();
    const auto roles = OptionalStrings(body, "roles").value_or(std::vector<std::string>{});
    rbac.UpdateUserRoles(r.Caller(), TargetUser(r), *operation, roles);
    return ApiResponse::Success("User roles updated successfully");
}

// Catalog #100 GET /{version}/admin/user_role?user_name=|user_id= -> {roles}, or ?role_name=
// -> {users} (their user names); both: 129029.
ApiResponse GetUserRoles(const ApiRequest& r, RbacService& rbac) {
    const auto target = TargetUser(r);
    const auto role = r.query.Text("role_name");
    const bool by_user = target.user_id || target.user_name;
    const bool by_role = role && !role->empty();
    if (by_user && by_role) {
        throw ApiError(ErrorCode::kRbacUserOrRole);
    }
    if (by_role) {
        return ApiResponse::Json(boost::json::object{{"users", Strings(rbac.UsersWithRole(*role))}}
        );
    }
    if (!by_user) {
        throw ApiError(ErrorCode::kRbacUserOrRole, "Give user_name, user_id or role_name");
    }
    return ApiResponse::Json(boost::json::object{{"roles", Strings(rbac.RolesOfUser(target))}});
}

}  // namespace

void AddRbacRoutes(Router& router, RbacService& rbac) {
    const auto admin = Access::kAdmin;
    // With RBAC disabled each of these answers 129036 before reading anything.
    const auto when_enabled = [&rbac](ApiResponse (*handler)(const ApiRequest&, RbacService&)) {
        return [&rbac, handler](const ApiRequest& r) {
            if (!rbac.Enabled()) {
                throw ApiError(ErrorCode::kRbacDisabled);
            }
            return handler(r, rbac);
        };
    };
    router.Add("POST", "/v1/admin/policy", admin, when_enabled(AddPolicy));
    router.Add("PUT", "/v1/admin/policy", admin, when_enabled(UpdatePolicy));
    router.Add("GET", "/v1/admin/policy", admin, when_enabled(GetPolicies));
    router.Add("DELETE", "/v1/admin/policy", admin, when_enabled(DeletePolicy));
    router.Add("POST", "/v1/admin/role", admin, when_enabled(AddRole));
    router.Add("PUT", "/v1/admin/role", admin, when_enabled(UpdateRole));
    router.Add("GET", "/v1/admin/role", admin, when_enabled(GetRoles));
    router.Add("DELETE", "/v1/admin/role", admin, when_enabled(DeleteRole));
    router.Add("PUT", "/v1/admin/user_role", admin, when_enabled(UpdateUserRoles));
    router.Add("GET", "/v1/admin/user_role", admin, when_enabled(GetUserRoles));
}

}  // namespace rainmaker::http::api

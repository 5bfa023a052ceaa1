// Thin handlers for the admin platform operations.
#include "http/api/admin_platform_routes.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::users::AccountService;
using domain::users::UserSelector;

namespace {

constexpr std::string_view kVersionPrefix = "/v1/";

// "/v1/admin/x" -> "/{version}/admin/x"; paths outside a version (/apiversions, /claim/...)
// stay as they are.
std::string DisplayPath(std::string_view pattern) {
    if (pattern.starts_with(kVersionPrefix)) {
        return "/{version}/" + std::string(pattern.substr(kVersionPrefix.size()));
    }
    return std::string(pattern);
}

// The place of `method` in the answer: the reference sample lists GET, POST, PUT, DELETE.
std::size_t MethodRank(std::string_view method) {
    constexpr std::array<std::string_view, 4> kOrder{"GET", "POST", "PUT", "DELETE"};
    const auto* at = std::find(kOrder.begin(), kOrder.end(), method);
    return static_cast<std::size_t>(at - kOrder.begin());
}

// The target of #118/#119 from the query: user_id, or user_name (user_email and
// user_phone_number are its deprecated spellings). More than one of the four is 125003, as is
// none (checked by the service).
UserSelector Target(const ApiRequest& r) {
    UserSelector target;
    int given = 0;
    if (const auto* id = r.query.Find("user_id"); id != nullptr && !id->empty()) {
        target.user_id = *id;
        ++given;
    }
    for (const char* key : {"user_name", "user_email", "user_phone_number"}) {
        if (const auto* name = r.query.Find(key); name != nullptr && !name->empty()) {
            target.user_name = *name;
            ++given;
        }
    }
    if (given > 1) {
        throw ApiError(ErrorCode::kCustomDataOneUser);
    }
    return target;
}

// Catalog #105 GET /{version}/admin/api_paths_methods.
ApiResponse GetApiPathsMethods(const ApiRequest& r, const Router& router) {
    const bool all_paths = r.query.Bool("all_paths", false);
    return ApiResponse::Json(ApiPathsMethods(router.Routes(), all_paths));
}

// Catalog #118 GET /{version}/admin/custom_data.
ApiResponse GetUserCustomData(const ApiRequest& r, AccountService& accounts) {
    return ApiResponse::Json(accounts.GetCustomDataAsAdmin(r.Caller(), Target(r)));
}

// Catalog #119 PUT /{version}/admin/custom_data.
ApiResponse PutUserCustomData(const ApiRequest& r, AccountService& accounts) {
    const auto target = Target(r);
    boost::json::value body;
    try {
        body = r.Json();
    } catch (const ApiError&) {
        throw ApiError(ErrorCode::kCustomDataNotJson);
    }
    return ApiResponse::Json(accounts.PutCustomDataAsAdmin(r.Caller(), target, body));
}

}  // namespace

boost::json::array ApiPathsMethods(const std::vector<RouteInfo>& routes, bool all_paths) {
    std::vector<RouteInfo> listed;
    for (const auto& route : routes) {
        if (all_paths || route.access == Access::kAdmin || route.access == Access::kSuperAdmin) {
            listed.push_back(route);
        }
    }
    std::stable_sort(listed.begin(), listed.end(), [](const RouteInfo& a, const RouteInfo& b) {
        if (a.pattern != b.pattern) {
            return a.pattern < b.pattern;
        }
        const auto rank_a = MethodRank(a.method);
        const auto rank_b = MethodRank(b.method);
        return rank_a != rank_b ? rank_a < rank_b : a.method < b.method;
    });
    boost::json::array out;
    for (std::size_t i = 0; i < listed.size();) {
        boost::json::array methods;
        std::size_t j = i;
        for (; j < listed.size() && listed[j].pattern == listed[i].pattern; ++j) {
            methods.emplace_back(listed[j].method);
        }
        out.emplace_back(boost::json::object{
            {"path", DisplayPath(listed[i].pattern)}, {"methods", std::move(methods)}});
        i = j;
    }
    return out;
}

void AddAdminPlatformRoutes(Router& router, AccountService& accounts) {
    auto& a = accounts;
    const Router& table = router;
    const auto admin = Access::kAdmin;
    router.Add("GET", "/v1/admin/api_paths_methods", admin, [&table](const ApiRequest& r) {
        return GetApiPathsMethods(r, table);
    });
    router.Add("GET", "/v1/admin/custom_data", admin, [&a](const ApiRequest& r) {
        return GetUserCustomData(r, a);
    });
    router.Add("PUT", "/v1/admin/custom_data", admin, [&a](const ApiRequest& r) {
        return PutUserCustomData(r, a);
    });
}

}  // namespace rainmaker::http::api

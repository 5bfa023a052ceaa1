// Maps (method, path) to handlers, authenticates callers and turns every failure into the
// RainMaker error envelope: the one place where ApiError is caught.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/auth/authenticator.hpp"
#include "domain/auth/route_guard.hpp"
#include "http/server/api_request.hpp"
#include "http/server/api_response.hpp"

namespace rainmaker::http {

// What a route needs of its caller, declared with the route and checked before its handler.
enum class Access {
    kPublic,      // no token needed
    kUser,        // a valid access or id token in Authorization
    kAdmin,       // kUser, of an admin or superadmin (others get 100004), within their roles
    kSuperAdmin,  // kUser, of a superadmin (others get 100004)
};

// Whether routes of `access` are admin routes (listed by GET /admin/api_paths_methods).
constexpr bool IsAdminAccess(Access access) {
    return access == Access::kAdmin || access == Access::kSuperAdmin;
}

// Where a handler runs: kWorker (default) on the worker pool, because handlers may block on the
// store; kHeavy on a separate pool for CPU-bound work (password hashing takes tens of
// milliseconds: logins must not queue ordinary requests behind them); kInline on the I/O
// thread, only for handlers that touch nothing but memory.
enum class Execution { kWorker, kHeavy, kInline };

using Handler = std::function<ApiResponse(const ApiRequest&)>;

// What the route table holds of one route, without its handler (GET /admin/api_paths_methods,
// #105, lists them).
struct RouteInfo {
    std::string method;
    std::string pattern;
    Access access;

    friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
};

struct Route {
    std::string pattern;  // e.g. "/v1/user2"
    std::string method;
    Access access;
    Execution execution;
    Handler handler;
    std::size_t max_body_bytes = 0;  // 0: the server's http.max_body_bytes
};

class Router {
public:
    explicit Router(domain::auth::Authenticator& authenticator);

    // The guard asked before every kAdmin route runs for an admin (RBAC): it refuses the
    // route or narrows the nodes the handler may reach (AuthContext::node_scope). Without
    // one, admins are unrestricted.
    void SetRouteGuard(domain::auth::RouteGuard& guard) { guard_ = &guard; }

    void Add(
        std::string_view method,
        std::string_view path,
        Access access,
        Handler handler,
        Execution execution = Execution::kWorker
    );

    // Lets the route of `method` and `path` (added before) take bodies up to `bytes`, more than
    // the server's http.max_body_bytes (inline firmware uploads).
    void SetBodyLimit(std::string_view method, std::string_view path, std::size_t bytes);

    // The largest limit SetBodyLimit gave (0: none).
    std::size_t LargestBodyLimit() const { return largest_body_limit_; }

    // The body limit of the request `method` `target` (path with or without its query):
    // its route's, or `fallback` for routes without one and unknown routes.
    std::size_t BodyLimit(std::string_view method, std::string_view target, std::size_t fallback)
        const;

    // The route for `method` and `path`; throws kRouteNotFound, kMethodNotAllowed or
    // kUnsupportedVersion (for /vN/... with N != 1).
    const Route& Find(std::string_view method, std::string_view path) const;

    // Runs `route` for `request`: authenticates when needed, calls the handler, and answers
    // every exception with the error envelope (ApiError with its code; anything else 500).
    ApiResponse Run(const Route& route, ApiRequest& request) const;

    // Resolves and runs in one step; an unknown route is answered with its error envelope.
    ApiResponse Dispatch(ApiRequest& request) const;

    // Every registered route, ordered by pattern, then method. Like Find, safe to call from
    // handlers once the table is complete (routes are added before the server starts).
    std::vector<RouteInfo> Routes() const;

private:
    domain::auth::Authenticator& authenticator_;
    domain::auth::RouteGuard* guard_ = nullptr;
    // path -> method -> route
    std::unordered_map<std::string, std::unordered_map<std::string, Route>> routes_;
    std::size_t largest_body_limit_ = 0;
};

}  // namespace rainmaker::http

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
    // No token: the URL's own signature is the credential (presigned downloads and uploads),
    // checked by the handler; without a valid one it answers 403.
    kPresigned,
};

// Whether routes of `access` are admin routes (listed by GET /admin/api_paths_methods).
constexpr bool IsAdminAccess(Access access) {
    return access == Access::kAdmin || access == Access::kSuperAdmin;
}

// Where a handler runs: kWorker (default) on the worker pool, because handlers may block on the
// store; kHeavy on a separate pool for CPU-bound work (password hashing takes tens of
// milliseconds: logins must not queue ordinary requests behind them); kInline on the I/O
// thread, only for handlers that touch nothing but memory; kOutbound on a pool of its own for
// handlers that wait on other servers (passthrough), so that a slow one holds none of the
// workers every other route needs.
enum class Execution { kWorker, kHeavy, kOutbound, kInline };

using Handler = std::function<ApiResponse(const ApiRequest&)>;

// Opens where a streamed request body goes (Router::SetUploadSink), from the request as its
// header gave it (no body, no request id). Runs on the I/O thread: it must be quick (check a
// signature, create a file). Throws core::ApiError to refuse the request unread.
using UploadOpener = std::function<std::shared_ptr<UploadSink>(const ApiRequest&)>;

// What the route table holds of one route, without its handler (GET /admin/api_paths_methods,
// #105, lists them).
struct RouteInfo {
    std::string method;
    std::string pattern;
    Access access;

    friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
};

struct Route {
    std::string pattern;  // e.g. "/v1/user2", or "/blobs/{blob_key}/{file_name}"
    std::string method;
    Access access;
    Execution execution;
    Handler handler;
    std::size_t max_body_bytes = 0;  // 0: the server's http.max_body_bytes
    std::string prefix{};            // not empty: every path under it (AddPrefix)
    UploadOpener open_upload{};      // set: the body is streamed to a sink (SetUploadSink)
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

    // A route for every path under `prefix` (e.g. "/blobs/"), listed as `pattern`; the handler
    // reads the rest of the path from ApiRequest::target. A route added with Add for the exact
    // path wins.
    void AddPrefix(
        std::string_view method,
        std::string_view prefix,
        std::string_view pattern,
        Access access,
        Handler handler,
        Execution execution = Execution::kWorker
    );

    // Lets the route of `method` and `path` (added before; a prefix route by its pattern) take
    // bodies up to `bytes`, more than the server's http.max_body_bytes (inline firmware
    // uploads).
    void SetBodyLimit(std::string_view method, std::string_view path, std::size_t bytes);

    // Streams the bodies of the route of `method` and `path` (as for SetBodyLimit), up to
    // `max_bytes`, into the sink `open` gives once the header is read, instead of memory: the
    // handler then finds it in ApiRequest::upload.
    void SetUploadSink(
        std::string_view method, std::string_view path, UploadOpener open, std::size_t max_bytes
    );

    // The route of `method` and `path` (no query), or nullptr; never throws.
    const Route* Match(std::string_view method, std::string_view path) const;

    // The largest limit SetBodyLimit gave (0: none).
    std::size_t LargestBodyLimit() const { return largest_body_limit_; }

    // The body limit of the request `method` `target` (path with or without its query):
    // its route's (at least `fallback`, but exactly its own for a streamed route), or
    // `fallback` for routes without one and unknown routes.
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
    Route& RouteOf(std::string_view method, std::string_view path);
    const Route* PrefixRoute(std::string_view method, std::string_view path, bool* path_known)
        const;

    domain::auth::Authenticator& authenticator_;
    domain::auth::RouteGuard* guard_ = nullptr;
    // path -> method -> route
    std::unordered_map<std::string, std::unordered_map<std::string, Route>> routes_;
    std::vector<std::unique_ptr<Route>> prefix_routes_;
    std::size_t largest_body_limit_ = 0;
};

}  // namespace rainmaker::http

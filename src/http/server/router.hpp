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
#include "http/server/api_request.hpp"
#include "http/server/api_response.hpp"

namespace rainmaker::http {

enum class Access {
    kPublic,      // no token needed
    kUser,        // a valid access or id token in Authorization
    kAdmin,       // kUser, of an admin or superadmin (others get 100004)
    kSuperAdmin,  // kUser, of a superadmin (admins and users get 100004)
};

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
};

class Router {
public:
    explicit Router(domain::auth::Authenticator& authenticator);

    void Add(
        std::string_view method,
        std::string_view path,
        Access access,
        Handler handler,
        Execution execution = Execution::kWorker
    );

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
    // path -> method -> route
    std::unordered_map<std::string, std::unordered_map<std::string, Route>> routes_;
};

}  // namespace rainmaker::http

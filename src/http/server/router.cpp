// The route table and the single catch site for errors.
#include "http/server/router.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <tuple>

#include "core/log.hpp"

namespace rainmaker::http {

using core::ApiError;
using core::ErrorCode;

namespace {

// "/v2/..." -> true when the first segment is v<digits> other than v1.
bool IsOtherVersion(std::string_view path) {
    if (path.size() < 3 || path[0] != '/' || path[1] != 'v') {
        return false;
    }
    std::size_t i = 2;
    while (i < path.size() && std::isdigit(static_cast<unsigned char>(path[i])) != 0) {
        ++i;
    }
    if (i == 2 || (i < path.size() && path[i] != '/')) {
        return false;
    }
    return path.substr(0, i) != "/v1";
}

std::string_view StripTrailingSlash(std::string_view path) {
    if (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    return path;
}

}  // namespace

Router::Router(domain::auth::Authenticator& authenticator) : authenticator_(authenticator) {}

void Router::Add(
    std::string_view method,
    std::string_view path,
    Access access,
    Handler handler,
    Execution execution
) {
    routes_[std::string(path)][std::string(method)] =
        Route{std::string(path), std::string(method), access, execution, std::move(handler)};
}

void Router::AddPrefix(
    std::string_view method,
    std::string_view prefix,
    std::string_view pattern,
    Access access,
    Handler handler,
    Execution execution
) {
    auto route = std::make_unique<Route>(Route{
        std::string(pattern), std::string(method), access, execution, std::move(handler)});
    route->prefix = std::string(prefix);
    prefix_routes_.push_back(std::move(route));
}

Route& Router::RouteOf(std::string_view method, std::string_view path) {
    for (auto& route : prefix_routes_) {
        if (route->pattern == path && route->method == method) {
            return *route;
        }
    }
    return routes_.at(std::string(path)).at(std::string(method));
}

void Router::SetBodyLimit(std::string_view method, std::string_view path, std::size_t bytes) {
    RouteOf(method, path).max_body_bytes = bytes;
    largest_body_limit_ = std::max(largest_body_limit_, bytes);
}

void Router::SetUploadSink(
    std::string_view method, std::string_view path, UploadOpener open, std::size_t max_bytes
) {
    auto& route = RouteOf(method, path);
    route.open_upload = std::move(open);
    route.max_body_bytes = max_bytes;
    largest_body_limit_ = std::max(largest_body_limit_, max_bytes);
}

const Route* Router::PrefixRoute(std::string_view method, std::string_view path, bool* path_known)
    const {
    for (const auto& route : prefix_routes_) {
        if (path.size() > route->prefix.size() && path.starts_with(route->prefix)) {
            *path_known = true;
            if (route->method == method) {
                return route.get();
            }
        }
    }
    return nullptr;
}

const Route* Router::Match(std::string_view method, std::string_view path) const {
    path = StripTrailingSlash(path);
    const auto by_path = routes_.find(std::string(path));
    if (by_path != routes_.end()) {
        const auto by_method = by_path->second.find(std::string(method));
        return by_method == by_path->second.end() ? nullptr : &by_method->second;
    }
    bool known = false;
    return PrefixRoute(method, path, &known);
}

std::size_t Router::BodyLimit(
    std::string_view method, std::string_view target, std::size_t fallback
) const {
    if (largest_body_limit_ == 0) {
        return fallback;
    }
    const Route* route = Match(method, target.substr(0, target.find('?')));
    if (route == nullptr || route->max_body_bytes == 0) {
        return fallback;
    }
    // A streamed body is not held in memory: its route's limit is the only one.
    if (route->open_upload) {
        return route->max_body_bytes;
    }
    return std::max(fallback, route->max_body_bytes);
}

const Route& Router::Find(std::string_view method, std::string_view path) const {
    path = StripTrailingSlash(path);
    const auto by_path = routes_.find(std::string(path));
    if (by_path == routes_.end()) {
        bool known = false;
        if (const Route* route = PrefixRoute(method, path, &known)) {
            return *route;
        }
        if (known) {
            throw ApiError(ErrorCode::kMethodNotAllowed);
        }
        if (IsOtherVersion(path)) {
            throw ApiError(ErrorCode::kUnsupportedVersion);
        }
        throw ApiError(ErrorCode::kRouteNotFound);
    }
    const auto by_method = by_path->second.find(std::string(method));
    if (by_method == by_path->second.end()) {
        throw ApiError(ErrorCode::kMethodNotAllowed);
    }
    return by_method->second;
}

ApiResponse Router::Run(const Route& route, ApiRequest& request) const {
    request.route = route.pattern;
    try {
        if (route.access != Access::kPublic && route.access != Access::kPresigned) {
            request.auth = authenticator_.Authenticate(request.authorization);
        }
        const bool refused = (route.access == Access::kAdmin && !request.auth->IsAdmin()) ||
                             (route.access == Access::kSuperAdmin && !request.auth->IsSuperAdmin());
        if (refused) {
            throw ApiError(
                ErrorCode::kNotPermitted,
                "You are not authorized to perform this operation, Please contact administrator"
            );
        }
        if (route.access == Access::kAdmin && guard_ != nullptr) {
            request.auth->node_scope =
                guard_->Authorize(*request.auth, route.method, route.pattern);
        }
        return route.handler(request);
    } catch (const ApiError& error) {
        if (error.http_status() >= 500) {
            core::log::Error(
                "request " + request.request_id + " " + route.method + " " + route.pattern +
                " failed: " + std::to_string(error.wire_code()) + " " + error.internal()
            );
        }
        return ApiResponse::Failure(error);
    } catch (const std::exception& e) {
        core::log::Error(
            "request " + request.request_id + " " + route.method + " " + route.pattern +
            " failed: " + e.what()
        );
        return ApiResponse::Failure(ApiError(ErrorCode::kInternal));
    }
}

ApiResponse Router::Dispatch(ApiRequest& request) const {
    const Route* route = nullptr;
    try {
        route = &Find(request.method, request.target);
    } catch (const ApiError& error) {
        request.route = "unmatched";
        return ApiResponse::Failure(error);
    }
    return Run(*route, request);
}

std::vector<RouteInfo> Router::Routes() const {
    std::vector<RouteInfo> out;
    for (const auto& [path, by_method] : routes_) {
        for (const auto& [method, route] : by_method) {
            out.push_back(RouteInfo{route.method, route.pattern, route.access});
        }
    }
    for (const auto& route : prefix_routes_) {
        out.push_back(RouteInfo{route->method, route->pattern, route->access});
    }
    std::sort(out.begin(), out.end(), [](const RouteInfo& a, const RouteInfo& b) {
        return std::tie(a.pattern, a.method) < std::tie(b.pattern, b.method);
    });
    return out;
}

}  // namespace rainmaker::http

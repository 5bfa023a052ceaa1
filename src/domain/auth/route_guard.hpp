// What the HTTP router asks before it runs an admin route for an admin: may this caller call
// this route, and on which nodes. The RBAC service answers it.
#pragma once

#include <memory>
#include <string_view>

#include "domain/auth/auth_context.hpp"

namespace rainmaker::domain::auth {

class RouteGuard {
public:
    virtual ~RouteGuard() = default;
    // The nodes `caller` (an admin or superadmin) may reach through `method` on `route` (a route
    // pattern such as "/v1/admin/nodes"), null for every node. Throws ApiError 100004 when the
    // caller's roles do not allow the route.
    virtual std::shared_ptr<const rbac::NodeScope> Authorize(
        const AuthContext& caller, std::string_view method, std::string_view route
    ) = 0;
};

}  // namespace rainmaker::domain::auth

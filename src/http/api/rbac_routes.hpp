// The roles and policies operations (#91-#100).
#pragma once

#include "domain/rbac/rbac_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddRbacRoutes(Router& router, domain::rbac::RbacService& rbac);

}  // namespace rainmaker::http::api

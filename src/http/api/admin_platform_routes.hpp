// Admin platform operations: the API listing generated from the route table (#105) and the
// custom data of any user for admins (#118, #119).
#pragma once

#include <vector>

#include <boost/json.hpp>

#include "domain/users/account_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

// The answer of #105 for `routes` (Router::Routes()): [{"path", "methods"}], one element per
// path, paths in order, "/v1/" written "/{version}/" as in the reference text, methods in the
// order GET, POST, PUT, DELETE (others after them). Only admin routes (Access::kAdmin, kSuperAdmin)
// unless `all_paths`.
boost::json::array ApiPathsMethods(const std::vector<RouteInfo>& routes, bool all_paths);

// Registers #105, #118 and #119. #105 reads `router`'s table when it is called, so it lists
// every route registered by then, also those added after this call.
void AddAdminPlatformRoutes(Router& router, domain::users::AccountService& accounts);

}  // namespace rainmaker::http::api

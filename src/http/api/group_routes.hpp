// The user node group operations (#56-#59).
#pragma once

#include "domain/groups/group_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddGroupRoutes(Router& router, domain::groups::GroupService& groups);

}  // namespace rainmaker::http::api

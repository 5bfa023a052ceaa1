// The user node group operations (#56-#59).
#pragma once

#include "domain/groups/group_service.hpp"
#include "domain/sharing/group_sharing_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddGroupRoutes(
    Router& router,
    domain::groups::GroupService& groups,
    domain::sharing::GroupSharingService& sharing
);

}  // namespace rainmaker::http::api

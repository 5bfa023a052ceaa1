// The user node group operations (#56-#59) and the admin ones (#52-#55).
#pragma once

#include "domain/groups/fabric_service.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/sharing/group_sharing_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

// `fabrics`: the Matter fabric operations of #57 and #65.
void AddGroupRoutes(
    Router& router,
    domain::groups::GroupService& groups,
    domain::sharing::GroupSharingService& sharing,
    domain::groups::FabricService& fabrics
);

// `groups` is the admin-kind group service.
void AddAdminGroupRoutes(Router& router, domain::groups::GroupService& groups);

}  // namespace rainmaker::http::api

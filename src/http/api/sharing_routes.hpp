// The node sharing (#16-#21) and group sharing (#60-#64, #131) operations.
#pragma once

#include "domain/sharing/group_sharing_service.hpp"
#include "domain/sharing/node_sharing_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddSharingRoutes(
    Router& router,
    domain::sharing::NodeSharingService& nodes,
    domain::sharing::GroupSharingService& groups
);

}  // namespace rainmaker::http::api

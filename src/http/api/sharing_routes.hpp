// The node sharing operations (#16-#21).
#pragma once

#include "domain/sharing/node_sharing_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddSharingRoutes(Router& router, domain::sharing::NodeSharingService& sharing);

}  // namespace rainmaker::http::api

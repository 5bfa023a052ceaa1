// The "Nodes & mapping" and "Node params" operations (#9-#15, #22, #27, #28), the claim
// service (/claim/initiate, /claim/verify) and GET /mqtt_host.
#pragma once

#include "domain/nodes/claim_service.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddNodeRoutes(
    Router& router, domain::nodes::NodeService& nodes, domain::nodes::MappingService& mapping
);

void AddClaimRoutes(Router& router, domain::nodes::ClaimService& claims);

}  // namespace rainmaker::http::api

// Admin nodes (#23-#26) and admin tags on resources (#106-#109).
#pragma once

#include "domain/nodes/admin_node_service.hpp"
#include "domain/tags/tag_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddAdminNodeRoutes(
    Router& router, domain::nodes::AdminNodeService& nodes, domain::tags::TagService& tags
);

}  // namespace rainmaker::http::api

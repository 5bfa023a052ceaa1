// Passthrough to the operator's external services (#120-#122).
#pragma once

#include "domain/passthrough/passthrough_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddPassthroughRoutes(Router& router, domain::passthrough::PassthroughService& passthrough);

}  // namespace rainmaker::http::api

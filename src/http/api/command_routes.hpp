// The command-response operations: #101/#102 (user) and #103/#104 (admin).
#pragma once

#include "domain/commands/command_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddCommandRoutes(Router& router, domain::commands::CommandService& commands);

}  // namespace rainmaker::http::api

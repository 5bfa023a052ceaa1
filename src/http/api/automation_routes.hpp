// The automation operations (#87-#90): create, update, read and delete a user's automations.
#pragma once

#include "domain/automations/automation_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddAutomationRoutes(Router& router, domain::automations::AutomationService& automations);

}  // namespace rainmaker::http::api

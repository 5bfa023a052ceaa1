// The OTA job operations: the admin's (#35-#39: create, list, cancel/archive, per-node status,
// summary) and the user's (#41-#43: the update available for a node, approving it, its
// status).
#pragma once

#include "domain/ota/ota_job_service.hpp"
#include "domain/ota/ota_user_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddOtaJobRoutes(Router& router, domain::ota::OtaJobService& jobs);
void AddUserOtaRoutes(Router& router, domain::ota::OtaUserService& ota);

}  // namespace rainmaker::http::api

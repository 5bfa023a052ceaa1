// Secure boot signing keys and signing (#110-#115): superadmins' routes (the reference makes
// them SuperAdmin APIs on private deployments, which a self-hosted server is).
#pragma once

#include "domain/signing/signing_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddSigningRoutes(Router& router, domain::signing::SigningService& signing);

}  // namespace rainmaker::http::api

// Operations outside the versioned API: /apiversions (#0), /healthz, /metrics, the JWKS.
#pragma once

#include <string>

#include "http/server/metrics.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddSystemRoutes(Router& router, const Metrics& metrics, std::string jwks);

}  // namespace rainmaker::http::api

// The OTA image operations: admin routes #29-#32 (upload inline, list, delete, archive), the
// presigned upload flow #33/#34 and the package flow #44/#45; the end user's inline image
// #40. The presigned URLs themselves are served by blob_routes; jobs by ota_job_routes.
#pragma once

#include "domain/ota/ota_image_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddOtaImageRoutes(Router& router, domain::ota::OtaImageService& images);

}  // namespace rainmaker::http::api

// The OTA image operations (#29-#32), admin routes: upload (inline base64), list, delete,
// archive/unarchive (jobs: ota_job_routes.hpp). Presigned uploads and packages are later
// slices of issue 10.
#pragma once

#include "domain/ota/ota_image_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddOtaImageRoutes(Router& router, domain::ota::OtaImageService& images);

}  // namespace rainmaker::http::api

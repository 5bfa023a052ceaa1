// The file operations (#46-#51): admin and user upload requests and confirmations, listings,
// and the DELETE /user/file the SDK calls. The PUT of an upload URL is blob_routes'.
#pragma once

#include "domain/files/file_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddFileRoutes(Router& router, domain::files::FileService& files);

}  // namespace rainmaker::http::api

// The presigned URLs of the local blob store, served on the HTTP and HTTPS listeners: GET
// /blobs/{blob_key}/{file_name} streams a blob (checked against its SHA-256, single ranges for
// firmware that resumes downloads), PUT /uploads/{upload_id} streams a body to disk for an
// upload (#33, #44). No token: the URL's signature is the credential (Access::kPresigned).
#pragma once

#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddBlobRoutes(
    Router& router,
    const domain::ota::PresignedUrls& urls,
    domain::ota::OtaImageService& images,
    std::uint64_t max_upload_bytes
);

// A single byte range of a Range header ("bytes=a-b", "bytes=a-", "bytes=-n") within `size`:
// {first, last} inclusive. nullopt for a header to ignore (absent, several ranges, another
// unit, malformed: the whole object is answered); {size, 0} when the range is not satisfiable
// (first at or past the end, or an empty suffix).
std::optional<std::pair<std::uint64_t, std::uint64_t>> ParseRange(
    std::string_view header, std::uint64_t size
);

}  // namespace rainmaker::http::api

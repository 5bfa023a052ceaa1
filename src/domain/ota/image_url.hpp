// Where a node or an admin downloads an OTA image from. The OTA job slice hands these URLs to
// nodes (otaurl); the HTTPS slice implements them (presigned URLs on our own HTTPS listener
// for the local blob store, S3's own presigned URLs for S3). Kept apart so that the job code
// does not depend on how or where the bytes are served.
#pragma once

#include <chrono>
#include <string>

namespace rainmaker::domain::ota {

class ImageUrlSource {
public:
    virtual ~ImageUrlSource() = default;

    // An https URL from which the blob `blob_key` (the image's content key in the BlobStore)
    // can be fetched without other credentials until `valid_for` from now; the URL names
    // `file_name` for the download. Never empty.
    virtual std::string DownloadUrl(
        const std::string& blob_key, const std::string& file_name, std::chrono::seconds valid_for
    ) const = 0;
};

}  // namespace rainmaker::domain::ota

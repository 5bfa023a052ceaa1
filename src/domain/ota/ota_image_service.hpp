// OTA firmware images (#29-#32): an admin uploads an ESP app image inline (base64, under
// 5 MiB), the server reads its app description (domain/ota/esp_app_image) for what the admin
// did not give (fw_version, model and type from version and project_name), keeps the bytes in
// the BlobStore (content-addressed) and a row in the OtaImageStore; images are listed with the
// filters of #30, archived and unarchived, and deleted. Images belong to the deployment, not to
// one admin: every admin sees every image (RBAC decides which admins reach these routes).
// An image an OTA job uses (ota_job_service.hpp) is not replaced (104008) nor deleted (104020)
// while a job that is not cancelled names it; one only cancelled jobs name is deleted with
// force_delete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/blob_store.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::ota {

struct OtaImageConfig {
    // The decoded image must be smaller than this (104010), and its base64 text at most
    // 4/3 of it (checked before decoding).
    std::size_t max_inline_image_bytes = std::size_t{5} * 1024 * 1024;
    std::size_t max_name_length = 128;  // image_name; longer → 100036
    std::size_t max_field_length = 64;  // fw_version, model, type; longer → 100036
};

// What #29 reads from the body: each member as given, nullopt when absent or null.
struct UploadInput {
    std::optional<std::string> image_name;
    std::optional<std::string> base64_fwimage;
    std::optional<std::string> fw_version;
    std::optional<std::string> model;
    std::optional<std::string> type;
};

struct OtaImage {
    std::string ota_image_id;
    std::string image_name;
    std::string type;
    std::string model;
    std::string fw_version;
    std::string project_name;
    std::string idf_version;
    std::int64_t secure_version = 0;
    std::int64_t file_size = 0;
    std::string file_md5;
    std::string file_sha256;
    bool archived = false;
    std::int64_t upload_timestamp = 0;  // unix seconds
    // Where nodes download the image from: served by the HTTPS download slice of issue 10;
    // empty until then.
    std::string image_url;
};

// #30's query; filters absent or empty match everything.
struct ImageQuery {
    std::optional<std::string> ota_image_id;  // given: that image, archived or not
    std::optional<std::string> image_name;
    bool contains = false;  // image_name matches a substring of the name
    std::optional<std::string> type;
    std::optional<std::string> model;
    bool archived = false;  // only archived images (else only unarchived ones)
    bool all = false;       // archived or not
    std::string start_id;
    int num_records = 25;
};

struct ImagePage {
    std::vector<OtaImage> images;
    std::int64_t total = 0;  // every image matching the filters, on every page
    std::string next_id;     // the first id of the next page; empty on the last page
};

class OtaImageService {
public:
    OtaImageService(
        storage::Database& db,
        storage::BlobStore& blobs,
        const core::Clock& clock,
        OtaImageConfig config = {}
    );

    // #29. Throws kOtaImageNameMissing (image_name absent or empty), kOtaImageMissing
    // (base64_fwimage absent or empty), kInputTooLarge (a name or field over its length),
    // kOtaImageTooLarge (the image is max_inline_image_bytes or more), kOtaImageInvalidBase64,
    // kOtaImageParseError (not a valid ESP app image), kOtaFwVersionMissing / kOtaModelMissing
    // (neither given nor in the image), kOtaImageSaveFailed (the blob store failed),
    // kOtaImageUsedByJob (the image_name's image is used by a job that is not cancelled). An
    // image under an image_name in use replaces that image (new id). Nothing changes when it
    // throws.
    OtaImage Upload(const auth::AuthContext& caller, const UploadInput& input);

    // #30. Throws kInvalidQuery (num_records < 1), kOtaImageNotFound (ota_image_id given and
    // unknown).
    ImagePage List(const ImageQuery& query);

    // #31. Throws kOtaImageIdMissing, kOtaImageNotFound, kOtaImageInUse (a job that is not
    // cancelled uses it; or only cancelled jobs do and `force` (force_delete) is false). The
    // blob goes with the last image that holds it.
    void Delete(std::string_view ota_image_id, bool force);

    // #32 with the archive flag as the query gave it ("true"/"false"; nullopt when absent).
    // Throws kOtaImageIdMissing, kOtaArchiveFlagMissing, kOtaArchiveFlagInvalid,
    // kOtaImageNotFound, kOtaImageAlreadyArchived, kOtaImageAlreadyUnarchived.
    void SetArchived(std::string_view ota_image_id, const std::optional<std::string>& archive);

    // The largest #29 request body worth reading: the base64 text of the largest image, with
    // line breaks, and the other members (the route's body limit).
    std::size_t MaxUploadBodyBytes() const;

    // The image's bytes, checked against their SHA-256 (for the download slice). Throws
    // kOtaImageNotFound, kOtaImageFetchFailed (the blob is missing or damaged).
    std::string Bytes(std::string_view ota_image_id);

private:
    // Removes the blob of `key` when no image row names it any more (with blob_mutex_ held).
    void ReleaseIfUnused(const std::string& key);

    storage::Database& db_;
    storage::BlobStore& blobs_;
    const core::Clock& clock_;
    OtaImageConfig config_;
    // Blobs are written before the row that names them commits and removed after the row
    // that named them is gone; uploads and deletions take this lock so that no blob is
    // removed between another upload's write and its commit.
    std::mutex blob_mutex_;
};

}  // namespace rainmaker::domain::ota

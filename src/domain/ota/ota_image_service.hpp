// OTA firmware images (#29-#32): an admin uploads an ESP app image inline (base64, under
// 5 MiB), the server reads its app description (domain/ota/esp_app_image) for what the admin
// did not give (fw_version, model and type from version and project_name), keeps the bytes in
// the BlobStore (content-addressed) and a row in the OtaImageStore; images are listed with the
// filters of #30, archived and unarchived, and deleted. Images belong to the deployment, not to
// one admin: every admin sees every image (RBAC decides which admins reach these routes).
// Presigned uploads (#33/#34, the package flow #44/#45; ota_uploads.cpp): an admin asks for an
// upload URL and gets an ota_image_id that stays pending; the bytes are PUT to the URL on our
// HTTPS listener, streamed into the BlobStore; the confirmation validates them (an ESP app
// image, or a .zip package holding one, domain/ota/ota_package) and turns the pending upload
// into an image under the same id. Pending uploads, and their bytes, go after upload_url_ttl.
// End users upload images for their own nodes inline (#40): kept, with a download URL, for
// user_image_url_ttl, listed nowhere, usable in no admin job.
// An image an OTA job uses (ota_job_service.hpp) is not replaced (104008) nor deleted (104020)
// while a job that is not cancelled names it; one only cancelled jobs name is deleted with
// force_delete.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/ota/esp_app_image.hpp"
#include "storage/blob_store.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::ota {

class InFlightWriter;  // ota_uploads.cpp: the writer of a presigned PUT in flight

// The kinds of pending uploads (storage::OtaUploadRow::kind) of files (domain/files): an
// admin's, and an end user's (whose PUTs take at most one slot each, never every slot).
inline constexpr std::string_view kAdminFileUpload = "admin_file";
inline constexpr std::string_view kUserFileUpload = "user_file";

struct OtaImageConfig {
    // The decoded image must be smaller than this (104010), and its base64 text at most
    // 4/3 of it (checked before decoding).
    std::size_t max_inline_image_bytes = std::size_t{5} * 1024 * 1024;
    std::size_t max_name_length = 128;  // image_name; longer → 100036
    std::size_t max_field_length = 64;  // fw_version, model, type; longer → 100036
    // Presigned uploads (#33, #44): the largest body a PUT may carry (the catalog's 200 MB;
    // larger: 413 while it arrives).
    std::uint64_t max_upload_bytes = std::uint64_t{200} * 1024 * 1024;
    std::chrono::seconds upload_url_ttl{3600};      // upload URLs; pending uploads after their PUT
    std::chrono::seconds image_url_ttl{24 * 3600};  // image_url of admin images
    std::chrono::seconds user_image_url_ttl{24 * 3600};  // #40's image_url, and its image
    int max_pending_uploads = 20;  // per requester (admin, or user for files), not expired
    // PUTs of upload URLs whose bodies are being read at once, deployment-wide (one per upload
    // id); more → 429 before any body byte. End users' file uploads take one at a time per user
    // and at most all but one of them.
    int max_concurrent_uploads = 4;
    // A PUT is refused (507) unless the blob store keeps this much free beyond its declared
    // Content-Length (max_upload_bytes when not declared) and those of the PUTs in flight.
    std::uint64_t upload_min_free_bytes = std::uint64_t{64} * 1024 * 1024;
    int max_user_images = 10;  // per user; past it the user's oldest image goes
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
    // A presigned download URL of the image's bytes on our HTTPS listener, valid for
    // image_url_ttl from the answer that carries it (empty without PresignedUrls).
    std::string image_url;
};

// #33's query.
struct UploadRequestInput {
    std::optional<std::string> image_name;
    std::optional<std::string> image_type;    // firmware (default), package or raw
    std::optional<std::string> md5_checksum;  // base64 of the file's MD5
};

struct UploadTicket {
    std::string ota_image_id;
    std::string upload_url;
};

// #34's body.
struct ConfirmInput {
    std::optional<std::string> ota_image_id;
    std::optional<std::string> fw_version;
    std::optional<std::string> model;
    std::optional<std::string> type;
    std::optional<std::string> image_type;  // as #33 asked when absent
};

// #45's body.
struct PackageInput {
    std::optional<std::string> image_name;
    std::optional<std::string> type;
    std::optional<std::string> file_path;  // #44's file_name
};

// #40's answer.
struct UserImage {
    std::string image_id;
    std::string image_url;
    std::string fw_version;
    std::string model;
    std::string type;
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

class PresignedUrls;

class OtaImageService {
public:
    OtaImageService(
        storage::Database& db,
        storage::BlobStore& blobs,
        const core::Clock& clock,
        OtaImageConfig config = {}
    );

    // The URLs of image_url and of uploads. Without them image_url stays empty and the
    // presigned uploads (#33, #44) and #40 answer 104013.
    void SetUrls(const PresignedUrls* urls) { urls_ = urls; }

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
    // The bytes of the blob of `key`, checked against it. Throws kOtaImageFetchFailed.
    std::string BlobBytes(const std::string& key);
    // Stores each of `parts` in the blob store and runs `record` with their keys, in order
    // (the one transaction that writes the rows naming them), under the lock that orders blob
    // writes and removals; when `record` throws, the blobs go again (unless another row names
    // them) and the exception passes on. Throws kOtaImageSaveFailed when the store fails.
    void StoreBlobs(
        const std::vector<std::string_view>& parts,
        const std::function<void(const std::vector<std::string>&)>& record
    );

    // ---- presigned uploads (ota_uploads.cpp)

    // #33. Throws kOtaImageNameMissing, kInputTooLarge (image_name over its length),
    // kInvalidQuery (image_type not firmware/package/raw, md5_checksum not the base64 of 16
    // bytes), kTooManyRequests (the admin has max_pending_uploads pending), kOtaUploadFailed
    // (no URLs). The id is the image's once confirmed; the URL lasts upload_url_ttl.
    UploadTicket RequestUpload(const auth::AuthContext& caller, const UploadRequestInput& input);

    // A pending upload of `row` (its kind, names, max_bytes and entity set by the caller) for
    // `caller`, with a new id, expiring after upload_url_ttl; its PUT must carry md5_checksum
    // (base64) when given. Throws kInvalidQuery (md5_checksum not the base64 of 16 bytes),
    // kTooManyRequests (the caller has max_pending_uploads pending), kOtaUploadFailed (no
    // URLs). RequestUpload's, and the files' (domain/files), way to ask for an upload.
    UploadTicket OpenPendingUpload(
        const auth::AuthContext& caller,
        storage::OtaUploadRow row,
        const std::optional<std::string>& md5_checksum
    );

    // A presigned GET URL of the blob, naming `file_name`, valid for image_url_ttl ("" without
    // PresignedUrls).
    std::string DownloadUrl(const std::string& blob_key, const std::string& file_name) const;

    // Removes the blob of `key` when no row names it any more (after the row that named it
    // went; under the lock that orders blob writes and removals).
    void ReleaseBlob(const std::string& key);

    // #44: the URL of a package upload named `file_name` (a .zip, 5..127 characters of a file
    // name); an earlier pending package of that name is replaced. Throws kOtaFileNameInvalid,
    // kTooManyRequests, kOtaUploadFailed.
    std::string RequestPackageUpload(
        const auth::AuthContext& caller, const std::optional<std::string>& file_name
    );

    // The PUT of an upload URL whose body was streamed into `blob` (not committed yet):
    // `body_md5` is the body's raw MD5, `content_md5` the request's Content-MD5 header ("" when
    // absent). Commits the blob and records it on the upload (replacing bytes PUT before);
    // the upload then waits upload_url_ttl for its confirmation. Throws kOtaObjectNotFound
    // (no such upload, or expired), kUploadDigestMismatch (the header is not the body's MD5, or
    // not the md5_checksum #33 was given), kOtaUploadTooLarge, kOtaUploadFailed (the store).
    void ReceiveUpload(
        std::string_view upload_id,
        storage::BlobWriter& blob,
        std::string_view body_md5,
        std::string_view content_md5
    );

    // Bytes PUT straight into the blob store through its own presigned upload URL (S3): when
    // some arrived for `upload`, they are checked as a PUT to our listener is (size limits, the
    // md5_checksum asked for, StartUpload's controls), copied into a blob recorded on the upload
    // (replacing bytes taken in before), and the arrived object removed; a body refused is
    // removed too. Nothing happens for a store without direct uploads. Throws what StartUpload
    // and ReceiveUpload throw, kBodyTooLarge, and kOtaImageFetchFailed when the store cannot be
    // read.
    void TakeDirectUpload(const storage::OtaUploadRow& upload);

    // #34. Throws kOtaImageIdMissing, kInvalidBody (image_type not firmware/package/raw),
    // kOtaImageNotFound (no such pending upload), kOtaNothingUploaded, kOtaUploadTooLarge,
    // kOtaUploadInvalid (not an ESP app image, or not a valid package: the bytes are deleted,
    // the URL may be used again), kOtaFwVersionMissing / kOtaModelMissing, kInputTooLarge,
    // kOtaImageSaveFailed. A confirmed id confirmed again answers its image.
    OtaImage ConfirmUpload(const auth::AuthContext& caller, const ConfirmInput& input);

    // #45: the package uploaded under `file_path` (#44's file_name) becomes an image (a new
    // id). Throws kOtaImageNameMissing, kOtaFileNameInvalid (file_path missing), kInputTooLarge,
    // kOtaImageNotFound (no such package upload), kOtaNothingUploaded, kOtaUploadInvalid,
    // kOtaFwVersionMissing / kOtaModelMissing, kOtaImageSaveFailed.
    OtaImage RegisterPackage(const auth::AuthContext& caller, const PackageInput& input);

    // #40: an end user's image for their own node, checked as #29's (same codes), kept with a
    // download URL for user_image_url_ttl; the same name replaces the user's earlier image, and
    // past max_user_images the user's oldest goes.
    UserImage UploadUserImage(const auth::AuthContext& caller, const UploadInput& input);

    // Before any body byte of an upload URL's PUT (its signature checked): a writer for the
    // bytes (ReceiveUpload commits it), which holds the upload's in-flight slot until destroyed.
    // `declared_bytes` is the Content-Length (nullopt when chunked). Throws kOtaObjectNotFound
    // (no such pending upload, or expired), kUploadInProgress (a PUT of it is in flight),
    // kTooManyRequests (max_concurrent_uploads PUTs in flight), kUploadStorageFull (not enough
    // free space), kOtaUploadFailed (the store cannot start a writer).
    std::unique_ptr<storage::BlobWriter> StartUpload(
        std::string_view upload_id, std::optional<std::uint64_t> declared_bytes
    );

    // The PUTs in flight: upload id → its writer (ota_uploads.cpp), which holds the entry
    // while the PUT lasts.
    struct InFlightUploads {
        std::mutex mutex;
        std::map<std::string, const InFlightWriter*, std::less<>> writers;
    };

    // A reader of the blob of `blob_key` for a presigned download (not checked against its key:
    // the download hashes what it sends); nullptr when there is none. Throws
    // kOtaImageFetchFailed when the store fails.
    std::unique_ptr<storage::BlobReader> OpenDownload(std::string_view blob_key);

    // Deletes expired pending uploads and user images (and user images of deleted users) with
    // their bytes; returns how many rows went.
    int ExpireUploads();

private:
    // What #29 and #40 decode and read from an inline image.
    struct InlineImage {
        std::string bytes;
        EspAppImage info;
    };

    InlineImage DecodeInline(const UploadInput& input) const;
    // Adds `row` (its blob stored) in one transaction with `also`, replacing an image of the
    // same name; releases the replaced image's blob after the commit. With blob_mutex_ held.
    void AddImage(const storage::OtaImageRow& row, const std::function<void()>& also);
    // `row` as answered, with its image_url.
    OtaImage Describe(const storage::OtaImageRow& row) const;

    // A firmware's bytes in the blob store, with what the row of its image needs.
    struct StoredFirmware {
        std::string blob_key;
        std::int64_t file_size = 0;
        std::string file_md5;       // 32 hex
        bool from_package = false;  // extracted from a package, whose name is then checked
        std::string package_name;   // its name in the package, without folders and .bin
    };

    // The image row `firmware` makes, with the values given; throws as #34 does (a firmware
    // that is not an ESP app image: kOtaUploadInvalid). `raw`: not parsed.
    storage::OtaImageRow ReadFirmware(
        const StoredFirmware& firmware,
        const std::optional<std::string>& fw_version,
        const std::optional<std::string>& model,
        const std::optional<std::string>& type,
        bool raw
    );
    // Extracts the firmware of the package in `zip_key` into a new blob, committed without
    // blob_mutex_ (the caller checks it is still there once it holds the lock).
    StoredFirmware ExtractPackage(const std::string& zip_key);
    // Forgets the bytes of a pending upload found invalid (its URL may be used again).
    void DiscardUpload(const storage::OtaUploadRow& upload);
    // Removes what was PUT straight into the blob store for these uploads (failures logged).
    void RemoveDirectUploads(const std::vector<std::string>& upload_ids);
    // Turns the pending `upload` into the image `row` (its blob stored), or throws.
    OtaImage ConfirmInto(
        storage::OtaImageRow row, const storage::OtaUploadRow& upload, bool package
    );
    // The pending upload `upload_id`; throws kOtaObjectNotFound when there is none or it
    // expired.
    storage::OtaUploadRow RequirePendingUpload(std::string_view upload_id);
    // The largest body a PUT of `upload` may carry.
    std::uint64_t UploadLimit(const storage::OtaUploadRow& upload) const;

    // Removes the blob of `key` when no row (image, upload, user image, file) names it any more
    // (with blob_mutex_ held).
    void ReleaseIfUnused(const std::string& key);
    // Stores `bytes` without blob_mutex_ (a write to S3 must not hold every other upload), then
    // takes it and writes them again if a removal took them meanwhile: returns their key, the
    // lock held. Throws what BlobStore::Put throws.
    std::string PutThenLock(std::string_view bytes, std::unique_lock<std::mutex>& lock);
    const PresignedUrls& Urls() const;

    const PresignedUrls* urls_ = nullptr;
    std::shared_ptr<InFlightUploads> in_flight_ = std::make_shared<InFlightUploads>();

    storage::Database& db_;
    storage::BlobStore& blobs_;
    const core::Clock& clock_;
    OtaImageConfig config_;
    // Blobs are written before the row that names them commits and removed after the row
    // that named them is gone; uploads and deletions take this lock so that no blob is
    // removed between another upload's write and its commit. Writes happen before it is taken,
    // and what they stored is checked to be still there once it is held.
    std::mutex blob_mutex_;
};

}  // namespace rainmaker::domain::ota

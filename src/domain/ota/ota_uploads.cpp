// Presigned uploads (#33, #34, #44, #45) and end users' images (#40) of OtaImageService. Bytes
// arrive through the HTTP listener into a BlobWriter; every blob is committed before the row
// naming it, and removed only with blob_mutex_ held once no row names it (ReleaseIfUnused):
// long work (inflating a package, parsing 200 MB) runs without the lock, and what it stored is
// checked to be still there once the lock is held.
#include <algorithm>
#include <atomic>
#include <cctype>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/ota_package.hpp"
#include "domain/ota/presigned_urls.hpp"

namespace rainmaker::domain::ota {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr int kSweepBatch = 100;
constexpr std::size_t kMaxPackageFileName = 127;  // #44: "< 128 chars"

std::string TooLarge(std::uint64_t limit) {
    return "Uploaded image over " + std::to_string(limit) + " bytes";
}

std::string LimitText(std::uint64_t limit) {
    return "This upload takes at most " + std::to_string(limit) + " bytes";
}

bool IsImageType(std::string_view type) {
    return type == "firmware" || type == "package" || type == "raw";
}

// The canonical base64 (padded) of an MD5 given as base64, or nullopt when it is not 16 bytes.
std::optional<std::string> CanonicalMd5(std::string_view base64) {
    const auto bytes = crypto::Base64Decode(base64);
    if (!bytes || bytes->size() != 16) {
        return std::nullopt;
    }
    return crypto::Base64Encode(*bytes);
}

// A file name of a package: printable, no folders, ends with .zip after at least one character.
bool IsPackageFileName(std::string_view name) {
    if (name.size() < 5 || name.size() > kMaxPackageFileName) {
        return false;
    }
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '/' || c == '\\') {
            return false;
        }
    }
    std::string extension(name.substr(name.size() - 4));
    std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return extension == ".zip";
}

}  // namespace

const PresignedUrls& OtaImageService::Urls() const {
    if (urls_ == nullptr) {
        throw ApiError(ErrorCode::kOtaUploadFailed, {}, "no presigned URLs configured");
    }
    return *urls_;
}

// The writer of a PUT in flight. It holds its upload id's slot in InFlightUploads from
// Reserve until it is destroyed (the request answered, or cut short), and counts what it has
// written, so that the free-space check reserves only what PUTs in flight have yet to write.
class InFlightWriter final : public storage::BlobWriter {
public:
    InFlightWriter(
        std::shared_ptr<OtaImageService::InFlightUploads> in_flight,
        std::string upload_id,
        std::uint64_t declared,
        std::uint64_t limit,
        std::string requester,
        bool users
    )
        : in_flight_(std::move(in_flight)),
          upload_id_(std::move(upload_id)),
          declared_(declared),
          limit_(limit),
          requester_(std::move(requester)),
          users_(users) {}

    ~InFlightWriter() override {
        if (reserved_) {
            const std::lock_guard lock(in_flight_->mutex);
            in_flight_->writers.erase(upload_id_);
        }
    }

    InFlightWriter(const InFlightWriter&) = delete;
    InFlightWriter& operator=(const InFlightWriter&) = delete;

    // Takes the slot (with in_flight_->mutex held).
    void Reserve() {
        in_flight_->writers.emplace(upload_id_, this);
        reserved_ = true;
    }

    void SetInner(std::unique_ptr<storage::BlobWriter> inner) { inner_ = std::move(inner); }

    const std::string& requester() const { return requester_; }

    // An upload of an end user's file (not an admin's).
    bool users() const { return users_; }

    // What this PUT may still write (with in_flight_->mutex held).
    std::uint64_t StillToWrite() const {
        const auto written = written_.load();
        return written < declared_ ? declared_ - written : 0;
    }

    // storage::BlobWriter
    // Refuses (413) the bytes that would take the upload past its limit, so that a chunked
    // body cannot write more than its upload allows.
    void Write(std::string_view bytes) override {
        if (written_ + bytes.size() > limit_) {
            throw ApiError(ErrorCode::kBodyTooLarge, LimitText(limit_));
        }
        inner_->Write(bytes);
        written_ += bytes.size();
    }

    std::uint64_t Size() const override { return inner_->Size(); }

    std::string Commit() override { return inner_->Commit(); }

private:
    std::shared_ptr<OtaImageService::InFlightUploads> in_flight_;
    std::string upload_id_;
    std::uint64_t declared_;
    std::uint64_t limit_;
    std::string requester_;
    bool users_;
    std::atomic<std::uint64_t> written_{0};
    bool reserved_ = false;
    std::unique_ptr<storage::BlobWriter> inner_;
};

std::uint64_t OtaImageService::UploadLimit(const storage::OtaUploadRow& upload) const {
    return upload.max_bytes == 0 ? config_.max_upload_bytes
                                 : std::min(upload.max_bytes, config_.max_upload_bytes);
}

storage::OtaUploadRow OtaImageService::RequirePendingUpload(std::string_view upload_id) {
    auto pending = db_.OtaUploads().Find(upload_id);
    if (!pending || pending->expires_at < clock_.NowSeconds()) {
        throw ApiError(
            ErrorCode::kOtaObjectNotFound,
            "No upload waits under this URL (it expired or was confirmed); ask for a new one"
        );
    }
    return std::move(*pending);
}

std::unique_ptr<storage::BlobWriter> OtaImageService::StartUpload(
    std::string_view upload_id, std::optional<std::uint64_t> declared_bytes
) {
    // One indexed read before any body byte: a valid URL of an upload that is gone (confirmed,
    // expired) cannot make us write its body to disk.
    const auto pending = RequirePendingUpload(upload_id);
    const std::uint64_t limit = UploadLimit(pending);
    if (declared_bytes && *declared_bytes > limit) {
        throw ApiError(ErrorCode::kBodyTooLarge, LimitText(limit));
    }
    const std::uint64_t need = declared_bytes.value_or(limit);
    const auto free = blobs_.FreeBytes();  // a filesystem call: before the lock
    const bool users = pending.kind == kUserFileUpload;
    auto writer = std::make_unique<InFlightWriter>(
        in_flight_, std::string(upload_id), need, limit, pending.requested_by, users
    );
    bool full = false;
    {
        const std::lock_guard lock(in_flight_->mutex);
        const auto& in_flight = in_flight_->writers;
        if (in_flight.contains(upload_id)) {
            throw ApiError(ErrorCode::kUploadInProgress);
        }
        if (in_flight.size() >= static_cast<std::size_t>(config_.max_concurrent_uploads)) {
            throw ApiError(
                ErrorCode::kTooManyRequests, "Too many uploads are in progress; retry later"
            );
        }
        // End users' uploads: one at a time per user, and never every slot (admins keep one
        // for firmware), so that slow bodies of users cannot hold the uploads of admins.
        if (users) {
            std::size_t of_users = 0;
            for (const auto& entry : in_flight) {
                if (entry.second->users() && entry.second->requester() == pending.requested_by) {
                    throw ApiError(
                        ErrorCode::kTooManyRequests,
                        "Another upload of yours is in progress; retry when it has ended"
                    );
                }
                of_users += entry.second->users() ? 1 : 0;
            }
            const auto user_slots =
                static_cast<std::size_t>(std::max(1, config_.max_concurrent_uploads - 1));
            if (of_users >= user_slots) {
                throw ApiError(
                    ErrorCode::kTooManyRequests, "Too many uploads are in progress; retry later"
                );
            }
        }
        std::uint64_t reserved = 0;
        for (const auto& entry : in_flight) {
            reserved += entry.second->StillToWrite();
        }
        full = free && *free < reserved + need + config_.upload_min_free_bytes;
        if (!full) {
            writer->Reserve();
        }
    }
    if (full) {
        core::log::Warn(
            "ota: refusing upload " + std::string(upload_id) + " of " + std::to_string(need) +
            " bytes: " + std::to_string(*free) + " bytes free"
        );
        throw ApiError(ErrorCode::kUploadStorageFull);
    }
    try {
        writer->SetInner(blobs_.NewWriter());  // the slot goes with `writer` if this throws
    } catch (const std::exception& e) {
        core::log::Error("ota: starting an upload: " + std::string(e.what()));
        throw ApiError(ErrorCode::kOtaUploadFailed);
    }
    return writer;
}

std::unique_ptr<storage::BlobReader> OtaImageService::OpenDownload(std::string_view blob_key) {
    try {
        return blobs_.Open(blob_key);
    } catch (const std::exception& e) {
        core::log::Error("ota: opening blob " + std::string(blob_key) + ": " + e.what());
        throw ApiError(ErrorCode::kOtaImageFetchFailed);
    }
}

UploadTicket OtaImageService::RequestUpload(
    const auth::AuthContext& caller, const UploadRequestInput& input
) {
    if (!input.image_name || input.image_name->empty()) {
        throw ApiError(ErrorCode::kOtaImageNameMissing);
    }
    CheckLength(input.image_name, config_.max_name_length, "image_name");
    const std::string type = GivenOr(input.image_type, "firmware");
    if (!IsImageType(type)) {
        throw ApiError(ErrorCode::kInvalidQuery, "image_type must be firmware, package or raw");
    }
    storage::OtaUploadRow row;
    row.kind = "image";
    row.image_name = *input.image_name;
    row.image_type = type;
    return OpenPendingUpload(caller, std::move(row), input.md5_checksum);
}

UploadTicket OtaImageService::OpenPendingUpload(
    const auth::AuthContext& caller,
    storage::OtaUploadRow row,
    const std::optional<std::string>& md5_checksum
) {
    if (md5_checksum && !md5_checksum->empty()) {
        const auto canonical = CanonicalMd5(*md5_checksum);
        if (!canonical) {
            throw ApiError(
                ErrorCode::kInvalidQuery,
                "md5_checksum must be the file's MD5 in base64 ('+' sent as %2b)"
            );
        }
        row.content_md5 = *canonical;
    }
    const auto& urls = Urls();
    const auto now = clock_.NowSeconds();
    row.upload_id = core::RandomAlnum(22);
    row.requested_by = caller.user_id;
    row.created_at = now;
    row.expires_at = now + config_.upload_url_ttl.count();
    db_.Transaction([&] {
        auto& uploads = db_.OtaUploads();
        if (uploads.CountPending(caller.user_id, now) >= config_.max_pending_uploads) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many uploads are waiting for their confirmation; confirm them or let them "
                "expire"
            );
        }
        if (!uploads.Insert(row)) {
            throw ApiError(ErrorCode::kOtaImageSaveFailed);
        }
    });
    return UploadTicket{
        row.upload_id, urls.UploadUrl(row.upload_id, row.content_md5, config_.upload_url_ttl)};
}

std::string OtaImageService::DownloadUrl(const std::string& blob_key, const std::string& file_name)
    const {
    return urls_ == nullptr ? std::string()
                            : urls_->DownloadUrl(blob_key, file_name, config_.image_url_ttl);
}

void OtaImageService::ReleaseBlob(const std::string& key) {
    const std::lock_guard lock(blob_mutex_);
    ReleaseIfUnused(key);
}

std::string OtaImageService::RequestPackageUpload(
    const auth::AuthContext& caller, const std::optional<std::string>& file_name
) {
    if (!file_name || !IsPackageFileName(*file_name)) {
        throw ApiError(
            ErrorCode::kOtaFileNameInvalid,
            "Please provide valid image name with extension: file_name must be a .zip file name "
            "of fewer than 128 characters"
        );
    }
    const auto& urls = Urls();
    const auto now = clock_.NowSeconds();
    storage::OtaUploadRow row;
    row.upload_id = core::RandomAlnum(22);
    row.kind = "package";
    row.image_name = *file_name;
    row.image_type = "package";
    row.requested_by = caller.user_id;
    row.created_at = now;
    row.expires_at = now + config_.upload_url_ttl.count();
    std::string replaced;
    std::string replaced_upload;
    std::unique_lock lock(blob_mutex_);
    db_.Transaction([&] {
        auto& uploads = db_.OtaUploads();
        replaced.clear();
        replaced_upload.clear();
        // A pending package of that name is replaced: #45 names packages by file name.
        if (const auto previous = uploads.FindPackage(row.image_name)) {
            uploads.Delete(previous->upload_id);
            replaced = previous->blob_key;
            replaced_upload = previous->upload_id;
        }
        if (uploads.CountPending(caller.user_id, now) >= config_.max_pending_uploads) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many uploads are waiting for their confirmation; register them or let them "
                "expire"
            );
        }
        if (!uploads.Insert(row)) {
            throw ApiError(ErrorCode::kOtaImageSaveFailed);
        }
    });
    if (!replaced.empty()) {
        ReleaseIfUnused(replaced);
    }
    lock.unlock();
    if (!replaced_upload.empty()) {
        RemoveDirectUploads({replaced_upload});
    }
    return urls.UploadUrl(row.upload_id, "", config_.upload_url_ttl);
}

void OtaImageService::ReceiveUpload(
    std::string_view upload_id,
    storage::BlobWriter& blob,
    std::string_view body_md5,
    std::string_view content_md5
) {
    const auto now = clock_.NowSeconds();
    const auto pending = RequirePendingUpload(upload_id);
    if (blob.Size() > config_.max_upload_bytes) {
        throw ApiError(ErrorCode::kOtaUploadTooLarge, TooLarge(config_.max_upload_bytes));
    }
    if (blob.Size() > UploadLimit(pending)) {
        throw ApiError(ErrorCode::kBodyTooLarge, LimitText(UploadLimit(pending)));
    }
    const auto matches = [&](std::string_view base64) {
        const auto bytes = crypto::Base64Decode(base64);
        return bytes && crypto::ConstantTimeEquals(*bytes, body_md5);
    };
    if (!content_md5.empty() && !matches(content_md5)) {
        throw ApiError(ErrorCode::kUploadDigestMismatch);
    }
    if (!pending.content_md5.empty() && !matches(pending.content_md5)) {
        throw ApiError(
            ErrorCode::kUploadDigestMismatch,
            "The body does not match the md5_checksum this upload was asked with"
        );
    }
    std::string key;
    try {
        key = blob.Commit();  // without the lock: a PUT to S3 must not hold every other upload
    } catch (const std::exception& e) {
        core::log::Error("ota: storing upload " + std::string(upload_id) + ": " + e.what());
        throw ApiError(ErrorCode::kOtaUploadFailed);
    }
    const std::lock_guard lock(blob_mutex_);
    // The last row naming the same bytes may have gone, and taken them, meanwhile.
    std::optional<std::uint64_t> stored;
    try {
        stored = blobs_.Size(key);
    } catch (const std::exception& e) {
        core::log::Error("ota: checking upload " + std::string(upload_id) + ": " + e.what());
    }
    if (!stored) {
        throw ApiError(
            ErrorCode::kOtaUploadFailed, "The upload could not be stored; send it again"
        );
    }
    std::string previous;
    try {
        db_.Transaction([&] {
            auto& uploads = db_.OtaUploads();
            auto row = uploads.Find(upload_id);
            if (!row) {
                throw ApiError(
                    ErrorCode::kOtaObjectNotFound,
                    "No upload waits under this URL (it expired or was confirmed)"
                );
            }
            previous = row->blob_key;
            row->blob_key = key;
            row->file_size = static_cast<std::int64_t>(blob.Size());
            row->file_md5 = crypto::HexOf(body_md5);
            row->uploaded_at = now;
            // The bytes wait upload_url_ttl for their confirmation, even when they came late.
            row->expires_at = std::max(row->expires_at, now + config_.upload_url_ttl.count());
            uploads.SetBlob(*row);
        });
    } catch (...) {
        ReleaseIfUnused(key);
        throw;
    }
    if (!previous.empty() && previous != key) {
        ReleaseIfUnused(previous);
    }
}

void OtaImageService::TakeDirectUpload(const storage::OtaUploadRow& upload) {
    const auto forget = [&] { RemoveDirectUploads({upload.upload_id}); };
    // Looked for even when the upload has bytes already: bytes PUT again after a confirmation
    // that failed (a field missing, a name taken) replace them, as a PUT to our listener does.
    std::unique_ptr<storage::BlobReader> arrived;
    try {
        arrived = blobs_.OpenUpload(upload.upload_id);
    } catch (const std::exception& e) {
        core::log::Error("ota: reading direct upload " + upload.upload_id + ": " + e.what());
        throw ApiError(ErrorCode::kOtaImageFetchFailed);
    }
    if (!arrived) {
        return;
    }
    // Too large: refused before a byte is copied (an S3 URL cannot limit what is PUT).
    const std::uint64_t size = arrived->Size();
    if (size > config_.max_upload_bytes || size > UploadLimit(upload)) {
        forget();
        throw size > config_.max_upload_bytes
            ? ApiError(ErrorCode::kOtaUploadTooLarge, TooLarge(config_.max_upload_bytes))
            : ApiError(ErrorCode::kBodyTooLarge, LimitText(UploadLimit(upload)));
    }
    // The controls of a PUT to our listener: one copy of an upload at a time
    // (kUploadInProgress), the caps on uploads in flight, room for the copy.
    const auto writer = StartUpload(upload.upload_id, size);
    crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
    try {
        std::string chunk(std::min<std::uint64_t>(size, 1 << 20), '\0');
        for (std::uint64_t offset = 0; offset < size;) {
            const std::size_t n = arrived->ReadAt(offset, chunk.data(), chunk.size());
            if (n == 0) {
                throw std::runtime_error("the object ended early");
            }
            writer->Write(std::string_view(chunk.data(), n));
            md5.Update(std::string_view(chunk.data(), n));
            offset += n;
        }
    } catch (const std::exception& e) {
        core::log::Error("ota: copying direct upload " + upload.upload_id + ": " + e.what());
        throw ApiError(ErrorCode::kOtaImageFetchFailed);
    }
    try {
        ReceiveUpload(upload.upload_id, *writer, md5.Final(), "");
    } catch (const ApiError& e) {
        if (e.code() == ErrorCode::kUploadDigestMismatch) {
            forget();  // the client may PUT the right bytes again
        }
        throw;
    }
    forget();
}

void OtaImageService::DiscardUpload(const storage::OtaUploadRow& upload) {
    const std::lock_guard lock(blob_mutex_);
    bool cleared = false;
    db_.Transaction([&] {
        auto& uploads = db_.OtaUploads();
        auto row = uploads.Find(upload.upload_id);
        cleared = false;
        if (row && row->blob_key == upload.blob_key) {
            row->blob_key.clear();
            row->file_size = 0;
            row->file_md5.clear();
            row->uploaded_at = 0;
            uploads.SetBlob(*row);
            cleared = true;
        }
    });
    if (cleared) {
        ReleaseIfUnused(upload.blob_key);
    }
}

OtaImageService::StoredFirmware OtaImageService::ExtractPackage(const std::string& zip_key) {
    std::unique_ptr<storage::BlobReader> zip;
    std::unique_ptr<storage::BlobWriter> writer;
    try {
        zip = blobs_.Open(zip_key);
        writer = blobs_.NewWriter();
    } catch (const std::exception& e) {
        core::log::Error("ota: opening package " + zip_key + ": " + e.what());
        throw ApiError(ErrorCode::kOtaImageFetchFailed);
    }
    if (!zip) {
        throw ApiError(ErrorCode::kOtaImageFetchFailed, {}, "package blob " + zip_key + " missing");
    }
    crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
    PackageLimits limits;
    limits.max_firmware_bytes = config_.max_upload_bytes;
    const OtaPackage package = ReadOtaPackage(
        *zip,
        [&](std::string_view chunk) {
            writer->Write(chunk);
            md5.Update(chunk);
        },
        limits
    );
    StoredFirmware firmware;
    try {
        firmware.blob_key = writer->Commit();
    } catch (const std::exception& e) {
        core::log::Error("ota: storing a package's firmware: " + std::string(e.what()));
        throw ApiError(ErrorCode::kOtaImageSaveFailed);
    }
    firmware.file_size = static_cast<std::int64_t>(package.firmware_bytes);
    firmware.file_md5 = crypto::HexOf(md5.Final());
    firmware.from_package = true;
    firmware.package_name = package.firmware_name;
    return firmware;
}

storage::OtaImageRow OtaImageService::ReadFirmware(
    const StoredFirmware& firmware,
    const std::optional<std::string>& fw_version,
    const std::optional<std::string>& model,
    const std::optional<std::string>& type,
    bool raw
) {
    storage::OtaImageRow row;
    row.blob_key = firmware.blob_key;
    row.file_size = firmware.file_size;
    row.file_md5 = firmware.file_md5;
    EspAppImage parsed;
    if (!raw) {
        std::unique_ptr<storage::BlobReader> reader;
        try {
            reader = blobs_.Open(firmware.blob_key);
        } catch (const std::exception& e) {
            core::log::Error("ota: opening upload " + firmware.blob_key + ": " + e.what());
        }
        if (!reader) {
            throw ApiError(ErrorCode::kOtaImageFetchFailed);
        }
        try {
            parsed = ParseEspAppImage(*reader);
        } catch (const ApiError& e) {
            // #34's code for an upload that is not an image (the inline routes answer 104003).
            throw ApiError(ErrorCode::kOtaUploadInvalid, e.description());
        } catch (const std::exception& e) {
            core::log::Error("ota: reading upload " + firmware.blob_key + ": " + e.what());
            throw ApiError(ErrorCode::kOtaUploadFailed);
        }
        if (firmware.from_package && firmware.package_name != parsed.project_name) {
            throw ApiError(
                ErrorCode::kOtaUploadInvalid,
                "The firmware package is not valid: its firmware must be named " +
                    parsed.project_name + ".bin (<project_name>.bin), not " +
                    firmware.package_name + ".bin"
            );
        }
    }
    row.fw_version = GivenOr(fw_version, parsed.version);
    if (row.fw_version.empty()) {
        throw ApiError(ErrorCode::kOtaFwVersionMissing);
    }
    row.model = GivenOr(model, parsed.project_name);
    if (row.model.empty()) {
        throw ApiError(ErrorCode::kOtaModelMissing);
    }
    row.type = GivenOr(type, GivenOr(std::optional(parsed.project_name), row.model));
    row.project_name = parsed.project_name;
    row.idf_version = parsed.idf_version;
    row.secure_version = parsed.secure_version;
    return row;
}

OtaImage OtaImageService::ConfirmInto(
    storage::OtaImageRow row, const storage::OtaUploadRow& upload, bool package
) {
    const std::lock_guard lock(blob_mutex_);
    // A firmware extracted without the lock: a deletion of an image with the same bytes may
    // have removed it since.
    std::optional<std::uint64_t> size;
    try {
        size = blobs_.Size(row.blob_key);
    } catch (const std::exception&) {
    }
    if (!size) {
        throw ApiError(
            ErrorCode::kOtaImageSaveFailed, "Error occurred while saving OTA image, retry"
        );
    }
    AddImage(row, [&] {
        auto& uploads = db_.OtaUploads();
        const auto still = uploads.Find(upload.upload_id);
        if (!still || still->blob_key != upload.blob_key) {
            throw ApiError(
                ErrorCode::kOtaImageNotFound,
                "The upload changed or expired while it was confirmed; confirm it again"
            );
        }
        uploads.Delete(upload.upload_id);
    });
    if (package) {
        ReleaseIfUnused(upload.blob_key);  // the archive: the image keeps its firmware only
    }
    return Describe(row);
}

OtaImage OtaImageService::ConfirmUpload(
    const auth::AuthContext& caller, const ConfirmInput& input
) {
    if (!input.ota_image_id || input.ota_image_id->empty()) {
        throw ApiError(ErrorCode::kOtaImageIdMissing);
    }
    if (input.image_type && !input.image_type->empty() && !IsImageType(*input.image_type)) {
        throw ApiError(ErrorCode::kInvalidBody, "image_type must be firmware, package or raw");
    }
    CheckLength(input.fw_version, config_.max_field_length, "fw_version");
    CheckLength(input.model, config_.max_field_length, "model");
    CheckLength(input.type, config_.max_field_length, "type");
    auto upload = db_.OtaUploads().Find(*input.ota_image_id);
    if (!upload || upload->kind != "image" || upload->expires_at < clock_.NowSeconds()) {
        // Confirmed already (a retried confirmation): its image.
        if (const auto image = db_.OtaImages().Find(*input.ota_image_id)) {
            return Describe(*image);
        }
        throw ApiError(ErrorCode::kOtaImageNotFound);
    }
    TakeDirectUpload(*upload);
    upload = RequirePendingUpload(upload->upload_id);
    if (upload->blob_key.empty()) {
        throw ApiError(ErrorCode::kOtaNothingUploaded);
    }
    if (static_cast<std::uint64_t>(upload->file_size) > config_.max_upload_bytes) {
        DiscardUpload(*upload);
        throw ApiError(ErrorCode::kOtaUploadTooLarge, TooLarge(config_.max_upload_bytes));
    }
    const std::string type = GivenOr(input.image_type, upload->image_type);
    const bool package = type == "package";
    StoredFirmware firmware;
    storage::OtaImageRow row;
    try {
        if (package) {
            firmware = ExtractPackage(upload->blob_key);
        } else {
            firmware.blob_key = upload->blob_key;
            firmware.file_size = upload->file_size;
            firmware.file_md5 = upload->file_md5;
        }
        row = ReadFirmware(firmware, input.fw_version, input.model, input.type, type == "raw");
    } catch (const ApiError& e) {
        if (package && !firmware.blob_key.empty()) {
            const std::lock_guard lock(blob_mutex_);
            ReleaseIfUnused(firmware.blob_key);
        }
        // "If you have uploaded an invalid file, it will be deleted completely."
        if (e.code() == ErrorCode::kOtaUploadInvalid) {
            DiscardUpload(*upload);
        }
        throw;
    }
    row.ota_image_id = upload->upload_id;
    row.image_name = upload->image_name;
    row.uploaded_by = caller.user_id;
    row.upload_timestamp = clock_.NowSeconds();
    return ConfirmInto(std::move(row), *upload, package);
}

OtaImage OtaImageService::RegisterPackage(
    const auth::AuthContext& caller, const PackageInput& input
) {
    if (!input.image_name || input.image_name->empty()) {
        throw ApiError(ErrorCode::kOtaImageNameMissing);
    }
    CheckLength(input.image_name, config_.max_name_length, "image_name");
    CheckLength(input.type, config_.max_field_length, "type");
    if (!input.file_path || input.file_path->empty()) {
        throw ApiError(
            ErrorCode::kOtaFileNameInvalid,
            "file_path (the uploaded package's file name) is missing"
        );
    }
    auto upload = db_.OtaUploads().FindPackage(*input.file_path);
    if (!upload || upload->expires_at < clock_.NowSeconds()) {
        throw ApiError(
            ErrorCode::kOtaImageNotFound, "No package was uploaded under this file_path"
        );
    }
    TakeDirectUpload(*upload);
    upload = RequirePendingUpload(upload->upload_id);
    if (upload->blob_key.empty()) {
        throw ApiError(ErrorCode::kOtaNothingUploaded);
    }
    StoredFirmware firmware;
    storage::OtaImageRow row;
    try {
        firmware = ExtractPackage(upload->blob_key);
        row = ReadFirmware(firmware, std::nullopt, std::nullopt, input.type, false);
    } catch (const ApiError& e) {
        if (!firmware.blob_key.empty()) {
            const std::lock_guard lock(blob_mutex_);
            ReleaseIfUnused(firmware.blob_key);
        }
        if (e.code() == ErrorCode::kOtaUploadInvalid) {
            DiscardUpload(*upload);
        }
        throw;
    }
    row.ota_image_id = core::RandomAlnum(22);
    row.image_name = *input.image_name;
    row.uploaded_by = caller.user_id;
    row.upload_timestamp = clock_.NowSeconds();
    return ConfirmInto(std::move(row), *upload, true);
}

UserImage OtaImageService::UploadUserImage(
    const auth::AuthContext& caller, const UploadInput& input
) {
    const InlineImage decoded = DecodeInline(input);
    const EspAppImage& parsed = decoded.info;
    storage::UserOtaImageRow row;
    row.fw_version = GivenOr(input.fw_version, parsed.version);
    if (row.fw_version.empty()) {
        throw ApiError(ErrorCode::kOtaFwVersionMissing);
    }
    row.model = GivenOr(input.model, parsed.project_name);
    if (row.model.empty()) {
        throw ApiError(ErrorCode::kOtaModelMissing);
    }
    row.type = GivenOr(input.type, GivenOr(std::optional(parsed.project_name), row.model));
    const auto& urls = Urls();
    const auto now = clock_.NowSeconds();
    row.image_id = core::RandomAlnum(22);
    row.user_id = caller.user_id;
    row.image_name = *input.image_name;
    row.project_name = parsed.project_name;
    row.file_size = static_cast<std::int64_t>(decoded.bytes.size());
    row.file_md5 = crypto::Md5Hex(decoded.bytes);
    row.created_at = now;
    row.expires_at = now + config_.user_image_url_ttl.count();
    std::unique_lock<std::mutex> lock;
    try {
        row.blob_key = PutThenLock(decoded.bytes, lock);
    } catch (const std::exception& e) {
        core::log::Error("ota: storing a user's image: " + std::string(e.what()));
        throw ApiError(ErrorCode::kOtaImageSaveFailed);
    }
    std::vector<std::string> released;
    try {
        db_.Transaction([&] {
            auto& uploads = db_.OtaUploads();
            released.clear();
            if (const auto same = uploads.FindUserImage(row.user_id, row.image_name)) {
                uploads.DeleteUserImage(same->image_id);
                released.push_back(same->blob_key);
            }
            // Past the cap the oldest go (their URLs stop working).
            const auto mine = uploads.UserImages(row.user_id);
            const auto cap = static_cast<std::size_t>(std::max(config_.max_user_images, 1));
            const std::size_t drop = mine.size() >= cap ? mine.size() - cap + 1 : 0;
            for (std::size_t i = 0; i < drop; ++i) {
                uploads.DeleteUserImage(mine[i].image_id);
                released.push_back(mine[i].blob_key);
            }
            if (!uploads.InsertUserImage(row)) {
                throw ApiError(ErrorCode::kOtaImageSaveFailed);
            }
        });
    } catch (...) {
        ReleaseIfUnused(row.blob_key);
        throw;
    }
    for (const auto& key : released) {
        if (key != row.blob_key) {
            ReleaseIfUnused(key);
        }
    }
    UserImage out;
    out.image_id = row.image_id;
    out.fw_version = row.fw_version;
    out.model = row.model;
    out.type = row.type;
    out.image_url =
        urls.DownloadUrl(row.blob_key, row.image_name + ".bin", config_.user_image_url_ttl);
    return out;
}

void OtaImageService::RemoveDirectUploads(const std::vector<std::string>& upload_ids) {
    for (const auto& id : upload_ids) {
        try {
            blobs_.RemoveUpload(id);
        } catch (const std::exception& e) {
            core::log::Warn("ota: removing direct upload " + id + ": " + e.what());
        }
    }
}

int OtaImageService::ExpireUploads() {
    const auto now = clock_.NowSeconds();
    int total = 0;
    std::vector<std::string> gone_uploads;
    std::unique_lock lock(blob_mutex_);
    for (;;) {
        std::vector<std::string> keys;
        std::vector<std::string> expired_ids;
        std::size_t uploads_found = 0;
        std::size_t images_found = 0;
        db_.Transaction([&] {
            auto& store = db_.OtaUploads();
            keys.clear();
            const auto uploads = store.Expired(now, kSweepBatch);
            expired_ids.clear();
            for (const auto& upload : uploads) {
                store.Delete(upload.upload_id);
                expired_ids.push_back(upload.upload_id);
                if (!upload.blob_key.empty()) {
                    keys.push_back(upload.blob_key);
                }
            }
            const auto images = store.ExpiredUserImages(now, kSweepBatch);
            for (const auto& image : images) {
                store.DeleteUserImage(image.image_id);
                keys.push_back(image.blob_key);
            }
            uploads_found = uploads.size();
            images_found = images.size();
        });
        for (const auto& key : keys) {
            ReleaseIfUnused(key);
        }
        // Bytes PUT straight into the store (S3) for these uploads, never confirmed: removed
        // below, without the lock.
        gone_uploads.insert(gone_uploads.end(), expired_ids.begin(), expired_ids.end());
        total += static_cast<int>(uploads_found + images_found);
        if (uploads_found < kSweepBatch && images_found < kSweepBatch) {
            lock.unlock();
            RemoveDirectUploads(gone_uploads);
            return total;
        }
    }
}

}  // namespace rainmaker::domain::ota

// The OTA image rules of #29-#32 over the OtaImageStore and the BlobStore. A blob is written
// and removed inside the write transaction that adds or removes the last row naming it, so
// that two admins uploading and deleting the same bytes at once never leave a row without its
// blob (write transactions run one at a time).
#include "domain/ota/ota_image_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "domain/ota/esp_app_image.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "domain/paging.hpp"

namespace rainmaker::domain::ota {

using core::ApiError;
using core::ErrorCode;

namespace {

// The longest base64 text (line breaks allowed) of an image smaller than `limit` bytes.
std::size_t MaxBase64Length(std::size_t limit) {
    return (limit + 2) / 3 * 4 + limit / 16;
}

OtaImage FromRow(const storage::OtaImageRow& row) {
    OtaImage image;
    image.ota_image_id = row.ota_image_id;
    image.image_name = row.image_name;
    image.type = row.type;
    image.model = row.model;
    image.fw_version = row.fw_version;
    image.project_name = row.project_name;
    image.idf_version = row.idf_version;
    image.secure_version = row.secure_version;
    image.file_size = row.file_size;
    image.file_md5 = row.file_md5;
    image.file_sha256 = row.blob_key;
    image.archived = row.archived;
    image.upload_timestamp = row.upload_timestamp;
    return image;
}

// The file name of an image's download URL: its name, with .bin unless it has it.
std::string DownloadName(std::string_view image_name) {
    std::string name(image_name);
    if (name.size() < 4 || name.substr(name.size() - 4) != ".bin") {
        name += ".bin";
    }
    return name;
}

// base64 text without the line breaks and spaces some encoders put in it.
std::string WithoutWhitespace(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

OtaImageService::OtaImageService(
    storage::Database& db,
    storage::BlobStore& blobs,
    const core::Clock& clock,
    OtaImageConfig config
)
    : db_(db), blobs_(blobs), clock_(clock), config_(config) {}

OtaImageService::InlineImage OtaImageService::DecodeInline(const UploadInput& input) const {
    if (!input.image_name || input.image_name->empty()) {
        throw ApiError(ErrorCode::kOtaImageNameMissing);
    }
    if (!input.base64_fwimage || input.base64_fwimage->empty()) {
        throw ApiError(ErrorCode::kOtaImageMissing);
    }
    CheckLength(input.image_name, config_.max_name_length, "image_name");
    CheckLength(input.fw_version, config_.max_field_length, "fw_version");
    CheckLength(input.model, config_.max_field_length, "model");
    CheckLength(input.type, config_.max_field_length, "type");
    // The text of an image under the limit is at most 4/3 of it (plus line breaks): refused
    // unread when longer.
    const std::size_t limit = config_.max_inline_image_bytes;
    if (input.base64_fwimage->size() > MaxBase64Length(limit)) {
        throw ApiError(ErrorCode::kOtaImageTooLarge);
    }
    auto bytes = crypto::Base64Decode(WithoutWhitespace(*input.base64_fwimage));
    if (!bytes || bytes->empty()) {
        throw ApiError(ErrorCode::kOtaImageInvalidBase64);
    }
    if (bytes->size() >= limit) {
        throw ApiError(ErrorCode::kOtaImageTooLarge);
    }
    InlineImage image;
    image.info = ParseEspAppImage(*bytes);
    image.bytes = std::move(*bytes);
    return image;
}

OtaImage OtaImageService::Upload(const auth::AuthContext& caller, const UploadInput& input) {
    const InlineImage decoded = DecodeInline(input);
    const EspAppImage& parsed = decoded.info;

    storage::OtaImageRow row;
    row.fw_version = GivenOr(input.fw_version, parsed.version);
    if (row.fw_version.empty()) {
        throw ApiError(ErrorCode::kOtaFwVersionMissing);
    }
    row.model = GivenOr(input.model, parsed.project_name);
    if (row.model.empty()) {
        throw ApiError(ErrorCode::kOtaModelMissing);
    }
    row.type = GivenOr(input.type, GivenOr(std::optional(parsed.project_name), row.model));
    // What came from the image is bounded by its 32-byte fields; what was given was checked.
    row.ota_image_id = core::RandomAlnum(22);
    row.image_name = *input.image_name;
    row.project_name = parsed.project_name;
    row.idf_version = parsed.idf_version;
    row.secure_version = parsed.secure_version;
    row.file_size = static_cast<std::int64_t>(decoded.bytes.size());
    row.file_md5 = crypto::Md5Hex(decoded.bytes);
    row.uploaded_by = caller.user_id;
    row.upload_timestamp = clock_.NowSeconds();
    // The blob is written (and synced) before the transaction, outside the store's write lock;
    // a failed transaction takes it away again, and a replaced image's blob goes only once the
    // replacement committed.
    std::unique_lock<std::mutex> lock;
    try {
        row.blob_key = PutThenLock(decoded.bytes, lock);
    } catch (const std::exception& e) {
        core::log::Error("ota: storing image " + row.image_name + ": " + e.what());
        throw ApiError(ErrorCode::kOtaImageSaveFailed);
    }
    AddImage(row, {});
    return Describe(row);
}

void OtaImageService::AddImage(const storage::OtaImageRow& row, const std::function<void()>& also) {
    std::optional<std::string> replaced;
    try {
        db_.Transaction([&] {
            auto& store = db_.OtaImages();
            replaced.reset();
            if (also) {
                also();
            }
            // A name in use: the new image replaces that one, unless a job that is not
            // cancelled uses it (it would offer nodes other bytes than it was made with).
            const auto previous = store.FindByName(row.image_name);
            if (previous) {
                if (db_.OtaJobs().CountUsingImage(previous->ota_image_id, true) > 0) {
                    throw ApiError(ErrorCode::kOtaImageUsedByJob);
                }
                store.Delete(previous->ota_image_id);
            }
            if (!store.Insert(row)) {
                throw ApiError(ErrorCode::kOtaImageSaveFailed);
            }
            if (previous && previous->blob_key != row.blob_key) {
                replaced = previous->blob_key;
            }
        });
    } catch (...) {
        ReleaseIfUnused(row.blob_key);
        throw;
    }
    if (replaced) {
        ReleaseIfUnused(*replaced);
    }
}

OtaImage OtaImageService::Describe(const storage::OtaImageRow& row) const {
    OtaImage image = FromRow(row);
    if (urls_ != nullptr) {
        image.image_url =
            urls_->DownloadUrl(row.blob_key, DownloadName(row.image_name), config_.image_url_ttl);
    }
    return image;
}

std::size_t OtaImageService::MaxUploadBodyBytes() const {
    return MaxBase64Length(config_.max_inline_image_bytes) + 16 * 1024;
}

ImagePage OtaImageService::List(const ImageQuery& query) {
    const int page_size = PageSize(query.num_records);
    storage::OtaImageFilter filter;
    auto given = [](const std::optional<std::string>& v) {
        return v && !v->empty() ? v : std::nullopt;
    };
    filter.ota_image_id = given(query.ota_image_id);
    filter.image_name = given(query.image_name);
    filter.name_contains = query.contains;
    filter.type = given(query.type);
    filter.model = given(query.model);
    if (!filter.ota_image_id && !query.all) {
        filter.archived = query.archived;
    }
    return storage::ReadSnapshot(db_, [&] {
        auto& store = db_.OtaImages();
        ImagePage page;
        auto rows = store.List(filter, query.start_id, page_size + 1);
        if (filter.ota_image_id && rows.empty() && query.start_id.empty()) {
            throw ApiError(ErrorCode::kOtaImageNotFound);
        }
        page.total = store.Count(filter);
        if (static_cast<int>(rows.size()) > page_size) {
            page.next_id = rows.back().ota_image_id;
            rows.pop_back();
        }
        for (const auto& row : rows) {
            page.images.push_back(Describe(row));
        }
        return page;
    });
}

void OtaImageService::Delete(std::string_view ota_image_id, bool force) {
    if (ota_image_id.empty()) {
        throw ApiError(ErrorCode::kOtaImageIdMissing);
    }
    const std::lock_guard lock(blob_mutex_);
    std::string key;
    db_.Transaction([&] {
        auto& store = db_.OtaImages();
        const auto row = store.Find(ota_image_id);
        if (!row) {
            throw ApiError(ErrorCode::kOtaImageNotFound);
        }
        // Not while a job that is not cancelled uses it; one only cancelled jobs name goes
        // with force_delete (those jobs keep its id).
        if (db_.OtaJobs().CountUsingImage(ota_image_id, true) > 0) {
            throw ApiError(ErrorCode::kOtaImageInUse);
        }
        if (!force && db_.OtaJobs().CountUsingImage(ota_image_id, false) > 0) {
            throw ApiError(
                ErrorCode::kOtaImageInUse,
                "OTA Image is associated with cancelled OTA jobs, delete it with force_delete=true"
            );
        }
        store.Delete(ota_image_id);
        key = row->blob_key;
    });
    ReleaseIfUnused(key);  // after the commit: a failed one keeps the row with its bytes
}

void OtaImageService::ReleaseIfUnused(const std::string& key) {
    try {
        if (db_.OtaImages().CountBlobUsers(key) == 0 && db_.OtaUploads().CountBlobUsers(key) == 0) {
            blobs_.Remove(key);
        }
    } catch (const std::exception& e) {
        // The row's change stands; a blob left behind costs space, not correctness.
        core::log::Error("ota: releasing blob " + key + ": " + e.what());
    }
}

void OtaImageService::SetArchived(
    std::string_view ota_image_id, const std::optional<std::string>& archive
) {
    if (ota_image_id.empty()) {
        throw ApiError(ErrorCode::kOtaImageIdMissing);
    }
    if (!archive || archive->empty()) {
        throw ApiError(ErrorCode::kOtaArchiveFlagMissing);
    }
    bool flag = false;
    if (*archive == "true" || *archive == "True") {
        flag = true;
    } else if (*archive != "false" && *archive != "False") {
        throw ApiError(ErrorCode::kOtaArchiveFlagInvalid);
    }
    db_.Transaction([&] {
        auto& store = db_.OtaImages();
        const auto row = store.Find(ota_image_id);
        if (!row) {
            throw ApiError(ErrorCode::kOtaImageNotFound);
        }
        if (row->archived == flag) {
            throw ApiError(
                flag ? ErrorCode::kOtaImageAlreadyArchived : ErrorCode::kOtaImageAlreadyUnarchived
            );
        }
        store.SetArchived(ota_image_id, flag);
    });
}

std::string OtaImageService::Bytes(std::string_view ota_image_id) {
    const auto row = db_.OtaImages().Find(ota_image_id);
    if (!row) {
        throw ApiError(ErrorCode::kOtaImageNotFound);
    }
    return BlobBytes(row->blob_key);
}

std::string OtaImageService::BlobBytes(const std::string& key) {
    try {
        if (auto bytes = blobs_.Get(key)) {
            return std::move(*bytes);
        }
        core::log::Error("ota: blob " + key + " is missing");
    } catch (const std::exception& e) {
        core::log::Error("ota: reading blob " + key + ": " + e.what());
    }
    throw ApiError(ErrorCode::kOtaImageFetchFailed);
}

std::string OtaImageService::PutThenLock(
    std::string_view bytes, std::unique_lock<std::mutex>& lock
) {
    std::string key = blobs_.Put(bytes);
    lock = std::unique_lock(blob_mutex_);
    if (!blobs_.Size(key)) {
        key = blobs_.Put(bytes);  // the last row naming the same bytes went meanwhile
    }
    return key;
}

void OtaImageService::StoreBlobs(
    const std::vector<std::string_view>& parts,
    const std::function<void(const std::vector<std::string>&)>& record
) {
    std::unique_lock lock(blob_mutex_, std::defer_lock);
    std::vector<std::string> keys;
    try {
        for (const auto part : parts) {
            keys.push_back(blobs_.Put(part));  // without the lock, as PutThenLock
        }
        lock.lock();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (!blobs_.Size(keys[i])) {
                keys[i] = blobs_.Put(parts[i]);  // a removal took them meanwhile
            }
        }
        record(keys);
    } catch (...) {
        if (!lock.owns_lock()) {
            lock.lock();
        }
        for (const auto& key : keys) {
            ReleaseIfUnused(key);
        }
        try {
            throw;
        } catch (const ApiError&) {
            throw;
        } catch (const std::exception& e) {
            core::log::Error("ota: storing blobs: " + std::string(e.what()));
            throw ApiError(ErrorCode::kOtaImageSaveFailed);
        }
    }
}

}  // namespace rainmaker::domain::ota

#include "domain/signing/signing_service.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/digest.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::signing {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxKeyName = 256;
constexpr std::size_t kMaxDescription = 256;
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxTag = 256;
constexpr int kPerRun = 4;  // requests one RunPending signs (the rest wait a tick)
constexpr std::int64_t kMaxUnfinished = 100;  // requests in progress, deployment-wide
constexpr std::string_view kInProgress = "in_progress";

// 1..256 characters of letters, digits, '/', '_' and '-' (#114).
bool IsKeyName(std::string_view name) {
    return !name.empty() && name.size() <= kMaxKeyName &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '_' || c == '-';
           });
}

std::string JsonStrings(const std::vector<std::string>& items) {
    boost::json::array out;
    for (const auto& item : items) {
        out.emplace_back(item);
    }
    return core::Serialize(out);
}

std::vector<std::string> StringsOf(const std::string& json) {
    std::vector<std::string> out;
    for (const auto& item : ParseArray(json)) {
        if (item.is_string()) {
            out.emplace_back(item.as_string());
        }
    }
    return out;
}

KeyInfo InfoOf(const storage::SigningKeyRow& row) {
    KeyInfo info;
    info.key_id = row.key_id;
    info.key_name = row.key_name;
    info.key_spec = row.key_spec;
    info.description = row.description;
    info.tags = StringsOf(row.tags);
    info.public_key = row.public_key;
    info.public_key_digest = row.public_key_digest;
    info.creation_timestamp = row.created_at;
    return info;
}

// What a signing failed of, for its description (the details go to the log).
struct SigningFailure {
    std::string why;
};

// Opened private keys, wiped when they go.
struct OpenedKeys {
    std::vector<crypto::SigningKey> keys;
    OpenedKeys() = default;
    OpenedKeys(const OpenedKeys&) = delete;
    OpenedKeys& operator=(const OpenedKeys&) = delete;

    ~OpenedKeys() {
        for (auto& key : keys) {
            crypto::Wipe(key.private_der);
        }
    }
};

}  // namespace

SigningService::SigningService(
    storage::Database& db,
    ota::OtaImageService& images,
    const crypto::KeySealer& sealer,
    const core::Clock& clock
)
    : db_(db), images_(images), sealer_(sealer), clock_(clock) {}

CreatedKey SigningService::CreateKey(const auth::AuthContext& caller, const KeyInput& input) {
    if (!input.key_name || input.key_name->empty()) {
        throw ApiError(ErrorCode::kKeyNameMissing);
    }
    if (!IsKeyName(*input.key_name)) {
        throw ApiError(ErrorCode::kKeyNameInvalid);
    }
    const auto spec = crypto::KeySpecNamed(input.key_spec.value_or(""));
    if (!spec) {
        throw ApiError(ErrorCode::kKeySpecInvalid);
    }
    if (input.description && input.description->size() > kMaxDescription) {
        throw ApiError(ErrorCode::kKeyDescriptionTooLong);
    }
    const auto tags = input.tags.value_or(std::vector<std::string>{});
    if (tags.size() > kMaxTags || std::any_of(tags.begin(), tags.end(), [](const auto& t) {
            return t.empty() || t.size() > kMaxTag;
        })) {
        throw ApiError(ErrorCode::kKeyTagsInvalid);
    }
    if (db_.Signing().FindKey(*input.key_name)) {
        throw ApiError(ErrorCode::kKeyNameExists);  // before the costly generation
    }
    storage::SigningKeyRow row;
    row.key_id = core::RandomHex(16);
    row.key_name = *input.key_name;
    row.key_spec = std::string(crypto::KeySpecName(*spec));
    row.description = input.description.value_or("");
    row.tags = JsonStrings(tags);
    row.created_by = caller.user_id;
    row.created_at = clock_.NowSeconds();
    try {
        const auto generated = crypto::GenerateSigningKey(*spec);
        row.public_key = generated.public_pem;
        row.public_key_digest = generated.public_key_digest;
        row.sealed_private_key = sealer_.Seal(generated.private_der, row.key_id);
    } catch (const std::exception& e) {
        core::log::Error("signing: generating key " + row.key_name + ": " + e.what());
        throw ApiError(ErrorCode::kKeyGenerationFailed);
    }
    if (!db_.Signing().InsertKey(row)) {
        throw ApiError(ErrorCode::kKeyNameExists);
    }
    core::log::Info("signing: key " + row.key_name + " (" + row.key_spec + ") created");
    return CreatedKey{row.key_id, row.public_key_digest};
}

std::vector<KeyInfo> SigningService::Keys(const std::optional<std::string>& key_name) {
    std::vector<KeyInfo> out;
    if (key_name && !key_name->empty()) {
        if (!IsKeyName(*key_name)) {
            throw ApiError(ErrorCode::kKeyNameInvalid);
        }
        const auto row = db_.Signing().FindKey(*key_name);
        if (!row) {
            throw ApiError(ErrorCode::kKeyNotFound);
        }
        out.push_back(InfoOf(*row));
        return out;
    }
    for (const auto& row : db_.Signing().Keys()) {
        out.push_back(InfoOf(row));
    }
    return out;
}

std::optional<storage::FileRow> SigningService::BootloaderOf(const std::string& ota_image_id) {
    storage::FileFilter filter;
    filter.scope = "admin";
    filter.entity_type = "ota_image";
    filter.entity_id = ota_image_id;
    filter.file_type = "bootloader";
    // The newest linked bootloader (files are listed by id, not by age).
    std::optional<storage::FileRow> newest;
    for (auto& file : db_.Files().List(filter, kMaxPageSize)) {
        if (!newest || file.created_at >= newest->created_at) {
            newest = std::move(file);
        }
    }
    return newest;
}

const std::vector<std::string>& SigningService::CheckKeyNames(
    const std::optional<std::vector<std::string>>& key_names
) {
    if (!key_names || key_names->empty() ||
        !std::all_of(key_names->begin(), key_names->end(), IsKeyName)) {
        throw ApiError(ErrorCode::kSigningKeyNameInvalid);
    }
    const auto& names = *key_names;
    if (names.size() > crypto::kMaxSignatureBlocks) {
        throw ApiError(ErrorCode::kSigningTooManyKeys);
    }
    if (std::set<std::string>(names.begin(), names.end()).size() != names.size()) {
        throw ApiError(ErrorCode::kSigningDuplicateKeys);
    }
    return names;
}

storage::OtaImageRow SigningService::CheckSignable(
    const std::string& ota_image_id, const std::vector<std::string>& key_names
) {
    auto image = db_.OtaImages().Find(ota_image_id);
    if (!image) {
        throw ApiError(ErrorCode::kSignImageNotFound);
    }
    // A raw image (#33 image_type raw) was stored without reading an app description.
    if (image->project_name.empty() && image->idf_version.empty()) {
        throw ApiError(ErrorCode::kRawImageNotSignable);
    }
    for (const auto& name : key_names) {
        if (!db_.Signing().FindKey(name)) {
            throw ApiError(ErrorCode::kSigningKeyUnknown, "Key unknown or not accessible: " + name);
        }
    }
    return std::move(*image);
}

std::string SigningService::RequestSigning(
    const auth::AuthContext& caller, const SignInput& input
) {
    if (!input.ota_image_id || input.ota_image_id->empty()) {
        throw ApiError(ErrorCode::kSignImageIdMissing);
    }
    const auto& names = CheckKeyNames(input.key_names);
    storage::SigningRequestRow row;
    db_.Transaction([&] {
        const auto image = CheckSignable(*input.ota_image_id, names);
        if (db_.Signing().CountUnfinished() >= kMaxUnfinished) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many signing requests are in progress; retry when they have ended"
            );
        }
        if (input.sign_bootloader) {
            const auto bootloader = BootloaderOf(image.ota_image_id);
            if (!bootloader) {
                throw ApiError(ErrorCode::kNoBootloaderToSign);
            }
            row.bootloader_file_id = bootloader->file_id;
        }
        row.request_id = core::RandomAlnum(22);
        row.ota_image_id = image.ota_image_id;
        row.key_names = JsonStrings(names);
        row.sign_bootloader = input.sign_bootloader;
        row.status = std::string(kInProgress);
        row.requested_by = caller.user_id;
        row.created_at = clock_.NowSeconds();
        db_.Signing().InsertRequest(row);
    });
    return row.request_id;
}

storage::SignedImageRow SigningService::SignedFirmwareFor(
    const auth::AuthContext& caller,
    const std::string& ota_image_id,
    const std::optional<std::vector<std::string>>& key_names,
    bool existing_only
) {
    const auto& names = CheckKeyNames(key_names);
    const std::string names_json = JsonStrings(names);
    std::optional<storage::SignedImageRow> made;
    db_.Snapshot([&] {
        CheckSignable(ota_image_id, names);
        made = db_.Signing().FindSignedFirmware(ota_image_id, names_json);
    });
    if (made) {
        return std::move(*made);
    }
    if (existing_only) {
        throw ApiError(
            ErrorCode::kOtaForcePushNeedsSignedImage,
            "No firmware of this image is signed with these keys yet: a superadmin signs it "
            "(POST /admin/secure_sign, or a job of theirs) before a force_push job, or a job of "
            "another admin, can deliver it"
        );
    }
    // Signed now, in the caller's request, and recorded ended (the secure-sign job never sees
    // it pending).
    storage::SigningRequestRow request;
    request.request_id = core::RandomAlnum(22);
    request.ota_image_id = ota_image_id;
    request.key_names = names_json;
    request.requested_by = caller.user_id;
    request.created_at = clock_.NowSeconds();
    const auto ended = SignNow(request, [&](const storage::SigningRequestRow& finished) {
        db_.Signing().InsertRequest(finished);
    });
    made = db_.Signing().FindSignedFirmware(ota_image_id, names_json);
    if (ended.status != "success" || !made) {
        throw ApiError(ErrorCode::kSigningFailed, ended.description);
    }
    return std::move(*made);
}

RequestState SigningService::Status(std::string_view request_id) {
    if (request_id.empty()) {
        throw ApiError(ErrorCode::kSignRequestIdMissing);
    }
    auto row = db_.Signing().FindRequest(request_id);
    if (!row) {
        throw ApiError(ErrorCode::kSignRequestNotFound);
    }
    RequestState state;
    for (auto& image : db_.Signing().SignedImagesOfRequest(request_id)) {
        auto& url = image.file_type == kSignedBootloader ? state.signed_bootloader_url
                                                         : state.signed_firmware_url;
        url = Describe(std::move(image)).signed_image_url;
    }
    state.row = std::move(*row);
    return state;
}

std::vector<KeyRef> SigningService::KeysOf(const std::string& key_names_json) {
    std::vector<KeyRef> out;
    for (auto& name : StringsOf(key_names_json)) {
        const auto key = db_.Signing().FindKey(name);
        out.push_back(KeyRef{std::move(name), key ? key->public_key_digest : std::string()});
    }
    return out;
}

SignedImage SigningService::Describe(storage::SignedImageRow row) {
    SignedImage image;
    image.keys = KeysOf(row.key_names);
    const bool bootloader = row.file_type == kSignedBootloader;
    image.signed_image_url = images_.DownloadUrl(
        row.blob_key, (bootloader ? "bootloader-signed-" : "signed-") + row.ota_image_id + ".bin"
    );
    image.row = std::move(row);
    return image;
}

SignedImagePage SigningService::SignedByKey(
    const std::optional<std::string>& key_name, std::string start_id, int num_records
) {
    if (!key_name || key_name->empty()) {
        throw ApiError(ErrorCode::kKeyNameMissing);
    }
    if (!IsKeyName(*key_name)) {
        throw ApiError(ErrorCode::kSigningKeyNameInvalid);
    }
    const int page_size = PageSize(num_records);
    const auto key = db_.Signing().FindKey(*key_name);
    if (!key) {
        throw ApiError(ErrorCode::kKeyNotFound);
    }
    SignedImagePage page;
    page.keys.push_back(KeyRef{key->key_name, key->public_key_digest});
    std::vector<storage::SignedImageRow> rows;
    db_.Snapshot([&] {
        page.total = db_.Signing().CountSignedImagesByKey(key->key_id);
        rows = db_.Signing().SignedImagesByKey(key->key_id, start_id, page_size + 1);
    });
    if (page.total == 0) {
        throw ApiError(ErrorCode::kNoImagesSignedByKey);
    }
    Fill(page, std::move(rows), page_size);
    return page;
}

SignedImagePage SigningService::SigningsOf(
    const std::optional<std::string>& ota_image_id, std::string start_id, int num_records
) {
    if (!ota_image_id || ota_image_id->empty()) {
        throw ApiError(ErrorCode::kSignImageIdMissing);
    }
    const int page_size = PageSize(num_records);
    SignedImagePage page;
    std::vector<storage::SignedImageRow> rows;
    db_.Snapshot([&] {
        page.total = db_.Signing().CountSignedImagesOfImage(*ota_image_id);
        rows = db_.Signing().SignedImagesOfImage(*ota_image_id, start_id, page_size + 1);
    });
    Fill(page, std::move(rows), page_size);
    return page;
}

void SigningService::Fill(
    SignedImagePage& page, std::vector<storage::SignedImageRow> rows, int page_size
) {
    if (rows.size() > static_cast<std::size_t>(page_size)) {
        page.next_id = rows.back().signed_image_id;
        rows.pop_back();
    }
    for (auto& row : rows) {
        page.images.push_back(Describe(std::move(row)));
    }
}

int SigningService::RunPending() {
    int ended = 0;
    for (const auto& request : db_.Signing().PendingRequests(kPerRun)) {
        // Claimed first: a request is signed once, whoever else looks at the queue.
        if (!db_.Signing().ClaimRequest(request.request_id)) {
            continue;
        }
        SignNow(request, [&](const storage::SigningRequestRow& finished) {
            if (!db_.Signing().FinishRequest(finished)) {
                throw std::runtime_error("the request is no longer claimed");
            }
        });
        ++ended;
    }
    return ended;
}

storage::SigningRequestRow SigningService::SignNow(
    const storage::SigningRequestRow& request,
    const std::function<void(const storage::SigningRequestRow&)>& record
) {
    auto ended = request;
    try {
        // The keys, opened from their sealed private halves.
        OpenedKeys opened;
        std::vector<std::string> key_ids;
        for (const auto& name : StringsOf(request.key_names)) {
            const auto key = db_.Signing().FindKey(name);
            const auto spec = key ? crypto::KeySpecNamed(key->key_spec) : std::nullopt;
            if (!key || !spec) {
                throw SigningFailure{"key " + name + " no longer exists"};
            }
            std::string der;
            try {
                der = sealer_.Open(key->sealed_private_key, key->key_id);
            } catch (const std::runtime_error&) {
                throw SigningFailure{
                    "key " + name + " does not open with this server's signing sealing key"};
            }
            opened.keys.push_back(crypto::SigningKey{*spec, std::move(der)});
            key_ids.push_back(key->key_id);
        }

        struct Part {
            std::string_view file_type;
            std::string bytes;
        };

        std::vector<Part> parts;
        try {
            parts.push_back(Part{kSignedFirmware, images_.Bytes(request.ota_image_id)});
            if (request.sign_bootloader) {
                const auto file = db_.Files().Find(request.bootloader_file_id);
                if (!file) {
                    throw SigningFailure{"the bootloader file was deleted"};
                }
                parts.push_back(Part{kSignedBootloader, images_.BlobBytes(file->blob_key)});
            }
        } catch (const ApiError&) {
            throw SigningFailure{"the OTA image or its bootloader can no longer be read"};
        }
        std::vector<storage::SignedImageRow> rows;
        std::vector<std::string_view> signed_parts;
        for (auto& part : parts) {
            part.bytes = crypto::SignForSecureBoot(part.bytes, opened.keys);
            storage::SignedImageRow row;
            row.signed_image_id = "ota_image/" + request.ota_image_id + "/" + core::RandomAlnum(16);
            row.request_id = request.request_id;
            row.ota_image_id = request.ota_image_id;
            row.file_type = std::string(part.file_type);
            row.key_names = request.key_names;
            row.file_size = static_cast<std::int64_t>(part.bytes.size());
            row.file_md5 = crypto::Md5Hex(part.bytes);
            row.signed_by = request.requested_by;
            row.created_at = clock_.NowSeconds();
            rows.push_back(std::move(row));
            signed_parts.emplace_back(part.bytes);
        }
        ended.status = "success";
        ended.description = "Secure Signing is successful";
        ended.finished_at = clock_.NowSeconds();
        // Every signed image and the request's end in one transaction: all or none.
        images_.StoreBlobs(signed_parts, [&](const std::vector<std::string>& keys) {
            db_.Transaction([&] {
                for (std::size_t i = 0; i < rows.size(); ++i) {
                    rows[i].blob_key = keys[i];
                    db_.Signing().InsertSignedImage(rows[i], key_ids);
                }
                record(ended);
            });
        });
    } catch (const SigningFailure& failure) {
        ended.status = "failed";
        ended.description = "Secure Signing failed: " + failure.why;
    } catch (const std::exception& e) {
        core::log::Error("signing: request " + request.request_id + ": " + e.what());
        ended.status = "failed";
        ended.description = "Secure Signing failed: an internal error (see the server log)";
    }
    if (ended.status == "failed") {
        ended.finished_at = clock_.NowSeconds();
        try {
            record(ended);
        } catch (const std::exception& e) {
            core::log::Error("signing: ending request " + request.request_id + ": " + e.what());
        }
    }
    core::log::Info(
        "signing: request " + request.request_id + " of image " + request.ota_image_id + ": " +
        ended.status
    );
    return ended;
}

int SigningService::ResumeInterrupted() {
    return db_.Signing().ReleaseClaims();
}

int SigningService::ExpireOrphans() {
    std::vector<storage::SignedImageRow> gone;
    db_.Transaction([&] { gone = db_.Signing().DeleteOrphanedSignedImages(kMaxPageSize); });
    for (const auto& row : gone) {
        images_.ReleaseBlob(row.blob_key);  // after the commit
    }
    return static_cast<int>(gone.size());
}

}  // namespace rainmaker::domain::signing

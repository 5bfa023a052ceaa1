// Secure boot signing (#110-#115). The deployment's signing keys (RSA-3072 for secure boot v2,
// ECDSA P-256) are generated here; their private halves are sealed (crypto::KeySealer, under
// keys/signing-sealing.key outside the database) and never leave the server;
// their public halves and digests (what a device holds in eFuse) are listed. A signing request
// names an OTA image, 1..3 keys and whether to sign the image's bootloader (an admin file
// about the image with file_type "bootloader", #46/#47); it is answered with a request_id at
// once and worked through by RunPending (the secure-sign job): the image (and bootloader)
// padded and followed by a signature sector of one block per key (crypto/secure_boot), stored
// as signed images with download URLs, listed by key (#112) and by image (#113).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "crypto/key_sealer.hpp"
#include "crypto/secure_boot.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::signing {

inline constexpr std::string_view kSignedFirmware = "SECURELY_SIGNED_FIRMWARE";
inline constexpr std::string_view kSignedBootloader = "SECURELY_SIGNED_BOOTLOADER";

// #114's body, as given.
struct KeyInput {
    std::optional<std::string> key_name;
    std::optional<std::string> key_spec;
    std::optional<std::string> description;
    std::optional<std::vector<std::string>> tags;
};

struct CreatedKey {
    std::string key_id;
    std::string digest;  // public_key_digest
};

// A key as #115 answers it: never its private half.
struct KeyInfo {
    std::string key_id;
    std::string key_name;
    std::string key_spec;
    std::string description;
    std::vector<std::string> tags;
    std::string public_key;  // PEM
    std::string public_key_digest;
    std::int64_t creation_timestamp = 0;
};

// #110's body, as given.
struct SignInput {
    std::optional<std::string> ota_image_id;
    std::optional<std::vector<std::string>> key_names;
    bool sign_bootloader = false;
};

struct KeyRef {
    std::string key_name;
    std::string public_key_digest;
};

struct SignedImage {
    storage::SignedImageRow row;
    std::vector<KeyRef> keys;      // in signing order
    std::string signed_image_url;  // a presigned download URL
};

// #111's answer.
struct RequestState {
    storage::SigningRequestRow row;
    std::string signed_firmware_url;    // once it succeeded
    std::string signed_bootloader_url;  // once it succeeded, when the bootloader was signed
};

struct SignedImagePage {
    std::vector<KeyRef> keys;  // #112: the key asked about
    std::vector<SignedImage> images;
    std::int64_t total = 0;
    std::string next_id;
};

class SigningService {
public:
    SigningService(
        storage::Database& db,
        ota::OtaImageService& images,
        const crypto::KeySealer& sealer,
        const core::Clock& clock
    );

    // #114. Throws kKeyNameMissing, kKeyNameInvalid (not 1..256 of [A-Za-z0-9/_-]),
    // kKeySpecInvalid, kKeyDescriptionTooLong (over 256), kKeyTagsInvalid (over 50 tags, or one
    // empty or over 256), kKeyNameExists, kKeyGenerationFailed.
    CreatedKey CreateKey(const auth::AuthContext& caller, const KeyInput& input);

    // #115: every key by name, or the one named. Throws kKeyNameInvalid, kKeyNotFound.
    std::vector<KeyInfo> Keys(const std::optional<std::string>& key_name);

    // #110: a request_id; the signing runs in RunPending. Throws kSignImageIdMissing,
    // kSigningKeyNameInvalid (key_names missing, empty, or a name not 1..256 of
    // [A-Za-z0-9/_-]), kSigningTooManyKeys (over 3), kSigningDuplicateKeys,
    // kSignImageNotFound, kRawImageNotSignable (an image without an app description),
    // kSigningKeyUnknown, kTooManyRequests (100 requests in progress), kNoBootloaderToSign
    // (sign_bootloader and no admin file about the image with file_type bootloader).
    std::string RequestSigning(const auth::AuthContext& caller, const SignInput& input);

    // An OTA job's secure_boot key_names (#35): the signed firmware of `ota_image_id` with
    // exactly `key_names`, in that order — the newest one made, else (unless `existing_only`:
    // force_push jobs, and jobs of admins who are not superadmins) one signed now, recorded as
    // a request of `caller` like #110's. Throws as
    // RequestSigning for the names and the image, kOtaForcePushNeedsSignedImage (none made and
    // `existing_only`), kSigningFailed (the signing failed; why, in the description).
    storage::SignedImageRow SignedFirmwareFor(
        const auth::AuthContext& caller,
        const std::string& ota_image_id,
        const std::optional<std::vector<std::string>>& key_names,
        bool existing_only
    );

    // #111. Throws kSignRequestIdMissing, kSignRequestNotFound.
    RequestState Status(std::string_view request_id);

    // #112: the images signed with `key_name`. Throws kKeyNameMissing, kSigningKeyNameInvalid,
    // kKeyNotFound, kNoImagesSignedByKey, kInvalidQuery (num_records < 1).
    SignedImagePage SignedByKey(
        const std::optional<std::string>& key_name, std::string start_id, int num_records
    );

    // #113: the signings of an OTA image. Throws kSignImageIdMissing, kInvalidQuery.
    SignedImagePage SigningsOf(
        const std::optional<std::string>& ota_image_id, std::string start_id, int num_records
    );

    // The secure-sign job: claims and signs up to 4 pending requests, oldest first (the rest
    // wait for the next run); each ends success (its signed images stored with it) or failed
    // (why, in its description). Returns how many ended.
    int RunPending();

    // At start: requests a stopped server left claimed are pending again. Returns how many.
    int ResumeInterrupted();

    // Deletes the signed images of OTA images deleted since, and their bytes when no other
    // row names them; returns how many went.
    int ExpireOrphans();

private:
    // Throws kSigningKeyNameInvalid, kSigningTooManyKeys, kSigningDuplicateKeys.
    static const std::vector<std::string>& CheckKeyNames(
        const std::optional<std::vector<std::string>>& key_names
    );
    // With a transaction or snapshot held: throws kSignImageNotFound, kRawImageNotSignable,
    // kSigningKeyUnknown.
    storage::OtaImageRow CheckSignable(
        const std::string& ota_image_id, const std::vector<std::string>& key_names
    );
    // Signs what `request` names; on success stores its signed images and runs `record` with
    // the request ended in that same transaction (all or nothing); on failure runs `record`
    // with the request failed and why. Returns the request ended.
    storage::SigningRequestRow SignNow(
        const storage::SigningRequestRow& request,
        const std::function<void(const storage::SigningRequestRow&)>& record
    );
    std::vector<KeyRef> KeysOf(const std::string& key_names_json);
    SignedImage Describe(storage::SignedImageRow row);
    // Puts up to `page_size` of `rows` (page_size + 1 read) into `page`, with next_id.
    void Fill(SignedImagePage& page, std::vector<storage::SignedImageRow> rows, int page_size);
    std::optional<storage::FileRow> BootloaderOf(const std::string& ota_image_id);

    storage::Database& db_;
    ota::OtaImageService& images_;
    const crypto::KeySealer& sealer_;
    const core::Clock& clock_;
};

}  // namespace rainmaker::domain::signing

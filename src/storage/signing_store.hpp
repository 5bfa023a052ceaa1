// Secure boot signing (#110-#115): the deployment's signing keys (their private halves sealed
// under a key-encryption key kept outside the database), the signing requests an admin makes,
// and the signed images they produce. A signed image names its bytes in the BlobStore by key,
// as OTA images do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct SigningKeyRow {
    std::string key_id;
    std::string key_name;
    std::string key_spec;  // RSA_3072 | ECC_NIST_P256
    std::string description;
    std::string tags;                // a JSON array of strings
    std::string public_key;          // PEM
    std::string sealed_private_key;  // crypto::KeySealer::Seal of the PKCS#8 DER, key_id bound
    std::string public_key_digest;   // 64 hex: what a device holds in eFuse
    std::string created_by;
    std::int64_t created_at = 0;  // unix seconds
};

struct SigningRequestRow {
    std::string request_id;
    std::string ota_image_id;
    std::string key_names;  // a JSON array of the key names, in signing order
    bool sign_bootloader = false;
    std::string bootloader_file_id;  // the file signed beside the image ("" when none)
    std::string status;              // in_progress | signing (claimed) | success | failed
    std::string description;         // why it failed
    std::string requested_by;
    std::int64_t created_at = 0;
    std::int64_t finished_at = 0;
};

struct SignedImageRow {
    std::string signed_image_id;
    std::string request_id;
    std::string ota_image_id;
    std::string file_type;  // SECURELY_SIGNED_FIRMWARE | SECURELY_SIGNED_BOOTLOADER
    std::string key_names;  // a JSON array, in signing order
    std::string blob_key;
    std::int64_t file_size = 0;
    std::string file_md5;  // 32 hex
    std::string signed_by;
    std::int64_t created_at = 0;
};

class SigningStore {
public:
    virtual ~SigningStore() = default;

    // Inserts; false when the id or the name exists.
    virtual bool InsertKey(const SigningKeyRow& key) = 0;
    // The key of that name.
    virtual std::optional<SigningKeyRow> FindKey(std::string_view key_name) = 0;
    // Every key, by name.
    virtual std::vector<SigningKeyRow> Keys() = 0;

    virtual void InsertRequest(const SigningRequestRow& request) = 0;
    virtual std::optional<SigningRequestRow> FindRequest(std::string_view request_id) = 0;
    // How many requests are in progress (waiting or claimed).
    virtual std::int64_t CountUnfinished() = 0;
    // Up to `limit` requests still in progress, oldest first.
    virtual std::vector<SigningRequestRow> PendingRequests(int limit) = 0;
    // Marks the request in progress as being signed ("signing"); false when it is not in
    // progress any more (another worker took it, or it ended).
    virtual bool ClaimRequest(std::string_view request_id) = 0;
    // Puts requests left "signing" (a worker stopped mid-way) back in progress; how many.
    virtual int ReleaseClaims() = 0;
    // Sets status, description and finished_at of a claimed request; false when it is not
    // claimed (nothing changed).
    virtual bool FinishRequest(const SigningRequestRow& request) = 0;

    virtual void InsertSignedImage(
        const SignedImageRow& image, const std::vector<std::string>& key_ids
    ) = 0;
    // Deletes the signed images (and their key links) of OTA images that no longer exist, at
    // most `limit`; returns the rows deleted (their blobs are the caller's to release).
    virtual std::vector<SignedImageRow> DeleteOrphanedSignedImages(int limit) = 0;
    // The signed images of a request, firmware first.
    virtual std::vector<SignedImageRow> SignedImagesOfRequest(std::string_view request_id) = 0;
    // Up to `limit` signed images of the OTA image, by signed_image_id from start_id.
    virtual std::vector<SignedImageRow> SignedImagesOfImage(
        std::string_view ota_image_id, std::string_view start_id, int limit
    ) = 0;
    virtual std::int64_t CountSignedImagesOfImage(std::string_view ota_image_id) = 0;
    // Up to `limit` signed images one of whose keys is `key_id`, by signed_image_id from
    // start_id.
    virtual std::vector<SignedImageRow> SignedImagesByKey(
        std::string_view key_id, std::string_view start_id, int limit
    ) = 0;
    virtual std::int64_t CountSignedImagesByKey(std::string_view key_id) = 0;
    // The newest signed firmware of the OTA image signed with exactly `key_names` (a JSON
    // array as stored), in that order.
    virtual std::optional<SignedImageRow> FindSignedFirmware(
        std::string_view ota_image_id, std::string_view key_names
    ) = 0;
};

}  // namespace rainmaker::storage

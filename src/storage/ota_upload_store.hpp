// Uploads through presigned URLs (#33, #44, #46, #48) waiting for their confirmation (#34, #45,
// #47, #49), and the images end users upload for their own nodes (#40). Rows name their bytes
// in the BlobStore by key, as OTA images do: a blob stays while any of these rows, an image row
// or a file row names it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct OtaUploadRow {
    std::string upload_id;  // #33: the ota_image_id the image gets at #34; #46/#48: the file_id
    // "image" (#33), "package" (#44), "admin_file" (#46) or "user_file" (#48)
    std::string kind;
    std::string image_name;   // #33: the image name; #44: the file name (#45's file_path); files:
                              // the file_name
    std::string image_type;   // firmware | package | raw
    std::string content_md5;  // base64, as md5_checksum gave it; "" = none
    std::string blob_key;     // "" until the bytes arrived
    std::int64_t file_size = 0;
    std::string file_md5;          // 32 hex
    std::string requested_by;      // the admin's user id
    std::int64_t created_at = 0;   // unix seconds
    std::int64_t expires_at = 0;   // the row and its bytes go then
    std::int64_t uploaded_at = 0;  // 0: nothing uploaded
    std::uint64_t max_bytes = 0;   // the largest body a PUT may carry; 0: the server's limit
    std::string entity_type;       // files: what the file is about (#46, #48)
    std::string entity_id;
};

struct UserOtaImageRow {
    std::string image_id;
    std::string user_id;
    std::string image_name;
    std::string type;
    std::string fw_version;
    std::string model;
    std::string project_name;
    std::string blob_key;
    std::int64_t file_size = 0;
    std::string file_md5;  // 32 hex
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;  // its URL stops working and the row goes then
};

class OtaUploadStore {
public:
    virtual ~OtaUploadStore() = default;

    // Inserts; false when the id exists.
    virtual bool Insert(const OtaUploadRow& upload) = 0;
    // The upload of that id (expired or not).
    virtual std::optional<OtaUploadRow> Find(std::string_view upload_id) = 0;
    // The newest package upload (#44) of that file name.
    virtual std::optional<OtaUploadRow> FindPackage(std::string_view file_name) = 0;
    // How many uploads of `requested_by` are not expired at `now`.
    virtual std::int64_t CountPending(std::string_view requested_by, std::int64_t now) = 0;
    // Records the bytes that arrived (blob_key "" forgets them); false when the row is gone.
    virtual bool SetBlob(const OtaUploadRow& upload) = 0;
    // Deletes the row; false when there was none.
    virtual bool Delete(std::string_view upload_id) = 0;
    // Up to `limit` uploads whose expires_at is before `now`.
    virtual std::vector<OtaUploadRow> Expired(std::int64_t now, int limit) = 0;

    // Inserts; false when the id, or the user's image name, exists.
    virtual bool InsertUserImage(const UserOtaImageRow& image) = 0;
    // The user's image of that name.
    virtual std::optional<UserOtaImageRow> FindUserImage(
        std::string_view user_id, std::string_view image_name
    ) = 0;
    // The user's images, oldest first.
    virtual std::vector<UserOtaImageRow> UserImages(std::string_view user_id) = 0;
    // Deletes the image row; false when there was none.
    virtual bool DeleteUserImage(std::string_view image_id) = 0;
    // Up to `limit` user images expired at `now` or whose user is gone.
    virtual std::vector<UserOtaImageRow> ExpiredUserImages(std::int64_t now, int limit) = 0;

    // How many uploads, user images, files (FileStore) and signed images (SigningStore) name
    // the blob of `blob_key`.
    virtual std::int64_t CountBlobUsers(std::string_view blob_key) = 0;
};

}  // namespace rainmaker::storage

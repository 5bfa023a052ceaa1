// OTA firmware images in the store (#29-#32): one row per image, its bytes in the BlobStore
// under blob_key. Found by id and by name (unique), listed by id with the filters of #30.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct OtaImageRow {
    std::string ota_image_id;
    std::string image_name;
    std::string type;
    std::string model;
    std::string fw_version;
    std::string project_name;  // from the image's app description
    std::string idf_version;   // from the image's app description
    std::int64_t secure_version = 0;
    std::string blob_key;  // SHA-256 of the bytes, 64 hex
    std::int64_t file_size = 0;
    std::string file_md5;  // 32 hex
    bool archived = false;
    std::string uploaded_by;
    std::int64_t upload_timestamp = 0;  // unix seconds
};

// What #30 filters on; each absent filter matches every row.
struct OtaImageFilter {
    std::optional<std::string> ota_image_id;
    std::optional<std::string> image_name;
    bool name_contains = false;  // image_name is a substring of the name, not the whole name
    std::optional<std::string> type;
    std::optional<std::string> model;
    std::optional<bool> archived;  // nullopt: both
};

class OtaImageStore {
public:
    virtual ~OtaImageStore() = default;

    // Inserts; false when the id or the image name exists (nothing changed).
    virtual bool Insert(const OtaImageRow& image) = 0;
    // The image of that id.
    virtual std::optional<OtaImageRow> Find(std::string_view ota_image_id) = 0;
    // The image of that name (names are unique).
    virtual std::optional<OtaImageRow> FindByName(std::string_view image_name) = 0;
    // Up to `limit` images matching `filter` ordered by id, from the first id >= start_id.
    virtual std::vector<OtaImageRow> List(
        const OtaImageFilter& filter, std::string_view start_id, int limit
    ) = 0;
    // How many images match `filter`.
    virtual std::int64_t Count(const OtaImageFilter& filter) = 0;
    // Sets the archived flag; false when there is no such image.
    virtual bool SetArchived(std::string_view ota_image_id, bool archived) = 0;
    // Deletes the image row; false when there is none.
    virtual bool Delete(std::string_view ota_image_id) = 0;
    // How many images hold the blob of `blob_key`.
    virtual std::int64_t CountBlobUsers(std::string_view blob_key) = 0;
};

}  // namespace rainmaker::storage

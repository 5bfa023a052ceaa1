// Confirmed files (#46-#51): an admin's file about an entity, or a user's own file. A row names
// its bytes in the BlobStore by key, as OTA images do; pending uploads of files are
// OtaUploadStore rows (kinds "admin_file" and "user_file").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct FileRow {
    std::string file_id;
    std::string scope;  // "admin" (#46) or "user" (#48)
    std::string owner;  // the user id of who uploaded it
    std::string file_name;
    std::string entity_type;
    std::string entity_id;
    std::string file_type;  // qa_report, bootloader, image, log, ...; "" = none
    std::string description;
    std::string metadata;  // a JSON object's text; "" = none
    bool is_public = false;
    std::string blob_key;
    std::int64_t file_size = 0;
    std::string file_md5;         // 32 hex
    std::int64_t created_at = 0;  // unix seconds, when confirmed
};

// The files of one scope (and of one owner when given) matching every filter given; a filter
// that is "" matches everything. Ordered by file_id, from start_id (inclusive).
struct FileFilter {
    std::string scope;
    std::string owner;  // "" = every owner (admin files are the deployment's)
    std::string file_name;
    std::string entity_type;
    std::string entity_id;
    std::string file_type;
    std::string start_id;
};

class FileStore {
public:
    virtual ~FileStore() = default;

    // Inserts; false when the id exists, or the name is taken: the same (entity_type,
    // entity_id, file_name) among admin files, or among the owner's files for user files.
    virtual bool Insert(const FileRow& file) = 0;
    // The file of that id.
    virtual std::optional<FileRow> Find(std::string_view file_id) = 0;
    // Whether a file holds that name (as Insert checks it) in `scope` (and for `owner` when
    // scope is "user").
    virtual bool NameTaken(
        std::string_view scope,
        std::string_view owner,
        std::string_view entity_type,
        std::string_view entity_id,
        std::string_view file_name
    ) = 0;
    // Up to `limit` files matching `filter`, by file_id.
    virtual std::vector<FileRow> List(const FileFilter& filter, int limit) = 0;
    // How many files match `filter` (start_id ignored).
    virtual std::int64_t Count(const FileFilter& filter) = 0;
    // Deletes the row; false when there was none.
    virtual bool Delete(std::string_view file_id) = 0;
    // Up to `limit` user files whose owner no longer exists.
    virtual std::vector<FileRow> Orphaned(int limit) = 0;
};

}  // namespace rainmaker::storage

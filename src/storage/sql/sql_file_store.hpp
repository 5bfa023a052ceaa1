// The SQLite implementation of FileStore (V024).
#pragma once

#include "storage/file_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlFileStore final : public FileStore {
public:
    explicit SqlFileStore(SqlDatabase& db) : db_(db) {}

    // storage::FileStore
    bool Insert(const FileRow& file) override;
    std::optional<FileRow> Find(std::string_view file_id) override;
    bool NameTaken(
        std::string_view scope,
        std::string_view owner,
        std::string_view entity_type,
        std::string_view entity_id,
        std::string_view file_name
    ) override;
    std::vector<FileRow> List(const FileFilter& filter, int limit) override;
    std::int64_t Count(const FileFilter& filter) override;
    bool Delete(std::string_view file_id) override;
    std::vector<FileRow> Orphaned(int limit) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

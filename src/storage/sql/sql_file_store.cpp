// Files in SQLite (V024).
#include "storage/sql/sql_file_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "file_id, scope, owner, file_name, entity_type, entity_id, file_type, description, metadata, "
    "public, blob_key, file_size, file_md5, created_at";

FileRow Read(const Statement& s) {
    FileRow r;
    r.file_id = s.Text(0);
    r.scope = s.Text(1);
    r.owner = s.Text(2);
    r.file_name = s.Text(3);
    r.entity_type = s.Text(4);
    r.entity_id = s.Text(5);
    r.file_type = s.Text(6);
    r.description = s.Text(7);
    r.metadata = s.Text(8);
    r.is_public = s.Int(9) != 0;
    r.blob_key = s.Text(10);
    r.file_size = s.Int(11);
    r.file_md5 = s.Text(12);
    r.created_at = s.Int(13);
    return r;
}

std::string Select(const std::string& rest) {
    return std::string("SELECT ") + kColumns + " FROM files " + rest;
}

// The filter's WHERE clause over ?1 scope, ?2 owner, ?3 file_name, ?4 entity_type,
// ?5 entity_id, ?6 file_type, ?7 start_id: a comparison for each filter given, and for the others
// a term that keeps the parameter numbered but is always true (so that the indexes on scope and
// owner serve the owner's listings and counts).
std::string Where(const FileFilter& f, bool with_start) {
    const auto term = [](const std::string& value, const char* given, const char* absent) {
        return std::string(" AND ") + (value.empty() ? absent : given);
    };
    return "WHERE scope = ?1" + term(f.owner, "owner = ?2", "?2 = ''") +
           term(f.file_name, "file_name = ?3", "?3 = ''") +
           term(f.entity_type, "entity_type = ?4", "?4 = ''") +
           term(f.entity_id, "entity_id = ?5", "?5 = ''") +
           term(f.file_type, "file_type = ?6", "?6 = ''") +
           term(with_start ? f.start_id : std::string(), "file_id >= ?7", "?7 = ''");
}

}  // namespace

bool SqlFileStore::Insert(const FileRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO files(") + kColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            r.file_id,
            r.scope,
            r.owner,
            r.file_name,
            r.entity_type,
            r.entity_id,
            r.file_type,
            r.description,
            r.metadata,
            r.is_public ? 1 : 0,
            r.blob_key,
            r.file_size,
            r.file_md5,
            r.created_at
        );
    });
}

std::optional<FileRow> SqlFileStore::Find(std::string_view file_id) {
    return db_.FindOne(Select("WHERE file_id = ?"), file_id, Read);
}

bool SqlFileStore::NameTaken(
    std::string_view scope,
    std::string_view owner,
    std::string_view entity_type,
    std::string_view entity_id,
    std::string_view file_name
) {
    return db_.Count(
               "SELECT COUNT(*) FROM files WHERE scope = ?1 AND (?1 = 'admin' OR owner = ?2) "
               "AND entity_type = ?3 AND entity_id = ?4 AND file_name = ?5",
               scope,
               owner,
               entity_type,
               entity_id,
               file_name
           ) > 0;
}

std::vector<FileRow> SqlFileStore::List(const FileFilter& f, int limit) {
    return db_.FindAll(
        Select(Where(f, true) + " ORDER BY file_id LIMIT ?8"),
        Read,
        f.scope,
        f.owner,
        f.file_name,
        f.entity_type,
        f.entity_id,
        f.file_type,
        f.start_id,
        limit
    );
}

std::int64_t SqlFileStore::Count(const FileFilter& f) {
    return db_.Count(
        "SELECT COUNT(*) FROM files " + Where(f, false),
        f.scope,
        f.owner,
        f.file_name,
        f.entity_type,
        f.entity_id,
        f.file_type,
        std::string()
    );
}

bool SqlFileStore::Delete(std::string_view file_id) {
    return db_.Execute("DELETE FROM files WHERE file_id = ?", file_id) > 0;
}

std::vector<FileRow> SqlFileStore::Orphaned(int limit) {
    return db_.FindAll(
        Select("WHERE scope = 'user' AND owner NOT IN (SELECT user_id FROM users) LIMIT ?1"),
        Read,
        limit
    );
}

}  // namespace rainmaker::storage::sql

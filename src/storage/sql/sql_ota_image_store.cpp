// OTA images in SQLite (V021): one row each, unique by id and by name. The filters of #30 are
// one fixed statement, each filter a (given, value) pair of parameters, so it is prepared once.
#include "storage/sql/sql_ota_image_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "ota_image_id, image_name, type, model, fw_version, project_name, idf_version, "
    "secure_version, blob_key, file_size, file_md5, archived, uploaded_by, upload_timestamp";

// ?1/?2 id, ?3/?4 name (?3: 0 none, 1 whole name, 2 substring), ?5/?6 type, ?7/?8 model,
// ?9/?10 archived.
constexpr const char* kWhere =
    " WHERE (?1 = 0 OR ota_image_id = ?2)"
    " AND (?3 = 0 OR (?3 = 1 AND image_name = ?4) OR (?3 = 2 AND instr(image_name, ?4) > 0))"
    " AND (?5 = 0 OR type = ?6) AND (?7 = 0 OR model = ?8) AND (?9 = 0 OR archived = ?10)";

OtaImageRow Read(const Statement& s) {
    OtaImageRow r;
    r.ota_image_id = s.Text(0);
    r.image_name = s.Text(1);
    r.type = s.Text(2);
    r.model = s.Text(3);
    r.fw_version = s.Text(4);
    r.project_name = s.Text(5);
    r.idf_version = s.Text(6);
    r.secure_version = s.Int(7);
    r.blob_key = s.Text(8);
    r.file_size = s.Int(9);
    r.file_md5 = s.Text(10);
    r.archived = s.Bool(11);
    r.uploaded_by = s.Text(12);
    r.upload_timestamp = s.Int(13);
    return r;
}

std::string Select(const std::string& rest) {
    return std::string("SELECT ") + kColumns + " FROM ota_images " + rest;
}

int NameMode(const OtaImageFilter& f) {
    if (!f.image_name) {
        return 0;
    }
    return f.name_contains ? 2 : 1;
}

}  // namespace

bool SqlOtaImageStore::Insert(const OtaImageRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO ota_images(") + kColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            r.ota_image_id,
            r.image_name,
            r.type,
            r.model,
            r.fw_version,
            r.project_name,
            r.idf_version,
            r.secure_version,
            r.blob_key,
            r.file_size,
            r.file_md5,
            r.archived,
            r.uploaded_by,
            r.upload_timestamp
        );
    });
}

std::optional<OtaImageRow> SqlOtaImageStore::Find(std::string_view ota_image_id) {
    return db_.FindOne(Select("WHERE ota_image_id = ?"), ota_image_id, Read);
}

std::optional<OtaImageRow> SqlOtaImageStore::FindByName(std::string_view image_name) {
    return db_.FindOne(Select("WHERE image_name = ?"), image_name, Read);
}

std::vector<OtaImageRow> SqlOtaImageStore::List(
    const OtaImageFilter& f, std::string_view start_id, int limit
) {
    return db_.FindAll(
        Select(std::string(kWhere) + " AND ota_image_id >= ?11 ORDER BY ota_image_id LIMIT ?12"),
        Read,
        f.ota_image_id.has_value(),
        std::string_view(f.ota_image_id ? *f.ota_image_id : ""),
        NameMode(f),
        std::string_view(f.image_name ? *f.image_name : ""),
        f.type.has_value(),
        std::string_view(f.type ? *f.type : ""),
        f.model.has_value(),
        std::string_view(f.model ? *f.model : ""),
        f.archived.has_value(),
        f.archived.value_or(false),
        start_id,
        limit
    );
}

std::int64_t SqlOtaImageStore::Count(const OtaImageFilter& f) {
    return db_.Count(
        std::string("SELECT COUNT(*) FROM ota_images") + kWhere,
        f.ota_image_id.has_value(),
        std::string_view(f.ota_image_id ? *f.ota_image_id : ""),
        NameMode(f),
        std::string_view(f.image_name ? *f.image_name : ""),
        f.type.has_value(),
        std::string_view(f.type ? *f.type : ""),
        f.model.has_value(),
        std::string_view(f.model ? *f.model : ""),
        f.archived.has_value(),
        f.archived.value_or(false)
    );
}

bool SqlOtaImageStore::SetArchived(std::string_view ota_image_id, bool archived) {
    return db_.Execute(
               "UPDATE ota_images SET archived = ?2 WHERE ota_image_id = ?1", ota_image_id, archived
           ) > 0;
}

bool SqlOtaImageStore::Delete(std::string_view ota_image_id) {
    return db_.Execute("DELETE FROM ota_images WHERE ota_image_id = ?", ota_image_id) > 0;
}

std::int64_t SqlOtaImageStore::CountBlobUsers(std::string_view blob_key) {
    return db_.Count("SELECT COUNT(*) FROM ota_images WHERE blob_key = ?", blob_key);
}

}  // namespace rainmaker::storage::sql

// Pending uploads and end-user images in SQLite (V020, V024).
#include "storage/sql/sql_ota_upload_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kUploadColumns =
    "upload_id, kind, image_name, image_type, content_md5, blob_key, file_size, file_md5, "
    "requested_by, created_at, expires_at, uploaded_at, max_bytes, entity_type, entity_id";

constexpr const char* kImageColumns =
    "image_id, user_id, image_name, type, fw_version, model, project_name, blob_key, file_size, "
    "file_md5, created_at, expires_at";

OtaUploadRow ReadUpload(const Statement& s) {
    OtaUploadRow r;
    r.upload_id = s.Text(0);
    r.kind = s.Text(1);
    r.image_name = s.Text(2);
    r.image_type = s.Text(3);
    r.content_md5 = s.Text(4);
    r.blob_key = s.Text(5);
    r.file_size = s.Int(6);
    r.file_md5 = s.Text(7);
    r.requested_by = s.Text(8);
    r.created_at = s.Int(9);
    r.expires_at = s.Int(10);
    r.uploaded_at = s.Int(11);
    r.max_bytes = static_cast<std::uint64_t>(s.Int(12));
    r.entity_type = s.Text(13);
    r.entity_id = s.Text(14);
    return r;
}

UserOtaImageRow ReadImage(const Statement& s) {
    UserOtaImageRow r;
    r.image_id = s.Text(0);
    r.user_id = s.Text(1);
    r.image_name = s.Text(2);
    r.type = s.Text(3);
    r.fw_version = s.Text(4);
    r.model = s.Text(5);
    r.project_name = s.Text(6);
    r.blob_key = s.Text(7);
    r.file_size = s.Int(8);
    r.file_md5 = s.Text(9);
    r.created_at = s.Int(10);
    r.expires_at = s.Int(11);
    return r;
}

std::string SelectUploads(const std::string& rest) {
    return std::string("SELECT ") + kUploadColumns + " FROM ota_uploads " + rest;
}

std::string SelectImages(const std::string& rest) {
    return std::string("SELECT ") + kImageColumns + " FROM user_ota_images " + rest;
}

}  // namespace

bool SqlOtaUploadStore::Insert(const OtaUploadRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO ota_uploads(") + kUploadColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            r.upload_id,
            r.kind,
            r.image_name,
            r.image_type,
            r.content_md5,
            r.blob_key,
            r.file_size,
            r.file_md5,
            r.requested_by,
            r.created_at,
            r.expires_at,
            r.uploaded_at,
            static_cast<std::int64_t>(r.max_bytes),
            r.entity_type,
            r.entity_id
        );
    });
}

std::optional<OtaUploadRow> SqlOtaUploadStore::Find(std::string_view upload_id) {
    return db_.FindOne(SelectUploads("WHERE upload_id = ?"), upload_id, ReadUpload);
}

std::optional<OtaUploadRow> SqlOtaUploadStore::FindPackage(std::string_view file_name) {
    return db_.FindOne(
        SelectUploads(
            "WHERE kind = 'package' AND image_name = ? ORDER BY created_at DESC, upload_id LIMIT 1"
        ),
        file_name,
        ReadUpload
    );
}

std::int64_t SqlOtaUploadStore::CountPending(std::string_view requested_by, std::int64_t now) {
    return db_.Count(
        "SELECT COUNT(*) FROM ota_uploads WHERE requested_by = ?1 AND expires_at >= ?2",
        requested_by,
        now
    );
}

bool SqlOtaUploadStore::SetBlob(const OtaUploadRow& r) {
    return db_.Execute(
               "UPDATE ota_uploads SET blob_key = ?2, file_size = ?3, file_md5 = ?4, "
               "uploaded_at = ?5, expires_at = ?6 WHERE upload_id = ?1",
               r.upload_id,
               r.blob_key,
               r.file_size,
               r.file_md5,
               r.uploaded_at,
               r.expires_at
           ) > 0;
}

bool SqlOtaUploadStore::Delete(std::string_view upload_id) {
    return db_.Execute("DELETE FROM ota_uploads WHERE upload_id = ?", upload_id) > 0;
}

std::vector<OtaUploadRow> SqlOtaUploadStore::Expired(std::int64_t now, int limit) {
    return db_.FindAll(
        SelectUploads("WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2"), ReadUpload, now, limit
    );
}

bool SqlOtaUploadStore::InsertUserImage(const UserOtaImageRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO user_ota_images(") + kImageColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            r.image_id,
            r.user_id,
            r.image_name,
            r.type,
            r.fw_version,
            r.model,
            r.project_name,
            r.blob_key,
            r.file_size,
            r.file_md5,
            r.created_at,
            r.expires_at
        );
    });
}

std::optional<UserOtaImageRow> SqlOtaUploadStore::FindUserImage(
    std::string_view user_id, std::string_view image_name
) {
    return db_.FindFirst(
        SelectImages("WHERE user_id = ?1 AND image_name = ?2"), ReadImage, user_id, image_name
    );
}

std::vector<UserOtaImageRow> SqlOtaUploadStore::UserImages(std::string_view user_id) {
    return db_.FindAll(
        SelectImages("WHERE user_id = ?1 ORDER BY created_at, image_id"), ReadImage, user_id
    );
}

bool SqlOtaUploadStore::DeleteUserImage(std::string_view image_id) {
    return db_.Execute("DELETE FROM user_ota_images WHERE image_id = ?", image_id) > 0;
}

std::vector<UserOtaImageRow> SqlOtaUploadStore::ExpiredUserImages(std::int64_t now, int limit) {
    return db_.FindAll(
        SelectImages("WHERE expires_at < ?1 OR user_id NOT IN (SELECT user_id FROM users) "
                     "ORDER BY expires_at LIMIT ?2"),
        ReadImage,
        now,
        limit
    );
}

std::int64_t SqlOtaUploadStore::CountBlobUsers(std::string_view blob_key) {
    return db_.Count(
        "SELECT (SELECT COUNT(*) FROM ota_uploads WHERE blob_key = ?1) + "
        "(SELECT COUNT(*) FROM user_ota_images WHERE blob_key = ?1) + "
        "(SELECT COUNT(*) FROM files WHERE blob_key = ?1) + "
        "(SELECT COUNT(*) FROM signed_images WHERE blob_key = ?1)",
        blob_key
    );
}

}  // namespace rainmaker::storage::sql

// Signing keys, requests and signed images in SQLite (V025).
#include "storage/sql/sql_signing_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kKeyColumns =
    "key_id, key_name, key_spec, description, tags, public_key, sealed_private_key, "
    "public_key_digest, created_by, created_at";

constexpr const char* kRequestColumns =
    "request_id, ota_image_id, key_names, sign_bootloader, bootloader_file_id, status, "
    "description, requested_by, created_at, finished_at";

constexpr const char* kImageColumns =
    "signed_image_id, request_id, ota_image_id, file_type, key_names, blob_key, file_size, "
    "file_md5, signed_by, created_at";

SigningKeyRow ReadKey(const Statement& s) {
    SigningKeyRow r;
    r.key_id = s.Text(0);
    r.key_name = s.Text(1);
    r.key_spec = s.Text(2);
    r.description = s.Text(3);
    r.tags = s.Text(4);
    r.public_key = s.Text(5);
    r.sealed_private_key = s.Text(6);
    r.public_key_digest = s.Text(7);
    r.created_by = s.Text(8);
    r.created_at = s.Int(9);
    return r;
}

SigningRequestRow ReadRequest(const Statement& s) {
    SigningRequestRow r;
    r.request_id = s.Text(0);
    r.ota_image_id = s.Text(1);
    r.key_names = s.Text(2);
    r.sign_bootloader = s.Bool(3);
    r.bootloader_file_id = s.Text(4);
    r.status = s.Text(5);
    r.description = s.Text(6);
    r.requested_by = s.Text(7);
    r.created_at = s.Int(8);
    r.finished_at = s.Int(9);
    return r;
}

SignedImageRow ReadImage(const Statement& s) {
    SignedImageRow r;
    r.signed_image_id = s.Text(0);
    r.request_id = s.Text(1);
    r.ota_image_id = s.Text(2);
    r.file_type = s.Text(3);
    r.key_names = s.Text(4);
    r.blob_key = s.Text(5);
    r.file_size = s.Int(6);
    r.file_md5 = s.Text(7);
    r.signed_by = s.Text(8);
    r.created_at = s.Int(9);
    return r;
}

std::string SelectImages(const std::string& rest) {
    return std::string("SELECT ") + kImageColumns + " FROM signed_images " + rest;
}

}  // namespace

bool SqlSigningStore::InsertKey(const SigningKeyRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO signing_keys(") + kKeyColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?)",
            r.key_id,
            r.key_name,
            r.key_spec,
            r.description,
            r.tags,
            r.public_key,
            r.sealed_private_key,
            r.public_key_digest,
            r.created_by,
            r.created_at
        );
    });
}

std::optional<SigningKeyRow> SqlSigningStore::FindKey(std::string_view key_name) {
    return db_.FindOne(
        std::string("SELECT ") + kKeyColumns + " FROM signing_keys WHERE key_name = ?",
        key_name,
        ReadKey
    );
}

std::vector<SigningKeyRow> SqlSigningStore::Keys() {
    return db_.FindAll(
        std::string("SELECT ") + kKeyColumns + " FROM signing_keys ORDER BY key_name", ReadKey
    );
}

void SqlSigningStore::InsertRequest(const SigningRequestRow& r) {
    db_.Execute(
        std::string("INSERT INTO signing_requests(") + kRequestColumns +
            ") VALUES (?,?,?,?,?,?,?,?,?,?)",
        r.request_id,
        r.ota_image_id,
        r.key_names,
        r.sign_bootloader,
        r.bootloader_file_id,
        r.status,
        r.description,
        r.requested_by,
        r.created_at,
        r.finished_at
    );
}

std::optional<SigningRequestRow> SqlSigningStore::FindRequest(std::string_view request_id) {
    return db_.FindOne(
        std::string("SELECT ") + kRequestColumns + " FROM signing_requests WHERE request_id = ?",
        request_id,
        ReadRequest
    );
}

std::vector<SigningRequestRow> SqlSigningStore::PendingRequests(int limit) {
    return db_.FindAll(
        std::string("SELECT ") + kRequestColumns +
            " FROM signing_requests WHERE status = 'in_progress' ORDER BY created_at, "
            "request_id LIMIT ?1",
        ReadRequest,
        limit
    );
}

std::int64_t SqlSigningStore::CountUnfinished() {
    return db_.Count(
        "SELECT COUNT(*) FROM signing_requests WHERE status IN ('in_progress', 'signing')"
    );
}

bool SqlSigningStore::ClaimRequest(std::string_view request_id) {
    return db_.Execute(
               "UPDATE signing_requests SET status = 'signing' WHERE request_id = ?1 AND "
               "status = 'in_progress'",
               request_id
           ) > 0;
}

int SqlSigningStore::ReleaseClaims() {
    return db_.Execute("UPDATE signing_requests SET status = 'in_progress' WHERE status = 'signing'"
    );
}

std::vector<SignedImageRow> SqlSigningStore::DeleteOrphanedSignedImages(int limit) {
    auto rows = db_.FindAll(
        SelectImages("WHERE ota_image_id NOT IN (SELECT ota_image_id FROM ota_images) LIMIT ?1"),
        ReadImage,
        limit
    );
    for (const auto& row : rows) {
        db_.Execute(
            "DELETE FROM signed_image_keys WHERE signed_image_id = ?1", row.signed_image_id
        );
        db_.Execute("DELETE FROM signed_images WHERE signed_image_id = ?1", row.signed_image_id);
    }
    return rows;
}

bool SqlSigningStore::FinishRequest(const SigningRequestRow& r) {
    return db_.Execute(
               "UPDATE signing_requests SET status = ?2, description = ?3, finished_at = ?4 "
               "WHERE request_id = ?1 AND status = 'signing'",
               r.request_id,
               r.status,
               r.description,
               r.finished_at
           ) > 0;
}

void SqlSigningStore::InsertSignedImage(
    const SignedImageRow& r, const std::vector<std::string>& key_ids
) {
    db_.Execute(
        std::string("INSERT INTO signed_images(") + kImageColumns +
            ") VALUES (?,?,?,?,?,?,?,?,?,?)",
        r.signed_image_id,
        r.request_id,
        r.ota_image_id,
        r.file_type,
        r.key_names,
        r.blob_key,
        r.file_size,
        r.file_md5,
        r.signed_by,
        r.created_at
    );
    for (const auto& key_id : key_ids) {
        db_.Execute(
            "INSERT INTO signed_image_keys(signed_image_id, key_id) VALUES (?1, ?2)",
            r.signed_image_id,
            key_id
        );
    }
}

std::vector<SignedImageRow> SqlSigningStore::SignedImagesOfRequest(std::string_view request_id) {
    return db_.FindAll(
        SelectImages("WHERE request_id = ?1 ORDER BY file_type DESC"), ReadImage, request_id
    );
}

std::vector<SignedImageRow> SqlSigningStore::SignedImagesOfImage(
    std::string_view ota_image_id, std::string_view start_id, int limit
) {
    return db_.FindAll(
        SelectImages(
            "WHERE ota_image_id = ?1 AND signed_image_id >= ?2 ORDER BY signed_image_id LIMIT ?3"
        ),
        ReadImage,
        ota_image_id,
        start_id,
        limit
    );
}

std::int64_t SqlSigningStore::CountSignedImagesOfImage(std::string_view ota_image_id) {
    return db_.Count("SELECT COUNT(*) FROM signed_images WHERE ota_image_id = ?1", ota_image_id);
}

std::vector<SignedImageRow> SqlSigningStore::SignedImagesByKey(
    std::string_view key_id, std::string_view start_id, int limit
) {
    return db_.FindAll(
        SelectImages(
            "WHERE signed_image_id IN (SELECT signed_image_id FROM signed_image_keys WHERE "
            "key_id = ?1 AND signed_image_id >= ?2) ORDER BY signed_image_id LIMIT ?3"
        ),
        ReadImage,
        key_id,
        start_id,
        limit
    );
}

std::int64_t SqlSigningStore::CountSignedImagesByKey(std::string_view key_id) {
    return db_.Count("SELECT COUNT(*) FROM signed_image_keys WHERE key_id = ?1", key_id);
}

std::optional<SignedImageRow> SqlSigningStore::FindSignedFirmware(
    std::string_view ota_image_id, std::string_view key_names
) {
    return db_.FindFirst(
        SelectImages(
            "WHERE ota_image_id = ?1 AND key_names = ?2 AND "
            "file_type = 'SECURELY_SIGNED_FIRMWARE' ORDER BY created_at DESC, signed_image_id "
            "LIMIT 1"
        ),
        ReadImage,
        ota_image_id,
        key_names
    );
}

}  // namespace rainmaker::storage::sql

// The SQLite implementation of OtaUploadStore (V020).
#pragma once

#include "storage/ota_upload_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlOtaUploadStore final : public OtaUploadStore {
public:
    explicit SqlOtaUploadStore(SqlDatabase& db) : db_(db) {}

    // storage::OtaUploadStore
    bool Insert(const OtaUploadRow& upload) override;
    std::optional<OtaUploadRow> Find(std::string_view upload_id) override;
    std::optional<OtaUploadRow> FindPackage(std::string_view file_name) override;
    std::int64_t CountPending(std::string_view requested_by, std::int64_t now) override;
    bool SetBlob(const OtaUploadRow& upload) override;
    bool Delete(std::string_view upload_id) override;
    std::vector<OtaUploadRow> Expired(std::int64_t now, int limit) override;
    bool InsertUserImage(const UserOtaImageRow& image) override;
    std::optional<UserOtaImageRow> FindUserImage(
        std::string_view user_id, std::string_view image_name
    ) override;
    std::vector<UserOtaImageRow> UserImages(std::string_view user_id) override;
    bool DeleteUserImage(std::string_view image_id) override;
    std::vector<UserOtaImageRow> ExpiredUserImages(std::int64_t now, int limit) override;
    std::int64_t CountBlobUsers(std::string_view blob_key) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

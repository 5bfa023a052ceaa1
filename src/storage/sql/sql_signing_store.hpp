// The SQLite implementation of SigningStore (V025).
#pragma once

#include "storage/signing_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlSigningStore final : public SigningStore {
public:
    explicit SqlSigningStore(SqlDatabase& db) : db_(db) {}

    // storage::SigningStore
    bool InsertKey(const SigningKeyRow& key) override;
    std::optional<SigningKeyRow> FindKey(std::string_view key_name) override;
    std::vector<SigningKeyRow> Keys() override;
    void InsertRequest(const SigningRequestRow& request) override;
    std::optional<SigningRequestRow> FindRequest(std::string_view request_id) override;
    std::int64_t CountUnfinished() override;
    std::vector<SigningRequestRow> PendingRequests(int limit) override;
    bool ClaimRequest(std::string_view request_id) override;
    int ReleaseClaims() override;
    bool FinishRequest(const SigningRequestRow& request) override;
    void InsertSignedImage(const SignedImageRow& image, const std::vector<std::string>& key_ids)
        override;
    std::vector<SignedImageRow> DeleteOrphanedSignedImages(int limit) override;
    std::vector<SignedImageRow> SignedImagesOfRequest(std::string_view request_id) override;
    std::vector<SignedImageRow> SignedImagesOfImage(
        std::string_view ota_image_id, std::string_view start_id, int limit
    ) override;
    std::int64_t CountSignedImagesOfImage(std::string_view ota_image_id) override;
    std::vector<SignedImageRow> SignedImagesByKey(
        std::string_view key_id, std::string_view start_id, int limit
    ) override;
    std::int64_t CountSignedImagesByKey(std::string_view key_id) override;
    std::optional<SignedImageRow> FindSignedFirmware(
        std::string_view ota_image_id, std::string_view key_names
    ) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

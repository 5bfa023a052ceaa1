// The SQLite implementation of OtaImageStore.
#pragma once

#include "storage/ota_image_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlOtaImageStore final : public OtaImageStore {
public:
    explicit SqlOtaImageStore(SqlDatabase& db) : db_(db) {}

    // storage::OtaImageStore
    bool Insert(const OtaImageRow& image) override;
    std::optional<OtaImageRow> Find(std::string_view ota_image_id) override;
    std::optional<OtaImageRow> FindByName(std::string_view image_name) override;
    std::vector<OtaImageRow> List(
        const OtaImageFilter& filter, std::string_view start_id, int limit
    ) override;
    std::int64_t Count(const OtaImageFilter& filter) override;
    bool SetArchived(std::string_view ota_image_id, bool archived) override;
    bool Delete(std::string_view ota_image_id) override;
    std::int64_t CountBlobUsers(std::string_view blob_key) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

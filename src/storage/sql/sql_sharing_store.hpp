// The SQLite implementation of SharingStore.
#pragma once

#include "storage/sharing_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlSharingStore final : public SharingStore {
public:
    explicit SqlSharingStore(SqlDatabase& db) : db_(db) {}

    // storage::SharingStore
    void Put(const SharingRequestRow& request) override;
    std::optional<SharingRequestRow> Find(std::string_view request_id) override;
    void Delete(std::string_view request_id) override;
    std::vector<SharingRequestRow> Pending(
        std::string_view kind, std::string_view from_user, std::string_view to_user
    ) override;
    int CountPendingFrom(std::string_view from_user) override;
    int DeleteExpired(std::int64_t pending_before, std::int64_t closed_before) override;
    std::vector<SharingRequestRow> List(
        std::string_view kind,
        std::string_view user_id,
        bool sent,
        std::string_view start_id,
        int limit
    ) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

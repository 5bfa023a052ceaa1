// The SQLite implementation of PushStore.
#pragma once

#include "storage/push_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlPushStore final : public PushStore {
public:
    explicit SqlPushStore(SqlDatabase& db) : db_(db) {}

    // storage::PushStore
    bool Insert(const PushEndpointRow& endpoint) override;
    std::optional<PushEndpointRow> Find(std::string_view endpoint_arn) override;
    std::optional<PushEndpointRow> FindByToken(std::string_view device_token) override;
    std::vector<PushEndpointRow> ListForUser(std::string_view user_id) override;
    int CountForUser(std::string_view user_id) override;
    bool Delete(std::string_view endpoint_arn) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

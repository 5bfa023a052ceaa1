// The SQLite implementation of OAuthStore.
#pragma once

#include "storage/oauth_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlOAuthStore final : public OAuthStore {
public:
    explicit SqlOAuthStore(SqlDatabase& db) : db_(db) {}

    // storage::OAuthStore
    void PutLogin(const OAuthLoginRow& login) override;
    std::optional<OAuthLoginRow> TakeLogin(std::string_view state_hash, std::int64_t now) override;
    void PutCode(const OAuthCodeRow& code) override;
    std::optional<OAuthCodeRow> TakeCode(std::string_view code_hash, std::int64_t now) override;
    int DeleteExpired(std::int64_t now) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

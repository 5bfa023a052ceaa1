// The SQLite implementations of the store interfaces.
#pragma once

#include "storage/database.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlUserStore final : public UserStore {
public:
    explicit SqlUserStore(SqlDatabase& db) : db_(db) {}

    // storage::UserStore
    std::optional<UserRow> FindById(std::string_view user_id) override;
    std::optional<UserRow> FindByName(std::string_view user_name) override;
    std::optional<UserRow> FindByPhone(std::string_view phone) override;
    bool Insert(const UserRow& user) override;
    bool SetPassword(std::string_view user_id, std::string_view password_hash) override;
    bool ReplacePassword(
        std::string_view user_id, std::string_view expected_hash, std::string_view password_hash
    ) override;
    bool SetUnconfirmedPassword(
        std::string_view user_id, std::string_view password_hash, std::int64_t at
    ) override;
    bool Confirm(std::string_view user_id) override;
    bool SetProfile(const UserRow& user) override;
    bool SetCustomData(std::string_view user_id, std::string_view custom_data) override;
    bool SetPublicProfile(std::string_view user_id, std::string_view public_profile) override;
    std::vector<std::pair<std::string, std::string>> NonAsciiNames() override;
    bool Rename(std::string_view user_id, std::string_view user_name) override;
    std::vector<UserRow> List(std::string_view after_name, int limit) override;
    bool SetRoles(std::string_view user_id, bool admin, bool super_admin) override;
    void Delete(std::string_view user_id) override;
    int DeleteUnconfirmed(std::int64_t created_before) override;

private:
    std::optional<UserRow> FindWhere(const std::string& sql, std::string_view value);
    SqlDatabase& db_;
};

class SqlSessionStore final : public SessionStore {
public:
    explicit SqlSessionStore(SqlDatabase& db) : db_(db) {}

    // storage::SessionStore
    bool Insert(const SessionRow& session, std::string_view password_hash) override;
    std::optional<SessionRow> FindById(std::string_view session_id) override;
    std::optional<SessionRow> FindByRefreshHash(std::string_view refresh_hash) override;
    void Revoke(std::string_view session_id) override;
    std::vector<std::string> RevokeAllForUser(std::string_view user_id) override;
    int DeleteExpired(std::int64_t before) override;

private:
    std::optional<SessionRow> FindWhere(const std::string& sql, std::string_view value);
    SqlDatabase& db_;
};

class SqlCodeStore final : public CodeStore {
public:
    explicit SqlCodeStore(SqlDatabase& db) : db_(db) {}

    // storage::CodeStore
    void Put(const CodeRow& code) override;
    std::optional<CodeRow> Find(std::string_view user_id, std::string_view purpose) override;
    int AddAttempt(std::string_view user_id, std::string_view purpose) override;
    void Delete(std::string_view user_id, std::string_view purpose) override;
    int DeleteExpired(std::int64_t before) override;

private:
    SqlDatabase& db_;
};

class SqlJobStore final : public JobStore {
public:
    explicit SqlJobStore(SqlDatabase& db) : db_(db) {}

    // storage::JobStore
    bool ClaimDue(std::string_view name, std::int64_t now, std::int64_t next) override;
    std::optional<std::int64_t> DueAt(std::string_view name) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

// Users, sessions and codes in SQLite.

#include "storage/sql/sql_stores.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {
constexpr const char* kUserColumns =
    "user_id, user_name, password_hash, confirmed, name, phone_number, phone_verified, mfa, "
    "super_admin, admin, picture_url, custom_data, public_profile, tags, created_at";

UserRow ReadUser(const Statement& s) {
    UserRow u;
    u.user_id = s.Text(0);
    u.user_name = s.Text(1);
    u.password_hash = s.Text(2);
    u.confirmed = s.Bool(3);
    u.name = s.Text(4);
    u.phone_number = s.Text(5);
    u.phone_verified = s.Bool(6);
    u.mfa = s.Bool(7);
    u.super_admin = s.Bool(8);
    u.admin = s.Bool(9);
    u.picture_url = s.Text(10);
    u.custom_data = s.Text(11);
    u.public_profile = s.Text(12);
    u.tags = s.Text(13);
    u.created_at = s.Int(14);
    return u;
}

// Binds every column but user_id from 1, user_id last (the INSERT lists them in that order).
void BindUser(Statement& s, const UserRow& u) {
    s.Bind(1, u.user_name)
        .Bind(2, u.password_hash)
        .Bind(3, u.confirmed)
        .Bind(4, u.name)
        .Bind(5, u.phone_number)
        .Bind(6, u.phone_verified)
        .Bind(7, u.mfa)
        .Bind(8, u.super_admin)
        .Bind(9, u.admin)
        .Bind(10, u.picture_url)
        .Bind(11, u.custom_data)
        .Bind(12, u.public_profile)
        .Bind(13, u.tags)
        .Bind(14, u.created_at)
        .Bind(15, u.user_id);
}

}  // namespace

// storage::UserStore

namespace {
// The SELECT of one user row with `where`; built once per call site (the statement cache is
// keyed by the SQL text).
std::string UserQuery(const char* where) {
    return std::string("SELECT ") + kUserColumns + " FROM users WHERE " + where;
}
}  // namespace

std::optional<UserRow> SqlUserStore::FindWhere(const std::string& sql, std::string_view value) {
    return db_.FindOne(sql, value, ReadUser);
}

std::optional<UserRow> SqlUserStore::FindById(std::string_view user_id) {
    static const std::string kSql = UserQuery("user_id = ?");
    return FindWhere(kSql, user_id);
}

std::optional<UserRow> SqlUserStore::FindByName(std::string_view user_name) {
    static const std::string kSql = UserQuery("user_name = ?");
    return FindWhere(kSql, user_name);
}

std::optional<UserRow> SqlUserStore::FindByPhone(std::string_view phone) {
    static const std::string kSql = UserQuery(
        "user_name = ?1 OR (phone_number = ?1 AND phone_verified = 1) ORDER BY user_name = ?1 "
        "DESC LIMIT 1"
    );
    return FindWhere(kSql, phone);
}

bool SqlUserStore::Insert(const UserRow& user) {
    return db_.Unique([&] {
        db_.WithWriteConnection([&](Connection& c) {
            auto s = c.Prepare(
                "INSERT INTO users(user_name, password_hash, confirmed, name, phone_number, "
                "phone_verified, mfa, super_admin, admin, picture_url, custom_data, "
                "public_profile, "
                "tags, created_at, user_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            );
            BindUser(s, user);
            s.Run();
        });
    });
}

bool SqlUserStore::SetPassword(std::string_view user_id, std::string_view password_hash) {
    return db_.Execute(
               "UPDATE users SET password_hash = ? WHERE user_id = ?", password_hash, user_id
           ) > 0;
}

bool SqlUserStore::ReplacePassword(
    std::string_view user_id, std::string_view expected_hash, std::string_view password_hash
) {
    return db_.Execute(
               "UPDATE users SET password_hash = ? WHERE user_id = ? AND password_hash = ?",
               password_hash,
               user_id,
               expected_hash
           ) > 0;
}

bool SqlUserStore::SetUnconfirmedPassword(
    std::string_view user_id, std::string_view password_hash, std::int64_t at
) {
    return db_.Execute(
               "UPDATE users SET password_hash = ?, created_at = ? WHERE user_id = ? AND "
               "confirmed = 0",
               password_hash,
               at,
               user_id
           ) > 0;
}

bool SqlUserStore::Confirm(std::string_view user_id) {
    return db_.Execute("UPDATE users SET confirmed = 1 WHERE user_id = ?", user_id) > 0;
}

std::vector<UserRow> SqlUserStore::List(std::string_view after_name, int limit) {
    return db_.FindAll(
        std::string("SELECT ") + kUserColumns +
            " FROM users WHERE user_name > ? ORDER BY user_name LIMIT ?",
        ReadUser,
        after_name,
        limit
    );
}

bool SqlUserStore::SetRoles(std::string_view user_id, bool admin, bool super_admin) {
    return db_.Execute(
               "UPDATE users SET admin = ?, super_admin = ? WHERE user_id = ?",
               admin,
               super_admin,
               user_id
           ) > 0;
}

bool SqlUserStore::SetProfile(const UserRow& u) {
    return db_.Execute(
               "UPDATE users SET name = ?, phone_number = ?, phone_verified = ?, mfa = ?, tags = ? "
               "WHERE user_id = ?",
               u.name,
               u.phone_number,
               u.phone_verified,
               u.mfa,
               u.tags,
               u.user_id
           ) > 0;
}

bool SqlUserStore::SetCustomData(std::string_view user_id, std::string_view custom_data) {
    return db_.Execute("UPDATE users SET custom_data = ? WHERE user_id = ?", custom_data, user_id) >
           0;
}

bool SqlUserStore::SetPublicProfile(std::string_view user_id, std::string_view public_profile) {
    return db_.Execute(
               "UPDATE users SET public_profile = ? WHERE user_id = ?", public_profile, user_id
           ) > 0;
}

std::vector<std::pair<std::string, std::string>> SqlUserStore::NonAsciiNames() {
    // A character outside space..tilde: GLOB's class on SQLite, a regular expression on
    // PostgreSQL.
    return db_.FindAll(
        db_.dialect() == Dialect::kSqlite
            ? "SELECT user_id, user_name FROM users WHERE user_name GLOB '*[^ -~]*'"
            : "SELECT user_id, user_name FROM users WHERE user_name ~ '[^ -~]'",
        [](const Statement& s) {
            return std::pair{s.Text(0), s.Text(1)};
        }
    );
}

bool SqlUserStore::Rename(std::string_view user_id, std::string_view user_name) {
    int changed = 0;
    const bool unique = db_.Unique([&] {
        changed =
            db_.Execute("UPDATE users SET user_name = ? WHERE user_id = ?", user_name, user_id);
    });
    return unique && changed > 0;
}

void SqlUserStore::Delete(std::string_view user_id) {
    db_.Execute("DELETE FROM users WHERE user_id = ?", user_id);
}

int SqlUserStore::DeleteUnconfirmed(std::int64_t created_before) {
    return db_.InBatches(
        "DELETE FROM users", "users", "confirmed = 0 AND created_at < ?", created_before
    );
}

// storage::SessionStore

namespace {
constexpr const char* kSessionSelect =
    "SELECT session_id, user_id, refresh_hash, created_at, expires_at, revoked FROM sessions "
    "WHERE ";

SessionRow ReadSession(const Statement& s) {
    return SessionRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Bool(5)};
}
}  // namespace

bool SqlSessionStore::Insert(const SessionRow& r, std::string_view password_hash) {
    return db_.Execute(
               "INSERT INTO sessions(session_id, user_id, refresh_hash, created_at, expires_at, "
               "revoked) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM users WHERE "
               "user_id = ?2 AND password_hash = ?7)",
               r.session_id,
               r.user_id,
               r.refresh_hash,
               r.created_at,
               r.expires_at,
               r.revoked,
               password_hash
           ) > 0;
}

std::optional<SessionRow> SqlSessionStore::FindWhere(
    const std::string& sql, std::string_view value
) {
    return db_.FindOne(sql, value, ReadSession);
}

std::optional<SessionRow> SqlSessionStore::FindById(std::string_view session_id) {
    static const std::string kSql = std::string(kSessionSelect) + "session_id = ?";
    return FindWhere(kSql, session_id);
}

std::optional<SessionRow> SqlSessionStore::FindByRefreshHash(std::string_view refresh_hash) {
    static const std::string kSql = std::string(kSessionSelect) + "refresh_hash = ?";
    return FindWhere(kSql, refresh_hash);
}

void SqlSessionStore::Revoke(std::string_view session_id) {
    db_.Execute("UPDATE sessions SET revoked = 1 WHERE session_id = ?", session_id);
}

std::vector<std::string> SqlSessionStore::RevokeAllForUser(std::string_view user_id) {
    return db_.FindAll(
        "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0 RETURNING session_id",
        [](const Statement& s) { return s.Text(0); },
        user_id
    );
}

int SqlSessionStore::DeleteExpired(std::int64_t before) {
    return db_.InBatches(
        "DELETE FROM sessions", "sessions", "expires_at < ? OR revoked = 1", before
    );
}

// storage::CodeStore

void SqlCodeStore::Put(const CodeRow& r) {
    db_.Execute(
        UpsertSql(
            "verification_codes",
            "user_id, purpose, code_hash, session, expires_at, attempts",
            "user_id, purpose"
        ),
        r.user_id,
        r.purpose,
        r.code_hash,
        r.session,
        r.expires_at,
        r.attempts
    );
}

std::optional<CodeRow> SqlCodeStore::Find(std::string_view user_id, std::string_view purpose) {
    return db_.FindFirst(
        "SELECT user_id, purpose, code_hash, session, expires_at, attempts FROM "
        "verification_codes WHERE user_id = ? AND purpose = ?",
        [](const Statement& s) {
            return CodeRow{
                s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), static_cast<int>(s.Int(5))};
        },
        user_id,
        purpose
    );
}

int SqlCodeStore::AddAttempt(std::string_view user_id, std::string_view purpose) {
    return db_
        .FindFirst(
            "UPDATE verification_codes SET attempts = attempts + 1 WHERE user_id = ? AND "
            "purpose = ? RETURNING attempts",
            [](const Statement& s) { return static_cast<int>(s.Int(0)); },
            user_id,
            purpose
        )
        .value_or(0);
}

int SqlCodeStore::DeleteExpired(std::int64_t before) {
    return db_.InBatches(
        "DELETE FROM verification_codes", "verification_codes", "expires_at < ?", before
    );
}

void SqlCodeStore::Delete(std::string_view user_id, std::string_view purpose) {
    db_.Execute(
        "DELETE FROM verification_codes WHERE user_id = ? AND purpose = ?", user_id, purpose
    );
}

// storage::JobStore

bool SqlJobStore::ClaimDue(std::string_view name, std::int64_t now, std::int64_t next) {
    bool claimed = false;
    db_.Transaction([&] {
        db_.Execute(
            "INSERT INTO scheduled_jobs(name, due_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            name,
            now
        );
        // Due when its time came, or when its due time lies beyond a whole interval from now
        // (the clock was set back): a schedule never freezes for longer than one interval.
        claimed = db_.Execute(
                      "UPDATE scheduled_jobs SET due_at = ?1, last_run_at = ?2 WHERE name = ?3 "
                      "AND (due_at <= ?2 OR due_at > ?1)",
                      next,
                      now,
                      name
                  ) > 0;
    });
    return claimed;
}

std::optional<std::int64_t> SqlJobStore::DueAt(std::string_view name) {
    return db_.FindFirst(
        "SELECT due_at FROM scheduled_jobs WHERE name = ?",
        [](const Statement& s) { return s.Int(0); },
        name
    );
}

}  // namespace rainmaker::storage::sql

// OAuth logins and codes in SQLite (V029): taken in one transaction, so a code is used once
// even when two requests race for it.
#include "storage/sql/sql_oauth_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

void SqlOAuthStore::PutLogin(const OAuthLoginRow& l) {
    db_.Execute(
        "INSERT INTO oauth_logins(state_hash, provider, client_id, redirect_uri, client_state, "
        "code_challenge, code_verifier, nonce, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
        l.state_hash,
        l.provider,
        l.client_id,
        l.redirect_uri,
        l.client_state,
        l.code_challenge,
        l.code_verifier,
        l.nonce,
        l.expires_at
    );
}

std::optional<OAuthLoginRow> SqlOAuthStore::TakeLogin(
    std::string_view state_hash, std::int64_t now
) {
    std::optional<OAuthLoginRow> row;
    db_.Transaction([&] {
        row = db_.FindFirst(
            "SELECT state_hash, provider, client_id, redirect_uri, client_state, code_challenge, "
            "code_verifier, nonce, expires_at FROM oauth_logins WHERE state_hash = ?",
            [](const Statement& s) {
                return OAuthLoginRow{
                    s.Text(0),
                    s.Text(1),
                    s.Text(2),
                    s.Text(3),
                    s.Text(4),
                    s.Text(5),
                    s.Text(6),
                    s.Text(7),
                    s.Int(8)};
            },
            state_hash
        );
        db_.Execute("DELETE FROM oauth_logins WHERE state_hash = ?", state_hash);
    });
    return row && row->expires_at >= now ? row : std::nullopt;
}

void SqlOAuthStore::PutCode(const OAuthCodeRow& c) {
    db_.Execute(
        "INSERT INTO oauth_codes(code_hash, user_id, client_id, redirect_uri, code_challenge, "
        "expires_at) VALUES (?,?,?,?,?,?)",
        c.code_hash,
        c.user_id,
        c.client_id,
        c.redirect_uri,
        c.code_challenge,
        c.expires_at
    );
}

std::optional<OAuthCodeRow> SqlOAuthStore::TakeCode(std::string_view code_hash, std::int64_t now) {
    std::optional<OAuthCodeRow> row;
    db_.Transaction([&] {
        row = db_.FindFirst(
            "SELECT code_hash, user_id, client_id, redirect_uri, code_challenge, expires_at FROM "
            "oauth_codes WHERE code_hash = ?",
            [](const Statement& s) {
                return OAuthCodeRow{
                    s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5)};
            },
            code_hash
        );
        db_.Execute("DELETE FROM oauth_codes WHERE code_hash = ?", code_hash);
    });
    return row && row->expires_at >= now ? row : std::nullopt;
}

int SqlOAuthStore::DeleteExpired(std::int64_t now) {
    return db_.Execute("DELETE FROM oauth_logins WHERE expires_at < ?", now) +
           db_.Execute("DELETE FROM oauth_codes WHERE expires_at < ?", now);
}

}  // namespace rainmaker::storage::sql

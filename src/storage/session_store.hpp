// Login sessions: one per refresh token, stored hashed; revoking one invalidates its tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct SessionRow {
    std::string session_id;
    std::string user_id;
    std::string refresh_hash;  // SHA-256 of the opaque refresh token
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    bool revoked = false;
};

class SessionStore {
public:
    virtual ~SessionStore() = default;
    // Inserts the session only while the user's password hash is still `password_hash` (the
    // one the login checked): a login racing a password change or reset opens nothing.
    // Returns whether it was inserted.
    virtual bool Insert(const SessionRow& session, std::string_view password_hash) = 0;
    virtual std::optional<SessionRow> FindById(std::string_view session_id) = 0;
    virtual std::optional<SessionRow> FindByRefreshHash(std::string_view refresh_hash) = 0;
    virtual void Revoke(std::string_view session_id) = 0;
    // Revokes every session of the user; returns the ids revoked.
    virtual std::vector<std::string> RevokeAllForUser(std::string_view user_id) = 0;
    // Deletes the sessions that expired before `before` or were revoked; returns how many.
    virtual int DeleteExpired(std::int64_t before) = 0;
};

}  // namespace rainmaker::storage

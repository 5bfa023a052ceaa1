// Sessions and tokens: issues id/access tokens (JWT) and opaque refresh tokens, refreshes and
// revokes them, and authenticates the Authorization header of every request.
#pragma once

#include <chrono>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"
#include "crypto/jwt.hpp"
#include "domain/auth/authenticator.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::auth {

struct TokenConfig {
    std::string issuer = "rainmaker-server";
    std::chrono::seconds access_ttl{3600};
    std::chrono::seconds refresh_ttl{30 * 24 * 3600};
};

struct Tokens {
    std::string idtoken;
    std::string accesstoken;
    std::string refreshtoken;  // empty when refreshing
};

class TokenService final : public Authenticator {
public:
    TokenService(
        const crypto::JwtSigner& signer,
        storage::Database& db,
        const core::Clock& clock,
        TokenConfig config
    );
    ~TokenService() override;
    TokenService(const TokenService&) = delete;
    TokenService& operator=(const TokenService&) = delete;

    // Opens a new session for `user` (as read when its credentials were checked) and returns
    // its three tokens. Throws kBadCredentials when the password changed since.
    Tokens StartSession(const storage::UserRow& user);
    // New id and access tokens for the session of `refresh_token`; throws kRefreshFailed when
    // the token is unknown, revoked or expired.
    Tokens Refresh(std::string_view refresh_token);
    // Revokes one session.
    void Revoke(std::string_view session_id);
    // Revokes the session of `refresh_token` when it belongs to `user_id`; false otherwise.
    bool RevokeByRefreshToken(std::string_view user_id, std::string_view refresh_token);
    // The user id of the live session of `refresh_token`, or empty.
    std::string UserOfRefreshToken(std::string_view refresh_token);
    // Revokes every session of the user.
    void RevokeAll(std::string_view user_id);

    // domain::auth::Authenticator
    AuthContext Authenticate(std::string_view token) override;

private:
    std::string IssueJwt(const storage::UserRow& user, std::string_view session_id, bool id_token);
    bool SessionLive(std::string_view session_id);
    void ForgetSession(std::string_view session_id);
    // Empties the sessions cache (revocations may have been missed).
    void ForgetAllSessions();

    struct CachedToken {
        AuthContext context;
        std::int64_t expires_at;
    };

    const crypto::JwtSigner& signer_;
    storage::Database& db_;
    const core::Clock& clock_;
    TokenConfig config_;

    // Verified tokens (an ES256 verification costs far more than a request) and session
    // liveness, so that an authenticated request normally touches neither crypto nor the store.
    // Revocation goes through this service, which updates the cache before it answers.
    struct StringHash {
        using is_transparent = void;

        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };

    template <typename T>
    using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

    std::shared_mutex cache_mutex_;
    StringMap<CachedToken> tokens_;

    struct SessionEntry {
        bool live = false;
        std::int64_t at = 0;  // when it was read or revoked (unix seconds)
    };

    StringMap<SessionEntry> sessions_live_;
    std::uint64_t sessions_generation_ = 0;  // counts the emptyings of sessions_live_
    // Revocations made by the other instances on the database (Database::Listen).
    std::uint64_t revocations_listener_ = 0;
};

}  // namespace rainmaker::domain::auth

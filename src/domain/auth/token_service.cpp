// JWT claims, refresh-token sessions and the authentication cache.
#include "domain/auth/token_service.hpp"

#include <mutex>

#include <boost/json.hpp>

#include "core/error.hpp"
#include "core/random.hpp"
#include "crypto/digest.hpp"

namespace rainmaker::domain::auth {

using core::ApiError;
using core::ErrorCode;

namespace {
constexpr std::size_t kMaxCachedTokens = 100000;
constexpr std::size_t kMaxCachedSessions = 100000;
// The channel on which every instance on the database hears a session revoked (its id).
constexpr const char* kRevokedSessions = "rainmaker_revoked_sessions";
// How long a session found live is trusted without reading it again.
constexpr std::int64_t kSessionRecheckSeconds = 60;

std::string_view StripBearer(std::string_view token) {
    constexpr std::string_view kBearer = "Bearer ";
    if (token.size() > kBearer.size() && (token.substr(0, kBearer.size()) == kBearer ||
                                          token.substr(0, kBearer.size()) == "bearer ")) {
        token.remove_prefix(kBearer.size());
    }
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    while (!token.empty() && token.back() == ' ') {
        token.remove_suffix(1);
    }
    return token;
}

bool IsPhone(std::string_view user_name) {
    return !user_name.empty() && user_name[0] == '+';
}
}  // namespace

TokenService::TokenService(
    const crypto::JwtSigner& signer,
    storage::Database& db,
    const core::Clock& clock,
    TokenConfig config
)
    : signer_(signer), db_(db), clock_(clock), config_(std::move(config)) {
    revocations_listener_ = db_.Listen(
        kRevokedSessions,
        [this](std::string_view session_id) { ForgetSession(session_id); },
        [this] { ForgetAllSessions(); }
    );
}

TokenService::~TokenService() {
    db_.Unlisten(revocations_listener_);
}

std::string TokenService::IssueJwt(
    const storage::UserRow& user, std::string_view session_id, bool id_token
) {
    const auto now = clock_.NowSeconds();
    boost::json::object claims{
        {"iss", config_.issuer},
        {"sub", user.user_id},
        {"custom:user_id", user.user_id},
        {"token_use", id_token ? "id" : "access"},
        {"sid", session_id},
        {"iat", now},
        {"exp", now + config_.access_ttl.count()},
    };
    if (IsPhone(user.user_name)) {
        claims["phone_number"] = user.user_name;
    } else {
        claims["email"] = user.user_name;
    }
    if (id_token && !user.name.empty()) {
        claims["name"] = user.name;
    }
    if (user.super_admin) {
        claims["custom:super_admin"] = true;
    }
    if (user.admin) {
        claims["custom:admin"] = true;
    }
    return signer_.Sign(claims);
}

Tokens TokenService::StartSession(const storage::UserRow& user) {
    const auto now = clock_.NowSeconds();
    storage::SessionRow session;
    session.session_id = core::RandomHex(16);
    session.user_id = user.user_id;
    const std::string refresh = core::RandomAlnum(64);
    session.refresh_hash = crypto::Sha256Hex(refresh);
    session.created_at = now;
    session.expires_at = now + config_.refresh_ttl.count();
    // Bound to the password the login checked: a reset or change that committed since ends
    // this login too (it would otherwise survive the reset's revocation of every session).
    if (!db_.Sessions().Insert(session, user.password_hash)) {
        throw ApiError(ErrorCode::kBadCredentials);
    }
    return Tokens{
        IssueJwt(user, session.session_id, true),
        IssueJwt(user, session.session_id, false),
        refresh};
}

Tokens TokenService::Refresh(std::string_view refresh_token) {
    const auto session = db_.Sessions().FindByRefreshHash(crypto::Sha256Hex(refresh_token));
    if (!session || session->revoked || session->expires_at <= clock_.NowSeconds()) {
        throw ApiError(
            ErrorCode::kRefreshFailed,
            "Refresh token failed: the session is expired or was logged out"
        );
    }
    const auto user = db_.Users().FindById(session->user_id);
    if (!user) {
        throw ApiError(ErrorCode::kRefreshFailed);
    }
    return Tokens{
        IssueJwt(*user, session->session_id, true),
        IssueJwt(*user, session->session_id, false),
        {}};
}

void TokenService::ForgetSession(std::string_view session_id) {
    std::unique_lock lock(cache_mutex_);
    if (sessions_live_.size() >= kMaxCachedSessions) {
        sessions_live_.clear();
        ++sessions_generation_;
    }
    sessions_live_[std::string(session_id)] = SessionEntry{false, clock_.NowSeconds()};
}

void TokenService::ForgetAllSessions() {
    std::unique_lock lock(cache_mutex_);
    sessions_live_.clear();
    ++sessions_generation_;  // a read that started before is not cached
}

void TokenService::Revoke(std::string_view session_id) {
    // The revocation and the message to the other instances commit together.
    db_.Transaction([&] {
        db_.Sessions().Revoke(session_id);
        db_.Notify(kRevokedSessions, session_id);
    });
    ForgetSession(session_id);
}

bool TokenService::RevokeByRefreshToken(std::string_view user_id, std::string_view refresh_token) {
    const auto session = db_.Sessions().FindByRefreshHash(crypto::Sha256Hex(refresh_token));
    if (!session || session->user_id != user_id) {
        return false;
    }
    Revoke(session->session_id);
    return true;
}

std::string TokenService::UserOfRefreshToken(std::string_view refresh_token) {
    const auto session = db_.Sessions().FindByRefreshHash(crypto::Sha256Hex(refresh_token));
    if (!session || session->revoked || session->expires_at <= clock_.NowSeconds()) {
        return {};
    }
    return session->user_id;
}

void TokenService::RevokeAll(std::string_view user_id) {
    std::vector<std::string> revoked;
    db_.Transaction([&] {
        revoked = db_.Sessions().RevokeAllForUser(user_id);
        for (const auto& id : revoked) {
            db_.Notify(kRevokedSessions, id);
        }
    });
    for (const auto& id : revoked) {
        ForgetSession(id);
    }
}

bool TokenService::SessionLive(std::string_view session_id) {
    std::uint64_t generation = 0;
    {
        std::shared_lock lock(cache_mutex_);
        // A live entry is read again after a while: a revocation whose message was lost (a
        // listener that did not yet notice its connection gone) is seen within that time.
        if (const auto it = sessions_live_.find(session_id);
            it != sessions_live_.end() &&
            (!it->second.live || clock_.NowSeconds() - it->second.at < kSessionRecheckSeconds)) {
            return it->second.live;
        }
        generation = sessions_generation_;
    }
    const auto session = db_.Sessions().FindById(session_id);
    const bool live = session && !session->revoked;
    std::unique_lock lock(cache_mutex_);
    // A bounded cache: emptied when full. A read that started before the emptying is not
    // cached (a revocation recorded meanwhile went with the emptied entries).
    if (sessions_live_.size() >= kMaxCachedSessions) {
        sessions_live_.clear();
        ++sessions_generation_;
    }
    if (generation == sessions_generation_) {
        auto& entry = sessions_live_[std::string(session_id)];
        if (entry.at == 0 || entry.live) {  // a revocation noted meanwhile stays
            entry = SessionEntry{live, clock_.NowSeconds()};
        }
    }
    return live;
}

AuthContext TokenService::Authenticate(std::string_view header) {
    const std::string_view token = StripBearer(header);
    if (token.empty()) {
        throw ApiError(
            ErrorCode::kUnauthorized, "Unauthorized: the Authorization header is missing"
        );
    }
    const auto now = clock_.NowSeconds();
    std::optional<CachedToken> cached;
    {
        std::shared_lock lock(cache_mutex_);
        if (const auto it = tokens_.find(token); it != tokens_.end()) {
            cached = it->second;
        }
    }
    if (!cached) {
        const auto claims = signer_.Verify(token);
        if (!claims) {
            throw ApiError(ErrorCode::kUnauthorized, "Unauthorized: invalid token");
        }
        const auto* exp = claims->if_contains("exp");
        const auto* user_id = claims->if_contains("custom:user_id");
        const auto* sid = claims->if_contains("sid");
        if (exp == nullptr || !exp->is_int64() || user_id == nullptr || !user_id->is_string() ||
            sid == nullptr || !sid->is_string()) {
            throw ApiError(ErrorCode::kUnauthorized, "Unauthorized: invalid token");
        }
        CachedToken entry;
        entry.expires_at = exp->as_int64();
        entry.context.user_id = std::string(user_id->as_string());
        entry.context.session_id = std::string(sid->as_string());
        if (const auto* email = claims->if_contains("email"); email && email->is_string()) {
            entry.context.user_name = std::string(email->as_string());
        } else if (const auto* phone = claims->if_contains("phone_number");
                   phone && phone->is_string()) {
            entry.context.user_name = std::string(phone->as_string());
        }
        const auto flag = [&claims](const char* name) {
            const auto* v = claims->if_contains(name);
            return v != nullptr && v->is_bool() && v->as_bool();
        };
        entry.context.role = PlatformRoleOf(flag("custom:super_admin"), flag("custom:admin"));
        std::unique_lock lock(cache_mutex_);
        if (tokens_.size() >= kMaxCachedTokens) {
            tokens_.clear();
        }
        tokens_.emplace(std::string(token), entry);
        cached = entry;
    }
    if (cached->expires_at <= now) {
        throw ApiError(ErrorCode::kUnauthorized, "Unauthorized: the token has expired");
    }
    if (!SessionLive(cached->context.session_id)) {
        throw ApiError(
            ErrorCode::kUnauthorized, "Unauthorized: you were logged out, please login again"
        );
    }
    return cached->context;
}

}  // namespace rainmaker::domain::auth

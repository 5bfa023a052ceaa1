// The three steps of OAuth sign-in, the provider's id_token checks and the client checks.
#include "domain/users/oauth_service.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "crypto/aws_sigv4.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/jwks.hpp"

namespace rainmaker::domain::users {

namespace {

constexpr std::size_t kMaxField = 2048;         // any parameter of a request
constexpr std::size_t kMaxAnswer = 256 * 1024;  // a provider's token or JWKS answer
constexpr auto kJwksLife = std::chrono::minutes(10);
constexpr std::int64_t kClockSkew = 300;  // seconds of leeway on the provider's times

std::string Encode(std::string_view value) {
    return crypto::AwsUriEncode(value, false);
}

// `base` with `params` appended to its query.
std::string WithQuery(
    const std::string& base, const std::vector<std::pair<std::string, std::string>>& params
) {
    std::string url = base;
    char sep = base.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [key, value] : params) {
        url += sep + Encode(key) + "=" + Encode(value);
        sep = '&';
    }
    return url;
}

// A required parameter, present, non-empty and bounded; invalid_request otherwise.
const std::string& Required(const std::optional<std::string>& value, const char* name) {
    if (!value || value->empty() || value->size() > kMaxField) {
        throw OAuthFailure("invalid_request", std::string(name) + " is missing or too long");
    }
    return *value;
}

std::string S256(std::string_view verifier) {
    return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

std::string Random() {
    return core::RandomHex(32);
}

// The error sent back to the app at `redirect_uri`.
OAuthFailure Back(
    const std::string& redirect_uri,
    const std::string& client_state,
    std::string error,
    std::string description
) {
    OAuthFailure failure(error, description);
    std::vector<std::pair<std::string, std::string>> params{
        {"error", error}, {"error_description", description}};
    if (!client_state.empty()) {
        params.emplace_back("state", client_state);
    }
    failure.redirect = WithQuery(redirect_uri, params);
    return failure;
}

bool ClaimTrue(const boost::json::object& claims, const char* name) {
    const auto* v = claims.if_contains(name);
    return v != nullptr &&
           ((v->is_bool() && v->as_bool()) || (v->is_string() && v->as_string() == "true"));
}

std::string ClaimText(const boost::json::object& claims, const char* name) {
    const auto* v = claims.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

void CheckOAuthConfig(const OAuthConfig& config) {
    if (!config.providers.empty() && config.callback_url.empty()) {
        throw std::runtime_error("config: oauth.callback_url is needed with oauth.providers");
    }
    if (config.timeout.count() < 1 || config.timeout.count() > 60) {
        throw std::runtime_error("config: oauth.timeout_seconds must be 1 to 60");
    }
    const auto duplicates = [](const auto& list, auto key) {
        std::set<std::string> seen;
        return std::any_of(list.begin(), list.end(), [&](const auto& x) {
            return !seen.insert(key(x)).second;
        });
    };
    if (duplicates(config.providers, [](const OAuthProvider& p) { return p.name; }) ||
        duplicates(config.clients, [](const OAuthClient& c) { return c.client_id; })) {
        throw std::runtime_error("config: oauth provider names and client ids must be unique");
    }
    for (const auto& p : config.providers) {
        if (p.name.empty() || p.issuer.empty() || p.authorization_endpoint.empty() ||
            p.token_endpoint.empty() || p.jwks_uri.empty() || p.client_id.empty()) {
            throw std::runtime_error(
                "config: each oauth.providers needs name, issuer, authorization_endpoint, "
                "token_endpoint, jwks_uri and client_id"
            );
        }
    }
    for (const auto& c : config.clients) {
        if (c.client_id.empty() || c.redirect_uris.empty() ||
            std::any_of(c.redirect_uris.begin(), c.redirect_uris.end(), [](const auto& uri) {
                return uri.empty() || uri.find('#') != std::string::npos;
            })) {
            throw std::runtime_error(
                "config: each oauth.clients needs client_id and redirect_uris (without '#')"
            );
        }
    }
}

OAuthService::OAuthService(
    storage::Database& db,
    AccountService& accounts,
    passthrough::ExternalHttp& http,
    const core::Clock& clock,
    OAuthConfig config,
    std::chrono::seconds access_ttl
)
    : db_(db),
      accounts_(accounts),
      http_(http),
      clock_(clock),
      config_(std::move(config)),
      access_ttl_(access_ttl) {}

const OAuthProvider* OAuthService::Provider(std::string_view name) const {
    for (const auto& p : config_.providers) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

const OAuthClient* OAuthService::Client(std::string_view client_id) const {
    for (const auto& c : config_.clients) {
        if (c.client_id == client_id) {
            return &c;
        }
    }
    return nullptr;
}

std::string OAuthService::Authorize(const AuthorizeInput& in) {
    const auto& client_id = Required(in.client_id, "client_id");
    const auto& redirect_uri = Required(in.redirect_uri, "redirect_uri");
    const auto* client = Client(client_id);
    if (client == nullptr) {
        throw OAuthFailure("invalid_client", "unknown client_id", 401);
    }
    const auto& uris = client->redirect_uris;
    if (std::find(uris.begin(), uris.end(), redirect_uri) == uris.end()) {
        throw OAuthFailure("invalid_request", "redirect_uri is not one of the client's");
    }
    // From here on errors go back to the app.
    const std::string client_state = in.state.value_or("");
    if (client_state.size() > kMaxField) {
        throw OAuthFailure("invalid_request", "state is too long");
    }
    const auto back = [&](const char* error, const std::string& description) {
        return Back(redirect_uri, client_state, error, description);
    };
    if (core::AsciiLower(in.response_type.value_or("")) != "code") {
        throw back("unsupported_response_type", "response_type must be code");
    }
    const auto* provider = Provider(in.identity_provider.value_or(""));
    if (provider == nullptr) {
        throw back("invalid_request", "unknown identity_provider");
    }
    std::string challenge = in.code_challenge.value_or("");
    if (!challenge.empty() && (in.code_challenge_method.value_or("") != "S256" ||
                               challenge.size() < 43 || challenge.size() > 128)) {
        throw back("invalid_request", "code_challenge must be S256, 43 to 128 characters");
    }
    storage::OAuthLoginRow login;
    const std::string state = Random();
    login.state_hash = crypto::Sha256Hex(state);
    login.provider = provider->name;
    login.client_id = client_id;
    login.redirect_uri = redirect_uri;
    login.client_state = client_state;
    login.code_challenge = std::move(challenge);
    login.code_verifier = Random();
    login.nonce = Random();
    login.expires_at = clock_.NowSeconds() + config_.login_ttl.count();
    db_.OAuth().PutLogin(login);
    return WithQuery(
        provider->authorization_endpoint,
        {{"response_type", "code"},
         {"client_id", provider->client_id},
         {"redirect_uri", config_.callback_url},
         {"scope", provider->scopes},
         {"state", state},
         {"nonce", login.nonce},
         {"code_challenge", S256(login.code_verifier)},
         {"code_challenge_method", "S256"}}
    );
}

std::string OAuthService::Jwks(const OAuthProvider& provider, bool fresh) {
    {
        std::lock_guard lock(jwks_mutex_);
        const auto it = jwks_.find(provider.name);
        if (!fresh && it != jwks_.end() && clock_.Monotonic() - it->second.fetched < kJwksLife) {
            return it->second.text;
        }
    }
    passthrough::ExternalRequest request;
    request.method = "GET";
    request.url = provider.jwks_uri;
    request.allow_private = provider.allow_private;
    request.timeout = config_.timeout;
    request.max_response_bytes = kMaxAnswer;
    const auto answer = http_.Perform(request);
    if (answer.status != 200) {
        throw OAuthFailure(
            "server_error", "the provider's keys: HTTP " + std::to_string(answer.status), 500
        );
    }
    std::lock_guard lock(jwks_mutex_);
    jwks_[provider.name] = CachedJwks{answer.body, clock_.Monotonic()};
    return answer.body;
}

boost::json::object OAuthService::ProviderClaims(
    const OAuthProvider& provider, const storage::OAuthLoginRow& login, const std::string& code
) {
    passthrough::ExternalRequest request;
    request.method = "POST";
    request.url = provider.token_endpoint;
    request.headers = {
        {"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    request.body =
        "grant_type=authorization_code&code=" + Encode(code) +
        "&redirect_uri=" + Encode(config_.callback_url) +
        "&client_id=" + Encode(provider.client_id) +
        (provider.client_secret.empty() ? std::string()
                                        : "&client_secret=" + Encode(provider.client_secret)) +
        "&code_verifier=" + Encode(login.code_verifier);
    request.allow_private = provider.allow_private;
    request.timeout = config_.timeout;
    request.max_response_bytes = kMaxAnswer;
    const auto answer = http_.Perform(request);
    const auto parsed = core::ParseUntrustedJson(answer.body, 16);
    const auto* o = parsed ? parsed->if_object() : nullptr;
    const auto* id_token = o != nullptr ? o->if_contains("id_token") : nullptr;
    if (answer.status != 200 || id_token == nullptr || !id_token->is_string()) {
        throw OAuthFailure("access_denied", "the provider did not accept the code");
    }
    const std::string token(id_token->as_string());
    auto claims = crypto::VerifyJwsWithJwks(token, Jwks(provider, false));
    if (!claims) {
        claims = crypto::VerifyJwsWithJwks(token, Jwks(provider, true));  // keys rotated
    }
    if (!claims) {
        throw OAuthFailure("access_denied", "the provider's id_token does not verify");
    }
    const auto now = clock_.NowSeconds();
    const auto* aud = claims->if_contains("aud");
    bool for_us = aud != nullptr && aud->is_string() && aud->as_string() == provider.client_id;
    if (aud != nullptr && aud->is_array()) {
        for (const auto& a : aud->as_array()) {
            for_us = for_us || (a.is_string() && a.as_string() == provider.client_id);
        }
    }
    const auto exp = claims->if_contains("exp");
    const auto expires = exp != nullptr ? core::IntegerOf(*exp) : std::nullopt;
    if (ClaimText(*claims, "iss") != provider.issuer || !for_us || !expires ||
        *expires + kClockSkew < now ||
        !crypto::ConstantTimeEquals(ClaimText(*claims, "nonce"), login.nonce)) {
        throw OAuthFailure("access_denied", "the provider's id_token is not for this sign-in");
    }
    if (ClaimText(*claims, "email").empty() || !ClaimTrue(*claims, "email_verified")) {
        throw OAuthFailure("access_denied", "the provider has not verified the e-mail address");
    }
    return std::move(*claims);
}

std::string OAuthService::Callback(const CallbackInput& in) {
    const auto& state = Required(in.state, "state");
    const auto login = db_.OAuth().TakeLogin(crypto::Sha256Hex(state), clock_.NowSeconds());
    if (!login) {
        throw OAuthFailure("invalid_request", "unknown or expired state");
    }
    const auto back = [&](const std::string& error, const std::string& description) {
        return Back(login->redirect_uri, login->client_state, error, description);
    };
    if (in.error) {
        // Its code only, and only when it looks like one (it goes into the app's URL).
        const auto& e = *in.error;
        const bool plain = e.size() <= 64 && std::all_of(e.begin(), e.end(), [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                           });
        throw back("access_denied", "the provider refused" + (plain ? ": " + e : std::string()));
    }
    const auto* provider = Provider(login->provider);
    if (provider == nullptr || !in.code || in.code->empty() || in.code->size() > kMaxField) {
        throw back("invalid_request", "no code from the provider");
    }
    std::string email;
    std::string name;
    try {
        const auto claims = ProviderClaims(*provider, *login, *in.code);
        email = ClaimText(claims, "email");
        name = ClaimText(claims, "name");
    } catch (const OAuthFailure& f) {
        core::log::Warn("OAuth sign-in through " + provider->name + " refused: " + f.what());
        throw back(f.error, f.what());
    } catch (const passthrough::ExternalCallFailed& e) {
        core::log::Warn("OAuth sign-in through " + provider->name + ": " + e.what());
        throw back("server_error", "the provider could not be reached");
    } catch (const std::exception& e) {
        core::log::Error("OAuth sign-in through " + provider->name + " failed: " + e.what());
        throw back("server_error", "the sign-in failed");
    }
    // The account of the verified address: its session is opened at POST /token.
    std::string user_id;
    try {
        user_id = accounts_.FederatedAccount(email, name);
    } catch (const core::ApiError& e) {
        throw back("access_denied", e.description());
    }
    storage::OAuthCodeRow row;
    const std::string code = Random();
    row.code_hash = crypto::Sha256Hex(code);
    row.user_id = user_id;
    row.client_id = login->client_id;
    row.redirect_uri = login->redirect_uri;
    row.code_challenge = login->code_challenge;
    row.expires_at = clock_.NowSeconds() + config_.code_ttl.count();
    db_.OAuth().PutCode(row);
    std::vector<std::pair<std::string, std::string>> params{{"code", code}};
    if (!login->client_state.empty()) {
        params.emplace_back("state", login->client_state);
    }
    return WithQuery(login->redirect_uri, params);
}

TokenAnswer OAuthService::Token(const TokenInput& in, std::string_view basic_authorization) {
    // The client: client_id (+ client_secret) in the body, or HTTP Basic.
    std::string client_id = in.client_id.value_or("");
    std::string secret = in.client_secret.value_or("");
    if (basic_authorization.size() > 6 &&
        core::AsciiLower(basic_authorization.substr(0, 6)) == "basic ") {
        const auto decoded = crypto::Base64Decode(basic_authorization.substr(6));
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos) {
            throw OAuthFailure("invalid_client", "malformed Basic credentials", 401);
        }
        client_id = decoded->substr(0, colon);
        secret = decoded->substr(colon + 1);
    }
    const auto* client = Client(client_id);
    if (client == nullptr || (!client->client_secret.empty() &&
                              !crypto::ConstantTimeEquals(secret, client->client_secret))) {
        throw OAuthFailure("invalid_client", "unknown client or wrong client secret", 401);
    }
    const auto& grant = Required(in.grant_type, "grant_type");
    auth::Tokens tokens;
    if (grant == "authorization_code") {
        const auto& code = Required(in.code, "code");
        const auto row = db_.OAuth().TakeCode(crypto::Sha256Hex(code), clock_.NowSeconds());
        if (!row || row->client_id != client->client_id ||
            row->redirect_uri != in.redirect_uri.value_or("")) {
            throw OAuthFailure(
                "invalid_grant", "unknown, used or expired code, or another redirect_uri"
            );
        }
        if (!row->code_challenge.empty() &&
            !crypto::ConstantTimeEquals(S256(in.code_verifier.value_or("")), row->code_challenge)) {
            throw OAuthFailure("invalid_grant", "code_verifier does not match the code_challenge");
        }
        try {
            tokens = accounts_.SignInAccount(row->user_id);
        } catch (const core::ApiError&) {
            throw OAuthFailure("invalid_grant", "the account of the code is gone");
        }
    } else if (grant == "refresh_token") {
        const auto& refresh = Required(in.refresh_token, "refresh_token");
        try {
            tokens = accounts_.Refresh(refresh);
        } catch (const core::ApiError&) {
            throw OAuthFailure("invalid_grant", "unknown, revoked or expired refresh_token");
        }
        tokens.refreshtoken = refresh;
    } else {
        throw OAuthFailure(
            "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
        );
    }
    return TokenAnswer{
        tokens.accesstoken, tokens.idtoken, tokens.refreshtoken, access_ttl_.count()};
}

int OAuthService::ExpireOld() {
    return db_.OAuth().DeleteExpired(clock_.NowSeconds());
}

}  // namespace rainmaker::domain::users

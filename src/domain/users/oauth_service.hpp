// OAuth sign-in through an external OpenID Connect provider (#116, #117 and GET /authorize), as
// the phone apps and the SDK run it:
//   1. GET /authorize?identity_provider=&client_id=&redirect_uri=&response_type=code[&state=]
//      [&code_challenge=&code_challenge_method=S256]: a registered client and one of its
//      redirect URIs; the user goes to the provider (authorization code + PKCE S256, a state and
//      a nonce of ours, kept until the callback).
//   2. The provider sends the user back to /cognitocallback (GET, or POST as form_post) with its
//      code and our state; the state is taken once; the code is exchanged at the provider's
//      token endpoint; its id_token must verify with the provider's JWKS, be issued by it, for
//      our client id, unexpired, with our nonce and a verified e-mail. The account of that
//      e-mail (AccountService::FederatedAccount: not an administrator's) gets a one-time code
//      of ours, and the user goes back to the app's redirect URI with it and the app's state.
//   3. POST /token: grant_type authorization_code (the code once, the same redirect_uri and
//      client, the PKCE verifier when a challenge was given) or refresh_token; the client
//      authenticated by its secret (body or HTTP Basic) unless it is public. The answer holds
//      the same tokens as a password login.
// Failures are OAuth2 errors (error, error_description); once the app's redirect URI is known
// they go back to it as ?error=.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "domain/passthrough/passthrough_service.hpp"
#include "domain/users/account_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::users {

struct OAuthProvider {
    std::string name;  // the identity_provider apps send ("Google", "Okta", ...)
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string jwks_uri;
    std::string client_id;
    std::string client_secret;
    std::string scopes = "openid email profile";
    bool allow_private = false;  // endpoints on loopback or private addresses (tests)
};

struct OAuthClient {
    std::string client_id;
    std::string client_secret;  // "": a public client (the phone apps)
    std::vector<std::string> redirect_uris;
};

struct OAuthConfig {
    std::string callback_url;  // this server's /cognitocallback as the providers know it
    std::vector<OAuthProvider> providers;
    std::vector<OAuthClient> clients;
    std::chrono::seconds login_ttl{600};  // from /authorize to the callback
    std::chrono::seconds code_ttl{300};   // from the callback to POST /token
    std::chrono::seconds timeout{10};     // each call to a provider
};

// Throws std::runtime_error naming what is wrong (a provider without an endpoint, a client
// without redirect URIs, providers without a callback URL...).
void CheckOAuthConfig(const OAuthConfig& config);

// An OAuth2 error: answered as {"error", "error_description"} with `status`, or, when
// `redirect` is set, by sending the user there.
class OAuthFailure : public std::runtime_error {
public:
    OAuthFailure(std::string code, std::string text, int http_status = 400)
        : std::runtime_error(text), error(std::move(code)), status(http_status) {}

    std::string error;  // invalid_request, invalid_client, invalid_grant, access_denied, ...
                        // (what(): the error_description)
    int status = 400;
    std::string redirect;  // the app's redirect URI with ?error=..., or ""
};

// Each member as the request gave it (query or form), nullopt when absent.
struct AuthorizeInput {
    std::optional<std::string> identity_provider;
    std::optional<std::string> client_id;
    std::optional<std::string> redirect_uri;
    std::optional<std::string> response_type;
    std::optional<std::string> state;
    std::optional<std::string> code_challenge;
    std::optional<std::string> code_challenge_method;
};

struct CallbackInput {
    std::optional<std::string> code;
    std::optional<std::string> state;
    std::optional<std::string> error;
};

struct TokenInput {
    std::optional<std::string> grant_type;
    std::optional<std::string> code;
    std::optional<std::string> redirect_uri;
    std::optional<std::string> client_id;
    std::optional<std::string> client_secret;
    std::optional<std::string> refresh_token;
    std::optional<std::string> code_verifier;
};

struct TokenAnswer {
    std::string access_token;
    std::string id_token;
    std::string refresh_token;
    std::int64_t expires_in = 0;
};

class OAuthService {
public:
    OAuthService(
        storage::Database& db,
        AccountService& accounts,
        passthrough::ExternalHttp& http,
        const core::Clock& clock,
        OAuthConfig config,
        std::chrono::seconds access_ttl
    );

    bool Enabled() const { return !config_.providers.empty(); }

    // GET /authorize: where to send the user (the provider's authorization URL).
    std::string Authorize(const AuthorizeInput& input);
    // #116: where to send the user back (the app's redirect URI with our code or an error).
    std::string Callback(const CallbackInput& input);
    // #117.
    TokenAnswer Token(const TokenInput& input, std::string_view basic_authorization);
    // Deletes logins and codes past their time; returns how many.
    int ExpireOld();

private:
    const OAuthProvider* Provider(std::string_view name) const;
    const OAuthClient* Client(std::string_view client_id) const;
    // The provider's JWKS (cached 10 minutes; `fresh` fetches it again).
    std::string Jwks(const OAuthProvider& provider, bool fresh);
    // The claims of the provider's id_token for `code`, checked; throws OAuthFailure.
    boost::json::object ProviderClaims(
        const OAuthProvider& provider, const storage::OAuthLoginRow& login, const std::string& code
    );

    storage::Database& db_;
    AccountService& accounts_;
    passthrough::ExternalHttp& http_;
    const core::Clock& clock_;
    OAuthConfig config_;
    std::chrono::seconds access_ttl_;

    struct CachedJwks {
        std::string text;
        std::chrono::steady_clock::time_point fetched;
    };

    std::mutex jwks_mutex_;
    std::map<std::string, CachedJwks> jwks_;  // by provider name
};

}  // namespace rainmaker::domain::users

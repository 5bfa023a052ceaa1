// OAuth sign-in's short-lived rows: logins waiting for the provider's callback, and our
// one-time codes waiting for POST /token. Each is taken once: reading it deletes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::storage {

struct OAuthLoginRow {
    std::string state_hash;  // SHA-256 hex of the state sent to the provider
    std::string provider;
    std::string client_id;
    std::string redirect_uri;
    std::string client_state;
    std::string code_challenge;
    std::string code_verifier;
    std::string nonce;
    std::int64_t expires_at = 0;
};

struct OAuthCodeRow {
    std::string code_hash;  // SHA-256 hex of our code
    std::string user_id;
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
    std::int64_t expires_at = 0;
};

class OAuthStore {
public:
    virtual ~OAuthStore() = default;
    virtual void PutLogin(const OAuthLoginRow& login) = 0;
    // Deletes and returns the login of `state_hash` unless it expired before `now`.
    virtual std::optional<OAuthLoginRow> TakeLogin(
        std::string_view state_hash, std::int64_t now
    ) = 0;
    virtual void PutCode(const OAuthCodeRow& code) = 0;
    // Deletes and returns the code of `code_hash` unless it expired before `now`.
    virtual std::optional<OAuthCodeRow> TakeCode(std::string_view code_hash, std::int64_t now) = 0;
    // Deletes logins and codes expired before `now`; returns how many.
    virtual int DeleteExpired(std::int64_t now) = 0;
};

}  // namespace rainmaker::storage

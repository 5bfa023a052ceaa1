// The tests' OpenID Connect provider (tests/support/fake_oidc.mjs) as a child process on a free
// loopback port: its endpoints, the [[oauth.providers]] table of a server configuration using
// it, and what it saw (GET /log).
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/node_fake.hpp"

namespace rainmaker::testing {

// What GET /log answers.
struct OidcLog {
    int authorize_requests = 0;
    int token_requests = 0;  // every POST /token
    int tokens_issued = 0;   // the ones answered with an id_token
    int jwks_requests = 0;
    std::vector<std::string> rejected;  // requests the provider refused, and why (JSON each)
    bool ok = false;                    // the fake answered
};

class FakeOidc {
public:
    // The server's registration at the provider.
    static constexpr const char* kClientId = "rainmaker-at-idp";
    static constexpr const char* kClientSecret = "idp-secret";

    // Starts the fake; throws std::runtime_error when it does not print its port in 30 s.
    FakeOidc();
    ~FakeOidc();
    FakeOidc(const FakeOidc&) = delete;
    FakeOidc& operator=(const FakeOidc&) = delete;

    std::uint16_t port() const { return port_; }

    // http://127.0.0.1:<port>, the iss of its id_tokens.
    std::string Issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // An [[oauth.providers]] table naming this provider `name`, private addresses allowed.
    std::string ProviderToml(const std::string& name) const;

    // GET /log.
    OidcLog Log() const;

private:
    NodeFake node_;
    std::uint16_t port_ = 0;
};

}  // namespace rainmaker::testing

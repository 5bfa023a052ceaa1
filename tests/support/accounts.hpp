// Account steps shared by end-to-end tests: sign up, confirm and log in over HTTP, read a JWT
// payload the way the clients do, check failure envelopes, and hand the server a TOML file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {

// A password that meets the policy (8..256, upper, lower, digit, no whitespace).
inline constexpr std::string_view kPassword = "Passw0rdOne";
inline constexpr std::string_view kOtherPassword = "Passw0rdTwo";

struct Tokens {
    std::string idtoken;
    std::string accesstoken;
    std::string refreshtoken;
};

// POST /v1/user2 {user_name, password}; throws std::runtime_error unless the answer is 201.
void SignUp(
    HttpClient& client, const std::string& user_name, std::string_view password = kPassword
);
// POST /v1/user2 {user_name, verification_code} with the newest code of the mailbox; throws
// unless the answer is 201.
void Confirm(HttpClient& client, const ServerProcess& server, const std::string& user_name);
// POST /v1/login2 {user_name, password}; throws unless the answer holds the three tokens.
Tokens Login(
    HttpClient& client, const std::string& user_name, std::string_view password = kPassword
);
// SignUp, Confirm, Login.
Tokens SignUpAndLogin(
    HttpClient& client,
    const ServerProcess& server,
    const std::string& user_name,
    std::string_view password = kPassword
);
// `admin create-user` with `role_flag` (--admin or --superadmin), then Login; throws when the
// command fails.
Tokens CreateAdminAndLogin(
    HttpClient& client,
    const ServerProcess& server,
    const std::string& user_name,
    const std::string& role_flag
);
// A JSON array of these strings (node ids, group ids, names).
boost::json::array JsonStrings(std::initializer_list<std::string> items);
// POST /v1/login2 {user_name, password}, whatever the answer.
HttpResult TryLogin(HttpClient& client, const std::string& user_name, std::string_view password);

// The middle (payload) segment of a JWT, as sent.
std::string JwtPayloadSegment(const std::string& token);
// The payload decoded as the CLI does (standard base64, padding optional); an empty object when
// it is not standard base64 or not a JSON object.
boost::json::object DecodeJwtPayload(const std::string& token);
// Standard base64 (RFC 4648 §4) with or without padding; false on a character outside it.
bool DecodeStandardBase64(std::string_view text, std::string& out);
// base64url without padding (the JWS encoding).
std::string EncodeBase64Url(std::string_view bytes);

// Success when `r` is a failure envelope with HTTP `status` and `error_code`; the failure
// message carries the whole answer.
::testing::AssertionResult IsFailure(const HttpResult& r, int status, std::int64_t error_code);

// A TOML file in a temporary directory of its own, removed with the object.
class TomlConfig {
public:
    explicit TomlConfig(std::string_view toml);
    ~TomlConfig();
    TomlConfig(const TomlConfig&) = delete;
    TomlConfig& operator=(const TomlConfig&) = delete;

    const std::filesystem::path& path() const { return path_; }

    // Server options that load this file (`--config FILE`).
    ServerProcess::Options Options() const;

private:
    std::filesystem::path dir_;
    std::filesystem::path path_;
};

}  // namespace rainmaker::testing

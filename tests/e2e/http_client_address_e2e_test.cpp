// The client address behind a reverse proxy, seen through login throttling per address: only a
// trusted proxy may name the client in X-Forwarded-For; anyone else gets nothing from it.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

// Three free failed logins per address; past them, each failure delays the address's next
// attempt (docs/SECURITY.md). Every attempt below names a new account.
constexpr const char* kThrottle = "[auth]\nfree_attempts_per_address = 3\n";

ServerProcess::Options WithConfig(const TempDir& dir, const std::string& toml) {
    const auto file = dir.path() / "server.toml";
    std::ofstream(file) << toml;
    ServerProcess::Options options;
    options.args = {"--config", file.string()};
    return options;
}

// A failed login for a new user name, "from" `forwarded_for`; returns the error code.
std::int64_t FailLogin(HttpClient& client, int n, const std::string& forwarded_for) {
    const std::string body =
        R"({"user_name":"nobody)" + std::to_string(n) + R"(@example.com","password":"Passw0rdX"})";
    return client
        .Request(
            "POST",
            "/v1/login2",
            body,
            {{"Content-Type", "application/json"}, {"X-Forwarded-For", forwarded_for}}
        )
        .ErrorCode();
}

TEST(HttpClientAddress, TrustedProxyNamesTheClientInXForwardedFor) {
    TempDir dir;
    ServerProcess server(
        WithConfig(dir, std::string(kThrottle) + "[http]\ntrusted_proxies = [\"127.0.0.0/8\"]\n")
    );
    HttpClient client(server.port());
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(FailLogin(client, i, "198.51.100.9, 203.0.113.7"), 101009);
    }
    // 203.0.113.7 has used its free attempts and must wait; the proxy's other clients need not.
    EXPECT_EQ(FailLogin(client, 4, "203.0.113.7"), 100070);
    EXPECT_EQ(FailLogin(client, 5, "203.0.113.8"), 101009);
}

TEST(HttpClientAddress, UntrustedPeerGetsNothingFromXForwardedFor) {
    TempDir dir;
    ServerProcess server(WithConfig(dir, kThrottle));
    HttpClient client(server.port());
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(FailLogin(client, i, "203.0.113." + std::to_string(i)), 101009);
    }
    // Each attempt named another address, but they all came from 127.0.0.1.
    EXPECT_EQ(FailLogin(client, 4, "203.0.113.99"), 100070);
}

}  // namespace
}  // namespace rainmaker::testing

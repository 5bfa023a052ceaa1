// A blocking HTTPS client for end-to-end tests (libcurl): it verifies the server's certificate
// against a CA file and the host name it connects to, as firmware and apps do; a host name is
// resolved to 127.0.0.1 whatever it is, so that a test can play the configured public host.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "support/http_client.hpp"

namespace rainmaker::testing {

struct HttpsOptions {
    std::string ca_file;             // the CA the server's certificate must chain to
    std::string host = "localhost";  // the name in the URL (resolved to 127.0.0.1)
    // TLS versions the client offers (curl's CURL_SSLVERSION_* values, 0: curl's default).
    long ssl_version = 0;
    std::string ciphers;  // empty: curl's default
    long timeout_ms = 30000;
    // > 0: a body is sent with "Expect: 100-continue", curl waiting this long for the server's
    // 100 Continue before sending it anyway.
    long expect_continue_ms = 0;
};

// What a failed exchange says: curl's error code and text (0 and empty on success).
struct HttpsOutcome {
    HttpResult result;
    int curl_code = 0;
    std::string curl_error;
};

class HttpsClient {
public:
    HttpsClient(std::uint16_t port, HttpsOptions options);

    // `target` is a path with its query, on https://<host>:<port>.
    HttpsOutcome Request(
        const std::string& method,
        const std::string& target,
        const std::string& body = {},
        const std::map<std::string, std::string>& headers = {}
    ) const;

    // A whole URL (a presigned one the server handed out); its host is resolved to 127.0.0.1.
    HttpsOutcome Fetch(
        const std::string& method,
        const std::string& url,
        const std::string& body = {},
        const std::map<std::string, std::string>& headers = {}
    ) const;

private:
    std::uint16_t port_;
    HttpsOptions options_;
};

// Opens a TLS connection to 127.0.0.1:`port` (verifying `ca_file` and the name "localhost"),
// writes `bytes` and returns everything read until the server closes or `timeout_ms` passes
// without a byte; "handshake failed" when the handshake does. For bytes no HTTP client sends.
std::string TlsExchange(
    std::uint16_t port, const std::string& ca_file, const std::string& bytes, int timeout_ms = 5000
);

// The host and port of an https URL ("" and 0 when it is not one).
std::pair<std::string, std::uint16_t> HostAndPort(const std::string& url);

}  // namespace rainmaker::testing

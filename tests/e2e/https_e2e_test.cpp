// The HTTPS listener end to end: the API answers over TLS to a client that verifies our CA and
// the host name (localhost, 127.0.0.1 and the configured public host are covered; another name
// or another CA is refused), with the same routes, tokens and limits as the plain listener;
// garbage, plain HTTP, old TLS versions, silent and half-sent handshakes cost the server a
// connection each and nothing else.
#include <chrono>
#include <string>
#include <thread>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/https_client.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

HttpsOptions Trusting(const ServerProcess& server, std::string host = "localhost") {
    HttpsOptions options;
    options.ca_file = server.ca_file().string();
    options.host = std::move(host);
    return options;
}

// The value of a counter line of /metrics (-1 when absent).
long long Counter(HttpClient& client, const std::string& name) {
    const auto body = client.Get("/metrics").body;
    const auto at = body.find("\n" + name + " ");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stoll(body.substr(at + name.size() + 2));
}

TEST(Https, TheApiAnswersOverTlsToAClientCheckingOurCaAndTheHostName) {
    TomlConfig toml("[http]\npublic_host = \"rainmaker.test\"\nmax_body_bytes = 4096\n");
    ServerProcess server(toml.Options());
    ASSERT_NE(server.https_port(), 0);
    ASSERT_NE(server.https_port(), server.port());
    HttpClient plain(server.port());

    for (const char* host : {"localhost", "127.0.0.1", "rainmaker.test"}) {
        const HttpsClient https(server.https_port(), Trusting(server, host));
        const auto r = https.Request("GET", "/apiversions");
        ASSERT_EQ(r.curl_code, 0) << host << ": " << r.curl_error;
        EXPECT_EQ(r.result.status, 200) << host;
        EXPECT_TRUE(r.result.json.at("supported_versions").is_array()) << r.result.body;
    }
    // Another name, or a client that does not trust our CA: refused by the client.
    const auto other = HttpsClient(server.https_port(), Trusting(server, "other.test"))
                           .Request("GET", "/apiversions");
    EXPECT_EQ(other.curl_code, CURLE_PEER_FAILED_VERIFICATION) << other.curl_error;
    HttpsOptions system_ca;
    system_ca.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    const auto untrusted =
        HttpsClient(server.https_port(), system_ca).Request("GET", "/apiversions");
    EXPECT_EQ(untrusted.curl_code, CURLE_PEER_FAILED_VERIFICATION) << untrusted.curl_error;

    // The same routes, tokens and refusals as the plain listener.
    const HttpsClient https(server.https_port(), Trusting(server));
    const auto admin = CreateAdminAndLogin(plain, server, "ops@example.com", "--admin");
    auto r = https.Request("GET", "/v1/user2", {}, {{"Authorization", admin.accesstoken}});
    ASSERT_EQ(r.curl_code, 0) << r.curl_error;
    EXPECT_EQ(r.result.status, 200) << r.result.body;
    EXPECT_EQ(r.result.Str("user_name"), "ops@example.com");
    r = https.Request("GET", "/v1/user2");
    EXPECT_TRUE(IsFailure(r.result, 401, 100004));
    r = https.Request("GET", "/v2/user2");
    EXPECT_TRUE(IsFailure(r.result, 400, 100002));
    r = https.Request(
        "PUT",
        "/v1/user2",
        std::string(8192, 'x'),
        {{"Authorization", admin.accesstoken}, {"Content-Type", "application/json"}}
    );
    EXPECT_TRUE(IsFailure(r.result, 413, 100036));
    // A login over TLS: the tokens work on either listener.
    r = https.Request(
        "POST",
        "/v1/login2",
        R"({"user_name":"ops@example.com","password":")" + std::string(kPassword) + "\"}"
    );
    ASSERT_EQ(r.result.status, 200) << r.result.body;
    EXPECT_EQ(plain.Get("/v1/user2", r.result.Str("accesstoken")).status, 200);
}

TEST(Https, GarbageOldVersionsAndStalledHandshakesDoNotHurtTheServer) {
    TomlConfig toml("[http]\ntls_handshake_timeout_seconds = 1\n");
    ServerProcess server(toml.Options());
    const std::uint16_t port = server.https_port();
    ASSERT_NE(port, 0);
    HttpClient raw(port);

    // Not TLS at all: the connection goes, nothing is answered.
    EXPECT_EQ(raw.Raw(std::string(300, '\xAB'), 3000), "");
    const std::string http_on_tls = raw.Raw("GET /apiversions HTTP/1.1\r\nHost: x\r\n\r\n", 3000);
    EXPECT_EQ(http_on_tls.rfind("HTTP/", 0), std::string::npos) << http_on_tls;
    // A TLS record header announcing a ClientHello that never comes, and a client that says
    // nothing: both cut at the handshake deadline (1 s).
    for (const std::string& start : {std::string("\x16\x03\x01\x02\x00\x01", 6), std::string()}) {
        RawConnection stalled(port);
        if (!start.empty()) {
            stalled.Send(start);
        }
        const auto begun = std::chrono::steady_clock::now();
        EXPECT_TRUE(stalled.WaitClosed(5s));
        EXPECT_LT(std::chrono::steady_clock::now() - begun, 4s);
    }
    // TLS 1.1 (the client allows it even at a low security level): refused.
    HttpsOptions old = Trusting(server);
    old.ssl_version =
        static_cast<long>(CURL_SSLVERSION_TLSv1_1) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_1);
    old.ciphers = "DEFAULT@SECLEVEL=0";
    const auto refused = HttpsClient(port, old).Request("GET", "/apiversions");
    EXPECT_NE(refused.curl_code, 0);
    EXPECT_EQ(refused.result.status, 0);
    // TLS 1.2 is enough.
    HttpsOptions v12 = Trusting(server);
    v12.ssl_version =
        static_cast<long>(CURL_SSLVERSION_TLSv1_2) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2);
    const auto ok12 = HttpsClient(port, v12).Request("GET", "/apiversions");
    EXPECT_EQ(ok12.curl_code, 0) << ok12.curl_error;
    EXPECT_EQ(ok12.result.status, 200);

    // Inside TLS: a malformed request gets the 400 envelope, like on the plain listener; bytes
    // that are not HTTP at all too.
    const std::string malformed =
        TlsExchange(port, server.ca_file(), "GET / HTTP/1.1\r\nBad\r\n\r\n");
    EXPECT_EQ(malformed.rfind("HTTP/1.1 400", 0), 0U) << malformed;
    const std::string binary = TlsExchange(port, server.ca_file(), std::string(100, '\0'));
    EXPECT_EQ(binary.rfind("HTTP/1.1 400", 0), 0U) << binary;
    const std::string pipelined = TlsExchange(
        port,
        server.ca_file(),
        "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /apiversions HTTP/1.1\r\nHost: a\r\n"
        "Connection: close\r\n\r\n"
    );
    EXPECT_NE(pipelined.find("healthy"), std::string::npos) << pipelined;
    EXPECT_NE(pipelined.find("supported_versions"), std::string::npos) << pipelined;

    // Through all of it the server kept serving, on both listeners.
    const auto after = HttpsClient(port, Trusting(server)).Request("GET", "/healthz");
    EXPECT_EQ(after.curl_code, 0) << after.curl_error;
    EXPECT_EQ(after.result.status, 200);
    HttpClient plain(server.port());
    EXPECT_EQ(plain.Get("/healthz").status, 200);
    EXPECT_GE(Counter(plain, "rainmaker_https_handshake_failures_total"), 5);
    EXPECT_EQ(server.Stop(), 0);
}

TEST(Https, AConfiguredCertificateIsServedAndAMissingOneStopsTheStart) {
    // The operator's certificate: here one our own CA issued in an earlier run, for another
    // name; the server serves it instead of issuing its own.
    ServerProcess first;
    const auto cert = first.data_dir() / "https" / "server.pem";
    const auto key = first.data_dir() / "https" / "server.key";
    ASSERT_TRUE(std::filesystem::exists(cert));
    const auto kept = first.data_dir().parent_path() / ("kept-" + std::to_string(first.pid()));
    std::filesystem::create_directories(kept);
    std::filesystem::copy_file(cert, kept / "cert.pem");
    std::filesystem::copy_file(key, kept / "key.pem");
    const std::string ca = first.ca_file().string();
    const auto ca_copy = kept / "ca.pem";
    std::filesystem::copy_file(ca, ca_copy);
    first.Stop();

    TomlConfig toml(
        "[http]\ntls_cert_file = \"" + (kept / "cert.pem").string() + "\"\ntls_key_file = \"" +
        (kept / "key.pem").string() + "\"\npublic_host = \"elsewhere.test\"\n"
    );
    ServerProcess second(toml.Options());
    HttpsOptions options;
    options.ca_file = ca_copy.string();
    // Served as given: it names localhost, not the new public host (ours would).
    EXPECT_EQ(HttpsClient(second.https_port(), options).Request("GET", "/healthz").curl_code, 0);
    options.host = "elsewhere.test";
    EXPECT_EQ(
        HttpsClient(second.https_port(), options).Request("GET", "/healthz").curl_code,
        CURLE_PEER_FAILED_VERIFICATION
    );
    EXPECT_FALSE(std::filesystem::exists(second.data_dir() / "https" / "server.pem"));
    second.Stop();

    // A key file that does not exist: the server does not start, and says why.
    TomlConfig broken(
        "[http]\ntls_cert_file = \"" + (kept / "cert.pem").string() +
        "\"\ntls_key_file = \"/nonexistent/key.pem\"\n"
    );
    EXPECT_THROW(ServerProcess{broken.Options()}, std::runtime_error);
    std::filesystem::remove_all(kept);
}

}  // namespace
}  // namespace rainmaker::testing

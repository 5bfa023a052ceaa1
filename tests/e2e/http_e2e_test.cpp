// The HTTP layer of the real server: routing, versions, the error envelope, limits,
// pipelining, connection close, client quirks, observability and graceful shutdown.
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

int CountOccurrences(const std::string& text, const std::string& needle) {
    int count = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++count;
    }
    return count;
}

class HttpServerTest : public ::testing::Test {
protected:
    ServerProcess server_;
    HttpClient client_{server_.port()};
};

TEST_F(HttpServerTest, AnswersApiVersionsWithoutVersionPrefix) {
    const auto r = client_.Get("/apiversions");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json.at("supported_versions").as_array().at(0).as_string(), "v1");
    EXPECT_EQ(r.json.at("additional_info").as_array().at(0).at("version").as_string(), "v1");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
}

TEST_F(HttpServerTest, RefusesAnyOtherApiVersionWithItsCode) {
    for (const auto* target : {"/v2/user2", "/v0/login2", "/v11/apiversions"}) {
        const auto r = client_.Get(target);
        EXPECT_EQ(r.status, 400) << target;
        EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
        EXPECT_EQ(r.ErrorCode(), 100002) << target;
    }
}

TEST_F(HttpServerTest, AnswersUnknownRouteWithEnvelope404) {
    const auto r = client_.Get("/v1/no/such/api");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    EXPECT_EQ(r.ErrorCode(), 100012);
}

TEST_F(HttpServerTest, AnswersUnsupportedMethodWithEnvelope405) {
    const auto r = client_.Request("PATCH", "/v1/user2", "{}");
    EXPECT_EQ(r.status, 405);
    EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    EXPECT_EQ(r.ErrorCode(), 100003);
}

TEST_F(HttpServerTest, RefusesOversizedBodyWith413AndCreatesNothing) {
    const std::string big =
        "{\"user_name\":\"big@example.com\",\"password\":\"Passw0rdX\",\"pad\":\"" +
        std::string(2 * 1024 * 1024, 'x') + "\"}";
    const auto r =
        client_.Request("POST", "/v1/user2", big, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    EXPECT_EQ(server_.MessageCount("big@example.com"), 0);
    HttpClient fresh(server_.port());
    const auto login =
        fresh.Post("/v1/login2", {{"user_name", "big@example.com"}, {"password", "Passw0rdX"}});
    EXPECT_EQ(login.ErrorCode(), 101009);
}

TEST_F(HttpServerTest, AnswersMalformedJsonWithInvalidBody) {
    const auto r = client_.Request("POST", "/v1/login2", "{\"user_name\":", {});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.IsFailureEnvelope());
    EXPECT_EQ(r.ErrorCode(), 100006);
    const auto not_object = client_.Request("POST", "/v1/login2", "[1,2]", {});
    EXPECT_EQ(not_object.ErrorCode(), 100006);
}

TEST_F(HttpServerTest, ParsesJsonBodyWhateverTheContentType) {
    const auto r = client_.Request(
        "POST",
        "/v1/login2",
        R"({"user_name":"nobody@example.com","password":"Passw0rdX"})",
        {{"Content-Type", "text/plain;charset=UTF-8"}}
    );
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.ErrorCode(), 101009);  // parsed and checked, not refused as a body error
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
    std::string requests;
    for (const auto* target : {"/apiversions", "/v1/nope", "/healthz", "/v2/x", "/apiversions"}) {
        requests += std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    requests += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string raw = client_.Raw(requests);
    std::regex status_line(R"(HTTP/1\.1 (\d{3}))");
    std::vector<std::string> statuses;
    for (auto it = std::sregex_iterator(raw.begin(), raw.end(), status_line);
         it != std::sregex_iterator();
         ++it) {
        statuses.push_back((*it)[1].str());
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"200", "404", "200", "400", "200", "200"}));
}

TEST_F(HttpServerTest, PipelinesMoreRequestsThanTheQueueHolds) {
    std::string requests;
    for (int i = 0; i < 40; ++i) {
        requests += "GET /apiversions HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    requests += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string raw = client_.Raw(requests);
    EXPECT_EQ(CountOccurrences(raw, "HTTP/1.1 200"), 41);
    EXPECT_EQ(CountOccurrences(raw, "supported_versions"), 40);
}

TEST_F(HttpServerTest, ClosesTheConnectionAfterConnectionClose) {
    const std::string raw = client_.Raw(
        "GET /apiversions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        "GET /apiversions HTTP/1.1\r\nHost: x\r\n\r\n"
    );
    EXPECT_EQ(CountOccurrences(raw, "HTTP/1.1 200"), 1);  // the second request is not read
    EXPECT_NE(raw.find("Connection: close"), std::string::npos);
}

TEST_F(HttpServerTest, AnswersGarbageWith400AndCloses) {
    const std::string raw = client_.Raw("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_NE(raw.find("HTTP/1.1 400"), std::string::npos) << raw;
    EXPECT_NE(raw.find("\"error_code\""), std::string::npos);
    // The server is still serving.
    EXPECT_EQ(client_.Get("/healthz").status, 200);
}

TEST_F(HttpServerTest, RefusesMissingAndGarbageTokens) {
    const auto missing = client_.Get("/v1/user2");
    EXPECT_EQ(missing.status, 401);
    EXPECT_TRUE(missing.IsFailureEnvelope());
    EXPECT_EQ(missing.ErrorCode(), 100004);
    for (const auto* token : {"garbage", "a.b.c", "Bearer x.y.z", "eyJhbGciOiJub25lIn0.e30."}) {
        const auto r = client_.Get("/v1/user2", token);
        EXPECT_EQ(r.status, 401) << token;
        EXPECT_EQ(r.ErrorCode(), 100004) << token;
    }
}

TEST_F(HttpServerTest, ToleratesLeadingAmpersandAndUndefinedInQueries) {
    // Resolved before authentication: the query is parsed whatever the caller.
    const auto r = client_.Get("/v1/user2?&custom_data=undefined");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.ErrorCode(), 100004);
}

TEST_F(HttpServerTest, ServesHealthMetricsAndJwks) {
    EXPECT_EQ(client_.Get("/healthz").status, 200);
    client_.Get("/v1/no/such/api");
    const auto metrics = client_.Get("/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(
        metrics.body.find(
            "rainmaker_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        std::string::npos
    ) << metrics.body;
    EXPECT_NE(metrics.body.find("route=\"unmatched\",status=\"404\""), std::string::npos);
    EXPECT_NE(
        metrics.body.find("rainmaker_http_request_duration_seconds_bucket"), std::string::npos
    );
    const auto jwks = client_.Get("/.well-known/jwks.json");
    ASSERT_EQ(jwks.status, 200);
    const auto& key = jwks.json.at("keys").as_array().at(0);
    EXPECT_EQ(key.at("kty").as_string(), "EC");
    EXPECT_EQ(key.at("alg").as_string(), "ES256");
}

TEST_F(HttpServerTest, EveryResponseCarriesARequestId) {
    const auto a = client_.Get("/apiversions");
    const auto b = client_.Get("/apiversions");
    ASSERT_TRUE(a.headers.contains("x-request-id"));
    EXPECT_NE(a.headers.at("x-request-id"), b.headers.at("x-request-id"));
}

TEST(HttpServerShutdown, StopsCleanlyOnSigtermWithIdleConnectionsOpen) {
    ServerProcess server;
    HttpClient idle(server.port());
    ASSERT_EQ(idle.Get("/apiversions").status, 200);  // keeps a keep-alive connection open
    EXPECT_EQ(server.Stop(), 0);
}

TEST(HttpServerShutdown, AnswersRequestsReadBeforeSigterm) {
    ServerProcess server;
    HttpClient client(server.port());
    ASSERT_EQ(client.Get("/apiversions").status, 200);
    // A login costs a password hash: send a pipeline of them and stop while they run.
    std::string requests;
    const std::string body = R"({"user_name":"x@example.com","password":"Passw0rdX"})";
    for (int i = 0; i < 4; ++i) {
        requests += "POST /v1/login2 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    std::string raw;
    std::thread reader([&] { raw = client.Raw(requests, 15000); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int status = server.Stop();
    reader.join();
    EXPECT_EQ(status, 0);
    // Whatever was read before the stop was answered; nothing is cut half-way.
    const int answered = CountOccurrences(raw, "HTTP/1.1 400");
    EXPECT_GE(answered, 1);
    EXPECT_EQ(CountOccurrences(raw, "\"error_code\":101009"), answered);
}

}  // namespace
}  // namespace rainmaker::testing

// Passthrough end to end (#120-#122): the server configured with external services (a fake on
// loopback, allowed private addresses; the same fake not allowed them), the service list, a GET
// and a POST relayed unchanged with the service's key added, a redirect answered as it came and
// not followed, and a loopback service refused on its address.
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

class PassthroughTest : public ::testing::Test {
protected:
    PassthroughTest()
        : other_([](const std::string&) { return FakeHttpServer::Response(200, "{}"); }),
          service_([this](const std::string& request) {
              if (request.starts_with("GET /api/moved")) {
                  return FakeHttpServer::Response(
                      302, "moved", "text/plain", "Location: " + other_.Url() + "/stolen\r\n"
                  );
              }
              if (request.starts_with("POST")) {
                  return FakeHttpServer::Response(
                      201, request.substr(request.find("\r\n\r\n") + 4), "application/json"
                  );
              }
              return FakeHttpServer::Response(200, R"({"temperature":21.5})");
          }),
          config_(
              "[passthrough]\nmax_in_flight = 2\n"
              "[[passthrough.services]]\nid = \"weather\"\nname = \"Weather\"\n"
              "base_url = \"" +
              service_.Url() +
              "/api\"\nallow_private = true\n"
              "headers = { X-Api-Key = \"operator-secret\" }\n"
              "query = { appid = \"query-key\" }\n"
              "[[passthrough.services]]\nid = \"internal\"\nname = \"Internal\"\n"
              "base_url = \"" +
              service_.Url() + "/api\"\n"
          ),
          server_(config_.Options()),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")) {}

    FakeHttpServer other_;
    FakeHttpServer service_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
};

TEST_F(PassthroughTest, RelaysCallsToConfiguredServicesOnly) {
    auto r = client_.Get("/v1/user/passthrough/config", alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& list = r.json.at("api_config_list").as_array();
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].at("service_id"), "internal");
    EXPECT_EQ(list[1].at("service_name"), "Weather");

    r = client_.Get(
        "/v1/user/passthrough?service_id=weather&path_params_string=%2Fforecast"
        "&query_params_json=%7B%22lat%22%3A%22-20.3%22%7D&headers_json=%7B%22X-Trace%22%3A%221%22%"
        "7D",
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"temperature":21.5})");
    auto seen = service_.Requests();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_TRUE(seen[0].starts_with("GET /api/forecast?lat=-20.3&appid=query-key HTTP/1.1\r\n"))
        << seen[0];
    EXPECT_NE(seen[0].find("X-Api-Key: operator-secret\r\n"), std::string::npos) << seen[0];
    EXPECT_NE(seen[0].find("X-Trace: 1\r\n"), std::string::npos) << seen[0];
    EXPECT_EQ(seen[0].find("Authorization"), std::string::npos) << "the caller's token leaked";

    r = client_.Post(
        "/v1/user/passthrough?service_id=weather",
        object{
            {"path_params_string", "/orders"},
            {"headers_json", R"({"Content-Type":"application/json"})"},
            {"body_json", R"({"item":"lamp"})"}},
        alice_.accesstoken
    );
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.body, R"({"item":"lamp"})");

    // A redirect is answered as it came; nothing follows it.
    r = client_.Get(
        "/v1/user/passthrough?service_id=weather&path_params_string=%2Fmoved", alice_.accesstoken
    );
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.body, "moved");
    EXPECT_TRUE(other_.Requests().empty());

    // The same fake as a service not allowed private addresses: refused on its address.
    const auto before = service_.Requests().size();
    r = client_.Get("/v1/user/passthrough?service_id=internal", alice_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 500, 137013)) << r.body;
    r = client_.Post("/v1/user/passthrough?service_id=internal", object{}, alice_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 500, 137019)) << r.body;
    EXPECT_EQ(service_.Requests().size(), before);

    // Paths that would leave the base URL, unknown services, bad JSON strings.
    r = client_.Get(
        "/v1/user/passthrough?service_id=weather&path_params_string=%2F..%2Fadmin",
        alice_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 100021)) << r.body;
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/passthrough?service_id=nope", alice_.accesstoken), 400, 137006
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get(
            "/v1/user/passthrough?service_id=weather&headers_json=nope", alice_.accesstoken
        ),
        400,
        137010
    ));
    r = client_.Post(
        "/v1/user/passthrough?service_id=weather",
        object{{"query_params_json", "[1]"}},
        alice_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 137011)) << r.body;
    EXPECT_EQ(service_.Requests().size(), before);
}

}  // namespace
}  // namespace rainmaker::testing

// The passthrough service with a fake external client: the URL a call builds (base, path,
// query), the headers (the caller's, refused ones, the service's winning), every refused input
// with its code and no call made, the service list's filters and pages, the in-flight limit,
// and failures mapped to the GET and POST codes.
#include "domain/passthrough/passthrough_service.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace rainmaker::domain::passthrough {
namespace {

int CodeOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

class FakeHttp final : public ExternalHttp {
public:
    ExternalAnswer Perform(const ExternalRequest& request) override {
        requests.push_back(request);
        if (during) {
            during();
        }
        if (fail) {
            throw ExternalCallFailed("refused");
        }
        return ExternalAnswer{201, "text/plain", "external says hi"};
    }

    std::vector<ExternalRequest> requests;
    bool fail = false;
    std::function<void()> during;
};

PassthroughConfig Config() {
    PassthroughConfig c;
    ExternalService weather;
    weather.service_id = "weather";
    weather.service_name = "Weather forecasts";
    weather.base_url = "https://api.weather.test/v1/";
    weather.headers = {{"X-Api-Key", "secret-key"}};
    weather.query = {{"appid", "query-secret"}};
    c.services.push_back(weather);
    for (const auto* id : {"s1", "s2", "s3"}) {
        ExternalService s;
        s.service_id = id;
        s.service_name = std::string("Shop ") + id;
        s.base_url = "http://shop.test";
        c.services.push_back(s);
    }
    return c;
}

class PassthroughServiceTest : public ::testing::Test {
protected:
    FakeHttp http_;
    PassthroughService service_{Config(), http_};
    auth::AuthContext alice_{"alice", "alice@x.com", "s"};
};

TEST_F(PassthroughServiceTest, BuildsTheCallFromTheServiceAndTheCallersParts) {
    CallInput in;
    in.service_id = "weather";
    in.path_params_string = "/forecast/today";
    in.query_params_json =
        R"({"latitude":"-20.348404","longitude":57.55,"metric":true,"q":"a b&c","appid":"mine"})";
    in.headers_json = R"({"Accept":"application/json","x-api-key":"stolen"})";
    const auto answer = service_.Call(alice_, "GET", in);
    EXPECT_EQ(answer.status, 201);
    EXPECT_EQ(answer.body, "external says hi");
    ASSERT_EQ(http_.requests.size(), 1U);
    const auto& r = http_.requests[0];
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(
        r.url,
        "https://api.weather.test/v1/forecast/today?latitude=-20.348404&longitude=57.55&metric=true"
        "&q=a%20b%26c&appid=query-secret"
    );
    // The caller's header of the service's name is dropped: the service's key wins.
    EXPECT_EQ(
        r.headers,
        (std::vector<std::pair<std::string, std::string>>{
            {"Accept", "application/json"}, {"X-Api-Key", "secret-key"}})
    );
    EXPECT_FALSE(r.body.has_value());

    in.body_json = R"({"order":1})";
    service_.Call(alice_, "POST", in);
    EXPECT_EQ(http_.requests.back().method, "POST");
    EXPECT_EQ(http_.requests.back().body, R"({"order":1})");
}

TEST_F(PassthroughServiceTest, RefusedInputsCallNothing) {
    const auto call = [&](CallInput in, const char* method = "GET") {
        return CodeOf([&] { service_.Call(alice_, method, in); });
    };
    CallInput in;
    EXPECT_EQ(call(in), 100021);
    in.service_id = "nope";
    EXPECT_EQ(call(in), 137006);
    in.service_id = "weather";
    for (const char* path :
         {"../admin",
          "/a/../b",
          "/a/./b",
          "//evil.test/x",
          "/a?b=1",
          "/a#x",
          "/a b",
          "/%2e%2e/x",
          "/a%2fb",
          "@evil.test",
          "/a\\b",
          "relative"}) {
        in.path_params_string = path;
        EXPECT_EQ(call(in), 100021) << path;
        EXPECT_EQ(call(in, "POST"), 100006) << path;
    }
    in.path_params_string = std::string(1025, 'a').replace(0, 1, "/");
    EXPECT_EQ(call(in), 100036);
    in.path_params_string.reset();
    for (const char* q : {"not json", "[1]", R"({"a":{"b":1}})", R"({"a":[1]})", R"({"a":null})"}) {
        in.query_params_json = q;
        EXPECT_EQ(call(in), 137011) << q;
    }
    in.query_params_json.reset();
    for (const char* h :
         {"nope",
          R"({"Host":"evil.test"})",
          R"({"Content-Length":"1"})",
          R"({"Transfer-Encoding":"chunked"})",
          R"({"Proxy-Authorization":"x"})",
          R"({"A":"b\r\nInjected: 1"})",
          R"({"Bad Name":"x"})",
          R"({"A":1})"}) {
        in.headers_json = h;
        EXPECT_EQ(call(in), 137010) << h;
    }
    in.headers_json.reset();
    in.query_params_json = R"({"a":")" + std::string(9000, 'x') + R"("})";
    EXPECT_EQ(call(in), 100036);
    EXPECT_TRUE(http_.requests.empty());
}

TEST_F(PassthroughServiceTest, PostsJsonOnlyWhereAllowedAndNeverEchoesTheServicesKey) {
    CallInput in;
    in.service_id = "weather";
    in.body_json = "{}";
    in.headers_json = R"({"X-Note":"tab\tok"})";
    service_.Call(alice_, "POST", in);
    ASSERT_EQ(http_.requests.size(), 1U);
    const auto& headers = http_.requests[0].headers;
    EXPECT_NE(
        std::find(
            headers.begin(),
            headers.end(),
            std::pair<std::string, std::string>{"Content-Type", "application/json"}
        ),
        headers.end()
    );
    // A service configured for GET only.
    auto config = Config();
    config.services[0].allow_post = false;
    FakeHttp http;
    PassthroughService get_only(config, http);
    EXPECT_EQ(CodeOf([&] { get_only.Call(alice_, "POST", in); }), 100006);
    EXPECT_EQ(CodeOf([&] { get_only.Call(alice_, "GET", in); }), 0);

    // An answer holding the service's key (an endpoint echoing headers) is not relayed.
    struct Echo final : ExternalHttp {
        ExternalAnswer Perform(const ExternalRequest&) override {
            return ExternalAnswer{
                200, "application/json", R"({"headers":{"X-Api-Key":"secret-key"}})"};
        }
    } echo;

    PassthroughService echoing(Config(), echo);
    EXPECT_EQ(CodeOf([&] { echoing.Call(alice_, "GET", in); }), 137013);
}

TEST_F(PassthroughServiceTest, FailuresAndTheInFlightLimit) {
    CallInput in;
    in.service_id = "weather";
    http_.fail = true;
    EXPECT_EQ(CodeOf([&] { service_.Call(alice_, "GET", in); }), 137013);
    EXPECT_EQ(CodeOf([&] { service_.Call(alice_, "POST", in); }), 137019);
    http_.fail = false;
    // One call at a time (max_in_flight 1): a second one while it runs is refused.
    int nested = -1;
    bool first = true;
    http_.during = [&] {
        if (first) {
            first = false;
            nested = CodeOf([&] { service_.Call(alice_, "GET", in); });
        }
    };
    EXPECT_EQ(CodeOf([&] { service_.Call(alice_, "GET", in); }), 0);
    EXPECT_EQ(nested, 100070);
    EXPECT_EQ(CodeOf([&] { service_.Call(alice_, "GET", in); }), 0);  // the slot came back
}

TEST_F(PassthroughServiceTest, ListsServicesByIdNameAndPage) {
    auto page = service_.List(std::nullopt, std::nullopt, std::nullopt, std::nullopt);
    ASSERT_EQ(page.services.size(), 4U);
    EXPECT_EQ(page.services[0].service_id, "s1");
    EXPECT_TRUE(page.next_id.empty());
    page = service_.List(std::nullopt, std::nullopt, std::nullopt, "2");
    ASSERT_EQ(page.services.size(), 2U);
    EXPECT_EQ(page.next_id, "s3");
    page = service_.List(std::nullopt, std::nullopt, page.next_id, "2");
    ASSERT_EQ(page.services.size(), 2U);
    EXPECT_EQ(page.services[1].service_id, "weather");
    EXPECT_TRUE(page.next_id.empty());
    page = service_.List(std::nullopt, "Shop", std::nullopt, std::nullopt);
    EXPECT_EQ(page.services.size(), 3U);
    page = service_.List("weather", std::nullopt, std::nullopt, std::nullopt);
    ASSERT_EQ(page.services.size(), 1U);
    EXPECT_EQ(page.services[0].service_name, "Weather forecasts");
    EXPECT_EQ(
        CodeOf([&] { service_.List("nope", std::nullopt, std::nullopt, std::nullopt); }), 137006
    );
    for (const char* n : {"0", "31", "x", "3x"}) {
        EXPECT_EQ(
            CodeOf([&] { service_.List(std::nullopt, std::nullopt, std::nullopt, n); }), 100021
        ) << n;
    }
}

TEST(PassthroughConfig, RefusesServicesThatCannotWork) {
    const auto refused = [](const std::function<void(PassthroughConfig&)>& edit) {
        auto c = Config();
        edit(c);
        try {
            CheckPassthroughConfig(c);
        } catch (const std::runtime_error&) {
            return true;
        }
        return false;
    };
    EXPECT_FALSE(refused([](auto&) {}));
    EXPECT_TRUE(refused([](auto& c) { c.services[1].service_id = "weather"; }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].service_name.clear(); }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].base_url = "ftp://x.test"; }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].base_url = "https://user@x.test"; }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].base_url = "https://x.test/?a=1"; }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].headers.emplace_back("A", "b\r\nc: d"); }));
    EXPECT_TRUE(refused([](auto& c) { c.services[0].timeout = std::chrono::seconds(0); }));
    EXPECT_TRUE(refused([](auto& c) { c.max_in_flight = 0; }));
}

}  // namespace
}  // namespace rainmaker::domain::passthrough

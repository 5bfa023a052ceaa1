// Automations (#87-#90) end to end with the real server, its Mosquitto, the simulator and a fake
// weather provider on a free loopback port: each operation's happy path, every documented
// error with nothing changed, an automation that runs once per change to true (node A's
// params/local -> an action on node B's params/remote), again with retrigger, never after its
// owner lost access to the node, weather automations against the provider, and a server
// without a provider refusing them.
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;
using namespace std::chrono_literals;

// An Open-Meteo-style provider: every GET is answered with the current body; the requests are
// kept.
class FakeWeatherServer {
public:
    std::string Url() const { return server_.Url(); }

    // The temperature (°C) and WMO weather code the next answers report.
    void Set(double temperature, int weather_code) {
        std::lock_guard lock(mutex_);
        body_ = R"({"latitude":48.86,"longitude":2.35,"current":{"time":"2026-12-06T12:00",)"
                R"("interval":900,"temperature_2m":)" +
                std::to_string(temperature) +
                R"(,"relative_humidity_2m":60,"surface_pressure":1013.2,"wind_speed_10m":3.5,)"
                R"("weather_code":)" +
                std::to_string(weather_code) + "}}";
    }

    std::vector<std::string> Requests() { return server_.Requests(); }

private:
    std::mutex mutex_;
    std::string body_;
    FakeHttpServer server_{[this](const std::string&) {
        std::lock_guard lock(mutex_);
        return FakeHttpServer::Response(200, body_);
    }};
};

// The value of the sample `name` in a Prometheus text body, or -1 when it is missing.
long long MetricValue(const std::string& body, const std::string& name) {
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(name + " ")) {
            return std::stoll(line.substr(name.size() + 1));
        }
    }
    return -1;
}

class AutomationsTest : public ::testing::Test, protected DeviceLab {
protected:
    AutomationsTest()
        : DeviceLab(server_, client_, dir_),
          config_(
              "[automations]\nweather_url = \"" + weather_.Url() +
              "\"\nweather_poll_seconds = 1\nweather_cache_seconds = 0\n"
          ),
          server_(config_.Options()),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {
        weather_.Set(10, 0);
    }

    using DeviceLab::Run;  // not ::testing::Test::Run

    // Alice's sensor (A) and lamp (B), both running and mapped.
    void Devices() {
        a_ = Claim(alice_, "a");
        b_ = Claim(alice_, "b");
        sim_a_ = RunMapped(alice_, a_);
        sim_b_ = RunMapped(alice_, b_);
        // Their configs are stored (actions are checked against them).
        for (const auto* d : {&a_, &b_}) {
            const auto r = Eventually(
                "/v1/user/nodes/config?node_id=" + d->node_id,
                alice_,
                [](const HttpResult& c) { return c.status == 200; }
            );
            ASSERT_EQ(r.status, 200) << r.body;
        }
    }

    // A.Light.Temperature > 25 turns B's light on.
    object HotBody(const std::string& name) const {
        return object{
            {"name", name},
            {"node_id", a_.node_id},
            {"event_type", "node_params"},
            {"events",
             array{object{
                 {"params", object{{"Light", object{{"Temperature", 25}}}}}, {"check", ">"}}}},
            {"actions",
             array{object{
                 {"node_id", b_.node_id}, {"params", object{{"Light", object{{"Power", true}}}}}}}},
            {"metadata", object{{"icon", "sun"}}}};
    }

    HttpResult Add(const object& body, const Tokens& t) {
        return client_.Post("/v1/user/node_automation", body, t.accesstoken);
    }

    std::string AddOk(const object& body, const Tokens& t) {
        const auto r = Add(body, t);
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.Str("status"), "success") << r.body;
        return r.Str("automation_id");
    }

    HttpResult List(const Tokens& t, const std::string& query = "") {
        return client_.Get("/v1/user/node_automation" + query, t.accesstoken);
    }

    long long Metric(const std::string& name) {
        return MetricValue(client_.Get("/metrics").body, name);
    }

    // Node A reports a temperature.
    void Temperature(double value) {
        sim_a_->Send("set Light.Temperature " + std::to_string(value));
    }

    // Waits until node A's stored Temperature is `value`: the automations watching it were
    // evaluated (and their runs counted) in the transaction that stored it, so a metric read
    // now is final for that report, whatever the timing.
    bool Stored(double value) {
        const auto r = Eventually(
            "/v1/user/nodes/params?node_id=" + a_.node_id,
            alice_,
            [&](const HttpResult& p) {
                const auto* light =
                    p.json.is_object() ? p.json.as_object().if_contains("Light") : nullptr;
                const auto* t = light != nullptr && light->is_object()
                                    ? light->as_object().if_contains("Temperature")
                                    : nullptr;
                return t != nullptr && t->is_number() && t->to_number<double>() == value;
            }
        );
        return r.status == 200;
    }

    // Waits until the weather server got `more` requests beyond `since`: the polls before the
    // last one are complete (one poll at a time, one request per place).
    void WeatherPolls(std::size_t since, std::size_t more = 2) {
        for (int i = 0; i < 200 && weather_.Requests().size() < since + more; ++i) {
            std::this_thread::sleep_for(50ms);
        }
        ASSERT_GE(weather_.Requests().size(), since + more);
    }

    // The params/remote lines node B receives within `window`.
    std::vector<std::string> LampGets(std::chrono::milliseconds window = 1500ms) {
        return sim_b_->Collect("params/remote", window);
    }

    FakeWeatherServer weather_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens bob_;
    Device a_;
    Device b_;
    std::unique_ptr<SimProcess> sim_a_;
    std::unique_ptr<SimProcess> sim_b_;
    const std::string lamp_on_ = R"(params/remote {"Light":{"Power":true}})";
};

TEST_F(AutomationsTest, EachOperationWorksAndEveryDocumentedErrorChangesNothing) {
    Devices();
    // #89 before any exists: 127016.
    EXPECT_TRUE(IsFailure(List(alice_), 400, 127016));

    // #87
    const auto id = AddOk(HotBody("Hot"), alice_);
    ASSERT_EQ(id.size(), 22u);

    // #89 one, all, by node.
    auto one = List(alice_, "?automation_id=" + id);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json.at("automation_id"), id.c_str());
    EXPECT_EQ(one.json.at("name"), "Hot");
    EXPECT_EQ(one.json.at("automation_name"), "Hot");
    EXPECT_EQ(one.json.at("enabled"), true);
    EXPECT_EQ(one.json.at("retrigger"), false);
    EXPECT_EQ(one.json.at("event_type"), "node_params");
    EXPECT_EQ(one.json.at("node_id"), a_.node_id.c_str());
    EXPECT_EQ(one.json.at("events"), HotBody("Hot").at("events"));
    EXPECT_EQ(one.json.at("actions"), HotBody("Hot").at("actions"));
    EXPECT_EQ(one.json.at("metadata"), (object{{"icon", "sun"}}));
    const auto all = List(alice_);
    ASSERT_EQ(all.status, 200) << all.body;
    ASSERT_EQ(all.json.at("automation_trigger_actions").as_array().size(), 1u);
    EXPECT_EQ(all.json.at("automation_trigger_actions").at(0), one.json);
    EXPECT_FALSE(all.json.as_object().contains("next_id"));
    EXPECT_EQ(List(alice_, "?node_id=" + a_.node_id).status, 200);
    EXPECT_TRUE(IsFailure(List(alice_, "?node_id=" + b_.node_id), 400, 127016));

    // #88: metadata overwritten, the rest kept.
    auto updated = client_.Put(
        "/v1/user/node_automation?automation_id=" + id,
        object{{"name", "Very hot"}, {"metadata", object{{"color", "red"}}}, {"retrigger", true}},
        alice_.accesstoken
    );
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.Str("status"), "success");
    one = List(alice_, "?automation_id=" + id);
    EXPECT_EQ(one.json.at("name"), "Very hot");
    EXPECT_EQ(one.json.at("metadata"), (object{{"color", "red"}}));
    EXPECT_EQ(one.json.at("retrigger"), true);
    EXPECT_EQ(one.json.at("events"), HotBody("Hot").at("events"));

    // Every documented error of #87, with the state read back unchanged.
    const auto snapshot = [&] { return List(alice_).body + " | " + List(bob_).body; };
    const std::string before = snapshot();
    const auto with = [](object body, const char* key, boost::json::value v) {
        body[key] = std::move(v);
        return body;
    };
    const auto without = [](object body, const char* key) {
        body.erase(key);
        return body;
    };
    const auto event = [](const char* param, boost::json::value v, const char* check) {
        return object{
            {"params", object{{"Light", object{{param, std::move(v)}}}}}, {"check", check}};
    };
    const object daylight{
        {"name", "Dusk"},
        {"event_type", "daylight"},
        {"location", object{{"latitude", "48.8566"}, {"longitude", "2.3522"}}},
        {"events", array{object{{"params", object{{"sunset", true}}}, {"check", "=="}}}},
        {"actions", HotBody("x").at("actions")}};
    array six;
    array eleven;
    for (int i = 0; i < 11; ++i) {
        if (i < 6) {
            six.push_back(event("Temperature", i, ">"));
        }
        eleven.push_back(HotBody("x").at("actions").at(0));
    }

    const struct {
        object body;
        int status;
        int code;
        const Tokens* as;
    } posts[] = {
        {without(HotBody("x"), "name"), 400, 127001, &alice_},
        {with(HotBody("x"), "name", boost::json::string(std::string(257, 'n'))),
         400,
         127011,
         &alice_},
        {without(HotBody("x"), "event_type"), 400, 127019, &alice_},
        {without(HotBody("x"), "node_id"), 400, 100009, &alice_},
        {HotBody("x"), 403, 127018, &bob_},  // not his nodes
        {without(HotBody("x"), "events"), 400, 127002, &alice_},
        {with(HotBody("x"), "events", six), 400, 127015, &alice_},
        {with(HotBody("x"), "events", array{event("Temperature", 1, "~")}), 400, 127017, &alice_},
        {with(HotBody("x"), "events", array{event("Pressure", 1, ">")}), 400, 127023, &alice_},
        {with(
             HotBody("x"), "events", array{event("Temperature", 1, ">"), event("Power", true, "==")}
         ),
         400,
         127013,
         &alice_},
        {with(HotBody("x"), "event_operator", "xor"), 400, 127029, &alice_},
        {without(HotBody("x"), "actions"), 400, 127003, &alice_},
        {with(HotBody("x"), "actions", eleven), 400, 127014, &alice_},
        {with(
             HotBody("x"),
             "actions",
             array{object{
                 {"node_id", b_.node_id},
                 {"params", object{{"Light", object{{"Brightness", 500}}}}}}}
         ),
         400,
         100006,
         &alice_},
        {with(daylight, "node_id", boost::json::string(a_.node_id)), 400, 127022, &alice_},
        {without(daylight, "location"), 400, 127020, &alice_},
        {with(daylight, "location", object{{"latitude", 95}, {"longitude", 0}}),
         400,
         127021,
         &alice_},
        {with(
             with(
                 with(daylight, "event_type", "weather"),
                 "events",
                 array{
                     object{{"params", object{{"weather_condition", "Rain"}}}, {"check", "=="}},
                     object{{"params", object{{"weather_condition", "Snow"}}}, {"check", "=="}}}
             ),
             "event_operator",
             "or"
         ),
         400,
         127026,
         &alice_},
        {HotBody("Very hot"), 400, 127010, &alice_},
    };

    for (const auto& p : posts) {
        EXPECT_TRUE(IsFailure(Add(p.body, *p.as), p.status, p.code))
            << boost::json::serialize(p.body);
    }
    EXPECT_TRUE(IsFailure(
        client_.Request(
            "POST", "/v1/user/node_automation", "{not json", {{"Authorization", alice_.accesstoken}}
        ),
        400,
        100006
    ));
    EXPECT_TRUE(IsFailure(
        client_.Request("POST", "/v1/user/node_automation", boost::json::serialize(HotBody("x"))),
        401,
        100004
    ));

    // #88
    const auto put = [&](const std::string& query, const object& body, const Tokens& t) {
        return client_.Put("/v1/user/node_automation" + query, body, t.accesstoken);
    };
    EXPECT_TRUE(IsFailure(put("", object{{"name", "n"}}, alice_), 400, 127005));
    EXPECT_TRUE(IsFailure(put("?automation_id=" + id, object{}, alice_), 400, 127009));
    EXPECT_TRUE(IsFailure(put("?automation_id=" + id, object{{"name", "n"}}, bob_), 400, 127012));
    EXPECT_TRUE(IsFailure(
        put("?automation_id=AAAAAAAAAAAAAAAAAAAAAA", object{{"name", "n"}}, alice_), 400, 127012
    ));
    EXPECT_TRUE(IsFailure(
        put("?automation_id=" + id, object{{"event_operator", "nor"}}, alice_), 400, 127029
    ));
    EXPECT_TRUE(IsFailure(put("?automation_id=" + id, object{{"name", ""}}, alice_), 400, 127011));
    EXPECT_TRUE(IsFailure(
        put("?automation_id=" + id, object{{"events", array{event("Temperature", 1, "=>")}}}, alice_
        ),
        400,
        127017
    ));
    EXPECT_TRUE(
        IsFailure(put("?automation_id=" + id, object{{"actions", array{}}}, alice_), 400, 127003)
    );

    // #89, #90
    EXPECT_TRUE(IsFailure(List(bob_, "?automation_id=" + id), 400, 127012));
    EXPECT_TRUE(IsFailure(List(bob_), 400, 127016));
    EXPECT_TRUE(IsFailure(List(alice_, "?start_id=%2E%2E"), 400, 105043));
    EXPECT_TRUE(IsFailure(List(alice_, "?num_records=0"), 400, 100021));
    EXPECT_TRUE(
        IsFailure(client_.Delete("/v1/user/node_automation", alice_.accesstoken), 400, 127005)
    );
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_automation?automation_id=" + id, bob_.accesstoken),
        400,
        127012
    ));
    EXPECT_EQ(snapshot(), before);

    // Pages: next_id leads through every automation once.
    AddOk(with(HotBody("Second"), "retrigger", true), alice_);
    AddOk(HotBody("Third"), alice_);
    auto page = List(alice_, "?num_records=2");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.json.at("automation_trigger_actions").as_array().size(), 2u);
    const auto next = page.Str("next_id");
    ASSERT_FALSE(next.empty()) << page.body;
    page = List(alice_, "?num_records=2&start_id=" + next);
    EXPECT_EQ(page.json.at("automation_trigger_actions").as_array().size(), 1u);
    EXPECT_FALSE(page.json.as_object().contains("next_id"));

    // #90
    const auto deleted =
        client_.Delete("/v1/user/node_automation?automation_id=" + id, alice_.accesstoken);
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_TRUE(IsFailure(List(alice_, "?automation_id=" + id), 400, 127012));
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_automation?automation_id=" + id, alice_.accesstoken),
        400,
        127012
    ));
    EXPECT_EQ(List(alice_).json.at("automation_trigger_actions").as_array().size(), 2u);
}

TEST_F(AutomationsTest, RunsOncePerChangeToTrueAndAgainWithRetrigger) {
    Devices();
    Temperature(20);
    ASSERT_TRUE(Stored(20));
    const auto id = AddOk(HotBody("Hot"), alice_);
    EXPECT_TRUE(LampGets(1000ms).empty());
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 0);

    Temperature(30);
    EXPECT_EQ(sim_b_->WaitFor("params/remote"), lamp_on_);
    Temperature(31);  // still hot: nothing
    Temperature(32);
    // Not only "nothing arrived in time": the reports were evaluated, and did not run it.
    ASSERT_TRUE(Stored(32));
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 1);
    EXPECT_TRUE(LampGets().empty());
    Temperature(20);
    ASSERT_TRUE(Stored(20));
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 1);
    EXPECT_TRUE(LampGets(1000ms).empty());
    Temperature(26);
    EXPECT_EQ(sim_b_->WaitFor("params/remote"), lamp_on_);
    ASSERT_TRUE(Stored(26));
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 2);
    EXPECT_TRUE(LampGets(1000ms).empty());

    // With retrigger every report while it is hot runs it.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_automation?automation_id=" + id,
                object{{"retrigger", true}},
                alice_.accesstoken
            )
            .status,
        200
    );
    Temperature(27);
    EXPECT_EQ(sim_b_->WaitFor("params/remote"), lamp_on_);
    Temperature(28);
    EXPECT_EQ(sim_b_->WaitFor("params/remote"), lamp_on_);
    EXPECT_TRUE(LampGets(1000ms).empty());
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 4);
    EXPECT_EQ(Metric("rainmaker_automation_actions_sent_total"), 4);

    // Disabled: nothing.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_automation?automation_id=" + id,
                object{{"enabled", false}},
                alice_.accesstoken
            )
            .status,
        200
    );
    Temperature(29);
    ASSERT_TRUE(Stored(29));
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 4);
    EXPECT_TRUE(LampGets().empty());
}

TEST_F(AutomationsTest, NeverRunsAnActionOnANodeItsOwnerLost) {
    Devices();
    // Bob gets both nodes shared and makes the automation his.
    for (const auto* d : {&a_, &b_}) {
        const auto offer = client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"nodes", JsonStrings({d->node_id})}, {"user_name", "bob@example.com"}},
            alice_.accesstoken
        );
        ASSERT_EQ(offer.status, 200) << offer.body;
        const auto accepted = client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", offer.Str("request_id")}, {"accept", true}},
            bob_.accesstoken
        );
        ASSERT_EQ(accepted.status, 200) << accepted.body;
    }
    Temperature(20);
    AddOk(HotBody("Bob's"), bob_);
    Temperature(30);
    EXPECT_EQ(sim_b_->WaitFor("params/remote"), lamp_on_);

    // Alice takes the lamp back from Bob: his automation still runs, its action is skipped.
    const auto removed = client_.Delete(
        "/v1/user/nodes/sharing?nodes=" + b_.node_id + "&user_name=bob@example.com",
        alice_.accesstoken
    );
    ASSERT_EQ(removed.status, 200) << removed.body;
    Temperature(20);
    Temperature(31);
    ASSERT_TRUE(Stored(31));  // evaluated: the run and its skipped action are counted
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 2);
    EXPECT_EQ(Metric("rainmaker_automation_actions_skipped_total"), 1);
    EXPECT_TRUE(LampGets(2000ms).empty());
    // And he can no longer make one that acts on it.
    EXPECT_TRUE(IsFailure(Add(HotBody("Again"), bob_), 403, 127018));
}

TEST_F(AutomationsTest, WeatherAutomationsRunOnTheProvidersReadings) {
    Devices();
    weather_.Set(20, 0);
    const object body{
        {"name", "Hot day"},
        {"event_type", "weather"},
        {"location", object{{"latitude", "48.8566"}, {"longitude", "2.3522"}}},
        {"events", array{object{{"params", object{{"temperature", 25}}}, {"check", ">="}}}},
        {"actions",
         array{object{
             {"node_id", b_.node_id}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    const auto id = AddOk(body, alice_);
    const auto one = List(alice_, "?automation_id=" + id);
    EXPECT_EQ(one.json.at("location"), body.at("location")) << one.body;
    EXPECT_FALSE(one.json.as_object().contains("node_id"));
    // Polled every second: 20 °C holds nothing (two requests: the first poll is complete).
    WeatherPolls(0);
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 0);
    EXPECT_TRUE(LampGets(1000ms).empty());

    weather_.Set(26.5, 61);
    EXPECT_EQ(sim_b_->WaitFor("params/remote", 10s), lamp_on_);
    WeatherPolls(weather_.Requests().size());
    EXPECT_EQ(Metric("rainmaker_automation_runs_total"), 1);  // still hot: once
    EXPECT_TRUE(LampGets(1000ms).empty());
    weather_.Set(10, 0);
    std::this_thread::sleep_for(2500ms);
    weather_.Set(30, 0);
    EXPECT_EQ(sim_b_->WaitFor("params/remote", 10s), lamp_on_);

    const auto requests = weather_.Requests();
    ASSERT_FALSE(requests.empty());
    // The place rounded to 0.01° (the cache's key) is asked, not the automation's own.
    EXPECT_NE(
        requests[0].find("GET /v1/forecast?latitude=48.86&longitude=2.35&"), std::string::npos
    ) << requests[0];
    EXPECT_NE(requests[0].find("current="), std::string::npos) << requests[0];
    EXPECT_GE(Metric("rainmaker_automation_weather_fetches_total"), 3);
}

TEST(AutomationsWithoutWeather, AWeatherAutomationIsRefusedWith124021) {
    ServerProcess server;
    HttpClient client(server.port());
    const auto alice = SignUpAndLogin(client, server, "alice@example.com");
    const auto r = client.Post(
        "/v1/user/node_automation",
        object{
            {"name", "Rainy"},
            {"event_type", "weather"},
            {"location", object{{"latitude", 1}, {"longitude", 2}}},
            {"events",
             array{object{{"params", object{{"weather_condition", "Rain"}}}, {"check", "=="}}}},
            {"actions",
             array{object{
                 {"node_id", "n"}, {"params", object{{"Light", object{{"Power", true}}}}}}}}},
        alice.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 124021));
    EXPECT_TRUE(IsFailure(client.Get("/v1/user/node_automation", alice.accesstoken), 400, 127016));
}

}  // namespace
}  // namespace rainmaker::testing

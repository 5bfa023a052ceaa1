// Time series end to end with the real server and its Mosquitto: a node publishes tsdata and
// simple_tsdata over MQTT with its own certificate, and its user reads them back through #66 and
// #68 — days of a Berlin autumn with the clocks going back, weeks starting on Sunday or Monday,
// start_id pages and their limits, records the node's config does not declare, and who may read.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 24 * kHour;
// Local midnights in Europe/Berlin (read off the tz database): summer time until Sunday
// 25 October 2026 03:00, when the clocks went back to 02:00.
constexpr std::int64_t kOct18 = 1792274400;  // a Sunday
constexpr std::int64_t kOct19 = 1792360800;  // a Monday
constexpr std::int64_t kOct22 = 1792620000;
constexpr std::int64_t kOct25 = 1792879200;  // 25 hours long
constexpr std::int64_t kOct26 = 1792969200;
constexpr std::int64_t kNov1 = 1793487600;

// The local midnight of day `day` of October 2026 (22..32, 32 being 1 November).
std::int64_t Midnight(int day) {
    return day <= 25 ? kOct22 + (day - 22) * kDay : kOct26 + (day - 26) * kDay;
}

// A server that keeps tsdata for ten years: the autumn below stays in range for as long.
ServerProcess::Options LongRetention(const TempDir& dir) {
    const auto file = dir.path() / "server.toml";
    std::ofstream(file) << "[timeseries]\nretention_days = 3650\n";
    ServerProcess::Options options;
    options.args = {"--config", file.string()};
    return options;
}

class TimeSeriesTest : public ::testing::Test, protected DeviceLab {
protected:
    TimeSeriesTest()
        : DeviceLab(server_, client_, dir_),
          server_(LongRetention(config_dir_)),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    // Alice's node, mapped and configured by the simulator (a Light with Temperature (float)
    // and Brightness (int)); then the simulator stops so that the test speaks as the node.
    void SetUp() override { device_ = ClaimConfigured(alice_, "n1", "Temperature"); }

    void Publish(const std::string& suffix, const object& payload) {
        MqttCredentials node;
        node.port = server_.mqtt_port();
        node.ca_file = server_.ca_file();
        node.cert_file = device_.dir / "node.crt";
        node.key_file = device_.dir / "node.key";
        const auto r = MosquittoPub(
            node,
            device_.node_id,
            "node/" + device_.node_id + "/" + suffix,
            boost::json::serialize(payload)
        );
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }

    // Hourly Temperature records from 22 October to 1 November local time, each valued with
    // its local day of the month: a day bucketed by the wrong clock would average two days.
    void PublishAutumn() {
        array records;
        for (int day = 22; day < 32; ++day) {
            for (auto t = Midnight(day); t < Midnight(day + 1); t += kHour) {
                records.push_back(object{{"t", t}, {"v", static_cast<double>(day)}});
            }
        }
        ASSERT_EQ(records.size(), 241u);
        Publish(
            "tsdata",
            object{
                {"ts_data_version", "2021-09-13"},
                {"ts_data",
                 array{
                     object{{"name", "Light.Temperature"}, {"dt", "float"}, {"records", records}}}}}
        );
        const auto all = Eventually(
            Ts("aggregate=count&aggregation_interval=week"),
            alice_,
            [](const HttpResult& r) { return Total(r) == 241; }
        );
        ASSERT_EQ(Total(all), 241) << all.body;
    }

    std::string Ts(const std::string& query, std::int64_t start = kOct22, std::int64_t end = kNov1)
        const {
        return "/v1/user/nodes/tsdata?node_id=" + device_.node_id +
               "&param_name=Light.Temperature&timezone=Europe/Berlin&start_time=" +
               std::to_string(start) + "&end_time=" + std::to_string(end) + "&" + query;
    }

    static const array& Values(const HttpResult& r) {
        static const array kNone;
        if (!r.json.is_object()) {
            return kNone;
        }
        const auto* ts = r.json.as_object().if_contains("ts_data");
        if (ts == nullptr || !ts->is_array() || ts->as_array().empty()) {
            return kNone;
        }
        return ts->as_array()[0].at("params").at(0).at("values").as_array();
    }

    static std::int64_t Total(const HttpResult& r) {
        std::int64_t total = 0;
        for (const auto& v : Values(r)) {
            total += v.at("val").to_number<std::int64_t>();
        }
        return total;
    }

    static std::vector<std::int64_t> Times(const HttpResult& r) {
        std::vector<std::int64_t> out;
        for (const auto& v : Values(r)) {
            out.push_back(v.at("ts").to_number<std::int64_t>());
        }
        return out;
    }

    TempDir config_dir_;  // before the server that reads it
    ServerProcess server_;
    TempDir dir_;
    HttpClient client_;
    Tokens alice_;
    Tokens bob_;
    Device device_;
};

TEST_F(TimeSeriesTest, DaysFollowBerlinsClocksAndWeeksStartOnTheAskedDay) {
    PublishAutumn();

    const auto avg = client_.Get(Ts("aggregate=avg&aggregation_interval=day"), alice_.accesstoken);
    ASSERT_EQ(avg.status, 200) << avg.body;
    const auto& days = Values(avg);
    ASSERT_EQ(days.size(), 10u) << avg.body;
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(days[i].at("ts").to_number<std::int64_t>(), Midnight(22 + i)) << i;
        EXPECT_DOUBLE_EQ(days[i].at("val").to_number<double>(), 22.0 + i) << i;
    }
    EXPECT_EQ(avg.json.at("ts_data").at(0).at("aggregate"), "avg");
    EXPECT_EQ(avg.json.at("ts_data").at(0).at("timezone"), "Europe/Berlin");

    const auto count =
        client_.Get(Ts("aggregate=count&aggregation_interval=day"), alice_.accesstoken);
    const auto& counts = Values(count);
    ASSERT_EQ(counts.size(), 10u) << count.body;
    EXPECT_EQ(counts[2].at("val"), 24);
    EXPECT_EQ(counts[3].at("val"), 25);  // 25 October: the clocks went back
    EXPECT_EQ(counts[4].at("val"), 24);

    // Sunday weeks: 22-24 October in the week of the 18th, the 25th starts the next.
    const auto sunday = client_.Get(
        Ts("aggregate=count&aggregation_interval=week&week_start=Sunday"), alice_.accesstoken
    );
    EXPECT_EQ(Times(sunday), (std::vector<std::int64_t>{kOct18, kOct25})) << sunday.body;
    ASSERT_EQ(Values(sunday).size(), 2u);
    EXPECT_EQ(Values(sunday)[0].at("val"), 72);
    EXPECT_EQ(Values(sunday)[1].at("val"), 25 + 6 * 24);
    // Monday weeks (the default): the 25th ends the week of the 19th.
    const auto monday =
        client_.Get(Ts("aggregate=count&aggregation_interval=week"), alice_.accesstoken);
    EXPECT_EQ(Times(monday), (std::vector<std::int64_t>{kOct19, kOct26})) << monday.body;
    ASSERT_EQ(Values(monday).size(), 2u);
    EXPECT_EQ(Values(monday)[0].at("val"), 72 + 25);
    EXPECT_EQ(Values(monday)[1].at("val"), 6 * 24);

    // In UTC the same hours fall on other days: 25 October (UTC) holds 24 of them.
    const auto utc = client_.Get(
        "/v1/user/nodes/tsdata?node_id=" + device_.node_id +
            "&param_name=Light.Temperature&aggregate=count&aggregation_interval=day&start_time=" +
            std::to_string(kOct25 + 2 * kHour) + "&end_time=" + std::to_string(kOct26 + kHour),
        alice_.accesstoken
    );
    EXPECT_EQ(Times(utc), (std::vector<std::int64_t>{kOct25 + 2 * kHour})) << utc.body;
}

TEST_F(TimeSeriesTest, PagesResumeWithStartIdTokensOnlyForTheSameQueryAndFiveTimes) {
    PublishAutumn();
    const std::string query = "num_records=100";
    const auto first = client_.Get(Ts(query), alice_.accesstoken);
    ASSERT_EQ(Values(first).size(), 100u) << first.body;
    EXPECT_EQ(Times(first).front(), kOct22);
    const auto token = first.json.at("ts_data").at(0).at("next_id").as_string();
    const auto second =
        client_.Get(Ts(query + "&start_id=" + std::string(token)), alice_.accesstoken);
    ASSERT_EQ(Values(second).size(), 100u) << second.body;
    EXPECT_EQ(Times(second).front(), kOct22 + 100 * kHour);
    const auto third_token = second.json.at("ts_data").at(0).at("next_id").as_string();
    const auto third =
        client_.Get(Ts(query + "&start_id=" + std::string(third_token)), alice_.accesstoken);
    ASSERT_EQ(Values(third).size(), 41u) << third.body;
    EXPECT_EQ(Times(third).back(), kNov1 - kHour);
    EXPECT_EQ(third.json.at("ts_data").at(0).as_object().if_contains("next_id"), nullptr);

    // Another query may not use the token, and nobody else may.
    EXPECT_TRUE(IsFailure(
        client_.Get(
            Ts(query + "&desc_order=true&start_id=" + std::string(token)), alice_.accesstoken
        ),
        400,
        105043
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get(Ts(query + "&start_id=" + std::string(token)), bob_.accesstoken), 400, 126002
    ));
    // Five uses in all (one above), then it is spent.
    for (int use = 2; use <= 5; ++use) {
        EXPECT_EQ(
            client_.Get(Ts(query + "&start_id=" + std::string(token)), alice_.accesstoken).status,
            200
        ) << use;
    }
    EXPECT_TRUE(IsFailure(
        client_.Get(Ts(query + "&start_id=" + std::string(token)), alice_.accesstoken), 400, 105043
    ));
}

TEST_F(TimeSeriesTest, SimpleSeriesAndRecordsTheConfigDoesNotDeclare) {
    // A day ago: within the 30 days the record asks for (`d`).
    const std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()
                           )
                               .count() -
                           kDay;
    Publish(
        "simple_tsdata",
        object{{"name", "Light.Brightness"}, {"dt", "int"}, {"t", t}, {"v", 42}, {"d", 30}}
    );
    // Not declared by the config, or typed otherwise than declared: dropped.
    Publish("simple_tsdata", object{{"name", "Light.Nope"}, {"dt", "int"}, {"t", t}, {"v", 1}});
    Publish(
        "tsdata",
        object{
            {"ts_data_version", "2021-09-13"},
            {"ts_data",
             array{object{
                 {"name", "Light.Brightness"},
                 {"dt", "string"},
                 {"records", array{object{{"t", t}, {"v", "x"}}}}}}}}
    );
    const std::string simple = "/v1/user/nodes/simple_tsdata?node_id=" + device_.node_id +
                               "&start_time=" + std::to_string(t) +
                               "&end_time=" + std::to_string(t + 1) + "&param_name=";
    // The reference names it data_type; the SDK sends type.
    const auto read = Eventually(simple + "Light.Brightness&data_type=int", alice_, [](auto& r) {
        return Values(r).size() == 1;
    });
    ASSERT_EQ(Values(read).size(), 1u) << read.body;
    EXPECT_EQ(Values(read)[0].at("val"), 42);
    EXPECT_EQ(Values(read)[0].at("ts"), t);
    const auto by_type = client_.Get(simple + "Light.Brightness&type=int", alice_.accesstoken);
    EXPECT_EQ(Values(by_type).size(), 1u) << by_type.body;
    EXPECT_TRUE(IsFailure(
        client_.Get(simple + "Light.Brightness&data_type=colour", alice_.accesstoken), 400, 136005
    ));
    // #68 has no code of its own for a node that is not the caller's: its node id error.
    EXPECT_TRUE(IsFailure(
        client_.Get(simple + "Light.Brightness&data_type=int", bob_.accesstoken), 400, 136001
    ));

    // The two records after the good one are dropped and counted.
    std::string metrics;
    for (int i = 0; i < 100; ++i) {
        metrics = client_.Get("/metrics").body;
        if (metrics.find("rainmaker_timeseries_records_dropped_total 2\n") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(metrics.find("rainmaker_timeseries_records_dropped_total 2\n"), std::string::npos)
        << metrics;
    const auto nope = client_.Get(simple + "Light.Nope&data_type=int", alice_.accesstoken);
    ASSERT_EQ(nope.status, 200) << nope.body;
    EXPECT_TRUE(Values(nope).empty()) << nope.body;
}

TEST_F(TimeSeriesTest, BadQueriesAreRefusedWithTheirCodes) {
    const auto code = [&](const std::string& query) {
        return client_.Get(Ts(query), alice_.accesstoken).ErrorCode();
    };
    EXPECT_EQ(code("aggregate=median&aggregation_interval=day"), 126005);
    EXPECT_EQ(code("aggregate=avg&aggregation_interval=fortnight"), 126006);
    EXPECT_EQ(code("aggregate=avg&aggregation_interval=week&week_start=Someday"), 126007);
    EXPECT_EQ(code("aggregate=avg&aggregation_interval=hour"), 126012);  // 10 days of hours
    EXPECT_EQ(code("aggregate=latest&aggregation_interval=month"), 126016);
    EXPECT_EQ(code("num_records=201"), 100021);
    EXPECT_EQ(
        client_
            .Get(
                "/v1/user/nodes/tsdata?node_id=" + device_.node_id +
                    "&param_name=Light.Temperature&aggregate=avg&aggregation_interval=day"
                    "&num_intervals=3&timezone=Mars/Olympus",
                alice_.accesstoken
            )
            .ErrorCode(),
        126020
    );
    EXPECT_EQ(
        client_.Get(Ts("aggregate=avg&aggregation_interval=day", kNov1, kOct22), alice_.accesstoken)
            .ErrorCode(),
        126013
    );
    EXPECT_EQ(
        client_.Get("/v1/user/nodes/tsdata?param_name=Light.Temperature", alice_.accesstoken)
            .ErrorCode(),
        126003
    );
    // The admin variant is for admins only.
    EXPECT_EQ(
        client_.Get("/v1/admin/nodes/tsdata?node_id=" + device_.node_id, alice_.accesstoken)
            .ErrorCode(),
        100004
    );
}

}  // namespace
}  // namespace rainmaker::testing

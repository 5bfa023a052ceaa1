// The simulator's firmware behaviours of issue 8 against the real server: a sensor node's
// tsdata and simple_tsdata samples are stored as the server's time series (none dropped), and
// schedules written through the Schedules param are kept as the firmware's schedule service
// keeps them (the list with `enabled`, which `esp-rainmaker-cli getschedules` shows).
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;

class SimulatorTest : public ::testing::Test, protected DeviceLab {
protected:
    SimulatorTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // The number of a /metrics counter, -1 when absent.
    long long Metric(const std::string& name) {
        const auto body = client_.Get("/metrics").body;
        const auto at = body.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size() + 2));
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
};

TEST_F(SimulatorTest, ASensorNodesSamplesBecomeTimeSeries) {
    const auto d = Claim(alice_, "sensor");
    auto sim = RunMapped(alice_, d, nullptr, {"--sensor", "--tsdata-rate", "4"});
    const std::string ts =
        "/v1/user/nodes/tsdata?node_id=" + d.node_id + "&param_name=Sensor.Temperature&type=float";
    const std::string simple = "/v1/user/nodes/simple_tsdata?node_id=" + d.node_id +
                               "&param_name=Sensor.Humidity&data_type=int";
    const auto values = [](const HttpResult& r) -> const array* {
        if (r.status != 200) {
            return nullptr;
        }
        return &r.json.at("ts_data").at(0).at("params").at(0).at("values").as_array();
    };
    // Points are one per second and series (the second of a sample is its key): three seconds
    // of samples make at least two points.
    const auto temperature = Eventually(ts, alice_, [&](const HttpResult& r) {
        const auto* v = values(r);
        return v != nullptr && v->size() >= 2;
    });
    ASSERT_NE(values(temperature), nullptr) << temperature.body;
    ASSERT_GE(values(temperature)->size(), 2u) << temperature.body;
    EXPECT_TRUE(values(temperature)->at(0).at("val").is_number()) << temperature.body;
    const auto humidity = Eventually(simple, alice_, [&](const HttpResult& r) {
        const auto* v = values(r);
        return v != nullptr && v->size() >= 2;
    });
    ASSERT_NE(values(humidity), nullptr) << humidity.body;
    ASSERT_GE(values(humidity)->size(), 2u) << humidity.body;
    EXPECT_TRUE(values(humidity)->at(0).at("val").is_int64()) << humidity.body;
    // The same samples are reported as params.
    const auto params =
        client_.Get("/v1/user/nodes/params?node_id=" + d.node_id, alice_.accesstoken);
    EXPECT_TRUE(params.json.at("Sensor").at("Temperature").is_number()) << params.body;
    // Everything the sensor published was accepted.
    EXPECT_GT(Metric("rainmaker_timeseries_records_stored_total"), 0);
    EXPECT_EQ(Metric("rainmaker_timeseries_records_dropped_total"), 0);
}

TEST_F(SimulatorTest, SchedulesAreKeptAsTheFirmwareKeepsThem) {
    const auto d = Claim(alice_, "light");
    auto sim = RunMapped(alice_, d);
    const std::string params = "/v1/user/nodes/params?node_id=" + d.node_id;
    const auto set = [&](const object& schedule) {
        const auto r = client_.Put(
            params, object{{"Schedule", object{{"Schedules", array{schedule}}}}}, alice_.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
    };
    const auto schedules = [&](auto done) {
        return Eventually(params, alice_, [&](const HttpResult& r) {
            return r.status == 200 && done(r.json.at("Schedule").at("Schedules").as_array());
        });
    };
    // As esp-rainmaker-cli addschedule sends it.
    set(object{
        {"id", "A1B2"},
        {"operation", "add"},
        {"name", "Morning"},
        {"triggers", array{object{{"m", 420}, {"d", 31}}}},
        {"action", object{{"Light", object{{"Power", true}}}}}});
    auto r = schedules([](const array& list) { return list.size() == 1; });
    const auto& kept = r.json.at("Schedule").at("Schedules").at(0).as_object();
    EXPECT_EQ(kept.at("id"), "A1B2") << r.body;
    EXPECT_EQ(kept.at("name"), "Morning");
    EXPECT_EQ(kept.at("enabled"), true);  // getschedules: "Enabled"
    EXPECT_FALSE(kept.contains("operation"));
    EXPECT_EQ(kept.at("triggers"), (array{object{{"m", 420}, {"d", 31}}}));

    set(object{{"id", "A1B2"}, {"operation", "disable"}});
    r = schedules([](const array& list) {
        return list.size() == 1 && list.at(0).at("enabled") == false;
    });
    EXPECT_EQ(r.json.at("Schedule").at("Schedules").at(0).at("enabled"), false) << r.body;

    set(object{{"id", "A1B2"}, {"operation", "remove"}});
    r = schedules([](const array& list) { return list.empty(); });
    EXPECT_TRUE(r.json.at("Schedule").at("Schedules").as_array().empty()) << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

// Automations evaluated for real: node_params ones on every params report the ingest stores
// (found through the store by the node they watch, so 10,000 automations cost one indexed read
// per report), daylight ones at the sunrise and sunset the store says are due, weather ones at
// each poll of the provider (one reading per place, cached). An automation runs its actions
// when its events turn true (again only after they were false, unless retrigger); each action
// is published on the node's params/remote after the transaction commits, if the owner still
// has access to that node (otherwise it is skipped). Every run is recorded in the event log
// (event_type node_automation_trigger) with what each action did.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/automations/automation_service.hpp"
#include "domain/automations/weather_provider.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::automations {

// Counters for /metrics.
struct AutomationCounters {
    std::atomic<std::uint64_t> runs{0};              // automations whose actions ran
    std::atomic<std::uint64_t> actions_sent{0};      // handed to the broker link
    std::atomic<std::uint64_t> actions_skipped{0};   // the owner lost access to the node
    std::atomic<std::uint64_t> publish_failures{0};  // the link refused them (down)
    std::atomic<std::uint64_t> daylight_missed{0};   // due while the server was down too long
    std::atomic<std::uint64_t> weather_fetches{0};
    std::atomic<std::uint64_t> weather_failures{0};
};

class AutomationRunner {
public:
    // `weather` may be null (no provider configured: weather automations never run).
    AutomationRunner(
        storage::Database& db,
        nodes::NodePublisher& publisher,
        const core::Clock& clock,
        AutomationConfig config,
        WeatherProvider* weather
    );

    // Evaluates node_params automations on every params report stored (call before the link
    // starts).
    void RegisterIngest(nodes::NodeIngest& ingest);

    // The params listener: the report `reported` of `node_id` was stored, its params are now
    // `stored`. Runs inside the ingest transaction.
    void OnParamsStored(
        std::string_view node_id,
        const boost::json::object& reported,
        const boost::json::object& stored
    );

    // Runs the daylight automations whose sunrise or sunset is due; returns how many ran. The
    // scheduler's job (every config.daylight_check); tests call it with a fake clock.
    int RunDaylight();
    // Evaluates every weather automation against its place's current weather; returns how
    // many ran. The scheduler's job (every config.weather_poll).
    int PollWeather();

    const AutomationCounters& counters() const { return counters_; }

    // /metrics lines of the counters.
    std::string RenderMetrics() const;

private:
    // Records that the events of `row` hold (or not) now, and runs its actions when they turned
    // true (or hold again, with retrigger); true when they ran. Inside a transaction.
    bool Evaluated(
        const storage::AutomationRow& row, bool holds, const boost::json::value& trigger
    );
    // Runs the actions of `row`: checks the owner's access, records the run, publishes after
    // commit. Inside a transaction.
    void Run(const storage::AutomationRow& row, const boost::json::value& trigger);
    // The current weather at the place, from the cache or the provider; nullopt on failure.
    std::optional<boost::json::object> Weather(double latitude, double longitude);

    storage::Database& db_;
    nodes::NodePublisher& publisher_;
    const core::Clock& clock_;
    AutomationConfig config_;
    WeatherProvider* weather_;
    AutomationCounters counters_;

    struct CachedWeather {
        boost::json::object reading;
        std::chrono::steady_clock::time_point at;
    };

    std::mutex weather_mutex_;
    // By place rounded to 0.01° (about a kilometre): automations next door share a reading.
    std::map<std::pair<long, long>, CachedWeather> weather_cache_;
};

}  // namespace rainmaker::domain::automations

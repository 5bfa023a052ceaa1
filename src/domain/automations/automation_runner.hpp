// Automations evaluated for real: node_params ones on every params report the ingest stores
// (found through the store by the node they watch, so 10,000 automations cost one indexed read
// per report), daylight ones at the sunrise and sunset the store says are due, weather ones at
// each poll of the provider (one reading per place, cached). An automation runs its actions
// when its events turn true (again only after they were false, unless retrigger); each action
// is published on the node's params/remote after the transaction commits, if the owner still
// has access to that node and its params still pass the node's current config as a REST set
// would (otherwise it is skipped). Every run is recorded in the event log (event_type
// node_automation_trigger) with what each action did. An automation runs at most
// max_runs_per_minute times a minute (loops through devices that echo their sets end there);
// suppressed runs are counted and recorded once a window (node_automation_suppressed).
// Weather polling runs on its own thread (the application's second scheduler): a provider
// that is slow or down is limited by a per-poll time budget and a circuit breaker, and never
// delays daylight runs or housekeeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/automations/automation_rules.hpp"
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
    std::atomic<std::uint64_t> actions_skipped{0};   // no access, or params no longer valid
    std::atomic<std::uint64_t> runs_suppressed{0};   // past max_runs_per_minute
    std::atomic<std::uint64_t> publish_failures{0};  // the link refused them (down)
    std::atomic<std::uint64_t> daylight_missed{0};   // due while the server was down too long
    std::atomic<std::uint64_t> weather_fetches{0};
    std::atomic<std::uint64_t> weather_failures{0};
    std::atomic<std::uint64_t> weather_breaker_trips{0};    // the breaker opened
    std::atomic<std::uint64_t> weather_places_deferred{0};  // breaker open or budget spent
    std::atomic<std::uint64_t> weather_places_over_cap{0};  // past max_weather_places
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
    // many ran. The weather scheduler's job (every config.weather_poll), on its own thread:
    // one provider request per place (the first max_weather_places), for at most
    // config.weather_poll in all (the places left wait for the next poll, which starts with
    // them), none while the circuit breaker is open.
    int PollWeather();

    // Makes a running PollWeather return after the request in flight (server stop).
    void StopWeather() { weather_stopping_ = true; }

    const AutomationCounters& counters() const { return counters_; }

    // /metrics lines of the counters.
    std::string RenderMetrics() const;

private:
    // Records that the events of `row` hold (or not) now, and runs its actions when they turned
    // true (or hold again, with retrigger); true when they ran. Inside a transaction.
    bool Evaluated(
        const storage::AutomationRow& row, bool holds, const boost::json::value& trigger
    );
    // Runs the actions of `row` unless it ran max_runs_per_minute times this minute: checks
    // the owner's access and each action's params against its node's config, records the run,
    // publishes after commit; true when it ran. Inside a transaction.
    bool Run(const storage::AutomationRow& row, const boost::json::value& trigger);
    // Whether `row` may run now (counts the run); a refused run is counted and, the first time
    // in its window, recorded in the event log.
    bool Admit(const storage::AutomationRow& row);
    // The current weather at the place, from the cache or the provider; nullopt on failure or
    // while the circuit breaker is open.
    std::optional<boost::json::object> Weather(PlaceKey place);

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
    std::map<PlaceKey, CachedWeather> weather_cache_;
    // The circuit breaker: consecutive failures, how many times it opened since the last
    // success (the backoff doubles with each), and until when no request is made.
    int weather_failures_in_row_ = 0;
    int weather_trips_ = 0;
    std::chrono::steady_clock::time_point weather_open_until_{};
    // The place a poll cut short by its budget stopped at: the next one starts there.
    std::optional<PlaceKey> weather_resume_;
    std::atomic<bool> weather_stopping_{false};

    // Runs per automation in the current fixed one-minute window.
    struct RunWindow {
        std::chrono::steady_clock::time_point start;
        int runs = 0;
        bool recorded = false;  // a suppressed run of this window is in the event log
    };

    std::mutex runs_mutex_;
    std::unordered_map<std::string, RunWindow> run_windows_;
    std::chrono::steady_clock::time_point runs_pruned_{};
};

}  // namespace rainmaker::domain::automations

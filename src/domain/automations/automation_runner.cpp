// Evaluation of node_params, daylight and weather automations, and the runs they make.
#include "domain/automations/automation_runner.hpp"

#include <cmath>
#include <exception>
#include <vector>

#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/automations/automation_rules.hpp"
#include "domain/automations/solar.hpp"

namespace rainmaker::domain::automations {

namespace {

constexpr int kDaylightBatch = 100;

// The reading as a JSON object keyed by the events' weather params.
boost::json::object ReadingJson(const WeatherReading& r) {
    boost::json::object out;
    const std::pair<const char*, const std::optional<double>*> numbers[] = {
        {"temperature", &r.temperature},
        {"pressure", &r.pressure},
        {"humidity", &r.humidity},
        {"wind_speed", &r.wind_speed}};
    for (const auto& [name, value] : numbers) {
        if (value->has_value()) {
            out[name] = **value;
        }
    }
    if (r.weather_condition) {
        out["weather_condition"] = *r.weather_condition;
    }
    return out;
}

}  // namespace

AutomationRunner::AutomationRunner(
    storage::Database& db,
    nodes::NodePublisher& publisher,
    const core::Clock& clock,
    AutomationConfig config,
    WeatherProvider* weather
)
    : db_(db),
      publisher_(publisher),
      clock_(clock),
      config_(std::move(config)),
      weather_(weather) {}

void AutomationRunner::RegisterIngest(nodes::NodeIngest& ingest) {
    ingest.OnParamsStored([this](auto node_id, const auto& reported, const auto& stored) {
        OnParamsStored(node_id, reported, stored);
    });
}

void AutomationRunner::OnParamsStored(
    std::string_view node_id, const boost::json::object& reported, const boost::json::object& stored
) {
    const auto rows = db_.Automations().ForNode(node_id);
    for (const auto& row : rows) {
        const auto events = ReadEvents(EventType::kNodeParams, row.events);
        // A report that names none of the params the events compare cannot change them.
        if (!Mentions(events, reported)) {
            continue;
        }
        const bool holds = EventsHold(events, row.event_operator, [&](const Condition& c) {
            return ParamIn(stored, c.device, c.param);
        });
        Evaluated(row, holds, boost::json::object{{"node_id", node_id}, {"params", reported}});
    }
}

bool AutomationRunner::Evaluated(
    const storage::AutomationRow& row, bool holds, const boost::json::value& trigger
) {
    if (holds != row.last_state) {
        db_.Automations().SetState(row.automation_id, holds);
    }
    if (holds && (!row.last_state || row.retrigger)) {
        Run(row, trigger);
        return true;
    }
    return false;
}

void AutomationRunner::Run(const storage::AutomationRow& row, const boost::json::value& trigger) {
    const auto actions = ReadActions(row.actions);
    // The owner's access is checked now, not when the automation was made: a user who lost a
    // node (unshared, removed, reset) never sets its params again through an automation.
    const bool watches = row.event_type != "node_params" ||
                         db_.Nodes().FindMapping(row.user_id, row.node_id).has_value();
    boost::json::array results;
    std::vector<std::pair<std::string, std::string>> publishes;
    for (const auto& action : actions) {
        boost::json::object result{{"node_id", action.node_id}, {"params", action.params}};
        if (!watches) {
            result["status"] = "skipped";
            result["reason"] = "the owner has no access to the watched node";
        } else if (!db_.Nodes().FindMapping(row.user_id, action.node_id)) {
            result["status"] = "skipped";
            result["reason"] = "the owner has no access to the node";
        } else {
            result["status"] = "sent";
            publishes.emplace_back(action.node_id, core::Serialize(action.params));
        }
        results.push_back(std::move(result));
    }
    const std::int64_t now = clock_.NowSeconds();
    const boost::json::object event{
        {"automation_id", row.automation_id},
        {"automation_name", row.name},
        {"event_type", row.event_type},
        {"trigger", trigger},
        {"actions", std::move(results)},
        {"timestamp", now}};
    db_.Events().Append("node_automation_trigger", row.user_id, core::Serialize(event), now);
    ++counters_.runs;
    counters_.actions_skipped += actions.size() - publishes.size();
    if (publishes.empty()) {
        return;
    }
    // After the commit: a rolled-back report (the ingest retries a failed batch message by
    // message) must not have moved a device, and the publish must not hold the write lock.
    db_.AfterCommit([this, publishes = std::move(publishes)] {
        for (const auto& [node, payload] : publishes) {
            if (publisher_.Publish(node, "params/remote", payload)) {
                ++counters_.actions_sent;
            } else {
                ++counters_.publish_failures;
                core::log::Warn("automation action for node " + node + ": broker link refused it");
            }
        }
    });
}

int AutomationRunner::RunDaylight() {
    const std::int64_t now = clock_.NowSeconds();
    int ran = 0;
    // Each row taken moves its next run past `now`, so the loop ends; the bound is a guard.
    for (int round = 0; round < 1000; ++round) {
        const auto rows = storage::ReadSnapshot(db_, [&] {
            return db_.Automations().DueDaylight(now, kDaylightBatch);
        });
        for (const auto& row : rows) {
            const auto a = FromRow(row);
            bool sunrise = false;
            bool sunset = false;
            for (const auto& e : a.events) {
                (e.conditions.at(0).param == "sunrise" ? sunrise : sunset) = true;
            }
            // Which event was due, and the one after it (or after now, when late).
            const auto due = a.location ? NextSunEvent(
                                              row.next_run_at - 1,
                                              a.location->latitude,
                                              a.location->longitude,
                                              sunrise,
                                              sunset
                                          )
                                        : std::nullopt;
            const std::int64_t next =
                a.location ? NextDaylightRun(a.events, *a.location, std::max(now, row.next_run_at))
                           : 0;
            db_.Transaction([&] {
                if (!db_.Automations().ClaimDaylight(row.automation_id, row.next_run_at, next)) {
                    return;  // another instance ran it, or it was changed meanwhile
                }
                if (now - row.next_run_at > config_.daylight_grace.count()) {
                    ++counters_.daylight_missed;
                    core::log::Warn(
                        "automation " + row.automation_id + ": the " +
                        std::to_string(now - row.next_run_at) +
                        " s late daylight event is skipped (the server was not running)"
                    );
                    return;
                }
                const bool is_sunrise = due && due->kind == SunEventKind::kSunrise;
                Run(row,
                    boost::json::object{
                        {"daylight", is_sunrise ? "sunrise" : "sunset"}, {"at", row.next_run_at}});
                ++ran;
            });
        }
        if (rows.size() < static_cast<std::size_t>(kDaylightBatch)) {
            break;
        }
    }
    return ran;
}

std::optional<boost::json::object> AutomationRunner::Weather(double latitude, double longitude) {
    const std::pair<long, long> key{std::lround(latitude * 100.0), std::lround(longitude * 100.0)};
    const auto now = clock_.Monotonic();
    {
        std::lock_guard lock(weather_mutex_);
        if (const auto it = weather_cache_.find(key);
            it != weather_cache_.end() && now - it->second.at < config_.weather_cache) {
            return it->second.reading;
        }
    }
    try {
        ++counters_.weather_fetches;
        auto reading = ReadingJson(weather_->Current(latitude, longitude));
        std::lock_guard lock(weather_mutex_);
        // Bounded: places with automations, refreshed each poll; emptied when it overflows.
        if (weather_cache_.size() >= 100000) {
            weather_cache_.clear();
        }
        weather_cache_[key] = CachedWeather{reading, now};
        return reading;
    } catch (const std::exception& e) {
        ++counters_.weather_failures;
        core::log::Warn(
            "weather at " + std::to_string(latitude) + "," + std::to_string(longitude) +
            " unavailable: " + e.what()
        );
        return std::nullopt;
    }
}

int AutomationRunner::PollWeather() {
    if (weather_ == nullptr) {
        return 0;
    }
    const auto rows = storage::ReadSnapshot(db_, [&] { return db_.Automations().Weather(); });
    int ran = 0;
    for (const auto& listed : rows) {
        // The provider is asked outside any transaction (it may take seconds).
        const auto reading = Weather(listed.latitude, listed.longitude);
        if (!reading) {
            continue;
        }
        const auto events = ReadEvents(EventType::kWeather, listed.events);
        const bool holds = EventsHold(events, listed.event_operator, [&](const Condition& c) {
            return reading->if_contains(c.param);
        });
        db_.Transaction([&] {
            // Read again: the owner may have changed or deleted it since the list.
            const auto row = db_.Automations().Find(listed.user_id, listed.automation_id);
            if (!row || !row->enabled || row->events != listed.events ||
                row->event_operator != listed.event_operator) {
                return;
            }
            ran += Evaluated(*row, holds, boost::json::object{{"weather", *reading}}) ? 1 : 0;
        });
    }
    return ran;
}

std::string AutomationRunner::RenderMetrics() const {
    std::string out;
    const auto line = [&](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    line("rainmaker_automation_runs_total", "Automations whose actions ran.", counters_.runs);
    line(
        "rainmaker_automation_actions_sent_total",
        "Automation actions handed to the broker link.",
        counters_.actions_sent
    );
    line(
        "rainmaker_automation_actions_skipped_total",
        "Automation actions skipped: the owner had no access to the node.",
        counters_.actions_skipped
    );
    line(
        "rainmaker_automation_publish_failures_total",
        "Automation actions the broker link refused.",
        counters_.publish_failures
    );
    line(
        "rainmaker_automation_daylight_missed_total",
        "Sunrises and sunsets skipped because they were due too long ago.",
        counters_.daylight_missed
    );
    line(
        "rainmaker_automation_weather_fetches_total",
        "Current-weather requests made to the provider.",
        counters_.weather_fetches
    );
    line(
        "rainmaker_automation_weather_failures_total",
        "Current-weather requests that failed.",
        counters_.weather_failures
    );
    return out;
}

}  // namespace rainmaker::domain::automations

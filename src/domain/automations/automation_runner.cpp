// Evaluation of node_params, daylight and weather automations, and the runs they make.
#include "domain/automations/automation_runner.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/automations/automation_rules.hpp"
#include "domain/automations/solar.hpp"
#include "domain/nodes/params_validation.hpp"
#include "domain/stored_json.hpp"

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
        return Run(row, trigger);
    }
    return false;
}

bool AutomationRunner::Admit(const storage::AutomationRow& row) {
    if (config_.max_runs_per_minute <= 0) {
        return true;
    }
    constexpr auto kWindow = std::chrono::minutes(1);
    const auto now = clock_.Monotonic();
    bool record = false;
    {
        std::lock_guard lock(runs_mutex_);
        // Windows of automations that have not run for a minute are dropped now and then, so
        // the map holds only those that ran recently.
        if (now - runs_pruned_ >= kWindow) {
            std::erase_if(run_windows_, [&](const auto& entry) {
                return now - entry.second.start >= kWindow;
            });
            runs_pruned_ = now;
        }
        auto& window = run_windows_[row.automation_id];
        if (window.runs == 0 || now - window.start >= kWindow) {
            window = RunWindow{now, 0, false};
        }
        if (window.runs < config_.max_runs_per_minute) {
            ++window.runs;
            return true;
        }
        record = !window.recorded;
        window.recorded = true;
    }
    ++counters_.runs_suppressed;
    if (record) {
        core::log::Warn(
            "automation " + row.automation_id + " ran " +
            std::to_string(config_.max_runs_per_minute) +
            " times within a minute: further runs are suppressed until the minute ends (a loop?)"
        );
        const std::int64_t at = clock_.NowSeconds();
        const boost::json::object event{
            {"automation_id", row.automation_id},
            {"automation_name", row.name},
            {"event_type", row.event_type},
            {"reason",
             "more than " + std::to_string(config_.max_runs_per_minute) +
                 " runs within a minute: runs suppressed for the rest of it"},
            {"timestamp", at}};
        db_.Events().Append(
            "node_automation_suppressed", row.user_id, row.node_id, core::Serialize(event), at
        );
    }
    return false;
}

bool AutomationRunner::Run(const storage::AutomationRow& row, const boost::json::value& trigger) {
    if (!Admit(row)) {
        return false;
    }
    const auto actions = ReadActions(row.actions);
    // The owner's access is checked now, not when the automation was made: a user who lost a
    // node (unshared, removed, reset) never sets its params again through an automation.
    const bool watches = row.event_type != "node_params" ||
                         db_.Nodes().FindMapping(row.user_id, row.node_id).has_value();
    // The configs of the actions' nodes, parsed once per run (null: the node has none).
    std::map<std::string, boost::json::value> configs;
    const auto config_of = [&](const std::string& node_id) -> const boost::json::value& {
        auto it = configs.find(node_id);
        if (it == configs.end()) {
            const auto node = db_.Nodes().Find(node_id);
            it = configs
                     .emplace(
                         node_id,
                         node && !node->config.empty() ? ParseOr(node->config, nullptr)
                                                       : boost::json::value(nullptr)
                     )
                     .first;
        }
        return it->second;
    };
    boost::json::array results;
    std::vector<std::pair<std::string, std::string>> publishes;
    for (const auto& action : actions) {
        boost::json::object result{{"node_id", action.node_id}, {"params", action.params}};
        const auto skip = [&](std::string reason) {
            result["status"] = "skipped";
            result["reason"] = std::move(reason);
        };
        if (!watches) {
            skip("the owner has no access to the watched node");
        } else if (!db_.Nodes().FindMapping(row.user_id, action.node_id)) {
            skip("the owner has no access to the node");
        } else if (const auto& config = config_of(action.node_id); config.is_null()) {
            skip("params no longer valid: the node has no config");
        } else {
            // Checked as a REST set is, against the node's config now (it may have changed
            // since the automation was saved: a param made read-only, bounds narrowed), and
            // cast to its current types.
            try {
                const auto cast = nodes::ValidateParams(config, action.params);
                result["status"] = "sent";
                publishes.emplace_back(action.node_id, core::Serialize(cast));
            } catch (const core::ApiError& e) {
                skip(
                    std::string("params no longer valid: ") +
                    (e.description().empty() ? e.what() : e.description())
                );
            }
        }
        results.push_back(std::move(result));
    }
    const std::int64_t now = clock_.NowSeconds();
    boost::json::object event{
        {"automation_id", row.automation_id},
        {"automation_name", row.name},
        {"event_type", row.event_type},
        {"trigger", trigger},
        {"actions", std::move(results)},
        {"timestamp", now}};
    if (!watches) {
        // The owner may no longer read that node: its report stays out of their event log.
        event["trigger"] = boost::json::object{{"node_id", row.node_id}, {"skipped", true}};
    }
    db_.Events().Append(
        "node_automation_trigger", row.user_id, row.node_id, core::Serialize(event), now
    );
    ++counters_.runs;
    counters_.actions_skipped += actions.size() - publishes.size();
    if (publishes.empty()) {
        return true;
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
    return true;
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
            const auto sun = SunEventsOf(a.events);
            // Which event was due, and the one after it (or after now, when late).
            const auto due = a.location ? NextSunEvent(
                                              row.next_run_at - 1,
                                              a.location->latitude,
                                              a.location->longitude,
                                              sun.sunrise,
                                              sun.sunset
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
                // Read again: an update since the list (new actions) applies to this run.
                const auto fresh = db_.Automations().Find(row.user_id, row.automation_id);
                if (!fresh || !fresh->enabled || fresh->event_type != row.event_type) {
                    return;
                }
                const bool is_sunrise = due && due->kind == SunEventKind::kSunrise;
                if (Run(*fresh,
                        boost::json::object{
                            {"daylight", is_sunrise ? "sunrise" : "sunset"},
                            {"at", row.next_run_at}})) {
                    ++ran;
                }
            });
        }
        if (rows.size() < static_cast<std::size_t>(kDaylightBatch)) {
            break;
        }
    }
    return ran;
}

std::optional<boost::json::object> AutomationRunner::Weather(PlaceKey place) {
    const auto now = clock_.Monotonic();
    {
        std::lock_guard lock(weather_mutex_);
        if (const auto it = weather_cache_.find(place);
            it != weather_cache_.end() && now - it->second.at < config_.weather_cache) {
            return it->second.reading;
        }
        if (now < weather_open_until_) {
            ++counters_.weather_places_deferred;  // the breaker is open: no request
            return std::nullopt;
        }
    }
    // The rounded place is asked (the cache key): no more precise a location leaves the server
    // than the reading is shared at.
    const double latitude = static_cast<double>(place.first) / 100.0;
    const double longitude = static_cast<double>(place.second) / 100.0;
    try {
        ++counters_.weather_fetches;
        auto reading = ReadingJson(weather_->Current(latitude, longitude));
        std::lock_guard lock(weather_mutex_);
        weather_failures_in_row_ = 0;
        weather_trips_ = 0;
        // Bounded: places with automations, refreshed each poll; emptied when it overflows.
        if (weather_cache_.size() >= 100000) {
            weather_cache_.clear();
        }
        weather_cache_[place] = CachedWeather{reading, now};
        return reading;
    } catch (const std::exception& e) {
        ++counters_.weather_failures;
        core::log::Warn(
            "weather at " + std::to_string(latitude) + "," + std::to_string(longitude) +
            " unavailable: " + e.what()
        );
        std::lock_guard lock(weather_mutex_);
        // Closed: open after weather_breaker_failures failures in a row. Opened before (no
        // success since): the retry failed, open again for twice as long.
        if (++weather_failures_in_row_ >= config_.weather_breaker_failures || weather_trips_ > 0) {
            const auto backoff = std::min<std::chrono::seconds>(
                std::chrono::seconds(60) * (std::int64_t{1} << std::min(weather_trips_, 20)),
                config_.weather_backoff_max
            );
            weather_open_until_ = clock_.Monotonic() + backoff;
            weather_failures_in_row_ = 0;
            ++weather_trips_;
            ++counters_.weather_breaker_trips;
            core::log::Warn(
                "weather provider: " + std::to_string(config_.weather_breaker_failures) +
                " or more failures, no request for " + std::to_string(backoff.count()) + " s"
            );
        }
        return std::nullopt;
    }
}

int AutomationRunner::PollWeather() {
    if (weather_ == nullptr) {
        return 0;
    }
    const auto rows = storage::ReadSnapshot(db_, [&] { return db_.Automations().Weather(); });
    // The places polled: the first max_weather_places (the service refuses new places past
    // it; more are only found after the limit was lowered), each with its automations.
    std::map<PlaceKey, std::vector<const storage::AutomationRow*>> places;
    std::set<PlaceKey> over_cap;
    for (const auto& row : rows) {
        const auto place = PlaceOf(row.latitude, row.longitude);
        if (config_.max_weather_places > 0 && !places.contains(place) &&
            places.size() >= static_cast<std::size_t>(config_.max_weather_places)) {
            over_cap.insert(place);
            continue;
        }
        places[place].push_back(&row);
    }
    counters_.weather_places_over_cap += over_cap.size();
    if (places.empty()) {
        return 0;
    }
    // A slow provider gets one poll interval in all; a poll cut short resumes where it
    // stopped, so that every place gets its turn.
    const auto started = clock_.Monotonic();
    auto first = weather_resume_ ? places.lower_bound(*weather_resume_) : places.begin();
    if (first == places.end()) {
        first = places.begin();
    }
    weather_resume_.reset();
    int ran = 0;
    auto it = first;
    for (std::size_t done = 0; done < places.size(); ++done) {
        if (weather_stopping_) {
            break;
        }
        if (clock_.Monotonic() - started >= config_.weather_poll) {
            weather_resume_ = it->first;
            counters_.weather_places_deferred += places.size() - done;
            core::log::Warn(
                "weather poll: " + std::to_string(places.size() - done) + " of " +
                std::to_string(places.size()) +
                " places left for the next poll (the provider is slow)"
            );
            break;
        }
        // The provider is asked outside any transaction (it may take seconds).
        const auto reading = Weather(it->first);
        for (const auto* listed : it->second) {
            if (!reading) {
                break;
            }
            const auto events = ReadEvents(EventType::kWeather, listed->events);
            const bool holds = EventsHold(events, listed->event_operator, [&](const Condition& c) {
                return reading->if_contains(c.param);
            });
            db_.Transaction([&] {
                // Read again: the owner may have changed, moved or deleted it since the list;
                // a new place is evaluated at the next poll, new actions apply now.
                const auto row = db_.Automations().Find(listed->user_id, listed->automation_id);
                if (!row || !row->enabled || row->events != listed->events ||
                    row->event_operator != listed->event_operator ||
                    row->latitude != listed->latitude || row->longitude != listed->longitude) {
                    return;
                }
                ran += Evaluated(*row, holds, boost::json::object{{"weather", *reading}}) ? 1 : 0;
            });
        }
        if (++it == places.end()) {
            it = places.begin();
        }
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
        "Automation actions skipped: the owner had no access to the node, or the params no "
        "longer passed its config.",
        counters_.actions_skipped
    );
    line(
        "rainmaker_automation_runs_suppressed_total",
        "Automation runs suppressed: more than automations.max_runs_per_minute in a minute.",
        counters_.runs_suppressed
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
    line(
        "rainmaker_automation_weather_breaker_trips_total",
        "Times the weather provider's circuit breaker opened.",
        counters_.weather_breaker_trips
    );
    line(
        "rainmaker_automation_weather_places_deferred_total",
        "Places not asked at a poll: the breaker was open or the poll's time budget spent.",
        counters_.weather_places_deferred
    );
    line(
        "rainmaker_automation_weather_places_over_cap_total",
        "Places not polled: past automations.max_weather_places.",
        counters_.weather_places_over_cap
    );
    return out;
}

}  // namespace rainmaker::domain::automations

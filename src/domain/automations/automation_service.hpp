// Automations (#87-#90): a user's triggers and the params they set on nodes, created, changed,
// read and deleted by their owner only. The rules are the catalog's (name unique per user and
// 1..256 characters, 1..5 events, event_operator when several, 1..10 actions, a location for
// daylight and weather, metadata overwritten on update); the owner must have access to the
// watched node and to every action's node. Evaluation is automation_runner.hpp's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/automations/automation.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::automations {

struct AutomationConfig {
    int max_per_user = 1000;
    // node_params automations one user may point at one node (0 = no limit): every params
    // report of the node reads and evaluates each of them.
    int max_per_node_per_user = 100;
    // Runs of one automation within a minute (0 = no limit): an automation whose actions
    // satisfy its own events again (retrigger and a device echoing the set), or two that
    // toggle each other, would otherwise loop as fast as the devices answer.
    int max_runs_per_minute = 30;
    int default_page_size = 10;  // #89 without num_records
    // How often the scheduler looks for due sunrises and sunsets, and how late one may still
    // run (a server that was down longer skips it and waits for the next).
    std::chrono::seconds daylight_check{30};
    std::chrono::seconds daylight_grace{900};
    // The weather provider (an Open-Meteo-style API) base URL; empty: weather automations are
    // refused with 124021.
    std::string weather_url;
    std::chrono::seconds weather_poll{600};   // how often weather automations are evaluated
    std::chrono::seconds weather_cache{300};  // a place's reading is reused this long
    std::chrono::seconds weather_timeout{10};
    // Distinct places (0.01° cells) polled in all, and held by one user's weather automations
    // (0 = no limit): one provider request per place per poll.
    int max_weather_places = 1000;
    int max_weather_places_per_user = 10;
    // The provider's circuit breaker: after this many consecutive failed requests no request
    // is made for a minute, doubling at each failed retry up to weather_backoff_max.
    int weather_breaker_failures = 5;
    std::chrono::seconds weather_backoff_max{3600};
};

// The automation a stored row holds.
Automation FromRow(const storage::AutomationRow& row);

// Which of sunrise and sunset a daylight automation's events wait for.
struct SunEvents {
    bool sunrise = false;
    bool sunset = false;
};

SunEvents SunEventsOf(const std::vector<Event>& events);

// The next sunrise or sunset a daylight automation waits for after `after`; 0 when there is
// none within a year (polar day or night: looked for again after an update).
std::int64_t NextDaylightRun(
    const std::vector<Event>& events, const Location& location, std::int64_t after
);

class AutomationService {
public:
    // `weather_available`: a weather provider is configured.
    AutomationService(
        storage::Database& db,
        const core::Clock& clock,
        AutomationConfig config,
        bool weather_available
    );

    // #87. Returns the new automation_id. Throws kAutomationNameMissing, kAutomationNameLength,
    // kAutomationEventTypeMissing, kNodeIdMissing, kAutomationNodeIdForLocation,
    // kAutomationLocationMissing, kAutomationLocationInvalid, kLocationTriggersNotConfigured,
    // kAutomationNotAuthorized, kAutomationNoEvents, kAutomationTooManyEvents,
    // kAutomationBadCheck, kAutomationBadEventParams, kAutomationOneWeatherCondition,
    // kAutomationOperatorNeeded, kAutomationOperatorUnsupported, kAutomationNoActions,
    // kAutomationTooManyActions, kConfigNotFound, kInvalidBody, kInputTooLarge,
    // kAutomationNameTaken, kTooManyRequests (config max_per_user, max_per_node_per_user,
    // max_weather_places_per_user, max_weather_places).
    std::string Create(const auth::AuthContext& caller, const AutomationInput& input);
    // #88: the members given replace the stored ones (metadata whole). Throws
    // kAutomationIdMissing, kAutomationNotFound, kAutomationNothingToUpdate and Create's
    // checks of the members given.
    void Update(
        const auth::AuthContext& caller,
        std::string_view automation_id,
        const AutomationInput& input
    );
    // #89, one automation. Throws kAutomationNotFound.
    Automation Get(const auth::AuthContext& caller, std::string_view automation_id);
    // #89, the caller's automations (those watching `node_id` when given), by id. Throws
    // kInvalidQuery (num_records < 1), kInvalidStartId, kAutomationNoneFound.
    AutomationPage List(
        const auth::AuthContext& caller,
        std::string_view node_id,
        std::string_view start_id,
        std::optional<int> num_records
    );
    // #90. Throws kAutomationIdMissing, kAutomationNotFound.
    void Delete(const auth::AuthContext& caller, std::string_view automation_id);

private:
    // The caller's access to `node_id`; throws kAutomationNotAuthorized without it.
    void RequireAccess(const auth::AuthContext& caller, std::string_view node_id);
    // Checks the actions and casts their params to each node's types.
    std::vector<Action> CheckActions(
        const auth::AuthContext& caller, const boost::json::value& actions
    );
    // Throws kTooManyRequests when the user already points max_per_node_per_user automations
    // at `node_id`. Inside the write transaction.
    void RequireNodeRoom(std::string_view user_id, std::string_view node_id);
    // Throws kTooManyRequests when `where` is a new place (0.01° cell) and the user, or the
    // server, already has as many places as allowed. Inside the write transaction.
    void RequireWeatherRoom(std::string_view user_id, const Location& where);
    // The events of `type` checked against the watched node's config (when it has one).
    std::vector<Event> CheckEvents(
        EventType type, std::string_view node_id, const boost::json::value& events
    );

    storage::Database& db_;
    const core::Clock& clock_;
    AutomationConfig config_;
    bool weather_available_;
};

}  // namespace rainmaker::domain::automations

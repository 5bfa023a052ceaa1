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
};

// The automation a stored row holds.
Automation FromRow(const storage::AutomationRow& row);

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
    // kAutomationNameTaken, kTooManyRequests (config max_per_user).
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

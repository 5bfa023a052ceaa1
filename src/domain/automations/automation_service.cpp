// Automation CRUD over the automation and node stores.
#include "domain/automations/automation_service.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

#include "core/error.hpp"
#include "core/random.hpp"
#include "domain/automations/automation_rules.hpp"
#include "domain/automations/solar.hpp"
#include "domain/nodes/params_validation.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::automations {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kIdLength = 22;

bool IsAutomationId(std::string_view id) {
    return id.size() == kIdLength &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

// The row's columns of `a` (events, actions and the rest serialized).
void Store(const Automation& a, storage::AutomationRow& row) {
    row.name = a.name;
    row.event_type = std::string(EventTypeName(a.event_type));
    row.node_id = a.node_id;
    row.location = a.location ? SerializeBounded(a.location->given, "location") : "";
    row.latitude = a.location ? a.location->latitude : 0;
    row.longitude = a.location ? a.location->longitude : 0;
    row.events = SerializeBounded(EventsJson(a.events), "events");
    row.event_operator = a.event_operator;
    row.actions = SerializeBounded(ActionsJson(a.actions), "actions");
    row.metadata = a.metadata ? SerializeBounded(*a.metadata, "metadata") : "";
    row.retrigger = a.retrigger;
    row.enabled = a.enabled;
}

}  // namespace

Automation FromRow(const storage::AutomationRow& row) {
    Automation a;
    a.automation_id = row.automation_id;
    a.user_id = row.user_id;
    a.name = row.name;
    a.event_type = ParseEventType(row.event_type).value_or(EventType::kNodeParams);
    a.node_id = row.node_id;
    if (!row.location.empty()) {
        a.location = Location{row.latitude, row.longitude, ParseOr(row.location, nullptr)};
    }
    a.events = ReadEvents(a.event_type, row.events);
    a.event_operator = row.event_operator;
    a.actions = ReadActions(row.actions);
    if (!row.metadata.empty()) {
        a.metadata = ParseOr(row.metadata, nullptr);
    }
    a.retrigger = row.retrigger;
    a.enabled = row.enabled;
    a.created_at = row.created_at;
    a.updated_at = row.updated_at;
    return a;
}

SunEvents SunEventsOf(const std::vector<Event>& events) {
    SunEvents sun;
    for (const auto& e : events) {
        for (const auto& c : e.conditions) {
            (c.param == "sunrise" ? sun.sunrise : sun.sunset) = true;
        }
    }
    return sun;
}

std::int64_t NextDaylightRun(
    const std::vector<Event>& events, const Location& location, std::int64_t after
) {
    const auto sun = SunEventsOf(events);
    const auto next =
        NextSunEvent(after, location.latitude, location.longitude, sun.sunrise, sun.sunset);
    return next ? next->at : 0;
}

AutomationService::AutomationService(
    storage::Database& db, const core::Clock& clock, AutomationConfig config, bool weather_available
)
    : db_(db), clock_(clock), config_(std::move(config)), weather_available_(weather_available) {}

void AutomationService::RequireAccess(const auth::AuthContext& caller, std::string_view node_id) {
    // Any role will do: a secondary may set the node's params (docs/access-model.md), and so
    // may an automation of theirs. Checked again whenever it runs.
    if (!db_.Nodes().FindMapping(caller.user_id, node_id)) {
        throw ApiError(
            ErrorCode::kAutomationNotAuthorized, {}, "no access to node " + std::string(node_id)
        );
    }
}

std::vector<Action> AutomationService::CheckActions(
    const auth::AuthContext& caller, const boost::json::value& actions
) {
    auto out = ParseActions(actions);
    for (auto& action : out) {
        RequireAccess(caller, action.node_id);
        // The params are sent as REST sets are: checked against the node's config and cast
        // to its types (an int param given 5.0 gets 5).
        const auto node = db_.Nodes().Find(action.node_id);
        if (!node || node->config.empty()) {
            throw ApiError(
                ErrorCode::kConfigNotFound,
                "Node config not found: node " + action.node_id + " has not reported one yet"
            );
        }
        action.params = nodes::ValidateParams(ParseOr(node->config, nullptr), action.params);
    }
    return out;
}

void AutomationService::RequireNodeRoom(std::string_view user_id, std::string_view node_id) {
    // Every params report of the node reads and evaluates each automation watching it.
    if (config_.max_per_node_per_user > 0 &&
        db_.Automations().CountForUserNode(user_id, node_id) >= config_.max_per_node_per_user) {
        throw ApiError(
            ErrorCode::kTooManyRequests,
            "Too many requests: a user has at most " +
                std::to_string(config_.max_per_node_per_user) + " automations watching one node"
        );
    }
}

void AutomationService::RequireWeatherRoom(std::string_view user_id, const Location& where) {
    // Each distinct place costs one provider request per poll.
    const auto place = PlaceOf(where.latitude, where.longitude);
    const auto full = [&](std::string_view owner, int limit) {
        if (limit <= 0) {
            return false;
        }
        std::set<PlaceKey> places;
        for (const auto& [latitude, longitude] : db_.Automations().WeatherLocations(owner)) {
            places.insert(PlaceOf(latitude, longitude));
        }
        return !places.contains(place) && places.size() >= static_cast<std::size_t>(limit);
    };
    if (full(user_id, config_.max_weather_places_per_user)) {
        throw ApiError(
            ErrorCode::kTooManyRequests,
            "Too many requests: a user's weather automations watch at most " +
                std::to_string(config_.max_weather_places_per_user) + " places"
        );
    }
    if (full("", config_.max_weather_places)) {
        throw ApiError(
            ErrorCode::kTooManyRequests,
            "Too many requests: the server polls the weather of at most " +
                std::to_string(config_.max_weather_places) + " places",
            "automations.max_weather_places reached"
        );
    }
}

std::vector<Event> AutomationService::CheckEvents(
    EventType type, std::string_view node_id, const boost::json::value& events
) {
    std::unique_ptr<nodes::DeclaredParams> declared;
    if (type == EventType::kNodeParams) {
        // A node that has not reported its config yet: the events are checked for their
        // shape only (they hold once it reports the params they name).
        if (const auto node = db_.Nodes().Find(node_id); node && !node->config.empty()) {
            declared = std::make_unique<nodes::DeclaredParams>(ParseOr(node->config, nullptr));
        }
    }
    return ParseEvents(type, events, declared.get());
}

std::string AutomationService::Create(const auth::AuthContext& caller, const AutomationInput& in) {
    if (!in.name) {
        throw ApiError(ErrorCode::kAutomationNameMissing);
    }
    CheckAutomationName(*in.name);
    if (!in.event_type || in.event_type->empty()) {
        throw ApiError(ErrorCode::kAutomationEventTypeMissing);
    }
    const auto type = ParseEventType(*in.event_type);
    if (!type) {
        throw ApiError(
            ErrorCode::kAutomationEventTypeMissing,
            "Automation Event Type must be node_params, daylight or weather."
        );
    }
    Automation a;
    a.automation_id = core::RandomAlnum(kIdLength);
    a.user_id = caller.user_id;
    a.name = *in.name;
    a.event_type = *type;
    if (*type == EventType::kNodeParams) {
        if (!in.node_id || in.node_id->empty()) {
            throw ApiError(ErrorCode::kNodeIdMissing);
        }
        if (in.location) {
            throw ApiError(
                ErrorCode::kAutomationLocationInvalid,
                "Automation Location is invalid or not supported: node_params automations "
                "take none."
            );
        }
        RequireAccess(caller, *in.node_id);
        a.node_id = *in.node_id;
    } else {
        if (in.node_id && !in.node_id->empty()) {
            throw ApiError(ErrorCode::kAutomationNodeIdForLocation);
        }
        if (!in.location || in.location->is_null()) {
            throw ApiError(ErrorCode::kAutomationLocationMissing);
        }
        a.location = ParseLocation(*in.location);
        if (*type == EventType::kWeather && !weather_available_) {
            throw ApiError(
                ErrorCode::kLocationTriggersNotConfigured,
                {},
                "weather automation refused: no [automations] weather_url configured"
            );
        }
    }
    a.events = CheckEvents(*type, a.node_id, in.events.value_or(nullptr));
    a.event_operator = ParseOperator(in.event_operator, a.events.size(), *type);
    a.actions = CheckActions(caller, in.actions.value_or(nullptr));
    if (in.metadata && !in.metadata->is_null()) {
        a.metadata = *in.metadata;
    }
    a.retrigger = in.retrigger.value_or(false);
    a.enabled = in.enabled.value_or(true);

    storage::AutomationRow row;
    Store(a, row);
    const std::int64_t now = clock_.NowSeconds();
    row.automation_id = a.automation_id;
    row.user_id = a.user_id;
    row.created_at = now;
    row.updated_at = now;
    if (a.event_type == EventType::kDaylight && a.enabled) {
        row.next_run_at = NextDaylightRun(a.events, *a.location, now);
    }
    db_.Transaction([&] {
        // Every params report of a watched node reads its automations: a user holds at most
        // config_.max_per_user of them.
        if (config_.max_per_user > 0 &&
            db_.Automations().CountForUser(caller.user_id) >= config_.max_per_user) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many requests: a user has at most " + std::to_string(config_.max_per_user) +
                    " automations"
            );
        }
        if (a.event_type == EventType::kNodeParams) {
            RequireNodeRoom(caller.user_id, a.node_id);
        } else if (a.event_type == EventType::kWeather) {
            RequireWeatherRoom(caller.user_id, *a.location);
        }
        if (!db_.Automations().Insert(row)) {
            throw ApiError(ErrorCode::kAutomationNameTaken);
        }
    });
    return a.automation_id;
}

void AutomationService::Update(
    const auth::AuthContext& caller, std::string_view automation_id, const AutomationInput& in
) {
    if (automation_id.empty()) {
        throw ApiError(ErrorCode::kAutomationIdMissing);
    }
    const bool anything = in.name || in.node_id || in.metadata || in.location || in.events ||
                          in.event_operator || in.actions || in.retrigger || in.enabled;
    db_.Transaction([&] {
        auto row = db_.Automations().Find(caller.user_id, automation_id);
        if (!row) {
            throw ApiError(ErrorCode::kAutomationNotFound);
        }
        if (!anything) {
            throw ApiError(ErrorCode::kAutomationNothingToUpdate);
        }
        Automation a = FromRow(*row);
        bool rearm = false;  // what the events read changed: evaluate from "false" again
        if (in.name) {
            CheckAutomationName(*in.name);
            a.name = *in.name;
        }
        if (in.node_id && *in.node_id != a.node_id) {
            if (a.event_type != EventType::kNodeParams) {
                throw ApiError(ErrorCode::kAutomationNodeIdForLocation);
            }
            if (in.node_id->empty()) {
                throw ApiError(ErrorCode::kNodeIdMissing);
            }
            RequireAccess(caller, *in.node_id);
            RequireNodeRoom(caller.user_id, *in.node_id);
            a.node_id = *in.node_id;
            rearm = true;
        }
        if (in.location) {
            if (a.event_type == EventType::kNodeParams) {
                throw ApiError(
                    ErrorCode::kAutomationLocationInvalid,
                    "Automation Location is invalid or not supported: node_params automations "
                    "take none."
                );
            }
            a.location = ParseLocation(*in.location);
            if (a.event_type == EventType::kWeather) {
                RequireWeatherRoom(caller.user_id, *a.location);
            }
            rearm = true;
        }
        if (in.events) {
            a.events = CheckEvents(a.event_type, a.node_id, *in.events);
            rearm = true;
        } else if (rearm && a.event_type == EventType::kNodeParams) {
            // The stored events, checked against the config of the node now watched.
            a.events = CheckEvents(a.event_type, a.node_id, EventsJson(a.events));
        }
        if (in.event_operator || in.events) {
            a.event_operator = ParseOperator(
                in.event_operator
                    ? in.event_operator
                    : (a.event_operator.empty() ? std::nullopt
                                                : std::optional<std::string>(a.event_operator)),
                a.events.size(),
                a.event_type
            );
            rearm = true;
        }
        if (in.actions) {
            a.actions = CheckActions(caller, *in.actions);
        }
        if (in.metadata) {
            // Overwritten, not merged (the catalog's rule); null removes it.
            a.metadata = in.metadata->is_null() ? std::nullopt : in.metadata;
        }
        if (in.retrigger) {
            a.retrigger = *in.retrigger;
        }
        if (in.enabled && *in.enabled != a.enabled) {
            a.enabled = *in.enabled;
            rearm = true;
        }
        Store(a, *row);
        const std::int64_t now = clock_.NowSeconds();
        row->updated_at = now;
        if (rearm) {
            row->last_state = false;
        }
        if (a.event_type == EventType::kDaylight && (rearm || row->next_run_at == 0)) {
            row->next_run_at = a.enabled ? NextDaylightRun(a.events, *a.location, now) : 0;
        }
        if (!db_.Automations().Update(*row)) {
            throw ApiError(ErrorCode::kAutomationNameTaken);
        }
    });
}

Automation AutomationService::Get(const auth::AuthContext& caller, std::string_view automation_id) {
    const auto row = db_.Automations().Find(caller.user_id, automation_id);
    if (!row) {
        throw ApiError(ErrorCode::kAutomationNotFound);
    }
    return FromRow(*row);
}

AutomationPage AutomationService::List(
    const auth::AuthContext& caller,
    std::string_view node_id,
    std::string_view start_id,
    std::optional<int> num_records
) {
    const int size = PageSize(num_records.value_or(config_.default_page_size));
    if (!start_id.empty() && !IsAutomationId(start_id)) {
        throw ApiError(ErrorCode::kInvalidStartId);
    }
    auto rows = db_.Automations().List(caller.user_id, node_id, start_id, size + 1);
    if (rows.empty()) {
        throw ApiError(ErrorCode::kAutomationNoneFound);
    }
    AutomationPage page;
    if (rows.size() > static_cast<std::size_t>(size)) {
        page.next_id = rows.back().automation_id;
        rows.pop_back();
    }
    for (const auto& row : rows) {
        page.automations.push_back(FromRow(row));
    }
    return page;
}

void AutomationService::Delete(const auth::AuthContext& caller, std::string_view automation_id) {
    if (automation_id.empty()) {
        throw ApiError(ErrorCode::kAutomationIdMissing);
    }
    if (!db_.Automations().Delete(caller.user_id, automation_id)) {
        throw ApiError(ErrorCode::kAutomationNotFound);
    }
}

}  // namespace rainmaker::domain::automations

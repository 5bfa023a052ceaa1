// What an automation is once checked: its trigger (the params of one node, sunrise and sunset
// at a place, or the weather there), the events that must hold, and the params it sets on
// nodes. Plain types shared by the CRUD service, the evaluator and the HTTP edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace rainmaker::domain::automations {

enum class EventType { kNodeParams, kDaylight, kWeather };

// The wire names: node_params, daylight, weather.
std::string_view EventTypeName(EventType type);
std::optional<EventType> ParseEventType(std::string_view name);

// An event's `check`: == != < <= > >=.
enum class Check { kEq, kNe, kLt, kLe, kGt, kGe };

std::string_view CheckName(Check check);
std::optional<Check> ParseCheck(std::string_view text);

// One compared value of an event: node_params `device`.`param` (a device may list several
// params, each must hold); weather `param` (temperature, pressure, humidity, wind_speed,
// weather_condition); daylight `param` sunrise or sunset (value true).
struct Condition {
    std::string device;  // node_params only
    std::string param;
    boost::json::value value;
};

struct Event {
    std::vector<Condition> conditions;
    Check check = Check::kEq;
    boost::json::object params;  // as the client gave them (answered back)
};

struct Action {
    std::string node_id;
    boost::json::object params;  // cast to the node's param types, ready to publish
};

struct Location {
    double latitude = 0;
    double longitude = 0;
    boost::json::value given;  // {latitude, longitude} as the client sent it (numbers or text)
};

struct Automation {
    std::string automation_id;
    std::string user_id;
    std::string name;
    EventType event_type = EventType::kNodeParams;
    std::string node_id;               // node_params only
    std::optional<Location> location;  // daylight and weather only
    std::vector<Event> events;
    std::string event_operator;  // "and" | "or" | "" (not given: one event)
    std::vector<Action> actions;
    std::optional<boost::json::value> metadata;
    bool retrigger = false;
    bool enabled = true;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// One page of #89's list form.
struct AutomationPage {
    std::vector<Automation> automations;
    std::optional<std::string> next_id;
};

// A create (#87) or update (#88) body: each member given or not. Events, actions and location
// stay JSON here: their rules depend on the event type and are the domain's.
struct AutomationInput {
    std::optional<std::string> name;
    std::optional<std::string> node_id;
    std::optional<std::string> event_type;
    std::optional<boost::json::value> metadata;  // any JSON; null clears it on update
    std::optional<boost::json::value> location;
    std::optional<boost::json::value> events;
    std::optional<std::string> event_operator;
    std::optional<boost::json::value> actions;
    std::optional<bool> retrigger;
    std::optional<bool> enabled;
};

}  // namespace rainmaker::domain::automations

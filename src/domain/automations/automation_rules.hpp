// The rules of an automation's parts as the catalog states them (#87/#88: name 1..256, 1..5
// events with a check each, event_operator and/or when several, 1..10 actions, a location for
// daylight and weather) and how its events are evaluated. Checks throw ApiError with the
// 127xxx code the catalog gives; evaluation never throws.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "domain/automations/automation.hpp"
#include "domain/nodes/params_validation.hpp"

namespace rainmaker::domain::automations {

inline constexpr std::size_t kMaxEvents = 5;
inline constexpr std::size_t kMaxActions = 10;
inline constexpr std::size_t kMaxNameCharacters = 256;
// Params one event may compare (one device's params, or one weather or daylight key).
inline constexpr std::size_t kMaxConditionsPerEvent = 10;

// The weather conditions the reference lists (event weather_condition).
const std::vector<std::string>& WeatherConditions();

// Throws kAutomationNameLength unless `name` is 1..256 characters (code points).
void CheckAutomationName(std::string_view name);

// {latitude, longitude}, numbers or decimal text, within [-90, 90] and [-180, 180]; throws
// kAutomationLocationInvalid.
Location ParseLocation(const boost::json::value& location);

// The operator for `event_count` events: "and" or "or" (any case), "" when not given for one
// event. Throws kAutomationOperatorNeeded (several events, none or a bad one),
// kAutomationOperatorUnsupported (one event, a bad one), kAutomationOperatorUnsupported for
// "and" over daylight events (they are instants: two never hold at once).
std::string ParseOperator(
    const std::optional<std::string>& given, std::size_t event_count, EventType type
);

// The events of an automation of `type`: 1..5 objects {params, check}. node_params params are
// {device: {param: value}}, checked against `declared` (the watched node's config) when it is
// known; weather params one of temperature, pressure, humidity, wind_speed (numbers) or
// weather_condition (a listed condition, at most one such event); daylight {sunrise|sunset:
// true} with "==". Throws kAutomationNoEvents, kAutomationTooManyEvents, kAutomationBadCheck,
// kAutomationBadEventParams, kAutomationOneWeatherCondition.
std::vector<Event> ParseEvents(
    EventType type, const boost::json::value& events, const nodes::DeclaredParams* declared
);

// 1..10 actions {node_id, params: {device: {param: value}}} (params checked against each
// node's config by the service). Throws kAutomationNoActions, kAutomationTooManyActions,
// kInvalidBody.
std::vector<Action> ParseActions(const boost::json::value& actions);

// Stored JSON back to events and actions (rows the service checked; a damaged one reads as
// none, so that automation never fires).
std::vector<Event> ReadEvents(EventType type, const std::string& text);
std::vector<Action> ReadActions(const std::string& text);

boost::json::array EventsJson(const std::vector<Event>& events);
boost::json::array ActionsJson(const std::vector<Action>& actions);

// `actual check expected`: numbers compare by value (5 == 5.0), strings and booleans only
// with == and !=, other JSON by equality; a missing actual (nullptr) holds for no check.
bool Compare(const boost::json::value* actual, Check check, const boost::json::value& expected);

// The value a condition reads (nullptr: not known).
using Lookup = std::function<const boost::json::value*(const Condition&)>;

// Whether the events hold: each event when every one of its conditions holds, combined by
// `event_operator` ("or": any, otherwise all).
bool EventsHold(
    const std::vector<Event>& events, std::string_view event_operator, const Lookup& lookup
);

// Whether the report mentions a param the events compare (node_params: a report that does not
// cannot change their outcome).
bool Mentions(const std::vector<Event>& events, const boost::json::object& report);

// A place rounded to 0.01° (about a kilometre), in hundredths of a degree: automations next
// door share one weather reading, and the provider is asked for the rounded place.
using PlaceKey = std::pair<long, long>;
PlaceKey PlaceOf(double latitude, double longitude);

// The value of `device`.`param` in a params document, nullptr when it has none.
const boost::json::value* ParamIn(
    const boost::json::object& params, std::string_view device, std::string_view param
);

}  // namespace rainmaker::domain::automations

// Parsing and checking of events, actions, location and operator; event evaluation.
#include "domain/automations/automation_rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/text.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::automations {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::string_view kWeatherNumbers[] = {
    "temperature", "pressure", "humidity", "wind_speed"};
constexpr std::string_view kWeatherCondition = "weather_condition";

[[noreturn]] void BadEvent(std::size_t index, const std::string& why) {
    throw ApiError(
        ErrorCode::kAutomationBadEventParams,
        "Error, Invalid event params: events[" + std::to_string(index) + "] " + why
    );
}

[[noreturn]] void BadAction(std::size_t index, const std::string& why) {
    throw ApiError(
        ErrorCode::kInvalidBody,
        "Invalid request body: actions[" + std::to_string(index) + "] " + why
    );
}

bool IsOrdering(Check check) {
    return check != Check::kEq && check != Check::kNe;
}

bool IsScalar(const boost::json::value& v) {
    return v.is_bool() || v.is_number() || v.is_string();
}

// A coordinate from a number or decimal text (the SDK sends strings).
std::optional<double> Coordinate(const boost::json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    double out = 0;
    if (v->is_number()) {
        out = v->to_number<double>();
    } else if (v->is_string()) {
        const std::string_view text = v->as_string();
        if (text.empty() || text.size() > 32) {
            return std::nullopt;
        }
        const auto* begin = text.data();
        const auto* end = begin + text.size();
        const auto [ptr, ec] = std::from_chars(begin, end, out);
        if (ec != std::errc{} || ptr != end) {
            return std::nullopt;
        }
    } else {
        return std::nullopt;
    }
    return std::isfinite(out) ? std::optional<double>(out) : std::nullopt;
}

// One node_params event's conditions: {device: {param: value, ...}}.
std::vector<Condition> NodeConditions(
    std::size_t index,
    const boost::json::object& params,
    Check check,
    const nodes::DeclaredParams* declared
) {
    std::vector<Condition> out;
    for (const auto& [device, device_params] : params) {
        if (!device_params.is_object() || device_params.as_object().empty()) {
            BadEvent(index, "params." + std::string(device) + " must be an object of params");
        }
        for (const auto& [param, value] : device_params.as_object()) {
            const std::string name = std::string(device) + "." + std::string(param);
            if (!IsScalar(value)) {
                BadEvent(index, name + " must be compared with a number, string or boolean");
            }
            if (IsOrdering(check) && !value.is_number()) {
                BadEvent(index, name + ": " + std::string(CheckName(check)) + " needs a number");
            }
            if (declared != nullptr) {
                const std::string* type = declared->DataTypeOf(device, param);
                if (type == nullptr) {
                    BadEvent(index, name + " is not a param of the node");
                }
                const bool numeric = *type == "int" || *type == "float";
                const bool fits = (*type == "bool" && value.is_bool()) ||
                                  (numeric && value.is_number()) ||
                                  (*type == "string" && value.is_string()) ||
                                  (*type != "bool" && !numeric && *type != "string");
                if (!fits) {
                    BadEvent(index, name + " is a " + *type + " param");
                }
            }
            out.push_back(Condition{std::string(device), std::string(param), value});
            if (out.size() > kMaxConditionsPerEvent) {
                BadEvent(
                    index,
                    "compares more than " + std::to_string(kMaxConditionsPerEvent) + " params"
                );
            }
        }
    }
    return out;
}

Condition WeatherCondition(std::size_t index, const boost::json::object& params, Check check) {
    if (params.size() != 1) {
        BadEvent(index, "must compare one weather parameter");
    }
    const auto& [key, value] = *params.begin();
    if (key == kWeatherCondition) {
        const auto& known = WeatherConditions();
        if (!value.is_string() ||
            std::find(known.begin(), known.end(), value.as_string()) == known.end()) {
            BadEvent(index, "weather_condition is not a supported condition");
        }
        if (IsOrdering(check)) {
            BadEvent(index, "weather_condition is compared with == or != only");
        }
        return Condition{"", std::string(key), value};
    }
    if (std::find(std::begin(kWeatherNumbers), std::end(kWeatherNumbers), key) ==
        std::end(kWeatherNumbers)) {
        BadEvent(
            index, "params must be temperature, pressure, humidity, wind_speed or weather_condition"
        );
    }
    if (!value.is_number()) {
        BadEvent(index, std::string(key) + " must be compared with a number");
    }
    return Condition{"", std::string(key), value};
}

Condition DaylightCondition(std::size_t index, const boost::json::object& params, Check check) {
    if (params.size() != 1) {
        BadEvent(index, "must name one daylight event");
    }
    const auto& [key, value] = *params.begin();
    if (key != "sunrise" && key != "sunset") {
        BadEvent(index, "daylight events are sunrise and sunset");
    }
    if (!value.is_bool() || !value.as_bool() || check != Check::kEq) {
        BadEvent(index, std::string(key) + " takes true with ==");
    }
    return Condition{"", std::string(key), value};
}

Event ParseEvent(
    EventType type,
    std::size_t index,
    const boost::json::value& item,
    const nodes::DeclaredParams* declared
) {
    if (!item.is_object()) {
        BadEvent(index, "must be an object {params, check}");
    }
    const auto& object = item.as_object();
    const auto* check_text = object.if_contains("check");
    // The apps leave `check` out of daylight events now and then: == is the only one they take.
    std::optional<Check> check = Check::kEq;
    if (check_text != nullptr || type != EventType::kDaylight) {
        check = check_text != nullptr && check_text->is_string()
                    ? ParseCheck(check_text->as_string())
                    : std::nullopt;
    }
    if (!check) {
        throw ApiError(ErrorCode::kAutomationBadCheck);
    }
    const auto* params = object.if_contains("params");
    if (params == nullptr || !params->is_object() || params->as_object().empty()) {
        BadEvent(index, "needs params");
    }
    Event event;
    event.check = *check;
    event.params = params->as_object();
    switch (type) {
        case EventType::kNodeParams:
            event.conditions = NodeConditions(index, params->as_object(), *check, declared);
            break;
        case EventType::kWeather:
            event.conditions.push_back(WeatherCondition(index, params->as_object(), *check));
            break;
        case EventType::kDaylight:
            event.conditions.push_back(DaylightCondition(index, params->as_object(), *check));
            break;
    }
    return event;
}

template <typename T>
bool Ordered(T a, Check check, T b) {
    switch (check) {
        case Check::kEq:
            return a == b;
        case Check::kNe:
            return a != b;
        case Check::kLt:
            return a < b;
        case Check::kLe:
            return a <= b;
        case Check::kGt:
            return a > b;
        case Check::kGe:
            return a >= b;
    }
    return false;
}

}  // namespace

std::string_view EventTypeName(EventType type) {
    switch (type) {
        case EventType::kNodeParams:
            return "node_params";
        case EventType::kDaylight:
            return "daylight";
        case EventType::kWeather:
            return "weather";
    }
    return "node_params";
}

std::optional<EventType> ParseEventType(std::string_view name) {
    for (const auto type : {EventType::kNodeParams, EventType::kDaylight, EventType::kWeather}) {
        if (EventTypeName(type) == name) {
            return type;
        }
    }
    return std::nullopt;
}

std::string_view CheckName(Check check) {
    switch (check) {
        case Check::kEq:
            return "==";
        case Check::kNe:
            return "!=";
        case Check::kLt:
            return "<";
        case Check::kLe:
            return "<=";
        case Check::kGt:
            return ">";
        case Check::kGe:
            return ">=";
    }
    return "==";
}

std::optional<Check> ParseCheck(std::string_view text) {
    for (const auto check :
         {Check::kEq, Check::kNe, Check::kLt, Check::kLe, Check::kGt, Check::kGe}) {
        if (CheckName(check) == text) {
            return check;
        }
    }
    return std::nullopt;
}

const std::vector<std::string>& WeatherConditions() {
    static const std::vector<std::string> kConditions = {
        "Thunderstorm",
        "Drizzle",
        "Rain",
        "Snow",
        "Clear",
        "Clouds",
        "Mist",
        "Smoke",
        "Haze",
        "Dust",
        "Fog",
        "Sand",
        "Ash",
        "Squall",
        "Tornado"};
    return kConditions;
}

void CheckAutomationName(std::string_view name) {
    // Characters, not bytes: a name in Devanagari or Chinese may hold 256 of them. Boost.JSON
    // hands over valid UTF-8 only, so counting the bytes that start a code point is enough.
    const auto characters =
        static_cast<std::size_t>(std::count_if(name.begin(), name.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    if (characters < 1 || characters > kMaxNameCharacters) {
        throw ApiError(ErrorCode::kAutomationNameLength);
    }
}

Location ParseLocation(const boost::json::value& location) {
    const auto* object = location.if_object();
    const auto latitude = Coordinate(object != nullptr ? object->if_contains("latitude") : nullptr);
    const auto longitude =
        Coordinate(object != nullptr ? object->if_contains("longitude") : nullptr);
    if (!latitude || !longitude || *latitude < -90 || *latitude > 90 || *longitude < -180 ||
        *longitude > 180) {
        throw ApiError(ErrorCode::kAutomationLocationInvalid);
    }
    return Location{
        *latitude,
        *longitude,
        boost::json::object{
            {"latitude", object->at("latitude")}, {"longitude", object->at("longitude")}}};
}

std::string ParseOperator(
    const std::optional<std::string>& given, std::size_t event_count, EventType type
) {
    const std::string op = core::AsciiLower(given.value_or(""));
    const bool valid = op == "and" || op == "or";
    if (event_count > 1 && !valid) {
        throw ApiError(ErrorCode::kAutomationOperatorNeeded);
    }
    if (given && !valid) {
        throw ApiError(ErrorCode::kAutomationOperatorUnsupported);
    }
    if (type == EventType::kDaylight && event_count > 1 && op == "and") {
        throw ApiError(
            ErrorCode::kAutomationOperatorUnsupported,
            "Event operator is not supported: sunrise and sunset never happen at once, use or"
        );
    }
    return op;
}

std::vector<Event> ParseEvents(
    EventType type, const boost::json::value& events, const nodes::DeclaredParams* declared
) {
    if (!events.is_array() || events.as_array().empty()) {
        if (!events.is_array() && !events.is_null()) {
            throw ApiError(
                ErrorCode::kInvalidBody, "Invalid request body: events must be an array"
            );
        }
        throw ApiError(ErrorCode::kAutomationNoEvents);
    }
    const auto& list = events.as_array();
    if (list.size() > kMaxEvents) {
        throw ApiError(ErrorCode::kAutomationTooManyEvents);
    }
    std::vector<Event> out;
    int weather_conditions = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        out.push_back(ParseEvent(type, i, list[i], declared));
        if (type == EventType::kWeather && out.back().conditions[0].param == kWeatherCondition) {
            ++weather_conditions;
        }
    }
    if (weather_conditions > 1) {
        throw ApiError(ErrorCode::kAutomationOneWeatherCondition);
    }
    return out;
}

std::vector<Action> ParseActions(const boost::json::value& actions) {
    if (!actions.is_array() || actions.as_array().empty()) {
        if (!actions.is_array() && !actions.is_null()) {
            throw ApiError(
                ErrorCode::kInvalidBody, "Invalid request body: actions must be an array"
            );
        }
        throw ApiError(ErrorCode::kAutomationNoActions);
    }
    const auto& list = actions.as_array();
    if (list.size() > kMaxActions) {
        throw ApiError(ErrorCode::kAutomationTooManyActions);
    }
    std::vector<Action> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto* object = list[i].if_object();
        if (object == nullptr) {
            BadAction(i, "must be an object {node_id, params}");
        }
        const auto* node = object->if_contains("node_id");
        if (node == nullptr || !node->is_string() || node->as_string().empty()) {
            BadAction(i, "needs a node_id");
        }
        const auto* params = object->if_contains("params");
        if (params == nullptr || !params->is_object() || params->as_object().empty()) {
            BadAction(i, "needs params {device: {param: value}}");
        }
        for (const auto& [device, values] : params->as_object()) {
            if (!values.is_object() || values.as_object().empty()) {
                BadAction(i, "params." + std::string(device) + " must be an object of params");
            }
        }
        out.push_back(Action{std::string(node->as_string()), params->as_object()});
    }
    return out;
}

std::vector<Event> ReadEvents(EventType type, const std::string& text) {
    try {
        return ParseEvents(type, ParseOr(text, boost::json::array{}), nullptr);
    } catch (const ApiError&) {
        return {};
    }
}

std::vector<Action> ReadActions(const std::string& text) {
    try {
        return ParseActions(ParseOr(text, boost::json::array{}));
    } catch (const ApiError&) {
        return {};
    }
}

boost::json::array EventsJson(const std::vector<Event>& events) {
    boost::json::array out;
    for (const auto& e : events) {
        out.push_back(boost::json::object{{"params", e.params}, {"check", CheckName(e.check)}});
    }
    return out;
}

boost::json::array ActionsJson(const std::vector<Action>& actions) {
    boost::json::array out;
    for (const auto& a : actions) {
        out.push_back(boost::json::object{{"node_id", a.node_id}, {"params", a.params}});
    }
    return out;
}

bool Compare(const boost::json::value* actual, Check check, const boost::json::value& expected) {
    if (actual == nullptr) {
        return false;
    }
    if (actual->is_number() && expected.is_number()) {
        // Integers beyond 2^53 lose precision as doubles: compare them exactly when both are.
        if (actual->is_int64() && expected.is_int64()) {
            return Ordered(actual->as_int64(), check, expected.as_int64());
        }
        return Ordered(actual->to_number<double>(), check, expected.to_number<double>());
    }
    if (IsOrdering(check)) {
        return false;
    }
    const bool equal = *actual == expected;
    return check == Check::kEq ? equal : !equal;
}

bool EventsHold(
    const std::vector<Event>& events, std::string_view event_operator, const Lookup& lookup
) {
    if (events.empty()) {
        return false;
    }
    const auto holds = [&](const Event& e) {
        return std::all_of(e.conditions.begin(), e.conditions.end(), [&](const Condition& c) {
            return Compare(lookup(c), e.check, c.value);
        });
    };
    if (event_operator == "or") {
        return std::any_of(events.begin(), events.end(), holds);
    }
    return std::all_of(events.begin(), events.end(), holds);
}

bool Mentions(const std::vector<Event>& events, const boost::json::object& report) {
    for (const auto& e : events) {
        for (const auto& c : e.conditions) {
            if (ParamIn(report, c.device, c.param) != nullptr) {
                return true;
            }
        }
    }
    return false;
}

PlaceKey PlaceOf(double latitude, double longitude) {
    return {std::lround(latitude * 100.0), std::lround(longitude * 100.0)};
}

const boost::json::value* ParamIn(
    const boost::json::object& params, std::string_view device, std::string_view param
) {
    const auto* d = params.if_contains(device);
    if (d == nullptr || !d->is_object()) {
        return nullptr;
    }
    return d->as_object().if_contains(param);
}

}  // namespace rainmaker::domain::automations

// One GET per place through libcurl; the answer is read up to 64 KiB and parsed as JSON.
#include "outbound/open_meteo_weather.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "net/curl_easy.hpp"

namespace rainmaker::outbound {

namespace {

// A current-weather answer is a few hundred bytes; anything far larger is not one.
constexpr std::size_t kMaxBodyBytes = 64 * 1024;

std::optional<double> Number(const boost::json::object& current, std::string_view key) {
    const auto* v = current.if_contains(key);
    return v != nullptr && v->is_number() ? std::optional<double>(v->to_number<double>())
                                          : std::nullopt;
}

// The runner asks for places rounded to 0.01° (its cache key): no more precision is sent.
std::string Coordinate(double value) {
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%.2f", value);
    return text.data();
}

}  // namespace

std::string ConditionOfWmoCode(long long code) {
    if (code == 0 || code == 1) {
        return "Clear";
    }
    if (code == 2 || code == 3) {
        return "Clouds";
    }
    if (code == 45 || code == 48) {
        return "Fog";
    }
    if (code >= 51 && code <= 57) {
        return "Drizzle";
    }
    if ((code >= 61 && code <= 67) || (code >= 80 && code <= 82)) {
        return "Rain";
    }
    if ((code >= 71 && code <= 77) || code == 85 || code == 86) {
        return "Snow";
    }
    if (code >= 95 && code <= 99) {
        return "Thunderstorm";
    }
    return "";
}

domain::automations::WeatherReading ParseOpenMeteoCurrent(const std::string& body) {
    const auto parsed = core::ParseUntrustedJson(body, 16);
    const auto* root = parsed ? parsed->if_object() : nullptr;
    const auto* current = root != nullptr ? root->if_contains("current") : nullptr;
    if (current == nullptr || !current->is_object()) {
        throw std::runtime_error("the weather answer has no current object");
    }
    const auto& c = current->as_object();
    domain::automations::WeatherReading r;
    r.temperature = Number(c, "temperature_2m");
    r.humidity = Number(c, "relative_humidity_2m");
    r.pressure = Number(c, "surface_pressure");
    if (!r.pressure) {
        r.pressure = Number(c, "pressure_msl");
    }
    r.wind_speed = Number(c, "wind_speed_10m");
    // WMO codes are 0..99; anything else (1e300 would overflow the cast) names no condition.
    if (const auto code = Number(c, "weather_code"); code && *code >= 0 && *code <= 99) {
        if (auto condition = ConditionOfWmoCode(static_cast<long long>(*code));
            !condition.empty()) {
            r.weather_condition = std::move(condition);
        }
    }
    return r;
}

OpenMeteoWeather::OpenMeteoWeather(OpenMeteoConfig config) : config_(std::move(config)) {
    if (config_.base_url.empty()) {
        throw std::invalid_argument("weather provider URL is empty");
    }
    if (config_.timeout.count() <= 0) {
        throw std::invalid_argument("weather provider timeout must be positive");
    }
    while (!config_.base_url.empty() && config_.base_url.back() == '/') {
        config_.base_url.pop_back();
    }
}

domain::automations::WeatherReading OpenMeteoWeather::Current(double latitude, double longitude) {
    const std::string url = config_.base_url + "/v1/forecast?latitude=" + Coordinate(latitude) +
                            "&longitude=" + Coordinate(longitude) +
                            "&current=temperature_2m,relative_humidity_2m,surface_pressure,"
                            "wind_speed_10m,weather_code&wind_speed_unit=ms&timezone=GMT";
    net::HttpRequest request;
    request.url = url;
    request.timeout = config_.timeout;
    request.max_answer_bytes = kMaxBodyBytes;
    request.refuse_larger = true;
    const auto answer = net::PerformHttp(request, "weather request failed");
    if (answer.status < 200 || answer.status > 299) {
        throw std::runtime_error("weather provider answered HTTP " + std::to_string(answer.status));
    }
    return ParseOpenMeteoCurrent(answer.body);
}

}  // namespace rainmaker::outbound

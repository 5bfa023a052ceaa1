// One GET per place through libcurl; the answer is read up to 64 KiB and parsed as JSON.
#include "outbound/open_meteo_weather.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "outbound/curl_easy.hpp"

namespace rainmaker::outbound {

namespace {

// A current-weather answer is a few hundred bytes; anything far larger is not one.
constexpr std::size_t kMaxBodyBytes = 64 * 1024;

struct Body {
    std::string text;
    bool too_large = false;
};

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* user_data) {
    auto* body = static_cast<Body*>(user_data);
    const std::size_t n = size * count;
    if (body->text.size() + n > kMaxBodyBytes) {
        body->too_large = true;
        return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    body->text.append(data, n);
    return n;
}

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
    CurlEasy curl = MakeCurlEasy();
    CURL* h = curl.get();
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    Body body;
    const long timeout_seconds = static_cast<long>(config_.timeout.count());
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data()), "CURLOPT_ERRORBUFFER"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_URL, url.c_str()), "CURLOPT_URL");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR"
    );
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Collect), "CURLOPT_WRITEFUNCTION"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_WRITEDATA, &body), "CURLOPT_WRITEDATA");
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_seconds), "CURLOPT_TIMEOUT");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_seconds), "CURLOPT_CONNECTTIMEOUT"
    );
    const CURLcode result = curl_easy_perform(h);
    if (body.too_large) {
        throw std::runtime_error("weather answer larger than 64 KiB");
    }
    if (result != CURLE_OK) {
        throw std::runtime_error(
            "weather request failed: " + CurlErrorText(result, error_buffer.data())
        );
    }
    long status = 0;
    ThrowIfCurlFailed(
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), "CURLINFO_RESPONSE_CODE"
    );
    if (status < 200 || status > 299) {
        throw std::runtime_error("weather provider answered HTTP " + std::to_string(status));
    }
    return ParseOpenMeteoCurrent(body.text);
}

}  // namespace rainmaker::outbound

// The weather of weather automations from an Open-Meteo-style HTTP API (api.open-meteo.com, or
// a self-hosted open-meteo): GET <base>/v1/forecast?latitude=..&longitude=..&current=... and
// its `current` object, mapped to the reference's metric units and weather conditions.
#pragma once

#include <chrono>
#include <string>

#include "domain/automations/weather_provider.hpp"

namespace rainmaker::outbound {

struct OpenMeteoConfig {
    std::string base_url;              // e.g. https://api.open-meteo.com (no trailing path)
    std::chrono::seconds timeout{10};  // whole request, connect included
};

// The weather condition of a WMO weather code as Open-Meteo reports it (0 clear, 1-3 clouds,
// 45/48 fog, 51-57 drizzle, 61-67 and 80-82 rain, 71-77 and 85-86 snow, 95-99 thunderstorm);
// "" for a code outside the table.
std::string ConditionOfWmoCode(long long code);

// Reads an answer body into a reading; throws std::runtime_error when it has no `current`.
domain::automations::WeatherReading ParseOpenMeteoCurrent(const std::string& body);

class OpenMeteoWeather final : public domain::automations::WeatherProvider {
public:
    // Throws std::invalid_argument when the URL is empty or the timeout is not positive.
    explicit OpenMeteoWeather(OpenMeteoConfig config);

    // domain::automations::WeatherProvider
    // Throws std::runtime_error on a transport error, a non-2xx status or an unreadable body.
    domain::automations::WeatherReading Current(double latitude, double longitude) override;

private:
    OpenMeteoConfig config_;
};

}  // namespace rainmaker::outbound

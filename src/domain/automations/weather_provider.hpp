// Where weather automations get the current weather of a place: one interface, an HTTP
// implementation in outbound/ (an Open-Meteo-style API), a fake in the tests.
#pragma once

#include <optional>
#include <string>

namespace rainmaker::domain::automations {

// The current weather, in the reference's metric units; a member the provider did not give
// stays empty (an event comparing it does not hold).
struct WeatherReading {
    std::optional<double> temperature;             // °C
    std::optional<double> pressure;                // hPa
    std::optional<double> humidity;                // %
    std::optional<double> wind_speed;              // m/s
    std::optional<std::string> weather_condition;  // one of WeatherConditions()
};

class WeatherProvider {
public:
    virtual ~WeatherProvider() = default;
    // The weather now at the place; throws std::runtime_error when the provider cannot say.
    // Blocking: called from the weather scheduler's thread, never inside a store transaction.
    virtual WeatherReading Current(double latitude, double longitude) = 0;
};

}  // namespace rainmaker::domain::automations

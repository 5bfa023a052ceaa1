// The Open-Meteo answer read into a weather reading: metric values, WMO codes as the
// reference's conditions, and answers that are not one refused.
#include "outbound/open_meteo_weather.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace rainmaker::outbound {
namespace {

TEST(OpenMeteoWeather, ReadsTheCurrentObject) {
    const auto r = ParseOpenMeteoCurrent(
        R"({"latitude":52.52,"longitude":13.42,"current_units":{"temperature_2m":"°C"},)"
        R"("current":{"time":"2026-03-26T16:15","interval":900,"temperature_2m":18.5,)"
        R"("relative_humidity_2m":50,"surface_pressure":1012.3,"wind_speed_10m":4.2,)"
        R"("weather_code":63}})"
    );
    EXPECT_EQ(r.temperature, 18.5);
    EXPECT_EQ(r.humidity, 50.0);
    EXPECT_EQ(r.pressure, 1012.3);
    EXPECT_EQ(r.wind_speed, 4.2);
    EXPECT_EQ(r.weather_condition, "Rain");
    // What it leaves out stays unknown.
    const auto partial = ParseOpenMeteoCurrent(R"({"current":{"temperature_2m":-3}})");
    EXPECT_EQ(partial.temperature, -3.0);
    EXPECT_FALSE(partial.humidity);
    EXPECT_FALSE(partial.weather_condition);
}

// A code out of the WMO range names no condition; 1e300 would overflow the cast to an
// integer (undefined behaviour, which UBSan's float-cast-overflow reports).
TEST(OpenMeteoWeather, AWeatherCodeOutOfRangeNamesNoCondition) {
    for (const char* code : {"1e300", "-1e300", "-1", "100", "9.3e18"}) {
        const auto r = ParseOpenMeteoCurrent(
            std::string(R"({"current":{"temperature_2m":1,"weather_code":)") + code + "}}"
        );
        EXPECT_FALSE(r.weather_condition) << code;
        EXPECT_EQ(r.temperature, 1.0) << code;
    }
}

TEST(OpenMeteoWeather, RefusesAnswersWithoutACurrentObject) {
    for (const char* body : {"", "not json", "[]", R"({"current":5})", R"({"error":true})"}) {
        EXPECT_THROW(ParseOpenMeteoCurrent(body), std::runtime_error) << body;
    }
}

TEST(OpenMeteoWeather, MapsWmoCodesToTheReferenceConditions) {
    EXPECT_EQ(ConditionOfWmoCode(0), "Clear");
    EXPECT_EQ(ConditionOfWmoCode(3), "Clouds");
    EXPECT_EQ(ConditionOfWmoCode(45), "Fog");
    EXPECT_EQ(ConditionOfWmoCode(55), "Drizzle");
    EXPECT_EQ(ConditionOfWmoCode(81), "Rain");
    EXPECT_EQ(ConditionOfWmoCode(75), "Snow");
    EXPECT_EQ(ConditionOfWmoCode(86), "Snow");
    EXPECT_EQ(ConditionOfWmoCode(99), "Thunderstorm");
    EXPECT_EQ(ConditionOfWmoCode(42), "");
}

TEST(OpenMeteoWeather, RefusesAnEmptyUrlAndAFailingProviderThrows) {
    EXPECT_THROW(
        OpenMeteoWeather(OpenMeteoConfig{"", std::chrono::seconds(1)}), std::invalid_argument
    );
    // Nothing listens on port 1 of loopback.
    OpenMeteoWeather weather(OpenMeteoConfig{"http://127.0.0.1:1/", std::chrono::seconds(2)});
    EXPECT_THROW(weather.Current(1, 2), std::runtime_error);
}

}  // namespace
}  // namespace rainmaker::outbound

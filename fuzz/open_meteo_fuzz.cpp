// Feeds bytes as the body a weather provider answers (an Open-Meteo-style JSON API, reached
// over the network from the automations' weather thread) through ParseOpenMeteoCurrent: a body
// it cannot read throws std::runtime_error; one it reads gives finite numbers and a condition
// automations know.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "domain/automations/automation_rules.hpp"
#include "domain/automations/weather_provider.hpp"
#include "fuzz_support.hpp"
#include "outbound/open_meteo_weather.hpp"

namespace {

using namespace rainmaker;

void CheckFinite(const std::optional<double>& v, const char* what) {
    if (v && !std::isfinite(*v)) {
        std::fprintf(stderr, "%s is not finite\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    domain::automations::WeatherReading r;
    try {
        r = outbound::ParseOpenMeteoCurrent(std::string(fuzz::AsText(data, size)));
    } catch (const std::runtime_error&) {
        return 0;  // not an answer with a current object
    }
    CheckFinite(r.temperature, "temperature");
    CheckFinite(r.humidity, "humidity");
    CheckFinite(r.pressure, "pressure");
    CheckFinite(r.wind_speed, "wind speed");
    if (r.weather_condition) {
        const auto& known = domain::automations::WeatherConditions();
        if (std::find(known.begin(), known.end(), *r.weather_condition) == known.end()) {
            std::fprintf(stderr, "unknown condition %s\n", r.weather_condition->c_str());
            std::abort();
        }
    }
    return 0;
}

// Sunrise and sunset at a place, computed locally with the NOAA solar calculator's equations
// (after Jean Meeus, "Astronomical Algorithms"): the sun's declination and the equation of time
// at the moment, and the hour angle at which the sun's centre is 0.833° below the horizon
// (refraction plus the solar radius), which is how almanacs define sunrise and sunset. Within a
// minute of the published tables below the polar circles (tests/unit/domain/automations).
#pragma once

#include <cstdint>
#include <optional>

namespace rainmaker::domain::automations {

enum class SunEventKind { kSunrise, kSunset };

struct SunEvent {
    SunEventKind kind = SunEventKind::kSunrise;
    std::int64_t at = 0;  // unix seconds
};

// The sunrise or sunset around the solar noon of UTC day `day` (days since 1970-01-01) at
// `latitude` (north positive) and `longitude` (east positive); nullopt on a day without one
// (polar day or night). Far east of Greenwich a sunrise may fall on the UTC day before.
std::optional<std::int64_t> SunEventOn(
    std::int64_t day, double latitude, double longitude, SunEventKind kind
);

// The first sunrise (when `sunrise`) or sunset (when `sunset`) strictly after `after`, looked
// for over the next 400 days; nullopt when there is none (or neither kind is asked for).
std::optional<SunEvent> NextSunEvent(
    std::int64_t after, double latitude, double longitude, bool sunrise, bool sunset
);

}  // namespace rainmaker::domain::automations

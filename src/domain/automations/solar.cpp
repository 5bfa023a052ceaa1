// NOAA's sunrise equation, iterated: each pass evaluates the sun's position at the time of the
// event the previous pass found (the first one at the place's mean solar noon).
#include "domain/automations/solar.hpp"

#include <cmath>
#include <numbers>

namespace rainmaker::domain::automations {

namespace {

constexpr double kJulianUnixEpoch = 2440587.5;  // the Julian day of 1970-01-01 00:00 UTC
constexpr double kJ2000 = 2451545.0;
constexpr double kDaysPerCentury = 36525.0;
// The sun's centre below the horizon at rise and set: 34' of refraction plus a 16' radius.
constexpr double kZenithDegrees = 90.833;
constexpr int kPasses = 3;

double Radians(double degrees) {
    return degrees * std::numbers::pi / 180.0;
}

double Degrees(double radians) {
    return radians * 180.0 / std::numbers::pi;
}

struct SunPosition {
    double declination = 0;       // radians
    double equation_of_time = 0;  // minutes
};

// The sun's declination and the equation of time at Julian day `jd`.
SunPosition PositionAt(double jd) {
    const double t = (jd - kJ2000) / kDaysPerCentury;  // Julian centuries since J2000
    const double mean_longitude = std::fmod(280.46646 + t * (36000.76983 + t * 0.0003032), 360.0);
    const double mean_anomaly = Radians(357.52911 + t * (35999.05029 - 0.0001537 * t));
    const double eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
    const double centre = std::sin(mean_anomaly) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
                          std::sin(2 * mean_anomaly) * (0.019993 - 0.000101 * t) +
                          std::sin(3 * mean_anomaly) * 0.000289;
    const double omega = Radians(125.04 - 1934.136 * t);
    const double apparent_longitude =
        Radians(mean_longitude + centre - 0.00569 - 0.00478 * std::sin(omega));
    const double mean_obliquity =
        23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0;
    const double obliquity = Radians(mean_obliquity + 0.00256 * std::cos(omega));

    SunPosition p;
    p.declination = std::asin(std::sin(obliquity) * std::sin(apparent_longitude));
    const double y = std::pow(std::tan(obliquity / 2), 2);
    const double l0 = Radians(mean_longitude);
    p.equation_of_time =
        4.0 * Degrees(
                  y * std::sin(2 * l0) - 2 * eccentricity * std::sin(mean_anomaly) +
                  4 * eccentricity * y * std::sin(mean_anomaly) * std::cos(2 * l0) -
                  0.5 * y * y * std::sin(4 * l0) -
                  1.25 * eccentricity * eccentricity * std::sin(2 * mean_anomaly)
              );
    return p;
}

}  // namespace

std::optional<std::int64_t> SunEventOn(
    std::int64_t day, double latitude, double longitude, SunEventKind kind
) {
    const double phi = Radians(latitude);
    double minutes = 720.0 - 4.0 * longitude;  // mean solar noon, UTC minutes of `day`
    for (int pass = 0; pass < kPasses; ++pass) {
        const auto sun = PositionAt(kJulianUnixEpoch + static_cast<double>(day) + minutes / 1440.0);
        const double cos_hour_angle =
            std::cos(Radians(kZenithDegrees)) / (std::cos(phi) * std::cos(sun.declination)) -
            std::tan(phi) * std::tan(sun.declination);
        if (!(cos_hour_angle >= -1.0 && cos_hour_angle <= 1.0)) {
            return std::nullopt;  // the sun stays up (< -1) or down (> 1) all day
        }
        const double hour_angle = Degrees(std::acos(cos_hour_angle));
        const double signed_angle = kind == SunEventKind::kSunrise ? hour_angle : -hour_angle;
        minutes = 720.0 - 4.0 * (longitude + signed_angle) - sun.equation_of_time;
    }
    return day * 86400 + static_cast<std::int64_t>(std::llround(minutes * 60.0));
}

std::optional<SunEvent> NextSunEvent(
    std::int64_t after, double latitude, double longitude, bool sunrise, bool sunset
) {
    if (!sunrise && !sunset) {
        return std::nullopt;
    }
    // A day's events lie within about a day of its UTC midnight: start the day before.
    const std::int64_t first_day = (after >= 0 ? after / 86400 : (after - 86399) / 86400) - 1;
    for (std::int64_t day = first_day; day < first_day + 400; ++day) {
        std::optional<SunEvent> best;
        for (const auto kind : {SunEventKind::kSunrise, SunEventKind::kSunset}) {
            if ((kind == SunEventKind::kSunrise && !sunrise) ||
                (kind == SunEventKind::kSunset && !sunset)) {
                continue;
            }
            const auto at = SunEventOn(day, latitude, longitude, kind);
            if (at && *at > after && (!best || *at < best->at)) {
                best = SunEvent{kind, *at};
            }
        }
        if (best) {
            return best;
        }
    }
    return std::nullopt;
}

}  // namespace rainmaker::domain::automations

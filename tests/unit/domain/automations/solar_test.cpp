// Sunrise and sunset (domain/automations/solar) against published tables, each within two
// minutes (the tables round to the minute and give coordinates to a tenth of a degree):
//  - U.S. Naval Observatory, "Sun and Moon Data for One Day", 20 March 2002, Eastern Standard
//    Time: Washington, DC (W77.0, N38.9) rise 6:12, set 18:21; Cape May, NJ (W74.9, N38.9)
//    rise 6:04, set 18:12.
//  - Geoscience Australia's sunrise/sunset calculator, lat -19°18'00", long +147°24'00", zone
//    +10:00, 22/12/2014: rise 05:30, set 18:48.
//  - Almanak Háskóla Íslands, Reykjavík (64°09'N, 21°56'W, UTC), 21 December 2004: rise 11:22,
//    set 15:30.
// and the polar night and midnight sun of Tromsø (69.65 N), where there is no event at all.
#include "domain/automations/solar.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace rainmaker::domain::automations {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
std::int64_t Day(int y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Published {
    const char* source;
    int year;
    unsigned month;
    unsigned day;
    double latitude;
    double longitude;
    int utc_offset_minutes;  // of the table's clock times
    int rise_minutes;        // local clock, minutes after midnight
    int set_minutes;
};

constexpr Published kTables[] = {
    {"USNO Washington DC", 2002, 3, 20, 38.9, -77.0, -300, 6 * 60 + 12, 18 * 60 + 21},
    {"USNO Cape May NJ", 2002, 3, 20, 38.9, -74.9, -300, 6 * 60 + 4, 18 * 60 + 12},
    {"Geoscience Australia", 2014, 12, 22, -19.3, 147.4, 600, 5 * 60 + 30, 18 * 60 + 48},
    {"Almanak HI Reykjavik",
     2004,
     12,
     21,
     64.0 + 9.0 / 60,
     -(21.0 + 56.0 / 60),
     0,
     11 * 60 + 22,
     15 * 60 + 30},
};

// The table's local clock time on its date, as unix seconds.
std::int64_t Local(const Published& p, int minutes) {
    return Day(p.year, p.month, p.day) * 86400 +
           static_cast<std::int64_t>(minutes - p.utc_offset_minutes) * 60;
}

TEST(Solar, SunriseAndSunsetAreWithinTwoMinutesOfPublishedTables) {
    for (const auto& p : kTables) {
        SCOPED_TRACE(p.source);
        // The local date's events: the UTC day of local noon.
        const std::int64_t day = (Local(p, 12 * 60)) / 86400;
        const auto rise = SunEventOn(day, p.latitude, p.longitude, SunEventKind::kSunrise);
        const auto set = SunEventOn(day, p.latitude, p.longitude, SunEventKind::kSunset);
        ASSERT_TRUE(rise && set);
        EXPECT_LE(std::llabs(*rise - Local(p, p.rise_minutes)), 120) << *rise;
        EXPECT_LE(std::llabs(*set - Local(p, p.set_minutes)), 120) << *set;
    }
}

TEST(Solar, NextEventFindsTheFollowingSunriseOrSunsetOnly) {
    const auto& dc = kTables[0];
    const std::int64_t rise = Local(dc, dc.rise_minutes);
    const std::int64_t set = Local(dc, dc.set_minutes);
    // Just after midnight local: the day's sunrise, or its sunset when only that is asked.
    const std::int64_t night = Local(dc, 60);
    auto next = NextSunEvent(night, dc.latitude, dc.longitude, true, true);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->kind, SunEventKind::kSunrise);
    EXPECT_LE(std::llabs(next->at - rise), 120);
    next = NextSunEvent(night, dc.latitude, dc.longitude, false, true);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->kind, SunEventKind::kSunset);
    EXPECT_LE(std::llabs(next->at - set), 120);
    // Strictly after: at the sunrise itself comes the sunset, after it the next day's sunrise.
    const auto exact = NextSunEvent(night, dc.latitude, dc.longitude, true, true)->at;
    next = NextSunEvent(exact, dc.latitude, dc.longitude, true, true);
    EXPECT_EQ(next->kind, SunEventKind::kSunset);
    next = NextSunEvent(next->at, dc.latitude, dc.longitude, true, false);
    EXPECT_EQ(next->kind, SunEventKind::kSunrise);
    EXPECT_NEAR(static_cast<double>(next->at - exact), 86400.0, 180.0);  // a day later, ±3 min
    EXPECT_FALSE(NextSunEvent(night, dc.latitude, dc.longitude, false, false));
}

TEST(Solar, PolarNightAndMidnightSunHaveNoEventButTheNextOneIsFound) {
    constexpr double kTromso = 69.65;
    constexpr double kTromsoEast = 18.96;
    EXPECT_FALSE(SunEventOn(Day(2024, 12, 21), kTromso, kTromsoEast, SunEventKind::kSunrise));
    EXPECT_FALSE(SunEventOn(Day(2024, 6, 21), kTromso, kTromsoEast, SunEventKind::kSunset));
    // The polar night ends in mid-January: the next sunrise after the solstice is then.
    const auto next = NextSunEvent(Day(2024, 12, 21) * 86400, kTromso, kTromsoEast, true, false);
    ASSERT_TRUE(next);
    EXPECT_GT(next->at, Day(2025, 1, 10) * 86400);
    EXPECT_LT(next->at, Day(2025, 1, 20) * 86400);
    // Longyearbyen (78.2 N): the sun first rises and sets again in mid-February.
    const auto svalbard = NextSunEvent(Day(2024, 12, 21) * 86400, 78.22, 15.65, false, true);
    ASSERT_TRUE(svalbard);
    EXPECT_GT(svalbard->at, Day(2025, 2, 5) * 86400);
    EXPECT_LT(svalbard->at, Day(2025, 2, 25) * 86400);
}

}  // namespace
}  // namespace rainmaker::domain::automations

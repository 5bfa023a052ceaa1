// Interval arithmetic on the local calendar of an IANA zone.
#include "domain/timeseries/calendar.hpp"

#include <array>
#include <chrono>
#include <date/tz.h>
#include <mutex>
#include <unordered_map>

#include "core/log.hpp"
#include "core/text.hpp"

namespace rainmaker::domain::timeseries {

namespace {

using std::chrono::seconds;

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 3600;

date::sys_seconds Sys(std::int64_t t) {
    return date::sys_seconds{seconds{t}};
}

std::int64_t Unix(date::sys_seconds s) {
    return s.time_since_epoch().count();
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct Zone {
    const date::time_zone* zone;
    std::string name;
};

// Every zone and link of the database by its lowercased name, built once. A database that
// cannot be read leaves the index empty (every query's timezone is then refused) and says so.
const std::unordered_map<std::string, Zone>& ZoneIndex() {
    static std::unordered_map<std::string, Zone> index;
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            const auto& db = date::get_tzdb();
            // The system database lists links (Asia/Calcutta) as zones of their own.
            for (const auto& zone : db.zones) {
                index.emplace(core::AsciiLower(zone.name()), Zone{&zone, zone.name()});
            }
        } catch (const std::exception& e) {
            core::log::Error(std::string("time zone database unreadable: ") + e.what());
        }
    });
    return index;
}

}  // namespace

std::optional<Interval> ParseInterval(std::string_view text) {
    static const std::array<std::pair<const char*, Interval>, 6> kNames{{
        {"minute", Interval::kMinute},
        {"hour", Interval::kHour},
        {"day", Interval::kDay},
        {"week", Interval::kWeek},
        {"month", Interval::kMonth},
        {"year", Interval::kYear},
    }};
    const std::string lower = core::AsciiLower(text);
    for (const auto& [name, interval] : kNames) {
        if (lower == name) {
            return interval;
        }
    }
    return std::nullopt;
}

std::optional<int> ParseWeekday(std::string_view text) {
    static const std::array<const char*, 7> kDays{
        "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
    const std::string lower = core::AsciiLower(text);
    for (int i = 0; i < 7; ++i) {
        const std::string_view day(kDays[static_cast<std::size_t>(i)]);
        if (lower == day || lower == day.substr(0, 3)) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<Calendar> Calendar::ForZone(std::string_view name, int week_start) {
    const auto& index = ZoneIndex();
    const auto it = index.find(core::AsciiLower(name));
    if (it == index.end()) {
        return std::nullopt;
    }
    return Calendar(it->second.zone, &it->second.name, week_start);
}

std::int64_t Calendar::LocalDay(std::int64_t t) const {
    const auto local = zone_->to_local(Sys(t));
    return date::floor<date::days>(local).time_since_epoch().count();
}

std::int64_t Calendar::Midnight(std::int64_t local_day) const {
    const date::local_days day{date::days{local_day}};
    return Unix(zone_->to_sys(date::local_seconds{day}, date::choose::earliest));
}

std::int64_t Calendar::Floor(Interval interval, std::int64_t t) const {
    switch (interval) {
        case Interval::kMinute:
        case Interval::kHour: {
            // In absolute time with the offset in force at `t`: in a repeated hour (clocks
            // going back) each occurrence is its own interval.
            const std::int64_t unit = interval == Interval::kMinute ? kMinute : kHour;
            const std::int64_t offset = zone_->get_info(Sys(t)).offset.count();
            return FloorDiv(t + offset, unit) * unit - offset;
        }
        case Interval::kDay:
            return Midnight(LocalDay(t));
        case Interval::kWeek: {
            const std::int64_t day = LocalDay(t);
            const auto weekday =
                static_cast<int>(date::weekday(date::local_days{date::days{day}}).c_encoding());
            return Midnight(day - (weekday - week_start_ + 7) % 7);
        }
        case Interval::kMonth:
        case Interval::kYear: {
            const date::year_month_day ymd{date::local_days{date::days{LocalDay(t)}}};
            const auto first = interval == Interval::kMonth
                                   ? ymd.year() / ymd.month() / date::day{1}
                                   : ymd.year() / date::January / date::day{1};
            return Midnight(date::local_days{first}.time_since_epoch().count());
        }
    }
    return t;
}

std::int64_t Calendar::Next(Interval interval, std::int64_t start) const {
    std::int64_t next = start;
    switch (interval) {
        case Interval::kMinute:
        case Interval::kHour: {
            const std::int64_t unit = interval == Interval::kMinute ? kMinute : kHour;
            next = Floor(interval, start + unit);
            return next > start ? next : start + unit;
        }
        case Interval::kDay:
            next = Midnight(LocalDay(start) + 1);
            break;
        case Interval::kWeek:
            next = Midnight(LocalDay(start) + 7);
            break;
        case Interval::kMonth:
        case Interval::kYear: {
            const date::year_month_day ymd{date::local_days{date::days{LocalDay(start)}}};
            const auto first =
                interval == Interval::kMonth
                    ? date::year_month_day{ymd.year() / ymd.month() / 1} + date::months{1}
                    : date::year_month_day{(ymd.year() + date::years{1}) / date::January / 1};
            next = Midnight(date::local_days{first}.time_since_epoch().count());
            break;
        }
    }
    return next > start ? next : start + 1;
}

std::int64_t Calendar::Advance(Interval interval, std::int64_t t, int n) const {
    switch (interval) {
        case Interval::kMinute:
            return t + n * kMinute;
        case Interval::kHour:
            return t + n * kHour;
        default:
            break;
    }
    const auto local = zone_->to_local(Sys(t));
    const auto day = date::floor<date::days>(local);
    const auto time_of_day = local - day;
    date::local_days target = day;
    if (interval == Interval::kDay || interval == Interval::kWeek) {
        target = day + date::days{interval == Interval::kWeek ? 7 * n : n};
    } else {
        const date::year_month_day ymd{day};
        auto moved = interval == Interval::kMonth ? ymd + date::months{n} : ymd + date::years{n};
        if (!moved.ok()) {  // the 31st of a shorter month, the 29th of February
            moved = moved.year() / moved.month() / date::last;
        }
        target = date::local_days{moved};
    }
    return Unix(zone_->to_sys(target + time_of_day, date::choose::earliest));
}

}  // namespace rainmaker::domain::timeseries

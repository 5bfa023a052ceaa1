// Aggregation intervals in a time zone: where a minute, hour, day, week, month or year starts
// and ends for someone in that zone, across daylight-saving changes (a day in Europe/Berlin
// lasts 23 or 25 hours twice a year). Zones come from the system's IANA database through
// Howard Hinnant's date library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace rainmaker::domain::timeseries {

enum class Interval { kMinute, kHour, kDay, kWeek, kMonth, kYear };

// "minute" | "hour" | "day" | "week" | "month" | "year" (case-insensitive), or nullopt.
std::optional<Interval> ParseInterval(std::string_view text);

// 0 (Sunday) .. 6 (Saturday) from a day's English name or its three letters
// (case-insensitive), or nullopt.
std::optional<int> ParseWeekday(std::string_view text);

class Calendar {
public:
    // The zone of an IANA name ("Europe/Berlin") or a name the database also lists ("EST",
    // "UTC"), case-insensitively; nullopt when the database has no such zone.
    static std::optional<Calendar> ForZone(std::string_view name, int week_start = 1);

    // The zone's name as the database spells it (a link keeps its own name: Asia/Calcutta).
    const std::string& zone_name() const { return *name_; }

    // The start of the interval holding `t` (unix seconds).
    std::int64_t Floor(Interval interval, std::int64_t t) const;
    // The start of the interval after the one starting at `start`.
    std::int64_t Next(Interval interval, std::int64_t start) const;
    // `t` moved by `n` intervals (negative: back) on the local calendar: the same local time
    // of day `n` days later, the same day of month `n` months later (clamped to the month's
    // last day), and so on.
    std::int64_t Advance(Interval interval, std::int64_t t, int n) const;

private:
    Calendar(const date::time_zone* zone, const std::string* name, int week_start)
        : zone_(zone), name_(name), week_start_(week_start) {}

    // Local days (since 1970-01-01 in the zone) and seconds into that day of `t`.
    std::int64_t LocalDay(std::int64_t t) const;
    // Unix seconds of local midnight starting `local_day` (the first instant of that day when
    // midnight is skipped or repeated by a clock change).
    std::int64_t Midnight(std::int64_t local_day) const;

    const date::time_zone* zone_;
    const std::string* name_;  // in the process-wide zone index
    int week_start_;           // 0 Sunday .. 6 Saturday
};

}  // namespace rainmaker::domain::timeseries

// Folding a series' points, oldest first, into what a query asks for: the points themselves
// (raw), or one value per interval (latest, min, max, count, avg, sum), optionally of the
// differences between consecutive points (differential: a meter's consumption per interval
// from its running total).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "domain/timeseries/calendar.hpp"
#include "domain/timeseries/ts_types.hpp"

namespace rainmaker::domain::timeseries {

enum class Aggregate { kRaw, kLatest, kMin, kMax, kCount, kAvg, kSum };

// "raw" | "latest" | "min" | "max" | "count" | "avg" | "sum" (case-insensitive), or nullopt.
std::optional<Aggregate> ParseAggregate(std::string_view text);
std::string_view AggregateName(Aggregate aggregate);

// Whether values of `type` can be folded with `aggregate` (bool and string: raw, latest and
// count only).
bool Supports(TsType type, Aggregate aggregate);

// One value of an answer: a point (its time), or an interval's aggregate (the interval's start).
struct TsResult {
    std::int64_t ts = 0;
    TsValue val;
};

struct FoldSpec {
    Aggregate aggregate = Aggregate::kRaw;
    Interval interval = Interval::kDay;  // not used for raw
    TsType type = TsType::kFloat;
    bool differential = false;       // int and float only
    bool reset_on_negative = false;  // a negative difference counts as the value itself
};

class PointFolder {
public:
    // `calendar` must outlive the folder. `previous`: the last point before the range, the
    // base of the first difference (without one, the range's first point only starts them).
    PointFolder(const FoldSpec& spec, const Calendar& calendar, std::optional<TsPoint> previous);

    // The next point, later than every point before it.
    void Add(const TsPoint& point);
    // What the points gave, oldest first; intervals without points are left out.
    std::vector<TsResult> Finish();

    // Values given so far (raw: every point passed on).
    std::size_t produced() const { return out_.size(); }

private:
    void Fold(std::int64_t t, const TsValue& value);
    void Flush();

    FoldSpec spec_;
    const Calendar& calendar_;
    std::optional<TsValue> previous_;
    std::vector<TsResult> out_;

    // The interval being folded.
    bool open_ = false;
    std::int64_t start_ = 0;
    std::int64_t next_ = 0;
    std::int64_t count_ = 0;
    double float_acc_ = 0;       // float sum, min or max
    std::int64_t int_acc_ = 0;   // int sum, min or max
    bool int_overflow_ = false;  // an int sum beyond int64: answered as a float
    double int_sum_as_float_ = 0;
    TsValue latest_;
};

}  // namespace rainmaker::domain::timeseries

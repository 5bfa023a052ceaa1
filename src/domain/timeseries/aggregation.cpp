// Differences, intervals and the seven aggregates.
#include "domain/timeseries/aggregation.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "core/text.hpp"

namespace rainmaker::domain::timeseries {

namespace {

constexpr std::array<std::pair<std::string_view, Aggregate>, 7> kAggregates{{
    {"raw", Aggregate::kRaw},
    {"latest", Aggregate::kLatest},
    {"min", Aggregate::kMin},
    {"max", Aggregate::kMax},
    {"count", Aggregate::kCount},
    {"avg", Aggregate::kAvg},
    {"sum", Aggregate::kSum},
}};

}  // namespace

std::optional<Aggregate> ParseAggregate(std::string_view text) {
    const std::string lower = core::AsciiLower(text);
    for (const auto& [name, aggregate] : kAggregates) {
        if (lower == name) {
            return aggregate;
        }
    }
    return std::nullopt;
}

std::string_view AggregateName(Aggregate aggregate) {
    for (const auto& [name, a] : kAggregates) {
        if (a == aggregate) {
            return name;
        }
    }
    return "raw";
}

bool Supports(TsType type, Aggregate aggregate) {
    return Numeric(type) || aggregate == Aggregate::kRaw || aggregate == Aggregate::kLatest ||
           aggregate == Aggregate::kCount;
}

PointFolder::PointFolder(
    const FoldSpec& spec, const Calendar& calendar, std::optional<TsPoint> previous
)
    : spec_(spec), calendar_(calendar) {
    if (previous) {
        previous_ = std::move(previous->value);
    }
}

void PointFolder::Add(const TsPoint& point) {
    if (!spec_.differential) {
        Fold(point.t, point.value);
        return;
    }
    // Differences of int and float values only (the query checks the type). The first point
    // only sets the base.
    const bool has_base = previous_.has_value();
    TsValue difference = 0.0;
    if (has_base && spec_.type == TsType::kInt) {
        const auto now = std::get<std::int64_t>(point.value);
        const auto before = std::get<std::int64_t>(*previous_);
        std::int64_t d = 0;
        if (__builtin_sub_overflow(now, before, &d)) {
            d = now;  // not a meaningful step: taken as a restart
        }
        difference = (d < 0 && spec_.reset_on_negative) ? now : d;
    } else if (has_base) {
        const double now = std::get<double>(point.value);
        const double d = now - std::get<double>(*previous_);
        difference = (d < 0 && spec_.reset_on_negative) ? now : d;
    }
    previous_ = point.value;
    if (has_base) {
        Fold(point.t, difference);
    }
}

void PointFolder::Fold(std::int64_t t, const TsValue& value) {
    if (spec_.aggregate == Aggregate::kRaw) {
        out_.push_back(TsResult{t, value});
        return;
    }
    if (open_ && t >= next_) {
        Flush();
    }
    if (!open_) {
        start_ = calendar_.Floor(spec_.interval, t);
        next_ = calendar_.Next(spec_.interval, start_);
        open_ = true;
        count_ = 0;
        float_acc_ = 0;
        int_acc_ = 0;
        int_overflow_ = false;
        int_sum_as_float_ = 0;
    }
    const bool first = count_ == 0;
    ++count_;
    latest_ = value;
    if (spec_.type == TsType::kFloat) {
        const double v = std::get<double>(value);
        switch (spec_.aggregate) {
            case Aggregate::kMin:
                float_acc_ = first ? v : std::min(float_acc_, v);
                break;
            case Aggregate::kMax:
                float_acc_ = first ? v : std::max(float_acc_, v);
                break;
            case Aggregate::kAvg:
            case Aggregate::kSum:
                float_acc_ += v;
                break;
            default:
                break;
        }
    } else if (spec_.type == TsType::kInt) {
        const std::int64_t v = std::get<std::int64_t>(value);
        switch (spec_.aggregate) {
            case Aggregate::kMin:
                int_acc_ = first ? v : std::min(int_acc_, v);
                break;
            case Aggregate::kMax:
                int_acc_ = first ? v : std::max(int_acc_, v);
                break;
            case Aggregate::kAvg:
            case Aggregate::kSum:
                int_overflow_ = int_overflow_ || __builtin_add_overflow(int_acc_, v, &int_acc_);
                int_sum_as_float_ += static_cast<double>(v);
                break;
            default:
                break;
        }
    }
}

void PointFolder::Flush() {
    if (!open_) {
        return;
    }
    open_ = false;
    TsValue value;
    const bool is_int = spec_.type == TsType::kInt;
    switch (spec_.aggregate) {
        case Aggregate::kLatest:
            value = latest_;
            break;
        case Aggregate::kCount:
            value = count_;
            break;
        case Aggregate::kMin:
        case Aggregate::kMax:
            value = is_int ? TsValue(int_acc_) : TsValue(float_acc_);
            break;
        case Aggregate::kSum:
            value = !is_int         ? TsValue(float_acc_)
                    : int_overflow_ ? TsValue(int_sum_as_float_)
                                    : TsValue(int_acc_);
            break;
        case Aggregate::kAvg:
            value = (is_int ? int_sum_as_float_ : float_acc_) / static_cast<double>(count_);
            break;
        case Aggregate::kRaw:
            return;
    }
    out_.push_back(TsResult{start_, std::move(value)});
}

std::vector<TsResult> PointFolder::Finish() {
    Flush();
    return std::move(out_);
}

}  // namespace rainmaker::domain::timeseries

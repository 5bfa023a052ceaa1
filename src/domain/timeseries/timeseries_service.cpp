// Time-series ingest, queries, compaction and retention.
#include "domain/timeseries/timeseries_service.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/digest.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/timeseries/series_points.hpp"

namespace rainmaker::domain::timeseries {

using core::ApiError;
using core::ErrorCode;
using storage::TsKind;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kOldest = 946684800;  // 2000-01-01: earlier times are a clock not set
constexpr std::int64_t kRawDefaultSpan = 7 * kDay;
constexpr int kPageUses = 5;
constexpr std::int64_t kPageLifetime = 3600;
constexpr std::size_t kMaxNameBytes = 256;

// The largest span a query may cover, as a number of calendar units.
struct Span {
    Interval unit;
    int count;
};

Span MaxSpan(std::optional<Interval> interval) {
    if (!interval) {
        return {Interval::kDay, 31};  // raw
    }
    switch (*interval) {
        case Interval::kMinute:
        case Interval::kHour:
            return {Interval::kDay, 1};
        case Interval::kDay:
            return {Interval::kDay, 31};
        case Interval::kWeek:
            return {Interval::kWeek, 12};
        case Interval::kMonth:
            return {Interval::kMonth, 12};
        case Interval::kYear:
            return {Interval::kYear, 5};
    }
    return {Interval::kDay, 31};
}

// The most intervals num_intervals may ask for: the maximum span in that interval.
int MaxIntervals(Interval interval) {
    switch (interval) {
        case Interval::kMinute:
            return 1440;
        case Interval::kHour:
            return 24;
        case Interval::kDay:
            return 31;
        case Interval::kWeek:
        case Interval::kMonth:
            return 12;
        case Interval::kYear:
            return 5;
    }
    return 1;
}

// A query parameter that was given and is not empty.
const std::string* Given(const std::optional<std::string>& value) {
    return value && !value->empty() ? &*value : nullptr;
}

// Unix seconds from `text` (digits, or a number with a fraction, which is dropped); throws
// `error` for anything else.
std::optional<std::int64_t> Seconds(const std::optional<std::string>& text, ErrorCode error) {
    const auto* given = Given(text);
    if (given == nullptr) {
        return std::nullopt;
    }
    std::int64_t out = 0;
    const char* first = given->data();
    const char* last = first + given->size();
    auto [end, ec] = std::from_chars(first, last, out);
    if (ec == std::errc{} && end != last && *end == '.') {
        ++end;
        while (end != last && *end >= '0' && *end <= '9') {
            ++end;
        }
    }
    // Up to the end of year 9999: the calendar's range, and far from overflowing sums.
    constexpr std::int64_t kLatest = 253402300799;
    if (ec != std::errc{} || end != last || out < 0 || out > kLatest) {
        throw ApiError(error);
    }
    return out;
}

// What a page token is bound to: the fields of its query, each length-prefixed so that no two
// lists of fields give the same text.
std::string QueryDigest(std::initializer_list<std::string_view> fields) {
    std::string text;
    for (const auto field : fields) {
        text += std::to_string(field.size());
        text += ':';
        text += field;
    }
    return crypto::Sha256Hex(text);
}

std::string Key(std::string_view node_id, TsKind kind, std::string_view name, TsType type) {
    std::string key(node_id);
    key += '\0';
    key += static_cast<char>('0' + static_cast<int>(kind));
    key += static_cast<char>('0' + static_cast<int>(type));
    key += name;
    return key;
}

// A record's time: whole seconds from 2000 to a day ahead of now; nullopt otherwise.
std::optional<std::int64_t> RecordTime(const boost::json::value& t, std::int64_t now) {
    std::int64_t seconds = 0;
    if (t.is_int64()) {
        seconds = t.as_int64();
    } else if (t.is_uint64()) {
        return std::nullopt;
    } else if (t.is_double() && std::isfinite(t.as_double()) && t.as_double() >= 0 && t.as_double() < 1e12) {
        seconds = static_cast<std::int64_t>(t.as_double());
    } else {
        return std::nullopt;
    }
    if (seconds < kOldest || seconds > now + kDay) {
        return std::nullopt;
    }
    return seconds;
}

// A record's value as `type`; nullopt when it is not one (or text over `max_text`).
std::optional<TsValue> RecordValue(TsType type, const boost::json::value& v, std::size_t max_text) {
    switch (type) {
        case TsType::kFloat:
            if (v.is_double() && std::isfinite(v.as_double())) {
                return v.as_double();
            }
            if (v.is_int64()) {
                return static_cast<double>(v.as_int64());
            }
            if (v.is_uint64()) {
                return static_cast<double>(v.as_uint64());
            }
            return std::nullopt;
        case TsType::kInt:
            if (v.is_int64()) {
                return v.as_int64();
            }
            if (v.is_double()) {
                const double d = v.as_double();
                if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
                    return static_cast<std::int64_t>(d);
                }
            }
            return std::nullopt;
        case TsType::kBool:
            if (v.is_bool()) {
                return v.as_bool();
            }
            return std::nullopt;
        case TsType::kString:
            if (v.is_string() && v.as_string().size() <= max_text) {
                return std::string(v.as_string());
            }
            return std::nullopt;
        case TsType::kObject:
        case TsType::kArray: {
            if ((type == TsType::kObject) ? !v.is_object() : !v.is_array()) {
                return std::nullopt;
            }
            std::string text = core::Serialize(v);
            if (text.size() > max_text) {
                return std::nullopt;
            }
            return text;
        }
    }
    return std::nullopt;
}

}  // namespace

struct TimeSeriesService::Plan {
    TsKind kind = TsKind::kTsData;
    std::string node_id;
    std::string name;
    std::optional<std::int64_t> series_id;  // none: no such series, the answer is empty
    FoldSpec fold;
    std::optional<Calendar> calendar;
    std::int64_t start = 0;
    std::int64_t end = 0;
    // Points before this are past the series' retention (kept until the hourly job runs).
    std::int64_t retained_from = std::numeric_limits<std::int64_t>::min();
    bool desc = false;
    int limit = 200;
    std::string query_hash;
};

TimeSeriesService::TimeSeriesService(
    storage::Database& db, const core::Clock& clock, TimeSeriesConfig config
)
    : db_(db), clock_(clock), config_(config) {}

// ---- ingest

void TimeSeriesService::RegisterIngest(nodes::NodeIngest& ingest) {
    ingest.On(
        "tsdata",
        config_.max_message_bytes,
        [this, &ingest](auto node_id, auto, const auto& payload) {
            OnTsData(ingest, node_id, payload);
        }
    );
    ingest.On(
        "simple_tsdata",
        config_.max_message_bytes,
        [this, &ingest](auto node_id, auto, const auto& payload) {
            OnSimple(ingest, node_id, payload);
        }
    );
}

void TimeSeriesService::OnTsData(
    nodes::NodeIngest& ingest, std::string_view node_id, const boost::json::object& payload
) {
    const auto* entries = payload.if_contains("ts_data");
    if (entries == nullptr || !entries->is_array()) {
        throw std::invalid_argument("tsdata without a ts_data array");
    }
    db_.Transaction([&] {
        Declared declared{ingest, node_id, nullptr, false};
        for (const auto& entry : entries->as_array()) {
            const auto* records =
                entry.is_object() ? entry.as_object().if_contains("records") : nullptr;
            if (records == nullptr || !records->is_array()) {
                ++counters_.records_dropped;
                continue;
            }
            auto target = Resolve(declared, TsKind::kTsData, entry.as_object(), 0);
            for (const auto& record : records->as_array()) {
                const auto* t = record.is_object() ? record.as_object().if_contains("t") : nullptr;
                const auto* v = record.is_object() ? record.as_object().if_contains("v") : nullptr;
                if (!target || t == nullptr || v == nullptr || !StoreRecord(*target, *t, *v)) {
                    ++counters_.records_dropped;
                }
            }
        }
    });
}

void TimeSeriesService::OnSimple(
    nodes::NodeIngest& ingest, std::string_view node_id, const boost::json::object& payload
) {
    const auto* t = payload.if_contains("t");
    const auto* v = payload.if_contains("v");
    int ttl = 0;
    if (const auto* d = payload.if_contains("d"); d != nullptr) {
        if (!d->is_int64() || d->as_int64() < 1) {
            ++counters_.records_dropped;
            return;
        }
        ttl = static_cast<int>(std::min<std::int64_t>(d->as_int64(), config_.max_ttl_days));
    }
    db_.Transaction([&] {
        Declared declared{ingest, node_id, nullptr, false};
        auto target = Resolve(declared, TsKind::kSimple, payload, ttl);
        if (!target || t == nullptr || v == nullptr || !StoreRecord(*target, *t, *v)) {
            ++counters_.records_dropped;
        }
    });
}

std::optional<TimeSeriesService::Target> TimeSeriesService::Resolve(
    Declared& declared, TsKind kind, const boost::json::object& entry, int ttl_days
) {
    const auto* name_value = entry.if_contains("name");
    const auto* dt_value = entry.if_contains("dt");
    if (name_value == nullptr || !name_value->is_string() || dt_value == nullptr ||
        !dt_value->is_string()) {
        return std::nullopt;
    }
    const std::string_view name = name_value->as_string();
    const auto type = ParseTsType(dt_value->as_string());
    if (name.empty() || name.size() > kMaxNameBytes || !type ||
        (kind == TsKind::kTsData && !Numeric(*type) && *type != TsType::kBool &&
         *type != TsType::kString)) {
        return std::nullopt;
    }
    // "<device>.<param>", declared by the node's config with this data type (a device name
    // may itself hold dots: every split is tried).
    const auto declares = [&](const nodes::DeclaredParams& params) {
        for (auto dot = name.find('.'); dot != std::string_view::npos;
             dot = name.find('.', dot + 1)) {
            const auto* data_type = params.DataTypeOf(name.substr(0, dot), name.substr(dot + 1));
            if (data_type != nullptr) {
                return data_type->empty() || *data_type == TsTypeName(*type);
            }
        }
        return false;
    };
    if (declared.params == nullptr) {
        declared.params = declared.ingest.DeclaredFor(declared.node_id, false);
    }
    if ((declared.params == nullptr || !declares(*declared.params)) && !declared.reloaded) {
        // A config stored since it was read (by another instance): read once per message,
        // so a message of undeclared names costs one read, not one per record.
        declared.reloaded = true;
        declared.params = declared.ingest.DeclaredFor(declared.node_id, true);
    }
    if (declared.params == nullptr || !declares(*declared.params)) {
        return std::nullopt;
    }
    Target target;
    target.type = *type;
    target.series.node_id = std::string(declared.node_id);
    target.series.kind = kind;
    target.series.name = std::string(name);
    target.series.data_type = static_cast<int>(*type);
    target.series.ttl_days = ttl_days;
    return target;
}

bool TimeSeriesService::StoreRecord(
    Target& target, const boost::json::value& time, const boost::json::value& value
) {
    const std::int64_t now = clock_.NowSeconds();
    const auto t = RecordTime(time, now);
    auto v = RecordValue(target.type, value, config_.max_text_bytes);
    // A point its retention would delete at once is not written: backdated points would
    // otherwise make compaction rewrite old chunks for nothing.
    if (!t || !v || *t < RetainedFrom(target.series.ttl_days, now)) {
        return false;
    }
    const auto cell = ToCell(*v);
    auto& store = db_.TimeSeries();
    auto& series = target.series;
    if (series.series_id == 0) {
        series.series_id =
            SeriesId(series.node_id, series.kind, series.name, target.type, series.ttl_days);
    }
    if (!store.PutPoint(series, *t, cell)) {
        // The cached id is stale (the series went with its node, or its creation was rolled
        // back): look it up again.
        {
            std::lock_guard lock(series_mutex_);
            series_ids_.erase(Key(series.node_id, series.kind, series.name, target.type));
        }
        series.series_id =
            SeriesId(series.node_id, series.kind, series.name, target.type, series.ttl_days);
        if (!store.PutPoint(series, *t, cell)) {
            return false;
        }
    }
    NoteHeadPoint(series.series_id);
    ++counters_.records_stored;
    return true;
}

std::int64_t TimeSeriesService::SeriesId(
    std::string_view node_id, TsKind kind, std::string_view name, TsType type, int ttl_days
) {
    constexpr std::size_t kMaxCached = 1'000'000;
    const std::string key = Key(node_id, kind, name, type);
    {
        std::lock_guard lock(series_mutex_);
        const auto it = series_ids_.find(key);
        if (it != series_ids_.end() && (ttl_days == 0 || it->second.ttl_days == ttl_days)) {
            return it->second.id;
        }
    }
    storage::TsSeriesRow row;
    row.node_id = std::string(node_id);
    row.kind = kind;
    row.name = std::string(name);
    row.data_type = static_cast<int>(type);
    row.ttl_days = ttl_days;
    auto& store = db_.TimeSeries();
    const std::int64_t id = store.EnsureSeries(row);
    if (ttl_days != 0) {
        store.SetTtl(id, ttl_days);  // `d` of the newest record applies
    }
    std::lock_guard lock(series_mutex_);
    if (series_ids_.size() >= kMaxCached) {
        series_ids_.clear();
    }
    series_ids_[key] = CachedSeries{id, ttl_days};
    return id;
}

void TimeSeriesService::NoteHeadPoint(std::int64_t series_id) {
    std::lock_guard lock(dirty_mutex_);
    auto& dirty = dirty_[series_id];
    if (dirty.points++ == 0) {
        dirty.since = clock_.NowSeconds();
    }
}

void TimeSeriesService::ForgetNode(std::string_view node_id) {
    const int removed = db_.TimeSeries().DeleteNodeSeries(node_id);
    std::lock_guard lock(series_mutex_);
    const std::string prefix = std::string(node_id) + '\0';
    std::erase_if(series_ids_, [&](const auto& e) { return e.first.starts_with(prefix); });
    if (removed > 0) {
        core::log::Info(
            "node " + std::string(node_id) + ": " + std::to_string(removed) +
            " time series deleted with its last user"
        );
    }
}

// ---- compaction and retention

int TimeSeriesService::Compact(bool all) {
    const std::int64_t now = clock_.NowSeconds();
    std::vector<std::int64_t> due;
    {
        std::lock_guard lock(dirty_mutex_);
        if (!dirty_loaded_) {
            // Heads left by an earlier run of the server: due at once.
            for (const auto id : db_.TimeSeries().SeriesWithHead()) {
                dirty_.try_emplace(id, Dirty{config_.compact_after_points, 0});
            }
            dirty_loaded_ = true;
        }
        for (auto it = dirty_.begin(); it != dirty_.end();) {
            if (all || it->second.points >= config_.compact_after_points ||
                now - it->second.since >= config_.compact_after_seconds) {
                due.push_back(it->first);
                it = dirty_.erase(it);
            } else {
                ++it;
            }
        }
    }
    int moved = 0;
    for (const auto id : due) {
        try {
            db_.Transaction([&] {
                const auto series = db_.TimeSeries().SeriesById(id);
                if (!series) {
                    db_.TimeSeries().DeleteHead(id);
                    return;
                }
                SeriesPoints points(db_.TimeSeries(), id, static_cast<TsType>(series->data_type));
                moved += points.Compact(config_.chunk_points);
            });
        } catch (const std::exception& e) {
            core::log::Error(
                "time series " + std::to_string(id) + ": compaction failed: " + e.what()
            );
            NoteHeadPoint(id);  // tried again next time
        }
    }
    counters_.points_compacted += static_cast<std::uint64_t>(moved);
    return moved;
}

int TimeSeriesService::DeleteExpired() {
    const std::int64_t now = clock_.NowSeconds();
    const int points = db_.TimeSeries().DeleteExpired(now, config_.retention_days);
    db_.TimeSeries().DeleteExpiredPages(now);
    counters_.points_expired += static_cast<std::uint64_t>(points);
    return points;
}

// ---- queries

bool TimeSeriesService::MayRead(
    const auth::AuthContext& caller, std::string_view node_id, bool admin
) {
    if (admin) {
        return nodes::FindForAdmin(db_, caller, node_id).has_value();
    }
    return db_.Nodes().FindMapping(caller.user_id, node_id).has_value();
}

TsPage TimeSeriesService::Query(
    const auth::AuthContext& caller, const TsQueryInput& in, bool admin
) {
    if (in.node_id.empty()) {
        throw ApiError(ErrorCode::kTsNodeId);
    }
    if (in.param_name.empty() || in.param_name.size() > kMaxNameBytes) {
        throw ApiError(ErrorCode::kTsParamName);
    }
    Plan plan;
    plan.kind = TsKind::kTsData;
    plan.node_id = in.node_id;
    plan.name = in.param_name;
    plan.desc = in.desc_order;
    plan.limit = in.num_records;
    auto& fold = plan.fold;
    if (const auto* text = Given(in.aggregate)) {
        const auto aggregate = ParseAggregate(*text);
        if (!aggregate) {
            throw ApiError(ErrorCode::kTsAggregate);
        }
        fold.aggregate = *aggregate;
    }
    std::optional<Interval> interval;
    if (const auto* text = Given(in.aggregation_interval)) {
        interval = ParseInterval(*text);
        if (!interval) {
            throw ApiError(ErrorCode::kTsInterval);
        }
    }
    const bool raw = fold.aggregate == Aggregate::kRaw;
    if (!raw && !interval) {
        throw ApiError(
            ErrorCode::kTsInterval,
            "Please Provide a valid aggregation interval: minute, hour, day, week, month or year"
        );
    }
    fold.interval = interval.value_or(Interval::kDay);
    int week_start = 1;
    if (const auto* text = Given(in.week_start)) {
        const auto day = ParseWeekday(*text);
        if (!day) {
            throw ApiError(ErrorCode::kTsWeekStart);
        }
        week_start = *day;
    }
    std::optional<TsType> type;
    if (const auto* text = Given(in.type)) {
        type = ParseTsType(*text);
        if (!type || (IsText(*type) && *type != TsType::kString)) {
            throw ApiError(ErrorCode::kTsType);
        }
    }
    const auto* zone = Given(in.timezone);
    plan.calendar = Calendar::ForZone(zone != nullptr ? *zone : "UTC", week_start);
    if (!plan.calendar) {
        throw ApiError(ErrorCode::kTsTimezone);
    }
    const auto& calendar = *plan.calendar;
    if (fold.aggregate == Aggregate::kLatest &&
        (fold.interval == Interval::kMonth || fold.interval == Interval::kYear)) {
        throw ApiError(ErrorCode::kTsLatestInterval);
    }
    fold.differential = in.differential;
    fold.reset_on_negative = in.reset_on_negative;

    // The range [start, end).
    const auto start_time = Seconds(in.start_time, ErrorCode::kTsStartTime);
    const auto end_time = Seconds(in.end_time, ErrorCode::kTsEndTime);
    std::optional<int> intervals;
    if (const auto* text = Given(in.num_intervals)) {
        int n = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
        if (ec != std::errc{} || end != text->data() + text->size() || n < 1 || !interval ||
            n > MaxIntervals(*interval) * config_.span_multiplier) {
            throw ApiError(ErrorCode::kTsIntervalCount);
        }
        intervals = n;
    }
    const std::int64_t now = clock_.NowSeconds();
    if (start_time && end_time) {
        plan.start = *start_time;
        plan.end = *end_time;
    } else if (intervals && !start_time && !end_time) {
        // The current interval and the n-1 before it.
        const std::int64_t current = calendar.Floor(*interval, now);
        plan.start =
            calendar.Floor(*interval, calendar.Advance(*interval, current, 1 - *intervals));
        plan.end = calendar.Next(*interval, current);
    } else if (!raw) {
        throw ApiError(
            start_time || end_time ? ErrorCode::kTsTimeMissing : ErrorCode::kTsRangeMissing
        );
    } else {
        // Raw: the last 7 days by default, or 7 days either side of the one bound given.
        plan.end = end_time     ? *end_time
                   : start_time ? std::min(*start_time + kRawDefaultSpan, now + 1)
                                : now + 1;
        plan.start = start_time ? *start_time
                     : end_time ? *end_time - kRawDefaultSpan
                                : now - kRawDefaultSpan;
    }
    if (plan.start >= plan.end) {
        throw ApiError(ErrorCode::kTsStartAfterEnd);
    }
    const auto span = MaxSpan(raw ? std::nullopt : interval);
    const bool too_long =
        interval == Interval::kMinute || interval == Interval::kHour
            // a day of minutes or hours in seconds: the 23-hour day of a clock change too
            ? plan.end - plan.start > kDay * config_.span_multiplier
            : plan.end >
                  calendar.Advance(span.unit, plan.start, span.count * config_.span_multiplier);
    if (too_long) {
        throw ApiError(ErrorCode::kTsDuration);
    }

    // Access, then the series (and so the type of its values).
    if (!MayRead(caller, in.node_id, admin)) {
        throw ApiError(admin ? ErrorCode::kTsNodeId : ErrorCode::kTsNoMapping);
    }
    const auto types = db_.TimeSeries().SeriesTypes(in.node_id, TsKind::kTsData, in.param_name);
    const auto has = [&](TsType t) {
        return std::find(types.begin(), types.end(), static_cast<int>(t)) != types.end();
    };
    if (!type) {
        // The documented default is float; a param stored only as another type is read as that.
        type = has(TsType::kFloat) || types.size() != 1 ? TsType::kFloat
                                                        : static_cast<TsType>(types.front());
    }
    if (!has(*type) && !types.empty()) {
        throw ApiError(
            ErrorCode::kTsTypeMismatch,
            "Stored data type differs from requested type: " + in.param_name + " is stored as " +
                std::string(TsTypeName(static_cast<TsType>(types.front())))
        );
    }
    fold.type = *type;
    if (!Supports(*type, fold.aggregate)) {
        throw ApiError(ErrorCode::kTsAggregateType);
    }
    if (fold.differential && !Numeric(*type)) {
        throw ApiError(ErrorCode::kTsDifferentialType);
    }
    Locate(plan, now);
    // Pages continue only the query they came from, for the same caller.
    plan.query_hash = QueryDigest({
        admin ? "admin" : "user",
        caller.user_id,
        in.node_id,
        in.param_name,
        AggregateName(fold.aggregate),
        std::to_string(static_cast<int>(fold.interval)),
        std::to_string(static_cast<int>(*type)),
        calendar.zone_name(),
        std::to_string(week_start),
        fold.differential ? "d" : "-",
        fold.reset_on_negative ? "r" : "-",
        plan.desc ? "desc" : "asc",
        in.start_time.value_or(""),
        in.end_time.value_or(""),
        in.num_intervals.value_or(""),
    });
    auto page = Run(plan, in.start_id);
    page.aggregate = fold.aggregate;
    page.timezone = calendar.zone_name();
    page.differential = fold.differential;
    page.reset_on_negative = fold.reset_on_negative;
    return page;
}

TsPage TimeSeriesService::QuerySimple(
    const auth::AuthContext& caller, const SimpleQueryInput& in, bool admin
) {
    if (in.node_id.empty()) {
        throw ApiError(ErrorCode::kSimpleTsNodeId);
    }
    if (in.param_name.empty() || in.param_name.size() > kMaxNameBytes) {
        throw ApiError(ErrorCode::kSimpleTsParamName);
    }
    const auto* data_type = Given(in.data_type);
    const auto type = data_type != nullptr ? ParseTsType(*data_type) : std::nullopt;
    if (!type) {
        throw ApiError(ErrorCode::kSimpleTsDataType);
    }
    Plan plan;
    plan.kind = TsKind::kSimple;
    plan.node_id = in.node_id;
    plan.name = in.param_name;
    plan.desc = in.desc_order;
    plan.limit = in.num_records;
    plan.fold.type = *type;
    plan.calendar = Calendar::ForZone("UTC");
    if (!plan.calendar) {
        throw ApiError(ErrorCode::kSimpleTsStoreFailed, "The time zone database is missing");
    }
    const auto start_time = Seconds(in.start_time, ErrorCode::kTsStartTime);
    const auto end_time = Seconds(in.end_time, ErrorCode::kTsEndTime);
    // The reference requires both; newer apps may leave them out: the last 7 days.
    const std::int64_t now = clock_.NowSeconds();
    plan.end = end_time ? *end_time : now + 1;
    plan.start = start_time ? *start_time
                 : end_time ? *end_time - kRawDefaultSpan
                            : now - kRawDefaultSpan;
    if (plan.start >= plan.end) {
        throw ApiError(ErrorCode::kTsStartAfterEnd);
    }
    if (!MayRead(caller, in.node_id, admin)) {
        throw ApiError(ErrorCode::kSimpleTsNodeId);
    }
    Locate(plan, now);
    plan.query_hash = QueryDigest({
        admin ? "admin-simple" : "simple",
        caller.user_id,
        in.node_id,
        in.param_name,
        std::to_string(static_cast<int>(*type)),
        plan.desc ? "desc" : "asc",
        in.start_time.value_or(""),
        in.end_time.value_or(""),
    });
    return Run(plan, in.start_id);
}

void TimeSeriesService::Locate(Plan& plan, std::int64_t now) {
    const auto series = db_.TimeSeries().FindSeries(
        plan.node_id, plan.kind, plan.name, static_cast<int>(plan.fold.type)
    );
    if (!series) {
        return;  // no such series: the answer is empty
    }
    plan.series_id = series->series_id;
    plan.retained_from = RetainedFrom(series->ttl_days, now);
}

std::int64_t TimeSeriesService::RetainedFrom(int ttl_days, std::int64_t now) const {
    const int days = ttl_days != 0 ? ttl_days : config_.retention_days;
    return now - static_cast<std::int64_t>(days) * kDay;
}

TsPage TimeSeriesService::Run(const Plan& plan, const std::optional<std::string>& start_id) {
    try {
        return ReadPage(plan, start_id);
    } catch (const ApiError&) {
        throw;
    } catch (const std::exception& e) {
        // A damaged chunk or a failing store: the catalog's code for it, the cause in the log.
        core::log::Error("time series " + plan.node_id + " " + plan.name + ": " + e.what());
        throw ApiError(
            plan.kind == TsKind::kSimple ? ErrorCode::kSimpleTsStoreFailed
                                         : ErrorCode::kTsStoreFailed
        );
    }
}

TsPage TimeSeriesService::ReadPage(const Plan& plan, const std::optional<std::string>& start_id) {
    TsPage page;
    page.node_id = plan.node_id;
    page.param_name = plan.name;
    page.type = plan.fold.type;
    std::int64_t start = plan.start;
    std::int64_t end = plan.end;
    std::int64_t cursor = plan.desc ? end : start;
    const std::int64_t now = clock_.NowSeconds();
    if (const auto* token = Given(start_id)) {
        const auto resumed = db_.TimeSeries().UsePage(*token, plan.query_hash, now, kPageUses);
        if (!resumed) {
            throw ApiError(
                ErrorCode::kInvalidStartId,
                "Invalid start key provided: unknown, expired, used too often, or made for "
                "other parameters"
            );
        }
        start = resumed->start;  // a relative window stays where its first page put it
        end = resumed->end;
        cursor = resumed->cursor;
    }
    if (!plan.series_id) {
        return page;
    }
    const auto limit = static_cast<std::size_t>(plan.limit);
    const bool raw = plan.fold.aggregate == Aggregate::kRaw;
    std::optional<std::int64_t> next;
    db_.Snapshot([&] {
        SeriesPoints points(db_.TimeSeries(), *plan.series_id, plan.fold.type);
        const auto before = [&](std::int64_t t) {
            auto base = plan.fold.differential ? points.Before(t) : std::nullopt;
            return base && base->t >= plan.retained_from ? base : std::nullopt;
        };
        const auto retained = [&](std::int64_t from) { return std::max(from, plan.retained_from); };
        std::vector<TsResult> values;
        if (raw && plan.desc) {
            // The newest points before the cursor; the point under the page is the base of
            // its oldest difference.
            auto newest = points.Last(retained(start), cursor, plan.limit + 1);
            const bool more = newest.size() > limit;
            std::optional<TsPoint> base;
            if (more) {
                base = newest[limit];
                newest.resize(limit);
            } else if (!newest.empty()) {
                base = before(newest.back().t);
            }
            PointFolder folder(
                plan.fold, *plan.calendar, plan.fold.differential ? base : std::nullopt
            );
            for (auto it = newest.rbegin(); it != newest.rend(); ++it) {
                folder.Add(*it);
            }
            values = folder.Finish();
            std::reverse(values.begin(), values.end());
            if (more && !newest.empty()) {
                next = newest.back().t;
            }
        } else if (raw) {
            PointFolder folder(plan.fold, *plan.calendar, before(cursor));
            points.ForEach(retained(cursor), end, [&](const TsPoint& p) {
                folder.Add(p);
                return folder.produced() <= limit;
            });
            values = folder.Finish();
            if (values.size() > limit) {
                next = values[limit].ts;
                values.resize(limit);
            }
        } else {
            // Aggregates: every interval of what is left, then the page of them.
            const std::int64_t from = plan.desc ? start : cursor;
            const std::int64_t to = plan.desc ? cursor : end;
            PointFolder folder(plan.fold, *plan.calendar, before(from));
            points.ForEach(retained(from), to, [&](const TsPoint& p) {
                folder.Add(p);
                // Ascending, a page ends once the interval after it is complete; descending
                // pages are the last intervals of what is left, so all of it is read.
                return plan.desc || folder.produced() <= limit;
            });
            values = folder.Finish();
            if (values.size() > limit) {
                if (plan.desc) {
                    values.erase(values.begin(), values.end() - static_cast<std::ptrdiff_t>(limit));
                    next = values.front().ts;
                } else {
                    next = values[limit].ts;
                    values.resize(limit);
                }
            }
            if (plan.desc) {
                std::reverse(values.begin(), values.end());
            }
        }
        page.values = std::move(values);
    });
    if (next) {
        const std::string token = core::RandomAlnum(32);
        db_.TimeSeries().PutPage(
            token, storage::TsPageRow{plan.query_hash, start, end, *next}, now + kPageLifetime
        );
        page.next_id = token;
    }
    return page;
}

std::string TimeSeriesService::RenderMetrics() const {
    std::string out;
    const auto line = [&](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    line(
        "rainmaker_timeseries_records_stored_total",
        "Time-series records stored from tsdata and simple_tsdata.",
        counters_.records_stored
    );
    line(
        "rainmaker_timeseries_records_dropped_total",
        "Time-series records dropped: malformed, not declared by the node's config, or mistyped.",
        counters_.records_dropped
    );
    line(
        "rainmaker_timeseries_points_compacted_total",
        "Time-series points moved from the head into chunks.",
        counters_.points_compacted
    );
    line(
        "rainmaker_timeseries_points_expired_total",
        "Time-series points and chunks deleted after their retention.",
        counters_.points_expired
    );
    return out;
}

}  // namespace rainmaker::domain::timeseries

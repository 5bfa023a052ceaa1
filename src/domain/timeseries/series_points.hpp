// A series' points as one sequence ordered by time, whether they sit in its head (one row per
// point) or in encoded chunks; and compaction, which moves the head into chunks. Call inside a
// Database::Snapshot (reads) or Transaction (compaction) so head and chunks agree.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "domain/timeseries/ts_types.hpp"
#include "storage/timeseries_store.hpp"

namespace rainmaker::domain::timeseries {

// A stored cell as a value of `type`; nullopt for a cell of another kind.
std::optional<TsValue> FromCell(TsType type, const storage::TsCell& cell);
storage::TsCell ToCell(const TsValue& value);

class SeriesPoints {
public:
    SeriesPoints(storage::TimeSeriesStore& store, std::int64_t series_id, TsType type)
        : store_(store), series_id_(series_id), type_(type) {}

    // Hands the points with from <= t < to, oldest first, to `on_point` until it returns false.
    void ForEach(
        std::int64_t from, std::int64_t to, const std::function<bool(const TsPoint&)>& on_point
    );
    // The newest `limit` points with from <= t < to, newest first.
    std::vector<TsPoint> Last(std::int64_t from, std::int64_t to, int limit);
    // The newest point before `t`, or nullopt.
    std::optional<TsPoint> Before(std::int64_t t);

    // Moves every head point into chunks of at most `chunk_points` points: a point lands in
    // the chunk whose span holds it (replacing a point of the same time), after the newest
    // chunk while that one has room, or in new chunks between the others. Returns the points
    // moved.
    int Compact(int chunk_points);

private:
    std::vector<TsPoint> Head(std::int64_t from, std::int64_t to);

    storage::TimeSeriesStore& store_;
    std::int64_t series_id_;
    TsType type_;
};

}  // namespace rainmaker::domain::timeseries

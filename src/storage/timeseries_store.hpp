// Time series in the store: one row per series (node, name, kind, data type), its fresh points
// one row each (the head, upserted by the ingest), and older points packed into chunks whose
// bytes the domain encodes (domain/timeseries/codec.hpp). The chunks of a series never overlap
// in time; a point may be in the head and in a chunk at once until compaction merges them, and
// then the head's value wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rainmaker::storage {

// 0: `tsdata` series; 1: `simple_tsdata` series.
enum class TsKind { kTsData = 0, kSimple = 1 };

struct TsSeriesRow {
    std::int64_t series_id = 0;
    std::string node_id;
    TsKind kind = TsKind::kTsData;
    std::string name;   // "<device>.<param>"
    int data_type = 0;  // domain::timeseries::TsType as an integer
    int ttl_days = 0;   // 0: the configured default retention
};

// A head value as stored: REAL, INTEGER (ints and booleans) or TEXT.
using TsCell = std::variant<double, std::int64_t, std::string>;

struct TsHeadPoint {
    std::int64_t t = 0;
    TsCell value;
};

// A chunk's place in time: its first and last point, and how many it holds.
struct TsChunkSpan {
    std::int64_t start_t = 0;
    std::int64_t end_t = 0;
    int count = 0;
};

struct TsChunkRow {
    TsChunkSpan span;
    std::string data;
};

// What a page token (start_id) resumes: the range it was made for and where the next page
// starts (ascending) or ends (descending).
struct TsPageRow {
    std::string query_hash;
    std::int64_t start = 0;
    std::int64_t end = 0;
    std::int64_t cursor = 0;
};

class TimeSeriesStore {
public:
    virtual ~TimeSeriesStore() = default;

    // The series of that node, kind, name and data type, or nullopt.
    virtual std::optional<TsSeriesRow> FindSeries(
        std::string_view node_id, TsKind kind, std::string_view name, int data_type
    ) = 0;
    // Every data type the node has a series of that kind and name in.
    virtual std::vector<int> SeriesTypes(
        std::string_view node_id, TsKind kind, std::string_view name
    ) = 0;
    // The id of the series (node, kind, name, data_type), created with `ttl_days` if new.
    virtual std::int64_t EnsureSeries(const TsSeriesRow& series) = 0;
    virtual void SetTtl(std::int64_t series_id, int ttl_days) = 0;
    // Upserts a point into the head of series `series.series_id`, only when that series
    // exists with the node, kind, name and data type of `series`; false (nothing stored)
    // otherwise (an id cached by the caller whose series is gone).
    virtual bool PutPoint(const TsSeriesRow& series, std::int64_t t, const TsCell& value) = 0;

    // The head points with from <= t < to, ascending.
    virtual std::vector<TsHeadPoint> HeadPoints(
        std::int64_t series_id, std::int64_t from, std::int64_t to
    ) = 0;
    // At most `limit` head points with from <= t < to, newest first.
    virtual std::vector<TsHeadPoint> HeadPointsDescending(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) = 0;
    // Deletes every head point of the series.
    virtual void DeleteHead(std::int64_t series_id) = 0;
    // Series with points in their head (compaction after a restart).
    virtual std::vector<std::int64_t> SeriesWithHead() = 0;
    // The series' kind and data type, or nullopt when it is gone.
    virtual std::optional<TsSeriesRow> SeriesById(std::int64_t series_id) = 0;

    // The spans of the chunks holding any point with from <= t < to, oldest first.
    virtual std::vector<TsChunkSpan> ChunkSpans(
        std::int64_t series_id, std::int64_t from, std::int64_t to
    ) = 0;
    // At most `limit` chunks holding a point with from <= t < to, oldest first.
    virtual std::vector<TsChunkRow> Chunks(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) = 0;
    // At most `limit` chunks holding a point with from <= t < to, newest first.
    virtual std::vector<TsChunkRow> ChunksDescending(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) = 0;
    // The newest chunk, or nullopt when the series has none.
    virtual std::optional<TsChunkRow> LastChunk(std::int64_t series_id) = 0;
    // Deletes the chunks starting at `starts`, then inserts `chunks` (which must not overlap
    // each other nor the chunks left).
    virtual void ReplaceChunks(
        std::int64_t series_id,
        const std::vector<std::int64_t>& starts,
        const std::vector<TsChunkRow>& chunks
    ) = 0;

    // Deletes every series of the node with its points; returns how many series.
    virtual int DeleteNodeSeries(std::string_view node_id) = 0;
    // Deletes the points older than each series' retention (`default_ttl_days` for series
    // without their own) as of `now`: head points one by one, chunks once their newest point
    // is older. Returns the points and chunks deleted.
    virtual int DeleteExpired(std::int64_t now, int default_ttl_days) = 0;

    virtual void PutPage(
        std::string_view token, const TsPageRow& page, std::int64_t expires_at
    ) = 0;
    // The page of `token` made for `query_hash`, counting one use; nullopt when unknown,
    // expired at `now`, made for another query, or used `max_uses` times already.
    virtual std::optional<TsPageRow> UsePage(
        std::string_view token, std::string_view query_hash, std::int64_t now, int max_uses
    ) = 0;
    virtual int DeleteExpiredPages(std::int64_t now) = 0;
};

}  // namespace rainmaker::storage

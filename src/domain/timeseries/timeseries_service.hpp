// Time series of node params: what nodes publish on `tsdata` and `simple_tsdata` is checked
// against their config and stored (series ids, points in the head, compacted into chunks by a
// periodic job, pruned after their retention); users read it back raw or aggregated per
// interval in their time zone (#66-#69), a page at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/timeseries/aggregation.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::timeseries {

struct TimeSeriesConfig {
    int retention_days = 365;  // tsdata, and simple series sent without `d`
    int max_ttl_days = 3650;   // a larger `d` is held to this
    // The catalog's maximum query spans (and num_intervals) times this: 1 keeps them; an
    // operator may allow longer views (a year by day).
    int span_multiplier = 1;
    std::size_t max_message_bytes = 64 * 1024;
    std::size_t max_text_bytes = 4 * 1024;  // one string, object or array value
    int chunk_points = 1024;
    // A series' head is compacted once it holds this many points, or is this old.
    int compact_after_points = 256;
    std::int64_t compact_after_seconds = 600;
};

// Counters for /metrics.
struct TimeSeriesCounters {
    std::atomic<std::uint64_t> records_stored{0};
    std::atomic<std::uint64_t> records_dropped{0};  // malformed, undeclared or mistyped
    std::atomic<std::uint64_t> points_compacted{0};
    std::atomic<std::uint64_t> points_expired{0};
};

// The query string of #66/#67 as given (numbers stay text: each has its own error code).
struct TsQueryInput {
    std::string node_id;
    std::string param_name;
    std::optional<std::string> aggregate;
    std::optional<std::string> aggregation_interval;
    std::optional<std::string> type;
    std::optional<std::string> week_start;
    std::optional<std::string> timezone;
    std::optional<std::string> start_time;
    std::optional<std::string> end_time;
    std::optional<std::string> num_intervals;
    std::optional<std::string> start_id;
    bool differential = false;
    bool reset_on_negative = false;
    bool desc_order = false;
    int num_records = 200;  // 1..200, checked at the edge
};

// The query string of #68/#69.
struct SimpleQueryInput {
    std::string node_id;
    std::string param_name;
    std::optional<std::string> data_type;  // `data_type`, or `type` (the SDK's spelling)
    std::optional<std::string> start_time;
    std::optional<std::string> end_time;
    std::optional<std::string> start_id;
    bool desc_order = false;
    int num_records = 200;
};

// One page of an answer.
struct TsPage {
    std::string node_id;
    std::string param_name;
    TsType type = TsType::kFloat;  // of the values
    std::vector<TsResult> values;
    std::optional<std::string> next_id;
    // Echoed by #66/#67.
    Aggregate aggregate = Aggregate::kRaw;
    std::string timezone;
    bool differential = false;
    bool reset_on_negative = false;
};

class TimeSeriesService {
public:
    TimeSeriesService(
        storage::Database& db, const core::Clock& clock, TimeSeriesConfig config = {}
    );

    // Registers the handlers of `tsdata` and `simple_tsdata` (call before the link starts).
    void RegisterIngest(nodes::NodeIngest& ingest);

    // #66 (`admin`: #67, any node). Throws the 1260xx errors, kInvalidStartId.
    TsPage Query(const auth::AuthContext& caller, const TsQueryInput& input, bool admin);
    // #68 (`admin`: #69). Throws kSimpleTsNodeId, kSimpleTsParamName, kSimpleTsDataType,
    // kTsStartTime, kTsEndTime, kTsStartAfterEnd, kInvalidStartId.
    TsPage QuerySimple(const auth::AuthContext& caller, const SimpleQueryInput& input, bool admin);

    // Compacts the heads due (`all`: every head); returns the points moved. The periodic job.
    int Compact(bool all);
    // Deletes points past their retention and expired page tokens. The daily job.
    int DeleteExpired();
    // Deletes every series of the node (its last user went, or it was reset); call inside
    // the transaction that removed them.
    void ForgetNode(std::string_view node_id);

    const TimeSeriesCounters& counters() const { return counters_; }

    // /metrics lines of the counters.
    std::string RenderMetrics() const;

private:
    struct Plan;  // a checked query: its series, fold, range and page size

    void OnTsData(nodes::NodeIngest& ingest, std::string_view node_id, const boost::json::object&);
    void OnSimple(nodes::NodeIngest& ingest, std::string_view node_id, const boost::json::object&);

    // The declared params of the node a message came from, read at most twice per message
    // (from memory, then once from the store).
    struct Declared {
        nodes::NodeIngest& ingest;
        std::string_view node_id;
        std::shared_ptr<const nodes::DeclaredParams> params;
        bool reloaded = false;
    };

    // The series an entry's records go to: its name declared by the node's config with its
    // `dt`; nullopt when it is not.
    struct Target {
        storage::TsSeriesRow series;  // series_id 0 until the first point
        TsType type = TsType::kFloat;
    };

    std::optional<Target> Resolve(
        Declared& declared, storage::TsKind kind, const boost::json::object& entry, int ttl_days
    );
    // Stores one record of `target`; false when it is dropped (time, value, retention).
    bool StoreRecord(
        Target& target, const boost::json::value& time, const boost::json::value& value
    );
    std::int64_t SeriesId(
        std::string_view node_id,
        storage::TsKind kind,
        std::string_view name,
        TsType type,
        int ttl_days
    );
    void NoteHeadPoint(std::int64_t series_id);
    // Whether the caller may read the node's series (admin: any node that exists).
    bool MayRead(const auth::AuthContext& caller, std::string_view node_id, bool admin);
    // Finds the series of `plan` (node, kind, name, value type): its id, and the oldest time it
    // still holds points of (its `d`, or the default retention). A plan without a series
    // answers nothing.
    void Locate(Plan& plan, std::int64_t now);
    // The oldest time a series of retention `ttl_days` (0: the default) holds points of.
    std::int64_t RetainedFrom(int ttl_days, std::int64_t now) const;
    // One page of `plan`, from its start or from the page of `start_id`.
    // Store failures (a damaged chunk) answer 126014 / 136003.
    TsPage Run(const Plan& plan, const std::optional<std::string>& start_id);
    TsPage ReadPage(const Plan& plan, const std::optional<std::string>& start_id);

    storage::Database& db_;
    const core::Clock& clock_;
    TimeSeriesConfig config_;
    TimeSeriesCounters counters_;

    // Series ids by node, kind, name and type, so a point costs one statement. A cached id
    // whose series is gone (deleted with its node, or rolled back) is caught by PutPoint.
    struct CachedSeries {
        std::int64_t id = 0;
        int ttl_days = 0;  // the `d` it was stored with
    };

    std::mutex series_mutex_;
    std::unordered_map<std::string, CachedSeries> series_ids_;

    // Series with points in their head: how many were added and when the first was.
    struct Dirty {
        int points = 0;
        std::int64_t since = 0;
    };

    std::mutex dirty_mutex_;
    std::unordered_map<std::int64_t, Dirty> dirty_;
    bool dirty_loaded_ = false;
};

}  // namespace rainmaker::domain::timeseries

// Time-series storage and query engine, in process, beside hand-written SQLite in the same run:
//
//   1. writes a year of 1-minute readings of one series (525,600 points) through the store as
//      ingest does, compacts them into coded chunks, and reports the bytes on disk per point;
//      the baseline writes the same points as one row each (series, t, v) in a WITHOUT ROWID
//      table in batches of 10,000;
//   2. times the queries of issue #8 — avg by hour over 31 days (44,640 points, 744 buckets,
//      every page read) and avg by day over 365 days — through TimeSeriesService::Query, and the
//      same aggregates as one SQL statement over the baseline table (UTC buckets).
//
//   timeseries_query [--runs N] [--days D]
//
// Prints a Markdown table. The series lives in a temporary directory removed at the end.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/timeseries/timeseries_service.hpp"
#include "fixed_clock.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kEnd = 1798761600;  // 2027-01-01 00:00 UTC: the data ends here

// The clock of the service: just after the data.
// A temperature-like reading: slow drift plus a daily swing, one decimal.
double Reading(std::int64_t i) {
    const double raw = 21.0 + 4.0 * std::sin(static_cast<double>(i) * 2.0 * M_PI / 1440.0) +
                       1.5 * std::sin(static_cast<double>(i) / 9000.0);
    return std::round(raw * 10.0) / 10.0;
}

double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

struct Stats {
    double p50 = 0;
    double p90 = 0;
};

Stats Time(int runs, const std::function<void()>& run) {
    run();  // warm the page cache and the statement caches
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        run();
        ms.push_back(Ms(Clock::now() - start));
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[ms.size() * 9 / 10]};
}

void Check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
    }
}

// The hand-written baseline: one row per point, and one SQL aggregate per query.
class RawTable {
public:
    explicit RawTable(const std::filesystem::path& file) {
        Check(sqlite3_open(file.c_str(), &db_), db_, "open");
        Exec("PRAGMA journal_mode=WAL");
        Exec("PRAGMA synchronous=NORMAL");
        Exec(
            "CREATE TABLE points (series INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, "
            "PRIMARY KEY (series, t)) WITHOUT ROWID"
        );
    }

    ~RawTable() { sqlite3_close(db_); }

    void Insert(std::int64_t count) {
        sqlite3_stmt* stmt = nullptr;
        Check(
            sqlite3_prepare_v2(db_, "INSERT INTO points VALUES (1, ?, ?)", -1, &stmt, nullptr),
            db_,
            "prepare"
        );
        for (std::int64_t i = 0; i < count; ++i) {
            if (i % 10000 == 0) {
                Exec(i == 0 ? "BEGIN" : "COMMIT; BEGIN");
            }
            sqlite3_bind_int64(stmt, 1, kEnd - (count - i) * kMinute);
            sqlite3_bind_double(stmt, 2, Reading(i));
            Check(sqlite3_step(stmt), db_, "insert");
            sqlite3_reset(stmt);
        }
        Exec("COMMIT");
        sqlite3_finalize(stmt);
    }

    // avg per bucket of `width` seconds over [start, end); the number of buckets.
    int Avg(std::int64_t start, std::int64_t end, std::int64_t width) {
        if (query_ == nullptr) {
            Check(
                sqlite3_prepare_v2(
                    db_,
                    "SELECT (t - ?1) / ?3 AS b, avg(v) FROM points WHERE series = 1 AND t >= ?1 "
                    "AND t < ?2 GROUP BY b ORDER BY b",
                    -1,
                    &query_,
                    nullptr
                ),
                db_,
                "prepare"
            );
        }
        sqlite3_bind_int64(query_, 1, start);
        sqlite3_bind_int64(query_, 2, end);
        sqlite3_bind_int64(query_, 3, width);
        int rows = 0;
        while (sqlite3_step(query_) == SQLITE_ROW) {
            ++rows;
        }
        sqlite3_reset(query_);
        return rows;
    }

    std::int64_t Bytes() {
        sqlite3_stmt* stmt = nullptr;
        Check(
            sqlite3_prepare_v2(
                db_, "SELECT sum(pgsize) FROM dbstat WHERE name = 'points'", -1, &stmt, nullptr
            ),
            db_,
            "prepare dbstat"
        );
        sqlite3_step(stmt);
        const auto bytes = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return bytes;
    }

    void Exec(const char* sql) {
        Check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), db_, sql);
    }

    sqlite3* handle() { return db_; }

private:
    sqlite3* db_ = nullptr;
    sqlite3_stmt* query_ = nullptr;
};

// The bytes of the tables and indexes holding points in the server's database file.
std::int64_t SeriesBytes(const std::filesystem::path& file) {
    sqlite3* db = nullptr;
    Check(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), db, "open");
    sqlite3_stmt* stmt = nullptr;
    Check(
        sqlite3_prepare_v2(
            db,
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('ts_chunks', 'ts_head')",
            -1,
            &stmt,
            nullptr
        ),
        db,
        "prepare dbstat"
    );
    sqlite3_step(stmt);
    const auto bytes = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return bytes;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 30;
    int days = 365;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--days") {
            days = std::clamp(std::atoi(argv[i + 1]), 31, 3650);
        }
    }
    const std::int64_t points = static_cast<std::int64_t>(days) * 1440;
    char pattern[] = "/tmp/ts-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::filesystem::path dir = pattern;
    int status = 0;
    try {
        bench::FixedClock clock(kEnd + 60);
        storage::sqlite::SqliteDatabase db(dir / "rainmaker.db");
        domain::timeseries::TimeSeriesConfig config;
        config.span_multiplier = 31;  // a 31-day view by hour and a year by day
        domain::timeseries::TimeSeriesService series(db, clock, config);

        storage::NodeRow node;
        node.node_id = "bench-node";
        node.created_at = kEnd - points * kMinute;
        db.Nodes().Insert(node);
        storage::TsSeriesRow row;
        row.node_id = node.node_id;
        row.name = "Sensor.Temperature";
        row.data_type = static_cast<int>(domain::timeseries::TsType::kFloat);
        row.series_id = db.TimeSeries().EnsureSeries(row);

        // 1. Writes: the server's store (batches of 512, as the ingest thread commits) then
        // compaction, beside the raw table.
        auto start = Clock::now();
        for (std::int64_t i = 0; i < points; i += 512) {
            db.Transaction([&] {
                for (std::int64_t j = i; j < std::min(points, i + 512); ++j) {
                    db.TimeSeries().PutPoint(row, kEnd - (points - j) * kMinute, Reading(j));
                }
            });
        }
        const double put_ms = Ms(Clock::now() - start);
        start = Clock::now();
        series.Compact(true);
        const double compact_ms = Ms(Clock::now() - start);
        RawTable raw(dir / "raw.db");
        start = Clock::now();
        raw.Insert(points);
        const double raw_ms = Ms(Clock::now() - start);
        const auto ours_bytes = SeriesBytes(dir / "rainmaker.db");
        const auto raw_bytes = raw.Bytes();

        // 2. Queries, every page read.
        const domain::auth::AuthContext admin{"u-admin", "admin@example.com", "s"};
        const auto query = [&](const char* interval, std::int64_t from) {
            domain::timeseries::TsQueryInput in;
            in.node_id = node.node_id;
            in.param_name = row.name;
            in.aggregate = "avg";
            in.aggregation_interval = interval;
            in.start_time = std::to_string(from);
            in.end_time = std::to_string(kEnd);
            std::size_t buckets = 0;
            auto page = series.Query(admin, in, true);
            buckets += page.values.size();
            while (page.next_id) {
                in.start_id = page.next_id;
                page = series.Query(admin, in, true);
                buckets += page.values.size();
            }
            return buckets;
        };
        const std::int64_t month = kEnd - 31 * kDay;
        const std::int64_t year = kEnd - 365 * kDay;
        if (query("hour", month) != 744 || raw.Avg(month, kEnd, 3600) != 744 ||
            query("day", year) != 365 || raw.Avg(year, kEnd, kDay) != 365) {
            throw std::runtime_error("the engines disagree on the number of buckets");
        }
        const auto hour_ours = Time(runs, [&] { query("hour", month); });
        const auto hour_sql = Time(runs, [&] { raw.Avg(month, kEnd, 3600); });
        const auto day_ours = Time(runs, [&] { query("day", year); });
        const auto day_sql = Time(runs, [&] { raw.Avg(year, kEnd, kDay); });

        std::printf("| measure | rainmaker-server | raw SQLite | ratio |\n|---|---|---|---|\n");
        std::printf(
            "| write %lld points (store batches of 512; raw: 10,000) | %.0f points/s | %.0f "
            "points/s | %.2f |\n",
            static_cast<long long>(points),
            points / (put_ms / 1000.0),
            points / (raw_ms / 1000.0),
            raw_ms / put_ms
        );
        std::printf("| compaction of all of them | %.0f ms | — | — |\n", compact_ms);
        std::printf(
            "| bytes on disk per point | %.2f | %.2f | %.2f |\n",
            static_cast<double>(ours_bytes) / static_cast<double>(points),
            static_cast<double>(raw_bytes) / static_cast<double>(points),
            static_cast<double>(ours_bytes) / static_cast<double>(raw_bytes)
        );
        std::printf(
            "| avg by hour, 31 days (44,640 points, 744 buckets, 4 pages) p50 / p90 | %.2f / "
            "%.2f ms | %.2f / %.2f ms | %.2f |\n",
            hour_ours.p50,
            hour_ours.p90,
            hour_sql.p50,
            hour_sql.p90,
            hour_ours.p50 / hour_sql.p50
        );
        std::printf(
            "| avg by day, 365 days (525,600 points, 365 buckets, 2 pages) p50 / p90 | %.2f / "
            "%.2f ms | %.2f / %.2f ms | %.2f |\n",
            day_ours.p50,
            day_ours.p90,
            day_sql.p50,
            day_sql.p90,
            day_ours.p50 / day_sql.p50
        );
    } catch (const std::exception& e) {
        std::fprintf(stderr, "timeseries_query: %s\n", e.what());
        status = 1;
    }
    std::filesystem::remove_all(dir);
    return status;
}

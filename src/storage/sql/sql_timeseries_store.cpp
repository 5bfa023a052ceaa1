// Time series in SQLite: series rows, the head (one row per fresh point) and encoded chunks.
#include "storage/sql/sql_timeseries_store.hpp"

#include <limits>
#include <type_traits>
#include <variant>

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr std::int64_t kDay = 86400;

TsSeriesRow ReadSeries(const Statement& s) {
    return TsSeriesRow{
        s.Int(0),
        s.Text(1),
        static_cast<TsKind>(s.Int(2)),
        s.Text(3),
        static_cast<int>(s.Int(4)),
        static_cast<int>(s.Int(5))};
}

TsHeadPoint ReadHead(const Statement& s) {
    TsHeadPoint p;
    p.t = s.Int(0);
    if (!s.IsNull(1)) {
        p.value = s.Double(1);
    } else if (!s.IsNull(2)) {
        p.value = s.Int(2);
    } else {
        p.value = s.Text(3);
    }
    return p;
}

TsChunkRow ReadChunk(const Statement& s) {
    return TsChunkRow{{s.Int(0), s.Int(1), static_cast<int>(s.Int(2))}, s.Bytes(3)};
}

// The chunks of series ?1 holding a point with ?2 <= t < ?3: they start before ?3 and, as
// chunks never overlap, no earlier than the one holding ?2 (found by one seek).
constexpr const char* kOverlapping =
    " FROM ts_chunks WHERE series_id = ?1 AND start_t < ?3 AND end_t >= ?2 AND start_t >= "
    "COALESCE((SELECT start_t FROM ts_chunks WHERE series_id = ?1 AND start_t <= ?2 "
    "ORDER BY start_t DESC LIMIT 1), ?2)";

constexpr const char* kSeriesColumns = "series_id, node_id, kind, name, data_type, ttl_days";

}  // namespace

std::optional<TsSeriesRow> SqlTimeSeriesStore::FindSeries(
    std::string_view node_id, TsKind kind, std::string_view name, int data_type
) {
    return db_.FindFirst(
        std::string("SELECT ") + kSeriesColumns +
            " FROM ts_series WHERE node_id = ? AND kind = ? AND name = ? AND data_type = ?",
        ReadSeries,
        node_id,
        static_cast<int>(kind),
        name,
        data_type
    );
}

std::vector<int> SqlTimeSeriesStore::SeriesTypes(
    std::string_view node_id, TsKind kind, std::string_view name
) {
    return db_.FindAll(
        "SELECT data_type FROM ts_series WHERE node_id = ? AND kind = ? AND name = ?",
        [](const Statement& s) { return static_cast<int>(s.Int(0)); },
        node_id,
        static_cast<int>(kind),
        name
    );
}

std::int64_t SqlTimeSeriesStore::EnsureSeries(const TsSeriesRow& series) {
    db_.Execute(
        "INSERT INTO ts_series(node_id, kind, name, data_type, ttl_days) VALUES (?,?,?,?,?) "
        "ON CONFLICT DO NOTHING",
        series.node_id,
        static_cast<int>(series.kind),
        series.name,
        series.data_type,
        series.ttl_days
    );
    return FindSeries(series.node_id, series.kind, series.name, series.data_type).value().series_id;
}

void SqlTimeSeriesStore::SetTtl(std::int64_t series_id, int ttl_days) {
    db_.Execute("UPDATE ts_series SET ttl_days = ? WHERE series_id = ?", ttl_days, series_id);
}

bool SqlTimeSeriesStore::PutPoint(const TsSeriesRow& series, std::int64_t t, const TsCell& value) {
    int changed = 0;
    db_.WithWriteConnection([&](Connection& c) {
        auto s = c.Prepare(
            "INSERT INTO ts_head(series_id, t, v_real, v_int, v_text) SELECT ?1, ?2, ?3, ?8, ?9 "
            "WHERE EXISTS (SELECT 1 FROM ts_series WHERE series_id = ?1 AND node_id = ?4 AND "
            "kind = ?5 AND name = ?6 AND data_type = ?7) ON CONFLICT(series_id, t) DO UPDATE SET "
            "v_real = excluded.v_real, v_int = excluded.v_int, v_text = excluded.v_text"
        );
        s.Bind(1, series.series_id)
            .Bind(2, t)
            .Bind(4, series.node_id)
            .Bind(5, static_cast<int>(series.kind))
            .Bind(6, series.name)
            .Bind(7, series.data_type);
        // The value in the column of its type (?3 real, ?8 integer, ?9 text); the others NULL.
        std::visit(
            [&](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                s.Bind(std::is_same_v<V, double> ? 3 : std::is_same_v<V, std::int64_t> ? 8 : 9, v);
            },
            value
        );
        s.Run();
        changed = c.Changes();
    });
    return changed > 0;
}

std::vector<TsHeadPoint> SqlTimeSeriesStore::HeadPoints(
    std::int64_t series_id, std::int64_t from, std::int64_t to
) {
    return db_.FindAll(
        "SELECT t, v_real, v_int, v_text FROM ts_head WHERE series_id = ? AND t >= ? AND t < ? "
        "ORDER BY t",
        ReadHead,
        series_id,
        from,
        to
    );
}

std::vector<TsHeadPoint> SqlTimeSeriesStore::HeadPointsDescending(
    std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
) {
    return db_.FindAll(
        "SELECT t, v_real, v_int, v_text FROM ts_head WHERE series_id = ? AND t >= ? AND t < ? "
        "ORDER BY t DESC "
        "LIMIT ?",
        ReadHead,
        series_id,
        from,
        to,
        limit
    );
}

void SqlTimeSeriesStore::DeleteHead(std::int64_t series_id) {
    db_.Execute("DELETE FROM ts_head WHERE series_id = ?", series_id);
}

std::vector<std::int64_t> SqlTimeSeriesStore::SeriesWithHead() {
    return db_.FindAll("SELECT DISTINCT series_id FROM ts_head", [](const Statement& s) {
        return s.Int(0);
    });
}

std::optional<TsSeriesRow> SqlTimeSeriesStore::SeriesById(std::int64_t series_id) {
    return db_.FindFirst(
        std::string("SELECT ") + kSeriesColumns + " FROM ts_series WHERE series_id = ?",
        ReadSeries,
        series_id
    );
}

std::vector<TsChunkSpan> SqlTimeSeriesStore::ChunkSpans(
    std::int64_t series_id, std::int64_t from, std::int64_t to
) {
    return db_.FindAll(
        std::string("SELECT start_t, end_t, count") + kOverlapping + " ORDER BY start_t",
        [](const Statement& s) {
            return TsChunkSpan{s.Int(0), s.Int(1), static_cast<int>(s.Int(2))};
        },
        series_id,
        from,
        to
    );
}

std::vector<TsChunkRow> SqlTimeSeriesStore::Chunks(
    std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
) {
    return db_.FindAll(
        std::string("SELECT start_t, end_t, count, data") + kOverlapping +
            " ORDER BY start_t LIMIT ?4",
        ReadChunk,
        series_id,
        from,
        to,
        limit
    );
}

std::vector<TsChunkRow> SqlTimeSeriesStore::ChunksDescending(
    std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
) {
    return db_.FindAll(
        std::string("SELECT start_t, end_t, count, data") + kOverlapping +
            " ORDER BY start_t DESC LIMIT ?4",
        ReadChunk,
        series_id,
        from,
        to,
        limit
    );
}

std::optional<TsChunkRow> SqlTimeSeriesStore::LastChunk(std::int64_t series_id) {
    return db_.FindFirst(
        "SELECT start_t, end_t, count, data FROM ts_chunks WHERE series_id = ? ORDER BY start_t "
        "DESC LIMIT 1",
        ReadChunk,
        series_id
    );
}

void SqlTimeSeriesStore::ReplaceChunks(
    std::int64_t series_id,
    const std::vector<std::int64_t>& starts,
    const std::vector<TsChunkRow>& chunks
) {
    db_.Transaction([&] {
        for (const auto start : starts) {
            db_.Execute(
                "DELETE FROM ts_chunks WHERE series_id = ? AND start_t = ?", series_id, start
            );
        }
        for (const auto& chunk : chunks) {
            db_.WithWriteConnection([&](Connection& c) {
                auto s = c.Prepare(
                    "INSERT INTO ts_chunks(series_id, start_t, end_t, count, data) VALUES "
                    "(?,?,?,?,?)"
                );
                s.Bind(1, series_id)
                    .Bind(2, chunk.span.start_t)
                    .Bind(3, chunk.span.end_t)
                    .Bind(4, chunk.span.count)
                    .BindBlob(5, chunk.data);
                s.Run();
            });
        }
    });
}

int SqlTimeSeriesStore::DeleteNodeSeries(std::string_view node_id) {
    int removed = 0;
    db_.Transaction([&] {
        const char* in = " WHERE series_id IN (SELECT series_id FROM ts_series WHERE node_id = ?)";
        db_.Execute(std::string("DELETE FROM ts_head") + in, node_id);
        db_.Execute(std::string("DELETE FROM ts_chunks") + in, node_id);
        removed = db_.Execute("DELETE FROM ts_series WHERE node_id = ?", node_id);
    });
    return removed;
}

int SqlTimeSeriesStore::DeleteExpired(std::int64_t now, int default_ttl_days) {
    // Series by series through the primary key: only the expired rows are visited, and one
    // short transaction per few hundred series keeps the write lock brief.
    constexpr int kSeriesPerTransaction = 500;
    int deleted = 0;
    std::int64_t after = std::numeric_limits<std::int64_t>::min();
    for (;;) {
        const auto batch = db_.FindAll(
            "SELECT series_id, ttl_days FROM ts_series WHERE series_id > ? ORDER BY series_id "
            "LIMIT ?",
            [](const Statement& s) {
                return std::pair{s.Int(0), s.Int(1)};
            },
            after,
            kSeriesPerTransaction
        );
        if (batch.empty()) {
            return deleted;
        }
        db_.Transaction([&] {
            for (const auto& [series_id, ttl] : batch) {
                const std::int64_t cutoff = now - (ttl > 0 ? ttl : default_ttl_days) * kDay;
                deleted += db_.Execute(
                    "DELETE FROM ts_head WHERE series_id = ? AND t < ?", series_id, cutoff
                );
                deleted += db_.Execute(
                    "DELETE FROM ts_chunks WHERE series_id = ? AND start_t < ?2 AND end_t < ?2",
                    series_id,
                    cutoff
                );
            }
        });
        after = batch.back().first;
    }
}

void SqlTimeSeriesStore::PutPage(
    std::string_view token, const TsPageRow& page, std::int64_t expires_at
) {
    db_.Execute(
        "INSERT INTO ts_pages(token, query_hash, start_t, end_t, cursor, expires_at) VALUES "
        "(?,?,?,?,?,?)",
        token,
        page.query_hash,
        page.start,
        page.end,
        page.cursor,
        expires_at
    );
}

std::optional<TsPageRow> SqlTimeSeriesStore::UsePage(
    std::string_view token, std::string_view query_hash, std::int64_t now, int max_uses
) {
    std::optional<TsPageRow> page;
    db_.Transaction([&] {
        if (db_.Execute(
                "UPDATE ts_pages SET uses = uses + 1 WHERE token = ? AND query_hash = ? AND "
                "expires_at > ? AND uses < ?",
                token,
                query_hash,
                now,
                max_uses
            ) == 0) {
            return;
        }
        page = db_.FindFirst(
            "SELECT query_hash, start_t, end_t, cursor FROM ts_pages WHERE token = ?",
            [](const Statement& s) {
                return TsPageRow{s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
            },
            token
        );
    });
    return page;
}

int SqlTimeSeriesStore::DeleteExpiredPages(std::int64_t now) {
    return db_.InBatches("DELETE FROM ts_pages", "ts_pages", "expires_at <= ?", now);
}

}  // namespace rainmaker::storage::sql

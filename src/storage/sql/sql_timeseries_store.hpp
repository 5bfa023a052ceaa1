// The SQLite implementation of TimeSeriesStore.
#pragma once

#include "storage/timeseries_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlTimeSeriesStore final : public TimeSeriesStore {
public:
    explicit SqlTimeSeriesStore(SqlDatabase& db) : db_(db) {}

    // storage::TimeSeriesStore
    std::optional<TsSeriesRow> FindSeries(
        std::string_view node_id, TsKind kind, std::string_view name, int data_type
    ) override;
    std::vector<int> SeriesTypes(std::string_view node_id, TsKind kind, std::string_view name)
        override;
    std::int64_t EnsureSeries(const TsSeriesRow& series) override;
    void SetTtl(std::int64_t series_id, int ttl_days) override;
    bool PutPoint(const TsSeriesRow& series, std::int64_t t, const TsCell& value) override;
    std::vector<TsHeadPoint> HeadPoints(std::int64_t series_id, std::int64_t from, std::int64_t to)
        override;
    std::vector<TsHeadPoint> HeadPointsDescending(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) override;
    void DeleteHead(std::int64_t series_id) override;
    std::vector<std::int64_t> SeriesWithHead() override;
    std::optional<TsSeriesRow> SeriesById(std::int64_t series_id) override;
    std::vector<TsChunkSpan> ChunkSpans(std::int64_t series_id, std::int64_t from, std::int64_t to)
        override;
    std::vector<TsChunkRow> Chunks(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) override;
    std::vector<TsChunkRow> ChunksDescending(
        std::int64_t series_id, std::int64_t from, std::int64_t to, int limit
    ) override;
    std::optional<TsChunkRow> LastChunk(std::int64_t series_id) override;
    void ReplaceChunks(
        std::int64_t series_id,
        const std::vector<std::int64_t>& starts,
        const std::vector<TsChunkRow>& chunks
    ) override;
    int DeleteNodeSeries(std::string_view node_id) override;
    int DeleteExpired(std::int64_t now, int default_ttl_days) override;
    void PutPage(std::string_view token, const TsPageRow& page, std::int64_t expires_at) override;
    std::optional<TsPageRow> UsePage(
        std::string_view token, std::string_view query_hash, std::int64_t now, int max_uses
    ) override;
    int DeleteExpiredPages(std::int64_t now) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

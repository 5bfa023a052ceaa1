// Merging head and chunks, and compaction.
#include "domain/timeseries/series_points.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "domain/timeseries/codec.hpp"

namespace rainmaker::domain::timeseries {

namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
// A chunk of text values is cut at about this many bytes, whatever its count.
constexpr std::size_t kMaxChunkTextBytes = 64 * 1024;

std::size_t TextSize(const TsValue& value) {
    const auto* text = std::get_if<std::string>(&value);
    return text != nullptr ? text->size() : 0;
}

// Merges two lists ordered by `before` into one; of two points at the same time, the head's.
template <typename Before>
std::vector<TsPoint> Merge(
    std::vector<TsPoint> chunk_points, std::vector<TsPoint> head, Before before, std::size_t limit
) {
    std::vector<TsPoint> out;
    out.reserve(std::min(limit, chunk_points.size() + head.size()));
    std::size_t c = 0;
    std::size_t h = 0;
    while (out.size() < limit && (c < chunk_points.size() || h < head.size())) {
        if (h < head.size() &&
            (c == chunk_points.size() || !before(chunk_points[c].t, head[h].t))) {
            if (c < chunk_points.size() && chunk_points[c].t == head[h].t) {
                ++c;  // replaced by the head's point
            }
            out.push_back(std::move(head[h++]));
        } else {
            out.push_back(std::move(chunk_points[c++]));
        }
    }
    return out;
}

}  // namespace

std::optional<TsValue> FromCell(TsType type, const storage::TsCell& cell) {
    switch (type) {
        case TsType::kFloat:
            if (const auto* d = std::get_if<double>(&cell)) {
                return *d;
            }
            if (const auto* i = std::get_if<std::int64_t>(&cell)) {
                return static_cast<double>(*i);
            }
            return std::nullopt;
        case TsType::kInt:
            if (const auto* i = std::get_if<std::int64_t>(&cell)) {
                return *i;
            }
            return std::nullopt;
        case TsType::kBool:
            if (const auto* i = std::get_if<std::int64_t>(&cell)) {
                return *i != 0;
            }
            return std::nullopt;
        default:
            if (const auto* text = std::get_if<std::string>(&cell)) {
                return *text;
            }
            return std::nullopt;
    }
}

storage::TsCell ToCell(const TsValue& value) {
    if (const auto* d = std::get_if<double>(&value)) {
        return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        return *i;
    }
    if (const auto* b = std::get_if<bool>(&value)) {
        return static_cast<std::int64_t>(*b ? 1 : 0);
    }
    return std::get<std::string>(value);
}

std::vector<TsPoint> SeriesPoints::Head(std::int64_t from, std::int64_t to) {
    std::vector<TsPoint> points;
    for (auto& row : store_.HeadPoints(series_id_, from, to)) {
        if (auto value = FromCell(type_, row.value)) {
            points.push_back(TsPoint{row.t, std::move(*value)});
        }
    }
    return points;
}

void SeriesPoints::ForEach(
    std::int64_t from, std::int64_t to, const std::function<bool(const TsPoint&)>& on_point
) {
    if (from >= to) {
        return;
    }
    const auto head = Head(from, to);
    std::size_t h = 0;
    // Head points before `t` (and the one at `t`, which replaces the chunk's) go first.
    const auto head_until = [&](std::int64_t t, bool& replaced) {
        replaced = false;
        while (h < head.size() && head[h].t <= t) {
            replaced = head[h].t == t;
            if (!on_point(head[h++])) {
                return false;
            }
        }
        return true;
    };
    // Chunks oldest first, a few at a time: a reader that stops early (a page) reads no
    // more of a long range than it needs.
    constexpr int kBatch = 4;
    for (std::int64_t lower = from;;) {
        const auto chunks = store_.Chunks(series_id_, lower, to, kBatch);
        for (const auto& chunk : chunks) {
            for (const auto& point : DecodeChunk(type_, chunk.data)) {
                if (point.t < from) {
                    continue;
                }
                if (point.t >= to) {
                    break;
                }
                bool replaced = false;
                if (!head_until(point.t, replaced)) {
                    return;
                }
                if (!replaced && !on_point(point)) {
                    return;
                }
            }
            lower = chunk.span.end_t < kMax ? chunk.span.end_t + 1 : kMax;  // no overlaps
        }
        if (chunks.size() < static_cast<std::size_t>(kBatch) || lower >= to) {
            break;
        }
    }
    bool replaced = false;
    head_until(kMax, replaced);
}

std::vector<TsPoint> SeriesPoints::Last(std::int64_t from, std::int64_t to, int limit) {
    if (from >= to || limit <= 0) {
        return {};
    }
    const auto wanted = static_cast<std::size_t>(limit);
    std::vector<TsPoint> head;
    for (auto& row : store_.HeadPointsDescending(series_id_, from, to, limit)) {
        if (auto value = FromCell(type_, row.value)) {
            head.push_back(TsPoint{row.t, std::move(*value)});
        }
    }
    // Chunks newest first, a few at a time, until they gave enough points: chunks do not
    // overlap, so older ones cannot hold newer points.
    std::vector<TsPoint> from_chunks;
    std::int64_t upper = to;
    while (from_chunks.size() < wanted) {
        const auto chunks = store_.ChunksDescending(series_id_, from, upper, 4);
        for (const auto& chunk : chunks) {
            auto points = DecodeChunk(type_, chunk.data);
            for (auto it = points.rbegin(); it != points.rend(); ++it) {
                if (it->t >= from && it->t < to) {
                    from_chunks.push_back(std::move(*it));
                }
            }
            upper = chunk.span.start_t;
        }
        if (chunks.size() < 4) {
            break;
        }
    }
    return Merge(
        std::move(from_chunks),
        std::move(head),
        [](std::int64_t a, std::int64_t b) { return a > b; },
        wanted
    );
}

std::optional<TsPoint> SeriesPoints::Before(std::int64_t t) {
    auto last = Last(kMin, t, 1);
    if (last.empty()) {
        return std::nullopt;
    }
    return std::move(last.front());
}

int SeriesPoints::Compact(int chunk_points) {
    auto head = Head(kMin, kMax);
    if (head.empty()) {
        store_.DeleteHead(series_id_);  // cells of another type, if any: unreadable
        return 0;
    }
    const std::int64_t lo = head.front().t;
    const std::int64_t hi = head.back().t;
    auto spans = store_.ChunkSpans(series_id_, lo, hi == kMax ? kMax : hi + 1);
    // The chunks to rewrite: those whose span holds a head point, and the newest chunk when
    // head points come after it and it has room.
    std::vector<storage::TsChunkSpan> rewrite;
    std::vector<storage::TsChunkSpan> keep;
    std::size_t h = 0;
    for (const auto& span : spans) {
        while (h < head.size() && head[h].t < span.start_t) {
            ++h;
        }
        const bool holds = h < head.size() && head[h].t <= span.end_t;
        (holds ? rewrite : keep).push_back(span);
    }
    const auto newest = store_.LastChunk(series_id_);
    if (newest && newest->span.end_t < hi && newest->span.count < chunk_points &&
        (rewrite.empty() || rewrite.back().start_t != newest->span.start_t)) {
        rewrite.push_back(newest->span);
        std::erase_if(keep, [&](const auto& s) { return s.start_t == newest->span.start_t; });
    }
    std::vector<TsPoint> old_points;
    std::vector<std::int64_t> starts;
    for (const auto& span : rewrite) {
        starts.push_back(span.start_t);
        for (const auto& chunk : store_.Chunks(series_id_, span.start_t, span.start_t + 1, 1)) {
            if (chunk.span.start_t != span.start_t) {
                continue;
            }
            auto points = DecodeChunk(type_, chunk.data);
            std::move(points.begin(), points.end(), std::back_inserter(old_points));
        }
    }
    std::sort(old_points.begin(), old_points.end(), [](const auto& a, const auto& b) {
        return a.t < b.t;
    });
    const std::size_t moved = head.size();
    auto merged = Merge(
        std::move(old_points),
        std::move(head),
        [](std::int64_t a, std::int64_t b) { return a < b; },
        std::numeric_limits<std::size_t>::max()
    );
    // Cut into chunks: never across a chunk that stays, at most chunk_points points (and
    // about kMaxChunkTextBytes of text) each.
    std::vector<storage::TsChunkRow> chunks;
    std::vector<TsPoint> run;
    std::size_t run_text = 0;
    const auto flush = [&] {
        if (run.empty()) {
            return;
        }
        chunks.push_back(storage::TsChunkRow{
            {run.front().t, run.back().t, static_cast<int>(run.size())}, EncodeChunk(type_, run)});
        run.clear();
        run_text = 0;
    };
    std::size_t k = 0;  // the next chunk that stays
    for (auto& point : merged) {
        bool crossed = false;
        while (k < keep.size() && keep[k].end_t < point.t) {
            ++k;
            crossed = true;
        }
        if (crossed || run.size() >= static_cast<std::size_t>(chunk_points) ||
            run_text >= kMaxChunkTextBytes) {
            flush();
        }
        run_text += TextSize(point.value);
        run.push_back(std::move(point));
    }
    flush();
    store_.ReplaceChunks(series_id_, starts, chunks);
    store_.DeleteHead(series_id_);
    return static_cast<int>(moved);
}

}  // namespace rainmaker::domain::timeseries

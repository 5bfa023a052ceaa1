// The compact form of a run of points of one series, after Gorilla (Pelkonen et al., VLDB 2015):
// times as delta-of-deltas in a few bits (a node reporting every minute costs one bit a point),
// floats as the XOR with the previous value (a slowly changing reading costs a few bits),
// integers as delta-of-deltas too, booleans one bit, strings whole unless repeated.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/timeseries/ts_types.hpp"

namespace rainmaker::domain::timeseries {

// Thrown for bytes that are not a chunk of this format (damaged storage).
class CorruptChunk : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `points` (ordered by time, strictly increasing, all of `type`) as one chunk.
std::string EncodeChunk(TsType type, const std::vector<TsPoint>& points);

// The points of a chunk made by EncodeChunk for `type`. Throws CorruptChunk.
std::vector<TsPoint> DecodeChunk(TsType type, std::string_view chunk);

}  // namespace rainmaker::domain::timeseries

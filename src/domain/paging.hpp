// Page sizes of the start_id/num_records lists (nodes, groups): at least 1 (400 otherwise), at
// most kMaxPageSize (larger asks get that many and a next_id, so clients that follow next_id
// see everything and no request builds an unbounded answer).
#pragma once

#include <algorithm>

#include "core/error.hpp"

namespace rainmaker::domain {

inline constexpr int kMaxPageSize = 1000;

inline int PageSize(int requested) {
    if (requested < 1) {
        throw core::ApiError(
            core::ErrorCode::kInvalidQuery, "Invalid query param: num_records must be >= 1"
        );
    }
    return std::min(requested, kMaxPageSize);
}

}  // namespace rainmaker::domain

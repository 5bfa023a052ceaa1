// The RainMaker error code a call refuses with: what service tests compare against the catalog.
#pragma once

#include <functional>

#include "core/error.hpp"

namespace rainmaker::testing {

// The code of the ApiError `f` throws; kInternal when it throws none (never a code a refusal
// answers, so a call that wrongly succeeds fails the comparison).
inline core::ErrorCode CodeOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        return e.code();
    }
    return core::ErrorCode::kInternal;
}

}  // namespace rainmaker::testing

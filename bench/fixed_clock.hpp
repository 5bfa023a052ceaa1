// A clock whose wall time stands still (the benches fill stores "at" one instant, so that what
// they measure does not depend on the day they run) and whose monotonic time is real.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace rainmaker::bench {

class FixedClock final : public core::Clock {
public:
    explicit FixedClock(std::int64_t unix_seconds) : now_(std::chrono::seconds(unix_seconds)) {}

    std::chrono::system_clock::time_point Now() const override { return now_; }

    std::chrono::steady_clock::time_point Monotonic() const override {
        return std::chrono::steady_clock::now();
    }

private:
    std::chrono::system_clock::time_point now_;
};

}  // namespace rainmaker::bench

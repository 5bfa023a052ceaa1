// A clock the test moves by hand: no sleeping in unit tests.
#pragma once

#include <chrono>

#include "core/clock.hpp"

namespace rainmaker::testing {

class FakeClock final : public core::Clock {
public:
    std::chrono::system_clock::time_point Now() const override { return wall_; }

    std::chrono::steady_clock::time_point Monotonic() const override { return mono_; }

    void Advance(std::chrono::seconds by) {
        wall_ += by;
        mono_ += by;
    }

private:
    std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'800'000'000)};
    std::chrono::steady_clock::time_point mono_{std::chrono::seconds(1000)};
};

}  // namespace rainmaker::testing

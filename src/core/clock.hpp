// Time behind an interface, so that expiry, throttling and jobs are testable without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace rainmaker::core {

class Clock {
public:
    virtual ~Clock() = default;
    // Wall-clock time (token expiry, stored timestamps).
    virtual std::chrono::system_clock::time_point Now() const = 0;
    // Monotonic time (durations, rate limits).
    virtual std::chrono::steady_clock::time_point Monotonic() const = 0;

    std::int64_t NowSeconds() const {
        return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
    }

    std::int64_t NowMilliseconds() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch())
            .count();
    }
};

// The real clock; the only place that reads the system clocks.
class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point Now() const override;
    std::chrono::steady_clock::time_point Monotonic() const override;
};

}  // namespace rainmaker::core

// The system clock: the one file allowed to call system_clock::now and steady_clock::now.
#include "core/clock.hpp"

namespace rainmaker::core {

std::chrono::system_clock::time_point SystemClock::Now() const {
    return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::Monotonic() const {
    return std::chrono::steady_clock::now();
}

}  // namespace rainmaker::core

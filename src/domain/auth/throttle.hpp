// Fixed-window counters that turn repeated attempts (logins, code entries, code sends) into
// 429 answers, keyed by user name and by client address.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"

namespace rainmaker::domain::auth {

class Throttle {
public:
    // At most `limit` hits per key in each `window`; limit 0 disables the throttle.
    Throttle(const core::Clock& clock, int limit, std::chrono::seconds window);

    // Throws ApiError(kTooManyRequests) when `key` already reached the limit in this window.
    void Check(std::string_view key);
    // Counts one hit for `key`.
    void Hit(std::string_view key);
    // Check, then Hit.
    void CheckAndHit(std::string_view key);

private:
    struct Window {
        std::chrono::steady_clock::time_point start;
        int count = 0;
    };

    Window& Current(std::string_view key, std::chrono::steady_clock::time_point now);

    const core::Clock& clock_;
    int limit_;
    std::chrono::seconds window_;
    std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
};

}  // namespace rainmaker::domain::auth

// Per-key fixed windows, pruned when the table grows.
#include "domain/auth/throttle.hpp"

#include "core/error.hpp"

namespace rainmaker::domain::auth {

namespace {
constexpr std::size_t kPruneAbove = 100000;
}

Throttle::Throttle(const core::Clock& clock, int limit, std::chrono::seconds window)
    : clock_(clock), limit_(limit), window_(window) {}

Throttle::Window& Throttle::Current(
    std::string_view key, std::chrono::steady_clock::time_point now
) {
    if (windows_.size() > kPruneAbove) {
        std::erase_if(windows_, [&](const auto& entry) {
            return now - entry.second.start >= window_;
        });
    }
    auto& window = windows_[std::string(key)];
    if (window.count == 0 || now - window.start >= window_) {
        window.start = now;
        window.count = 0;
    }
    return window;
}

void Throttle::Check(std::string_view key) {
    if (limit_ <= 0) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (Current(key, clock_.Monotonic()).count >= limit_) {
        throw core::ApiError(core::ErrorCode::kTooManyRequests);
    }
}

void Throttle::Hit(std::string_view key) {
    if (limit_ <= 0) {
        return;
    }
    std::lock_guard lock(mutex_);
    ++Current(key, clock_.Monotonic()).count;
}

void Throttle::CheckAndHit(std::string_view key) {
    if (limit_ <= 0) {
        return;
    }
    std::lock_guard lock(mutex_);
    auto& window = Current(key, clock_.Monotonic());
    if (window.count >= limit_) {
        throw core::ApiError(core::ErrorCode::kTooManyRequests);
    }
    ++window.count;
}

}  // namespace rainmaker::domain::auth

// A compare-and-swap loop: a share is taken only if the total stays within the limit, so
// concurrent reservations can never overshoot it together.
#include "http/server/budget.hpp"

#include <utility>

namespace rainmaker::http {

Budget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), amount_(std::exchange(other.amount_, 0)) {}

Budget::Reservation& Budget::Reservation::operator=(Reservation&& other) noexcept {
    if (this != &other) {
        Release();
        budget_ = std::exchange(other.budget_, nullptr);
        amount_ = std::exchange(other.amount_, 0);
    }
    return *this;
}

void Budget::Reservation::Release() {
    if (budget_ != nullptr) {
        budget_->used_.fetch_sub(amount_, std::memory_order_relaxed);
        budget_ = nullptr;
        amount_ = 0;
    }
}

Budget::Reservation Budget::Reserve(std::uint64_t amount) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (amount > limit_ || used > limit_ - amount) {
            return {};
        }
    } while (!used_.compare_exchange_weak(used, used + amount, std::memory_order_relaxed));
    return {this, amount};
}

}  // namespace rainmaker::http

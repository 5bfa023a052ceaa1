// The server-wide budget is a compare-and-swap loop: a share is taken or grown only if the total
// stays within the limit, so concurrent reservations can never overshoot it together. The
// per-key budget is a map under a mutex: it is touched once per connection or body step, not
// per byte.
#include "http/server/budget.hpp"

#include <utility>

namespace rainmaker::http {

Reservation::Reservation(Reservation&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      key_(std::move(other.key_)),
      amount_(std::exchange(other.amount_, 0)) {}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
    if (this != &other) {
        Release();
        pool_ = std::exchange(other.pool_, nullptr);
        key_ = std::move(other.key_);
        amount_ = std::exchange(other.amount_, 0);
    }
    return *this;
}

bool Reservation::GrowTo(std::uint64_t total) {
    if (pool_ == nullptr) {
        return false;
    }
    if (total <= amount_) {
        return true;
    }
    if (!pool_->Take(key_, total - amount_)) {
        return false;
    }
    amount_ = total;
    return true;
}

void Reservation::Release() {
    if (pool_ != nullptr) {
        pool_->Give(key_, amount_);
        pool_ = nullptr;
        amount_ = 0;
    }
}

bool Budget::Take(const std::string& /*key*/, std::uint64_t amount) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (amount > limit_ || used > limit_ - amount) {
            return false;
        }
    } while (!used_.compare_exchange_weak(used, used + amount, std::memory_order_relaxed));
    return true;
}

void Budget::Give(const std::string& /*key*/, std::uint64_t amount) {
    used_.fetch_sub(amount, std::memory_order_relaxed);
}

Budget::Reservation Budget::Reserve(std::uint64_t amount) {
    if (!Take({}, amount)) {
        return {};
    }
    return {this, {}, amount};
}

KeyedBudget::Reservation KeyedBudget::Reserve(const std::string& key, std::uint64_t amount) {
    if (!Take(key, amount)) {
        return {};
    }
    return {this, key, amount};
}

bool KeyedBudget::Take(const std::string& key, std::uint64_t amount) {
    if (amount > limit_) {
        return false;
    }
    std::lock_guard lock(mutex_);
    const auto it = used_.find(key);
    const std::uint64_t used = it == used_.end() ? 0 : it->second;
    if (used > limit_ - amount) {
        return false;
    }
    if (it == used_.end()) {
        if (amount > 0) {
            used_.emplace(key, amount);
        }
    } else {
        it->second += amount;
    }
    return true;
}

void KeyedBudget::Give(const std::string& key, std::uint64_t amount) {
    std::lock_guard lock(mutex_);
    const auto it = used_.find(key);
    if (it == used_.end()) {
        return;
    }
    it->second -= amount;
    if (it->second == 0) {
        used_.erase(it);
    }
}

std::uint64_t KeyedBudget::used(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = used_.find(key);
    return it == used_.end() ? 0 : it->second;
}

std::size_t KeyedBudget::keys() const {
    std::lock_guard lock(mutex_);
    return used_.size();
}

}  // namespace rainmaker::http

// Progressive delays per pair, account and address.
#include "domain/auth/login_guard.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "domain/auth/address_key.hpp"

namespace rainmaker::domain::auth {

namespace {
// The tables are pruned of forgotten entries every so many operations, and at once when one
// grows past this (an address spraying made-up account names).
constexpr std::size_t kPruneEvery = 4096;
constexpr std::size_t kMaxEntries = 200000;

std::string PairKey(std::string_view account, std::string_view address) {
    return std::string(account) + '\n' + std::string(address);
}
}  // namespace

LoginGuard::LoginGuard(const core::Clock& clock, LoginGuardConfig config)
    : clock_(clock), config_(config) {}

long long LoginGuard::Wait(
    std::unordered_map<std::string, Entry>& table, const std::string& key, Time now
) {
    const auto it = table.find(key);
    if (it == table.end() || it->second.next_allowed <= now) {
        return 0;
    }
    const auto left = it->second.next_allowed - now;
    return std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(left).count());
}

bool LoginGuard::Known(const std::string& pair, Time now) {
    const auto it = known_.find(pair);
    return it != known_.end() && now - it->second < config_.known_address_ttl;
}

void LoginGuard::Check(std::string_view account, std::string_view raw_address) {
    const auto now = clock_.Monotonic();
    const std::string address = AddressKey(raw_address);
    const std::string pair = PairKey(account, address);
    std::lock_guard lock(mutex_);
    long long wait = Wait(pairs_, pair, now);
    // The owner, where they logged in before, is held up by no one else's failures: neither
    // by guessing of their account elsewhere, nor by others sharing their address (a NAT, a
    // proxy without trusted_proxies).
    if (!Known(pair, now)) {
        wait = std::max(wait, Wait(addresses_, address, now));
        wait = std::max(wait, Wait(accounts_, std::string(account), now));
    }
    if (wait > 0) {
        throw core::ApiError(
            core::ErrorCode::kTooManyRequests,
            "Too many failed attempts, try again in " + std::to_string(wait) + " s"
        );
    }
}

void LoginGuard::Count(
    std::unordered_map<std::string, Entry>& table,
    const std::string& key,
    int free,
    std::chrono::seconds cap,
    Time now
) {
    auto& e = table[key];
    if (e.failures > 0 && now - e.last >= config_.window) {
        e = Entry{};  // quiet long enough: forgotten
    }
    ++e.failures;
    e.last = now;
    if (free >= 0 && e.failures > free) {
        // 1 s after the first failure past the free ones, doubling; the shift is bounded so
        // it cannot overflow before the cap applies.
        const int doublings = std::min(e.failures - free - 1, 30);
        const auto delay =
            std::min<std::chrono::seconds>(std::chrono::seconds(1LL << doublings), cap);
        e.next_allowed = now + delay;
    }
}

void LoginGuard::Failure(std::string_view account, std::string_view raw_address) {
    const auto now = clock_.Monotonic();
    const std::string address = AddressKey(raw_address);
    std::lock_guard lock(mutex_);
    Count(pairs_, PairKey(account, address), config_.free_per_pair, config_.max_delay, now);
    Count(
        accounts_, std::string(account), config_.free_per_account, config_.max_account_delay, now
    );
    Count(addresses_, address, config_.free_per_address, config_.max_delay, now);
    Prune(now);
}

void LoginGuard::Success(std::string_view account, std::string_view raw_address) {
    const auto now = clock_.Monotonic();
    const std::string pair = PairKey(account, AddressKey(raw_address));
    std::lock_guard lock(mutex_);
    pairs_.erase(pair);
    accounts_.erase(std::string(account));
    known_[pair] = now;
    Prune(now);
}

void LoginGuard::Prune(Time now) {
    const auto size = [&] {
        return pairs_.size() + accounts_.size() + addresses_.size() + known_.size();
    };
    if (++operations_ % kPruneEvery != 0 && size() < kMaxEntries) {
        return;
    }
    const auto forgotten = [&](const auto& entry) {
        return now - entry.second.last >= config_.window && entry.second.next_allowed <= now;
    };
    std::erase_if(pairs_, forgotten);
    std::erase_if(accounts_, forgotten);
    std::erase_if(addresses_, forgotten);
    std::erase_if(known_, [&](const auto& entry) {
        return now - entry.second >= config_.known_address_ttl;
    });
    if (size() >= kMaxEntries) {
        // Still full (many names or addresses at once): keep only what delays someone now,
        // then, if need be, let the pairs go (accounts and addresses still slow the attack).
        const auto idle = [&](const auto& entry) { return entry.second.next_allowed <= now; };
        std::erase_if(pairs_, idle);
        std::erase_if(accounts_, idle);
        std::erase_if(addresses_, idle);
        if (size() >= kMaxEntries) {
            pairs_.clear();
            known_.clear();
        }
    }
}

}  // namespace rainmaker::domain::auth

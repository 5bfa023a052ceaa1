// Slows down password and code guessing without letting an attacker lock anyone out (the
// policy of docs/SECURITY.md, after OWASP's authentication guidance): failures are counted per
// account and client address pair, per account, and per address; past a number of free
// attempts each key waits a delay that doubles with every further failure, up to a cap.
// - pair (account, address): 5 free, then 1 s, 2 s, ... up to 15 min: a guesser at one address
//   slows down fast, and only there;
// - address (any account): 100 free, then the same: a spray over many accounts from one
//   address;
// - account (any address): 20 free, then 1 s doubling up to only 60 s: guessing spread over
//   many addresses slows down, and anyone is held up at most a minute.
// Neither the address nor the account delay applies at an address that logged in to the
// account successfully in the last 30 days: the owner, from where they usually log in, is held
// up only by their own failures there. IPv6 addresses count by their /64 (AddressKey).
// A success clears the pair and the account. Failures are forgotten after a quiet window.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"

namespace rainmaker::domain::auth {

struct LoginGuardConfig {
    int free_per_pair = 5;
    int free_per_account = 20;
    int free_per_address = 100;
    std::chrono::seconds max_delay{15 * 60};     // pairs and addresses
    std::chrono::seconds max_account_delay{60};  // accounts
    std::chrono::seconds window{15 * 60};        // quiet time after which failures go
    std::chrono::seconds known_address_ttl{30 * 24 * 3600};
};

class LoginGuard {
public:
    LoginGuard(const core::Clock& clock, LoginGuardConfig config);

    // Throws ApiError(kTooManyRequests) naming the seconds to wait while any key of this
    // attempt is delayed. A refused attempt is not counted as a failure.
    void Check(std::string_view account, std::string_view address);
    // A wrong password or code.
    void Failure(std::string_view account, std::string_view address);
    // A successful login: clears the pair and the account, remembers the address.
    void Success(std::string_view account, std::string_view address);

private:
    using Time = std::chrono::steady_clock::time_point;

    struct Entry {
        int failures = 0;
        Time last{};
        Time next_allowed{};
    };

    // Counts one failure of `key`: past `free` failures it must wait, doubling up to `cap`.
    void Count(
        std::unordered_map<std::string, Entry>& table,
        const std::string& key,
        int free,
        std::chrono::seconds cap,
        Time now
    );
    // Seconds `key` must still wait, or 0.
    long long Wait(std::unordered_map<std::string, Entry>& table, const std::string& key, Time now);
    bool Known(const std::string& pair, Time now);
    void Prune(Time now);

    const core::Clock& clock_;
    LoginGuardConfig config_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> pairs_;
    std::unordered_map<std::string, Entry> accounts_;
    std::unordered_map<std::string, Entry> addresses_;
    std::unordered_map<std::string, Time> known_;  // pair -> last successful login
    std::size_t operations_ = 0;
};

}  // namespace rainmaker::domain::auth

// A limit shared by every connection of the server (connections open, bytes of unfinished
// request bodies), in all or per key (a client address): a share is taken, or grown, only when
// it fits, and gives itself back when its holder goes, whichever path (answer, error, timeout,
// closed connection) it took.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace rainmaker::http {

class Budget;
class KeyedBudget;

// What a reservation takes from and gives back to: the server-wide budget, or one key's.
class BudgetPool {
public:
    virtual ~BudgetPool() = default;

private:
    friend class Reservation;
    // Adds `amount` to what `key` uses unless that would pass the limit.
    virtual bool Take(const std::string& key, std::uint64_t amount) = 0;
    virtual void Give(const std::string& key, std::uint64_t amount) = 0;
};

// A share of a budget; returns it on destruction. Empty when the share did not fit.
class Reservation {
public:
    Reservation() = default;

    ~Reservation() { Release(); }

    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

    explicit operator bool() const { return pool_ != nullptr; }

    std::uint64_t amount() const { return amount_; }

    // Raises the share to `total` when the difference fits in the budget; true also when the
    // share is that large already. False (the share unchanged) when it does not fit, and for
    // an empty reservation.
    bool GrowTo(std::uint64_t total);

    // Gives the share back now (no-op when empty).
    void Release();

private:
    friend class Budget;
    friend class KeyedBudget;

    Reservation(BudgetPool* pool, std::string key, std::uint64_t amount)
        : pool_(pool), key_(std::move(key)), amount_(amount) {}

    BudgetPool* pool_ = nullptr;
    std::string key_;  // "" for the server-wide budget
    std::uint64_t amount_ = 0;
};

class Budget final : public BudgetPool {
public:
    using Reservation = http::Reservation;

    explicit Budget(std::uint64_t limit) : limit_(limit) {}

    Budget(const Budget&) = delete;
    Budget& operator=(const Budget&) = delete;

    // `amount` out of the budget, or an empty reservation when less than `amount` is left.
    // The budget must outlive its reservations.
    Reservation Reserve(std::uint64_t amount);

    std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }

    std::uint64_t limit() const { return limit_; }

private:
    bool Take(const std::string& key, std::uint64_t amount) override;
    void Give(const std::string& key, std::uint64_t amount) override;

    const std::uint64_t limit_;
    std::atomic<std::uint64_t> used_{0};
};

// The same limit for each key on its own: what one client address may hold, whatever the others
// hold. A key is remembered only while it holds something, so the table never outgrows the
// shares held.
class KeyedBudget final : public BudgetPool {
public:
    using Reservation = http::Reservation;

    explicit KeyedBudget(std::uint64_t limit_per_key) : limit_(limit_per_key) {}

    KeyedBudget(const KeyedBudget&) = delete;
    KeyedBudget& operator=(const KeyedBudget&) = delete;

    // `amount` out of `key`'s budget, or an empty reservation when less than that is left to
    // the key. The budget must outlive its reservations.
    Reservation Reserve(const std::string& key, std::uint64_t amount);

    // What `key` holds now.
    std::uint64_t used(const std::string& key) const;

    // How many keys hold something.
    std::size_t keys() const;

    std::uint64_t limit() const { return limit_; }

private:
    bool Take(const std::string& key, std::uint64_t amount) override;
    void Give(const std::string& key, std::uint64_t amount) override;

    const std::uint64_t limit_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> used_;
};

}  // namespace rainmaker::http

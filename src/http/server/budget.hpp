// A limit shared by every connection of the server (connections open, bytes of unfinished
// request bodies): a share is taken only when it fits, and gives itself back when its holder
// goes, whichever path (answer, error, timeout, closed connection) it took.
#pragma once

#include <atomic>
#include <cstdint>

namespace rainmaker::http {

class Budget {
public:
    // A share of the budget; returns it on destruction. Empty when the share did not fit.
    class Reservation {
    public:
        Reservation() = default;

        ~Reservation() { Release(); }

        Reservation(Reservation&& other) noexcept;
        Reservation& operator=(Reservation&& other) noexcept;
        Reservation(const Reservation&) = delete;
        Reservation& operator=(const Reservation&) = delete;

        explicit operator bool() const { return budget_ != nullptr; }

        std::uint64_t amount() const { return amount_; }

        // Gives the share back now (no-op when empty).
        void Release();

    private:
        friend class Budget;

        Reservation(Budget* budget, std::uint64_t amount) : budget_(budget), amount_(amount) {}

        Budget* budget_ = nullptr;
        std::uint64_t amount_ = 0;
    };

    explicit Budget(std::uint64_t limit) : limit_(limit) {}

    Budget(const Budget&) = delete;
    Budget& operator=(const Budget&) = delete;

    // `amount` out of the budget, or an empty reservation when less than `amount` is left.
    // The budget must outlive its reservations.
    Reservation Reserve(std::uint64_t amount);

    std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }

    std::uint64_t limit() const { return limit_; }

private:
    const std::uint64_t limit_;
    std::atomic<std::uint64_t> used_{0};
};

}  // namespace rainmaker::http

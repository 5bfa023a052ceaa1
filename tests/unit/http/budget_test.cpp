// The shared budget behind http.max_connections and http.max_pending_body_bytes: shares fit or
// are refused whole, and every share comes back however its holder ends.
#include "http/server/budget.hpp"

#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace rainmaker::http {
namespace {

TEST(Budget, GrantsSharesUntilTheLimitThenRefuses) {
    Budget budget(10);
    auto a = budget.Reserve(6);
    ASSERT_TRUE(a);
    EXPECT_FALSE(budget.Reserve(5));  // refused whole, not in part
    EXPECT_EQ(budget.used(), 6u);
    auto b = budget.Reserve(4);
    ASSERT_TRUE(b);
    EXPECT_EQ(budget.used(), 10u);
    EXPECT_FALSE(budget.Reserve(1));
    EXPECT_FALSE(budget.Reserve(11));
}

TEST(Budget, GivesSharesBackOnDestructionAndRelease) {
    Budget budget(10);
    {
        auto a = budget.Reserve(7);
        EXPECT_EQ(budget.used(), 7u);
    }
    EXPECT_EQ(budget.used(), 0u);
    auto b = budget.Reserve(7);
    b.Release();
    b.Release();  // once only
    EXPECT_EQ(budget.used(), 0u);
    EXPECT_FALSE(b);
}

TEST(Budget, MovesAShareWithoutCountingItTwice) {
    Budget budget(10);
    auto a = budget.Reserve(4);
    Budget::Reservation b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_TRUE(b);
    EXPECT_EQ(b.amount(), 4u);
    auto c = budget.Reserve(3);
    c = std::move(b);  // c's own share is given back first
    EXPECT_EQ(budget.used(), 4u);
    c = Budget::Reservation();
    EXPECT_EQ(budget.used(), 0u);
}

TEST(Budget, NeverOvershootsUnderConcurrentReservations) {
    Budget budget(1000);
    std::vector<std::thread> threads;
    std::vector<std::vector<Budget::Reservation>> held(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&budget, &held, t] {
            for (int i = 0; i < 1000; ++i) {
                if (auto r = budget.Reserve(3)) {
                    held[static_cast<std::size_t>(t)].push_back(std::move(r));
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::size_t granted = 0;
    for (const auto& list : held) {
        granted += list.size();
    }
    EXPECT_EQ(granted, 333u);  // 333 * 3 = 999: exactly as many as fit
    EXPECT_EQ(budget.used(), 999u);
    held.clear();
    EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace rainmaker::http

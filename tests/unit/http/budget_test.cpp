// The budgets behind http.max_connections(_per_address) and
// http.max_pending_body_bytes(_per_address): shares fit or are refused whole, grow only within
// the limit, and every share comes back however its holder ends.
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

TEST(Budget, GrowsAShareOnlyWithinTheLimit) {
    Budget budget(10);
    auto a = budget.Reserve(2);
    auto b = budget.Reserve(3);
    EXPECT_TRUE(a.GrowTo(6));
    EXPECT_EQ(a.amount(), 6u);
    EXPECT_EQ(budget.used(), 9u);
    EXPECT_FALSE(a.GrowTo(8));  // 2 more do not fit: nothing taken
    EXPECT_EQ(a.amount(), 6u);
    EXPECT_EQ(budget.used(), 9u);
    EXPECT_TRUE(a.GrowTo(4));  // never shrinks
    EXPECT_EQ(a.amount(), 6u);
    EXPECT_TRUE(a.GrowTo(7));
    a.Release();  // the grown share comes back whole
    EXPECT_EQ(budget.used(), 3u);
    EXPECT_FALSE(a.GrowTo(1));  // an empty reservation has no budget to grow in
    EXPECT_EQ(budget.used(), 3u);
}

TEST(Budget, NeverOvershootsUnderConcurrentGrowth) {
    Budget budget(1000);
    std::vector<Budget::Reservation> shares;
    for (int i = 0; i < 4; ++i) {
        shares.push_back(budget.Reserve(0));
    }
    std::vector<std::thread> threads;
    for (auto& share : shares) {
        threads.emplace_back([&share] {
            for (std::uint64_t total = 1; total <= 1000; ++total) {
                if (!share.GrowTo(total)) {
                    return;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::uint64_t granted = 0;
    for (const auto& share : shares) {
        granted += share.amount();
    }
    EXPECT_EQ(granted, budget.used());
    EXPECT_EQ(budget.used(), 1000u);  // a unit at a time: they stop when it is all taken
    shares.clear();
    EXPECT_EQ(budget.used(), 0u);
}

TEST(KeyedBudget, LimitsEachKeyOnItsOwn) {
    KeyedBudget budget(10);
    auto a = budget.Reserve("198.51.100.1", 8);
    ASSERT_TRUE(a);
    EXPECT_FALSE(budget.Reserve("198.51.100.1", 3));  // refused whole
    auto b = budget.Reserve("198.51.100.2", 10);      // another key: its own 10
    ASSERT_TRUE(b);
    auto c = budget.Reserve("198.51.100.1", 2);
    ASSERT_TRUE(c);
    EXPECT_EQ(budget.used("198.51.100.1"), 10u);
    EXPECT_FALSE(budget.Reserve("198.51.100.1", 1));
    EXPECT_FALSE(budget.Reserve("198.51.100.3", 11));
}

TEST(KeyedBudget, GrowsWithinTheKeysLimitAndForgetsKeysHoldingNothing) {
    KeyedBudget budget(10);
    auto a = budget.Reserve("a", 0);
    ASSERT_TRUE(a);
    EXPECT_EQ(budget.keys(), 0u);  // a share of nothing is not remembered
    EXPECT_TRUE(a.GrowTo(6));
    auto b = budget.Reserve("a", 3);
    EXPECT_FALSE(a.GrowTo(8));
    EXPECT_EQ(a.amount(), 6u);
    EXPECT_TRUE(a.GrowTo(7));
    EXPECT_EQ(budget.used("a"), 10u);
    EXPECT_EQ(budget.keys(), 1u);
    KeyedBudget::Reservation moved = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    moved.Release();
    EXPECT_EQ(budget.used("a"), 3u);
    b = KeyedBudget::Reservation();
    EXPECT_EQ(budget.used("a"), 0u);
    EXPECT_EQ(budget.keys(), 0u);
}

TEST(KeyedBudget, NeverOvershootsAKeyUnderConcurrentReservations) {
    KeyedBudget budget(300);
    std::vector<std::thread> threads;
    std::vector<std::vector<KeyedBudget::Reservation>> held(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&budget, &held, t] {
            for (int i = 0; i < 500; ++i) {
                if (auto r = budget.Reserve(i % 2 == 0 ? "even" : "odd", 1)) {
                    held[static_cast<std::size_t>(t)].push_back(std::move(r));
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(budget.used("even"), 300u);
    EXPECT_EQ(budget.used("odd"), 300u);
    held.clear();
    EXPECT_EQ(budget.keys(), 0u);
}

}  // namespace
}  // namespace rainmaker::http

// The login throttling policy (domain/auth/login_guard): progressive delays per account and
// address pair, per address and per account, and that no attacker can lock the owner out.
#include "domain/auth/login_guard.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/fake_clock.hpp"

namespace rainmaker::domain::auth {
namespace {

using namespace std::chrono_literals;

class LoginGuardTest : public ::testing::Test {
protected:
    bool Allowed(const std::string& account, const std::string& address) {
        try {
            guard_.Check(account, address);
            return true;
        } catch (const core::ApiError& e) {
            EXPECT_EQ(e.code(), core::ErrorCode::kTooManyRequests);
            return false;
        }
    }

    void Fail(const std::string& account, const std::string& address, int times = 1) {
        for (int i = 0; i < times; ++i) {
            guard_.Failure(account, address);
        }
    }

    testing::FakeClock clock_;
    LoginGuard guard_{clock_, LoginGuardConfig{}};
};

TEST_F(LoginGuardTest, APairGetsFiveFreeAttemptsThenDoublingDelaysUpToTheCap) {
    Fail("alice", "1.1.1.1", 5);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
    Fail("alice", "1.1.1.1");  // 6th: 1 s
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    clock_.Advance(1s);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
    Fail("alice", "1.1.1.1");  // 7th: 2 s
    clock_.Advance(1s);
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    clock_.Advance(1s);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
    Fail("alice", "1.1.1.1", 30);  // far past the cap
    clock_.Advance(14min);
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    clock_.Advance(1min);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
}

TEST_F(LoginGuardTest, ADelayedPairDoesNotHoldUpTheSameAccountElsewhere) {
    Fail("alice", "6.6.6.6", 12);
    EXPECT_FALSE(Allowed("alice", "6.6.6.6"));
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));  // the owner, from another address
    EXPECT_TRUE(Allowed("bob", "6.6.6.6"));    // another account, from the guesser's address
}

TEST_F(LoginGuardTest, GuessingSpreadOverAddressesDelaysTheAccountButOnlyAMinute) {
    for (int i = 0; i < 40; ++i) {
        Fail("alice", "10.0.0." + std::to_string(i));
    }
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    clock_.Advance(59s);
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    clock_.Advance(1s);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
}

TEST_F(LoginGuardTest, TheOwnersUsualAddressIsNeverHeldUpByOthersFailures) {
    guard_.Success("alice", "1.1.1.1");
    for (int i = 0; i < 40; ++i) {
        Fail("alice", "10.0.0." + std::to_string(i));
    }
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
    EXPECT_FALSE(Allowed("alice", "2.2.2.2"));
    // Remembered for 30 days.
    clock_.Advance(std::chrono::hours(24 * 31));
    for (int i = 0; i < 40; ++i) {
        Fail("alice", "10.0.1." + std::to_string(i));
    }
    EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
}

// Review of #14: 110 failures on made-up names from a shared address (a NAT, a proxy) must not
// hold up an owner who logged in from there before.
TEST_F(LoginGuardTest, ASharedAddressDelayedByASprayDoesNotHoldUpItsKnownOwners) {
    guard_.Success("alice", "6.6.6.6");
    for (int i = 0; i < 110; ++i) {
        Fail("user" + std::to_string(i), "6.6.6.6");
    }
    EXPECT_FALSE(Allowed("someone", "6.6.6.6"));
    EXPECT_TRUE(Allowed("alice", "6.6.6.6"));
}

TEST_F(LoginGuardTest, AnIpv6HostCountsByItsSlash64) {
    for (int i = 0; i < 101; ++i) {
        Fail("user" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i + 1));
    }
    EXPECT_FALSE(Allowed("someone", "2001:db8:1:2:ffff::1"));
    EXPECT_TRUE(Allowed("someone", "2001:db8:1:3::1"));
}

TEST_F(LoginGuardTest, AnAddressSprayingManyAccountsIsDelayed) {
    for (int i = 0; i < 100; ++i) {
        Fail("user" + std::to_string(i), "6.6.6.6");
    }
    EXPECT_TRUE(Allowed("someone", "6.6.6.6"));
    Fail("user100", "6.6.6.6");
    EXPECT_FALSE(Allowed("someone", "6.6.6.6"));
    EXPECT_TRUE(Allowed("someone", "1.1.1.1"));
}

TEST_F(LoginGuardTest, ASuccessClearsThePairAndTheAccount) {
    Fail("alice", "1.1.1.1", 5);
    guard_.Success("alice", "1.1.1.1");
    Fail("alice", "1.1.1.1", 5);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
}

TEST_F(LoginGuardTest, FailuresAreForgottenAfterAQuietWindow) {
    Fail("alice", "1.1.1.1", 5);
    clock_.Advance(15min);
    Fail("alice", "1.1.1.1");
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
}

TEST_F(LoginGuardTest, RefusedAttemptsAreNotCounted) {
    Fail("alice", "1.1.1.1", 6);
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(Allowed("alice", "1.1.1.1"));
    }
    clock_.Advance(1s);
    EXPECT_TRUE(Allowed("alice", "1.1.1.1"));
}

}  // namespace
}  // namespace rainmaker::domain::auth

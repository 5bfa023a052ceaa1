// Limits on verification messages (domain/users/message_quota): per recipient and purpose, per
// client address, and to unverified recipients in all, per hour (hardening finding 4).
#include "domain/users/message_quota.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/fake_clock.hpp"

namespace rainmaker::domain::users {
namespace {

using namespace std::chrono_literals;

bool Sends(
    MessageQuota& quota,
    const std::string& to,
    const std::string& client,
    const char* purpose = "signup",
    bool verified = false
) {
    try {
        quota.CheckAndCount(OutgoingCode{to, purpose, client, verified});
        return true;
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kTooManyRequests);
        return false;
    }
}

TEST(MessageQuota, LimitsMessagesPerRecipientPerAddressAndToUnverifiedRecipientsPerHour) {
    testing::FakeClock clock;
    MessageQuota quota(clock, MessageLimits{2, 3, 5});
    EXPECT_TRUE(Sends(quota, "a@x.com", "1.1.1.1"));
    EXPECT_TRUE(Sends(quota, "a@x.com", "2.2.2.2"));
    EXPECT_FALSE(Sends(quota, "a@x.com", "3.3.3.3"));  // recipient
    EXPECT_TRUE(Sends(quota, "b@x.com", "1.1.1.1"));
    EXPECT_TRUE(Sends(quota, "c@x.com", "1.1.1.1"));
    EXPECT_FALSE(Sends(quota, "d@x.com", "1.1.1.1"));  // address
    EXPECT_TRUE(Sends(quota, "d@x.com", "4.4.4.4"));
    EXPECT_FALSE(Sends(quota, "e@x.com", "5.5.5.5"));  // unverified: 5 sent this hour
    clock.Advance(1h);
    EXPECT_TRUE(Sends(quota, "a@x.com", "1.1.1.1"));
}

// Review of #14: an attacker spending the server-wide budget on sign-ups must not stop the
// codes of existing accounts, and a flood of reset codes must not stop a user's MFA code.
TEST(MessageQuota, VerifiedRecipientsAndOtherPurposesHaveTheirOwnBudgets) {
    testing::FakeClock clock;
    MessageQuota quota(clock, MessageLimits{2, 100, 3});
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(Sends(quota, "new" + std::to_string(i) + "@x.com", "9.9.9." + std::to_string(i))
        );
    }
    EXPECT_FALSE(Sends(quota, "new9@x.com", "9.9.9.9"));
    EXPECT_TRUE(Sends(quota, "alice@x.com", "1.1.1.1", "reset", true));
    EXPECT_TRUE(Sends(quota, "alice@x.com", "6.6.6.6", "reset", true));
    EXPECT_FALSE(Sends(quota, "alice@x.com", "6.6.6.6", "reset", true));
    EXPECT_TRUE(Sends(quota, "+15550001111", "1.1.1.1", "mfa", true));
}

TEST(MessageQuota, SubAddressesAndIpv6HostsCountAsOne) {
    testing::FakeClock clock;
    MessageQuota quota(clock, MessageLimits{2, 2, 100});
    EXPECT_TRUE(Sends(quota, "bob+1@x.com", "2001:db8::1"));
    EXPECT_TRUE(Sends(quota, "Bob+2@x.com", "2001:db8::2"));
    EXPECT_FALSE(Sends(quota, "bob@x.com", "1.1.1.1"));        // the same mailbox
    EXPECT_FALSE(Sends(quota, "carol@x.com", "2001:db8::3"));  // the same /64
}

TEST(MessageQuota, ARefusalCountsInNoWindow) {
    testing::FakeClock clock;
    MessageQuota quota(clock, MessageLimits{1, 100, 100});
    EXPECT_TRUE(Sends(quota, "a@x.com", "1.1.1.1"));
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(Sends(quota, "a@x.com", "1.1.1.1"));
    }
    // The address was not charged for the refused ones.
    for (int i = 0; i < 99; ++i) {
        EXPECT_TRUE(Sends(quota, "r" + std::to_string(i) + "@x.com", "1.1.1.1")) << i;
    }
}

}  // namespace
}  // namespace rainmaker::domain::users

// Limits on verification messages (domain/users/message_quota): per recipient, per client
// address and in all, per hour (hardening finding 4: message pumping).
#include "domain/users/message_quota.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/fake_clock.hpp"

namespace rainmaker::domain::users {
namespace {

using namespace std::chrono_literals;

bool Sends(MessageQuota& quota, const std::string& to, const std::string& client) {
    try {
        quota.CheckAndCount(to, client);
        return true;
    } catch (const core::ApiError&) {
        return false;
    }
}

TEST(MessageQuota, LimitsMessagesPerRecipientPerAddressAndInAllPerHour) {
    testing::FakeClock clock;
    MessageQuota quota(clock, MessageLimits{2, 3, 5});
    EXPECT_TRUE(Sends(quota, "a@x.com", "1.1.1.1"));
    EXPECT_TRUE(Sends(quota, "a@x.com", "2.2.2.2"));
    EXPECT_FALSE(Sends(quota, "a@x.com", "3.3.3.3"));  // recipient
    EXPECT_TRUE(Sends(quota, "b@x.com", "1.1.1.1"));
    EXPECT_TRUE(Sends(quota, "c@x.com", "1.1.1.1"));
    EXPECT_FALSE(Sends(quota, "d@x.com", "1.1.1.1"));  // address
    EXPECT_TRUE(Sends(quota, "d@x.com", "4.4.4.4"));
    EXPECT_FALSE(Sends(quota, "e@x.com", "5.5.5.5"));  // in all: 5 sent this hour
    clock.Advance(1h);
    EXPECT_TRUE(Sends(quota, "a@x.com", "1.1.1.1"));
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

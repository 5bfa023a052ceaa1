// Fixed-window throttling with a fake clock.
#include "domain/auth/throttle.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/fake_clock.hpp"

namespace rainmaker::domain::auth {
namespace {

TEST(Throttle, RefusesTheKeyOnceTheLimitIsReachedUntilTheWindowEnds) {
    testing::FakeClock clock;
    Throttle throttle(clock, 3, std::chrono::seconds(60));
    for (int i = 0; i < 3; ++i) {
        EXPECT_NO_THROW(throttle.CheckAndHit("user:a"));
    }
    try {
        throttle.CheckAndHit("user:a");
        FAIL() << "fourth hit accepted";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.wire_code(), 100070);
        EXPECT_EQ(e.http_status(), 429);
    }
    EXPECT_NO_THROW(throttle.Check("user:b"));  // other keys are independent
    clock.Advance(std::chrono::seconds(61));
    EXPECT_NO_THROW(throttle.CheckAndHit("user:a"));
}

TEST(Throttle, CheckDoesNotCount) {
    testing::FakeClock clock;
    Throttle throttle(clock, 1, std::chrono::seconds(60));
    for (int i = 0; i < 5; ++i) {
        EXPECT_NO_THROW(throttle.Check("k"));
    }
    throttle.Hit("k");
    EXPECT_THROW(throttle.Check("k"), core::ApiError);
}

TEST(Throttle, LimitZeroDisablesIt) {
    testing::FakeClock clock;
    Throttle throttle(clock, 0, std::chrono::seconds(60));
    for (int i = 0; i < 100; ++i) {
        EXPECT_NO_THROW(throttle.CheckAndHit("k"));
    }
}

}  // namespace
}  // namespace rainmaker::domain::auth

// The link's outbox: bounded by count and by bytes, refusing past either cap.
#include "mqtt/outbox.hpp"

#include <string>

#include <gtest/gtest.h>

namespace rainmaker::mqtt {
namespace {

TEST(OutboxTest, RefusesPastTheByteCap) {
    Outbox outbox(OutboxLimits{1000, 100});
    // 10 bytes of topic and 40 of payload: two fit, a third would make 150.
    EXPECT_TRUE(outbox.Push({"node/a/x01", std::string(40, 'p')}));
    EXPECT_TRUE(outbox.Push({"node/a/x02", std::string(40, 'p')}));
    EXPECT_EQ(outbox.bytes(), 100u);
    EXPECT_FALSE(outbox.Push({"node/a/x03", std::string(40, 'p')}));
    EXPECT_FALSE(outbox.Push({"node/a/x04", "p"}));  // not even one more byte
    EXPECT_TRUE(outbox.Push({"", ""}));              // an empty message adds nothing
    const auto taken = outbox.TakeAll();
    ASSERT_EQ(taken.size(), 3u);
    EXPECT_EQ(taken[0].topic, "node/a/x01");
    EXPECT_EQ(outbox.bytes(), 0u);
    EXPECT_TRUE(outbox.Push({"node/a/x03", std::string(40, 'p')}));  // room again
}

TEST(OutboxTest, RefusesPastTheCountCap) {
    Outbox outbox(OutboxLimits{2, 1 << 20});
    EXPECT_TRUE(outbox.Push({"t", "1"}));
    EXPECT_TRUE(outbox.Push({"t", "2"}));
    EXPECT_FALSE(outbox.Push({"t", "3"}));
    EXPECT_EQ(outbox.TakeAll().size(), 2u);
    EXPECT_TRUE(outbox.Push({"t", "3"}));
}

TEST(OutboxTest, TheDefaultsAre200000MessagesAnd64MiB) {
    const OutboxLimits limits;
    EXPECT_EQ(limits.max_messages, 200000u);
    EXPECT_EQ(limits.max_bytes, 64u * 1024 * 1024);
    Outbox outbox;
    EXPECT_TRUE(outbox.Push({"node/a/to-node", std::string(64 * 1024 * 1024 - 14, 'x')}));
    EXPECT_FALSE(outbox.Push({"node/a/to-node", "x"}));
}

}  // namespace
}  // namespace rainmaker::mqtt

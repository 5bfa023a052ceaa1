// Both topic spellings of the firmware and the presence topics.
#include "mqtt/topics.hpp"

#include <gtest/gtest.h>

namespace rainmaker::mqtt {
namespace {

TEST(ParseNodeTopic, ReadsThePlainForm) {
    const auto t = ParseNodeTopic("node/abc123/params/local/init");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->node_id, "abc123");
    EXPECT_EQ(t->suffix, "params/local/init");
}

TEST(ParseNodeTopic, ReadsTheBasicIngestForm) {
    const auto t = ParseNodeTopic("$aws/rules/esp_set_params/node/abc123/params/local");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->node_id, "abc123");
    EXPECT_EQ(t->suffix, "params/local");
}

TEST(ParseNodeTopic, RefusesOtherTopics) {
    for (const auto* topic :
         {"node/abc",
          "node//config",
          "node/abc/",
          "$aws/rules/x/abc/config",
          "$aws/rules//node/a/config",
          "other/abc/config",
          "node/a+b/config",
          "$SYS/broker/x"}) {
        EXPECT_FALSE(ParseNodeTopic(topic)) << topic;
    }
}

TEST(ParsePresenceTopic, ReadsConnectedAndDisconnected) {
    const auto on = ParsePresenceTopic("$aws/events/presence/connected/n1");
    ASSERT_TRUE(on);
    EXPECT_TRUE(on->connected);
    EXPECT_EQ(on->client_id, "n1");
    const auto off = ParsePresenceTopic("$aws/events/presence/disconnected/n1");
    ASSERT_TRUE(off);
    EXPECT_FALSE(off->connected);
    EXPECT_FALSE(ParsePresenceTopic("$aws/events/presence/other/n1"));
    EXPECT_FALSE(ParsePresenceTopic("$aws/events/presence/connected/"));
}

TEST(ParsePresencePayload, ReadsWhatThePluginWrites) {
    const auto event = ParsePresencePayload(
        R"({"clientId":"n1","timestamp":1800000000123,"eventType":"connected",)"
        R"("sessionIdentifier":"1799999990000-7","principalIdentifier":"n1",)"
        R"("versionNumber":3,"ipAddress":"127.0.0.1"})"
    );
    ASSERT_TRUE(event);
    EXPECT_EQ(event->at_ms, 1800000000123);
    EXPECT_EQ(event->order, 1799999990000 * 1000000 + 3);
}

TEST(ParsePresencePayload, OrdersALaterBrokerRunAfterAnEarlierOne) {
    const auto early =
        ParsePresencePayload(R"({"timestamp":1,"sessionIdentifier":"1000-1","versionNumber":999})");
    const auto late =
        ParsePresencePayload(R"({"timestamp":2,"sessionIdentifier":"2000-1","versionNumber":1})");
    ASSERT_TRUE(early && late);
    EXPECT_LT(early->order, late->order);
}

TEST(ParsePresencePayload, RefusesPayloadsWithoutTimestampOrVersion) {
    for (const auto* payload :
         {"",
          "not json",
          "[]",
          R"({"timestamp":1})",
          R"({"versionNumber":1})",
          R"({"timestamp":"1","versionNumber":1})",
          R"({"timestamp":1,"versionNumber":null})"}) {
        EXPECT_FALSE(ParsePresencePayload(payload)) << payload;
    }
}

// Found by fuzz/mqtt_ingest_fuzz: a sessionIdentifier of more than 12 digits overflowed the
// ordering key (undefined behaviour), and a timestamp or versionNumber that is a number but not
// an int64 threw out of the parser, failing the whole ingest batch it came in.
TEST(ParsePresencePayload, RefusesValuesItCannotTurnIntoAnOrder) {
    for (const auto* payload :
         {R"({"timestamp":1,"sessionIdentifier":"9997919990000-7","versionNumber":3})",
          R"({"timestamp":1,"sessionIdentifier":"-9997919990000-7","versionNumber":3})",
          R"({"timestamp":1.5,"versionNumber":3})",
          R"({"timestamp":1e300,"versionNumber":3})",
          R"({"timestamp":1,"versionNumber":18446744073709551615})",
          R"({"timestamp":1,"versionNumber":-0.5})"}) {
        EXPECT_FALSE(ParsePresencePayload(payload)) << payload;
    }
    const auto latest = ParsePresencePayload(
        R"({"timestamp":1,"sessionIdentifier":"9223372036853-1","versionNumber":999999})"
    );
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->order, 9223372036853LL * 1000000 + 999999);
}

}  // namespace
}  // namespace rainmaker::mqtt

// Both topic spellings of the firmware and the presence topics, of our plugin and of EMQX.
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

TEST(ParsePresenceSource, ReadsTheTwoNamesOnly) {
    EXPECT_EQ(ParsePresenceSource("plugin"), PresenceSource::kPlugin);
    EXPECT_EQ(ParsePresenceSource("emqx-sys"), PresenceSource::kEmqxSys);
    for (const auto* name : {"", "emqx", "EMQX-SYS", "plugin ", "sys"}) {
        EXPECT_FALSE(ParsePresenceSource(name)) << name;
    }
}

TEST(ParseEmqxPresenceTopic, ReadsConnectedAndDisconnectedOfAnyEmqxNode) {
    const auto on = ParseEmqxPresenceTopic("$SYS/brokers/emqx@10.0.0.5/clients/n1/connected");
    ASSERT_TRUE(on);
    EXPECT_TRUE(on->connected);
    EXPECT_EQ(on->client_id, "n1");
    const auto off =
        ParseEmqxPresenceTopic("$SYS/brokers/emqx@host.example/clients/n_2-x/disconnected");
    ASSERT_TRUE(off);
    EXPECT_FALSE(off->connected);
    EXPECT_EQ(off->client_id, "n_2-x");
}

TEST(ParseEmqxPresenceTopic, RefusesOtherTopicsAndClientIdsThatAreNoNodeIds) {
    for (const auto* topic :
         {"$SYS/brokers/emqx@h/clients/n1/subscribed",
          "$SYS/brokers/emqx@h/clients/n1/connected/",
          "$SYS/brokers/emqx@h/clients//connected",
          "$SYS/brokers/emqx@h/clients/a/b/connected",
          "$SYS/brokers/emqx@h/clients/a+b/connected",
          "$SYS/brokers/emqx@h/clients/a.b/connected",
          "$SYS/brokers//clients/n1/connected",
          "$SYS/brokers/+/clients/n1/connected",
          "$SYS/brokers/#/clients/n1/connected",
          "$SYS/brokers/emqx@h/gateway/clients/n1/connected",
          "$SYS/brokers/emqx@h/n1/connected",
          "$SYS/brokers/emqx@h",
          "$SYS/brokers/",
          "$sys/brokers/emqx@h/clients/n1/connected",
          "$aws/events/presence/connected/n1",
          "x$SYS/brokers/emqx@h/clients/n1/connected"}) {
        EXPECT_FALSE(ParseEmqxPresenceTopic(topic)) << topic;
    }
    const std::string long_id(65, 'a');
    EXPECT_FALSE(ParseEmqxPresenceTopic("$SYS/brokers/e/clients/" + long_id + "/connected"));
    EXPECT_TRUE(ParseEmqxPresenceTopic("$SYS/brokers/e/clients/" + long_id.substr(1) + "/connected")
    );
}

const PresenceTopic kOn{"n1", true};
const PresenceTopic kOff{"n1", false};

TEST(ParseEmqxPresencePayload, ReadsWhatEmqx5Writes) {
    const auto on = ParseEmqxPresencePayload(
        R"({"username":"n1","ts":1800000000456,"sockport":8883,"proto_ver":4,)"
        R"("proto_name":"MQTT","keepalive":60,"ipaddress":"10.1.2.3","expiry_interval":0,)"
        R"("connected_at":1800000000123,"clientid":"n1","clean_start":true,"protocol":"mqtt"})",
        kOn
    );
    ASSERT_TRUE(on);
    EXPECT_EQ(on->at_ms, 1800000000456);
    EXPECT_EQ(on->order, 1800000000123 * 1000000);
    // The disconnect of that connection: the same order, which the store lets through (a
    // disconnect ends the connection of its own order).
    const auto off = ParseEmqxPresencePayload(
        R"({"username":"n1","ts":1800000099000,"sockport":8883,"reason":"tcp_closed",)"
        R"("proto_ver":4,"proto_name":"MQTT","ipaddress":"10.1.2.3",)"
        R"("connected_at":1800000000123,"disconnected_at":1800000098999,"clientid":"n1"})",
        kOff
    );
    ASSERT_TRUE(off);
    EXPECT_EQ(off->at_ms, 1800000099000);
    EXPECT_EQ(off->order, on->order);
}

TEST(ParseEmqxPresencePayload, OrdersALaterConnectionAfterAnEarlierOneAndAfterThePlugin) {
    const auto early =
        ParseEmqxPresencePayload(R"({"ts":5,"connected_at":1800000000000,"clientid":"n1"})", kOn);
    const auto late =
        ParseEmqxPresencePayload(R"({"ts":6,"connected_at":1800000000001,"clientid":"n1"})", kOn);
    // A late disconnect of the earlier connection keeps its order: the store ignores it.
    const auto stale_off = ParseEmqxPresencePayload(
        R"({"ts":7,"connected_at":1800000000000,"disconnected_at":1800000000002})", kOff
    );
    ASSERT_TRUE(early && late && stale_off);
    EXPECT_LT(early->order, late->order);
    EXPECT_LT(stale_off->order, late->order);
    // A plugin event of a broker run that started before the connection orders before it.
    const auto plugin = ParsePresencePayload(
        R"({"timestamp":1,"sessionIdentifier":"1799999999999-1","versionNumber":999999})"
    );
    ASSERT_TRUE(plugin);
    EXPECT_LT(plugin->order, early->order);
}

TEST(ParseEmqxPresencePayload, FallsBackToTheEventsOwnTimeWithoutTs) {
    // EMQX 4 writes no connected_at in its disconnect: the disconnect's own time orders it.
    const auto off =
        ParseEmqxPresencePayload(R"({"reason":"normal","disconnected_at":1800000000777})", kOff);
    ASSERT_TRUE(off);
    EXPECT_EQ(off->at_ms, 1800000000777);
    EXPECT_EQ(off->order, 1800000000777 * 1000000);
    const auto off_ts = ParseEmqxPresencePayload(R"({"ts":1800000000888,"clientid":"n1"})", kOff);
    ASSERT_TRUE(off_ts);
    EXPECT_EQ(off_ts->order, 1800000000888 * 1000000);
    const auto on = ParseEmqxPresencePayload(R"({"connected_at":1800000000999})", kOn);
    ASSERT_TRUE(on);
    EXPECT_EQ(on->at_ms, 1800000000999);
    EXPECT_EQ(on->order, 1800000000999 * 1000000);
}

TEST(ParseEmqxPresencePayload, RefusesAClientIdOtherThanTheTopics) {
    for (const auto* payload :
         {R"({"ts":1800000000000,"clientid":"n2"})",
          R"({"ts":1800000000000,"clientid":"N1"})",
          R"({"ts":1800000000000,"clientid":"n1 "})",
          R"({"ts":1800000000000,"clientid":""})",
          R"({"ts":1800000000000,"clientid":null})",
          R"({"ts":1800000000000,"clientid":1})",
          R"({"ts":1800000000000,"clientid":["n1"]})"}) {
        EXPECT_FALSE(ParseEmqxPresencePayload(payload, kOn)) << payload;
    }
}

TEST(ParseEmqxPresencePayload, RefusesPayloadsWithoutATimeOrThatAreNoObject) {
    for (const auto* payload :
         {"",
          "not json",
          "[]",
          "null",
          "1800000000000",
          R"("{\"ts\":1800000000000}")",
          R"({"ts":1800000000000)",
          R"({})",
          R"({"clientid":"n1"})",
          R"({"reason":"normal"})"}) {
        EXPECT_FALSE(ParseEmqxPresencePayload(payload, kOn)) << payload;
        EXPECT_FALSE(ParseEmqxPresencePayload(payload, kOff)) << payload;
    }
    // The other event's time is not this one's.
    EXPECT_FALSE(ParseEmqxPresencePayload(R"({"disconnected_at":1800000000000})", kOn));
    EXPECT_FALSE(ParseEmqxPresencePayload(R"({"connected_at":1800000000000})", kOff));
}

TEST(ParseEmqxPresencePayload, RefusesTimesThatAreNoMillisecondsItCanOrder) {
    for (const auto* payload :
         {R"({"ts":"1800000000000"})",
          R"({"ts":1800000000000.5})",
          R"({"ts":1.8e12})",
          R"({"ts":1e300})",
          R"({"ts":0})",
          R"({"ts":-1})",
          R"({"ts":-9223372036854775808})",
          R"({"ts":9223372036854})",
          R"({"ts":9223372036854775807})",
          R"({"ts":18446744073709551615})",
          R"({"ts":99999999999999999999999})",
          R"({"ts":true})",
          R"({"ts":null})",
          R"({"ts":1800000000000,"connected_at":-5})",
          R"({"ts":1800000000000,"connected_at":"x"})",
          R"({"ts":1800000000000,"disconnected_at":1e400})"}) {
        EXPECT_FALSE(ParseEmqxPresencePayload(payload, kOn)) << payload;
        EXPECT_FALSE(ParseEmqxPresencePayload(payload, kOff)) << payload;
    }
    // The last millisecond whose order fits in 64 bits.
    const auto latest = ParseEmqxPresencePayload(R"({"ts":9223372036853})", kOn);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->order, kMaxPresenceMs * 1000000);
}

}  // namespace
}  // namespace rainmaker::mqtt

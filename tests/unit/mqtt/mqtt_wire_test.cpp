// The MQTT 5 packets of the ingest connection: what it sends is what the standard spells, and
// what a broker sends is read whole, in pieces, or refused.
#include "mqtt/mqtt_wire.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace rainmaker::mqtt::wire {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
    std::string out;
    for (const int b : bytes) {
        out.push_back(static_cast<char>(b));
    }
    return out;
}

TEST(MqttWire, ConnectCarriesTheSessionTheCredentialsAndTheLimits) {
    const auto packet =
        EncodeConnect(ConnectOptions{"c1", "u", "pw", 30, false, 604800, 10000, 1048576});
    const std::string expected =
        Bytes({0x10, 35, 0, 4}) + "MQTT" + Bytes({5, 0xc0, 0, 30}) +
        // properties: session expiry 604800, receive maximum 10000, maximum packet size 1 MiB
        Bytes({13, 0x11, 0x00, 0x09, 0x3a, 0x80, 0x21, 0x27, 0x10, 0x27, 0x00, 0x10, 0x00, 0x00}) +
        Bytes({0, 2}) + "c1" + Bytes({0, 1}) + "u" + Bytes({0, 2}) + "pw";
    EXPECT_EQ(packet, expected);
    // Without a user, neither flag nor field; clean start when asked.
    const auto anonymous = EncodeConnect(ConnectOptions{"c", "", "ignored", 10, true});
    EXPECT_EQ(anonymous, Bytes({0x10, 14, 0, 4}) + "MQTT" + Bytes({5, 0x02, 0, 10, 0, 0, 1}) + "c");
}

TEST(MqttWire, SubscribeAsksQos1ForEachFilterAndAcksAreTwoBytes) {
    EXPECT_EQ(
        EncodeSubscribe(7, {"a/+", "$share/g/b"}),
        Bytes({0x82, 22, 0, 7, 0, 0, 3}) + "a/+" + Bytes({1, 0, 10}) + "$share/g/b" + Bytes({1})
    );
    EXPECT_EQ(EncodeUnsubscribe(9, {"x/#"}), Bytes({0xa2, 8, 0, 9, 0, 0, 3}) + "x/#");
    EXPECT_EQ(EncodePuback(0x1234), Bytes({0x40, 2, 0x12, 0x34}));
    EXPECT_EQ(EncodePingreq(), Bytes({0xc0, 0}));
    EXPECT_EQ(EncodeDisconnect(), Bytes({0xe0, 0}));
}

TEST(MqttWire, ReadsAPublishWholeOrInPieces) {
    const std::string payload(300, 'p');  // a remaining length of two bytes
    const auto bytes = EncodePublish(Publish{"node/n1/params/local", payload, 42, 1, true, false});
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        EXPECT_EQ(
            ParsePacket(std::string_view(bytes).substr(0, cut), 4096).status,
            ParseStatus::kIncomplete
        ) << cut;
    }
    const std::string stream = bytes + "next";
    const auto parsed = ParsePacket(stream, 4096);
    ASSERT_EQ(parsed.status, ParseStatus::kPacket);
    EXPECT_EQ(parsed.size, bytes.size());
    const auto& p = std::get<Publish>(parsed.packet);
    EXPECT_EQ(p.topic, "node/n1/params/local");
    EXPECT_EQ(p.payload, payload);
    EXPECT_EQ(p.packet_id, 42);
    EXPECT_EQ(p.qos, 1);
    EXPECT_TRUE(p.dup);
    EXPECT_FALSE(p.retain);
}

TEST(MqttWire, ReadsTheBrokersAnswers) {
    // CONNACK with a session and a property (receive maximum 100).
    auto parsed = ParsePacket(Bytes({0x20, 6, 1, 0, 3, 0x21, 0, 100}), 64);
    ASSERT_EQ(parsed.status, ParseStatus::kPacket);
    EXPECT_TRUE(std::get<Connack>(parsed.packet).session_present);
    EXPECT_EQ(std::get<Connack>(parsed.packet).reason, 0);
    // Refused: bad user name or password (0x86).
    parsed = ParsePacket(Bytes({0x20, 3, 0, 0x86, 0}), 64);
    EXPECT_EQ(std::get<Connack>(parsed.packet).reason, 0x86);
    // SUBACK granting QoS 1 and refusing the second filter (0x87, not authorized).
    parsed = ParsePacket(Bytes({0x90, 5, 0, 7, 0, 1, 0x87}), 64);
    ASSERT_EQ(parsed.status, ParseStatus::kPacket);
    EXPECT_EQ(std::get<Suback>(parsed.packet).packet_id, 7);
    EXPECT_EQ(std::get<Suback>(parsed.packet).reasons, (std::vector<std::uint8_t>{1, 0x87}));
    EXPECT_TRUE(std::holds_alternative<Pingresp>(ParsePacket(Bytes({0xd0, 0}), 64).packet));
    // DISCONNECT with a reason (session taken over, 0x8e), and without one.
    EXPECT_EQ(std::get<Disconnect>(ParsePacket(Bytes({0xe0, 1, 0x8e}), 64).packet).reason, 0x8e);
    EXPECT_EQ(std::get<Disconnect>(ParsePacket(Bytes({0xe0, 0}), 64).packet).reason, 0);
    // A PUBACK (of nothing we sent) is read and passed over.
    EXPECT_EQ(std::get<Other>(ParsePacket(Bytes({0x40, 2, 0, 1}), 64).packet).type, 4);
}

TEST(MqttWire, RefusesWhatNoBrokerSends) {
    const auto malformed = [](const std::string& bytes, std::size_t max = 4096) {
        return ParsePacket(bytes, max).status == ParseStatus::kMalformed;
    };
    EXPECT_TRUE(malformed(Bytes({0x10, 0})));                             // a CONNECT
    EXPECT_TRUE(malformed(Bytes({0x00, 0})));                             // reserved type
    EXPECT_TRUE(malformed(Bytes({0xd1, 0})));                             // PINGRESP with flags
    EXPECT_TRUE(malformed(Bytes({0xd0, 1, 0})));                          // PINGRESP with a body
    EXPECT_TRUE(malformed(Bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01})));  // five length bytes
    EXPECT_TRUE(malformed(Bytes({0x36, 5, 0, 1, 't', 0, 1, 0})));         // QoS 3
    EXPECT_TRUE(malformed(Bytes({0x3a, 4, 0, 1, 't', 0})));               // QoS 0 marked dup
    EXPECT_TRUE(malformed(Bytes({0x32, 5, 0, 1, 't', 0, 0, 0})));         // QoS 1, packet id 0
    EXPECT_TRUE(malformed(Bytes({0x30, 3, 0, 0, 0})));                    // empty topic
    // A topic alias: CONNECT allowed none.
    EXPECT_TRUE(malformed(Bytes({0x30, 7, 0, 1, 't', 3, 0x23, 0, 1})));
    // An unknown property, and a property list longer than the packet.
    EXPECT_TRUE(malformed(Bytes({0x30, 5, 0, 1, 't', 1, 0x7f})));
    EXPECT_TRUE(malformed(Bytes({0x30, 5, 0, 1, 't', 9, 0x01})));
    // A CONNACK with unknown flags; a SUBACK without reasons.
    EXPECT_TRUE(malformed(Bytes({0x20, 3, 2, 0, 0})));
    EXPECT_TRUE(malformed(Bytes({0x90, 3, 0, 7, 0})));
    // Larger than the limit: refused from its header, before the body arrives.
    EXPECT_TRUE(malformed(Bytes({0x30, 0x80, 0x01}), 100));
}

}  // namespace
}  // namespace rainmaker::mqtt::wire

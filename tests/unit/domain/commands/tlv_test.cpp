// The TLV8 codec of command-response messages (device-protocol §2.4): items as bytes, values over
// 255 bytes split and joined again, the request and answer layouts, malformed input refused.
#include "domain/commands/tlv.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rainmaker::domain::commands {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
    std::string out;
    for (const int b : bytes) {
        out += static_cast<char>(b);
    }
    return out;
}

TEST(Tlv, EncodesEachItemAsTypeLengthValue) {
    const auto encoded = EncodeTlv({{1, "ab"}, {3, std::string(1, '\0')}, {6, ""}});
    EXPECT_EQ(encoded, Bytes({1, 2, 'a', 'b', 3, 1, 0, 6, 0}));
}

TEST(Tlv, SplitsValuesOver255BytesIntoConsecutiveItemsAndJoinsThem) {
    std::string value;
    for (int i = 0; i < 600; ++i) {
        value += static_cast<char>(i % 251);
    }
    const auto encoded = EncodeTlv({{6, value}, {5, Bytes({1, 0})}});
    // 255 + 255 + 90, each with its two header bytes, then the command item.
    ASSERT_EQ(encoded.size(), 600u + 3 * 2 + 4);
    EXPECT_EQ(static_cast<unsigned char>(encoded[0]), 6);
    EXPECT_EQ(static_cast<unsigned char>(encoded[1]), 255);
    EXPECT_EQ(static_cast<unsigned char>(encoded[257]), 6);
    EXPECT_EQ(static_cast<unsigned char>(encoded[258]), 255);
    EXPECT_EQ(static_cast<unsigned char>(encoded[514]), 6);
    EXPECT_EQ(static_cast<unsigned char>(encoded[515]), 90);
    const auto decoded = DecodeTlv(encoded);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->size(), 2u);
    EXPECT_EQ((*decoded)[0].type, 6);
    EXPECT_EQ((*decoded)[0].value, value);
    EXPECT_EQ((*decoded)[1].value, Bytes({1, 0}));
}

TEST(Tlv, AValueOfExactly255BytesIsOneItem) {
    const std::string value(255, 'x');
    const auto encoded = EncodeTlv({{6, value}, {3, Bytes({0})}});
    EXPECT_EQ(encoded.size(), 257u + 3);
    const auto decoded = DecodeTlv(encoded);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->size(), 2u);
    EXPECT_EQ((*decoded)[0].value, value);
}

TEST(Tlv, ItemsOfOneTypeApartFromAFullPieceStaySeparate) {
    const auto decoded = DecodeTlv(Bytes({6, 1, 'a', 6, 1, 'b'}));
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->size(), 2u);
    EXPECT_EQ((*decoded)[0].value, "a");
    EXPECT_EQ((*decoded)[1].value, "b");
}

TEST(Tlv, RefusesInputThatEndsInsideAnItem) {
    EXPECT_FALSE(DecodeTlv(Bytes({1})).has_value());               // a type without a length
    EXPECT_FALSE(DecodeTlv(Bytes({1, 3, 'a', 'b'})).has_value());  // 3 announced, 2 given
    EXPECT_FALSE(DecodeTlv(Bytes({6, 255})).has_value());
    EXPECT_TRUE(DecodeTlv("").has_value());  // no items at all is well-formed TLV
}

TEST(Tlv, EncodesARequestAsTheNodeReadsIt) {
    RequestMessage request;
    request.request_id = "R1";
    request.role = Role::kSecondary;
    request.command = 0x1234;
    request.timestamp = 0x01020304;
    request.data = R"({"a":1})";
    EXPECT_EQ(
        EncodeRequest(request),
        Bytes({1, 2, 'R', '1', 2, 1, 4, 5, 2, 0x34, 0x12, 4, 4, 4, 3, 2, 1, 6, 7}) + R"({"a":1})"
    );
    request.data.clear();
    request.timestamp.reset();
    EXPECT_EQ(EncodeRequest(request), Bytes({1, 2, 'R', '1', 2, 1, 4, 5, 2, 0x34, 0x12}));
}

TEST(Tlv, DecodesAnAnswer) {
    const std::string data(700, 'd');  // split in three pieces by the node
    const auto answer =
        DecodeResponse(EncodeTlv({{1, "REQ"}, {3, Bytes({4})}, {5, Bytes({0x00, 0x10})}, {6, data}})
        );
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->request_id, "REQ");
    EXPECT_EQ(answer->status, 4);
    EXPECT_EQ(answer->command, 0x1000);
    EXPECT_EQ(answer->data, data);
    EXPECT_FALSE(answer->IsPoll());
}

TEST(Tlv, DecodesThePollOfAConnectingNode) {
    // Empty request id, status 0, command 0 (esp_rmaker_cmd_resp on every MQTT connect).
    const auto poll = DecodeResponse(Bytes({1, 0, 3, 1, 0, 5, 2, 0, 0}));
    ASSERT_TRUE(poll.has_value());
    EXPECT_TRUE(poll->IsPoll());
    // Without the request id item, and without the status, it is still a poll.
    const auto bare = DecodeResponse(Bytes({5, 2, 0, 0}));
    ASSERT_TRUE(bare.has_value());
    EXPECT_TRUE(bare->IsPoll());
}

TEST(Tlv, SkipsItemTypesItDoesNotKnow) {
    const auto answer = DecodeResponse(Bytes({9, 2, 'x', 'y', 1, 1, 'R', 3, 1, 0, 5, 2, 1, 0}));
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->request_id, "R");
    EXPECT_EQ(answer->command, 1);
}

TEST(Tlv, RefusesMalformedAnswers) {
    // Truncated.
    EXPECT_FALSE(DecodeResponse(Bytes({1, 5, 'a'})).has_value());
    // No command item.
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 3, 1, 0})).has_value());
    // An answer without a status.
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 5, 2, 1, 0})).has_value());
    // Wrong sizes.
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 3, 2, 0, 0, 5, 2, 1, 0})).has_value());
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 3, 1, 0, 5, 1, 1})).has_value());
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 3, 1, 0, 5, 3, 1, 0, 0})).has_value());
    // A repeated item (not a continuation of a full piece).
    EXPECT_FALSE(DecodeResponse(Bytes({1, 1, 'R', 3, 1, 0, 3, 1, 1, 5, 2, 1, 0})).has_value());
    EXPECT_FALSE(DecodeResponse(Bytes({5, 2, 1, 0, 1, 1, 'R', 3, 1, 0, 5, 2, 1, 0})).has_value());
    // A request id longer than any the server makes or the node holds.
    EXPECT_FALSE(DecodeResponse(
                     EncodeTlv({{1, std::string(65, 'r')}, {3, Bytes({0})}, {5, Bytes({1, 0})}})
    ).has_value());
    // Not TLV at all: a JSON document.
    EXPECT_FALSE(DecodeResponse(R"({"status":"success"})").has_value());
    EXPECT_FALSE(DecodeResponse("").has_value());
}

TEST(Tlv, NamesTheDeviceStatuses) {
    EXPECT_EQ(DeviceStatusText(0), "success");
    EXPECT_EQ(DeviceStatusText(4), "command not found");
    EXPECT_EQ(DeviceStatusText(9), "status 9");
}

}  // namespace
}  // namespace rainmaker::domain::commands

// The few MQTT 5 packets the server's ingest connection exchanges with the broker, written and
// read here because the link must acknowledge a message only once the store has committed it:
// libmosquitto 2.0.11 sends the PUBACK before its message callback runs, so a server killed
// between the two lost what the broker had already handed over. Encoders for what a client sends
// (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBACK, PINGREQ, DISCONNECT; PUBLISH for tests), one parser
// for what a broker sends. The parser reads untrusted bytes (fuzz/mqtt_wire_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rainmaker::mqtt::wire {

struct ConnectOptions {
    std::string_view client_id;
    std::string_view user;      // sent when not empty
    std::string_view password;  // sent when user is not empty
    std::uint16_t keep_alive_s = 30;
    bool clean_start = false;
    std::uint32_t session_expiry_s = 0;  // how long the broker keeps the session once we are gone
    std::uint16_t receive_maximum = 0;   // QoS 1 messages unacknowledged at once; 0: not sent
    std::uint32_t maximum_packet_size = 0;  // the broker drops larger messages for us; 0: not sent
};

std::string EncodeConnect(const ConnectOptions& options);
// One SUBSCRIBE of `filters`, each at QoS 1 (retained messages sent as the broker keeps them).
std::string EncodeSubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters);
// One UNSUBSCRIBE of `filters`.
std::string EncodeUnsubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters);
std::string EncodePuback(std::uint16_t packet_id);
std::string EncodePingreq();
std::string EncodeDisconnect();

struct Publish {
    std::string_view topic;
    std::string_view payload;
    std::uint16_t packet_id = 0;  // 0 for QoS 0
    std::uint8_t qos = 0;
    bool dup = false;
    bool retain = false;
};

// A PUBLISH as a broker sends it (tests, fuzzing).
std::string EncodePublish(const Publish& publish);

struct Connack {
    bool session_present = false;
    std::uint8_t reason = 0;  // 0: accepted; 0x80 and above: refused
};

struct Suback {
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> reasons;  // one per filter: the QoS granted, or 0x80 and above
};

struct Pingresp {};

struct Disconnect {
    std::uint8_t reason = 0;
};

// PUBACK, UNSUBACK, AUTH and the rest: nothing the ingest connection waits for.
struct Other {
    std::uint8_t type = 0;
};

using Packet = std::variant<Connack, Suback, Publish, Pingresp, Disconnect, Other>;

enum class ParseStatus {
    kPacket,      // `packet` and `size` (bytes it took) are set
    kIncomplete,  // the buffer holds only the start of a packet
    kMalformed,   // not MQTT 5 from a broker, or larger than the limit: close the connection
};

struct Parsed {
    ParseStatus status = ParseStatus::kIncomplete;
    Packet packet;
    std::size_t size = 0;
};

// The packet at the start of `buffer`, of at most `max_size` bytes in all. A Publish's views
// point into `buffer`. A broker may not send a topic alias (CONNECT asked for none), so a
// PUBLISH with one or with an empty topic is malformed. Never throws.
Parsed ParsePacket(std::string_view buffer, std::size_t max_size);

}  // namespace rainmaker::mqtt::wire

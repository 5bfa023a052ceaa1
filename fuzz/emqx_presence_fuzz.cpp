// Feeds bytes as what an external EMQX broker publishes on its $SYS client-event topics
// ([mqtt] presence = "emqx-sys"): a topic name and a JSON payload, through
// ParseEmqxPresenceTopic and ParseEmqxPresencePayload. Any client that can make EMQX publish an
// event (by connecting with a crafted client id) shapes part of them. The parsers must neither
// crash nor throw; what they accept must be exactly the event the bytes describe.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "fuzz_support.hpp"
#include "mqtt/topics.hpp"

namespace {

using namespace rainmaker;

constexpr std::int64_t kVersions = 1000000;  // the order's scale: ms * 1,000,000

[[noreturn]] void Fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(input.size()), input.data());
    std::abort();
}

// An accepted topic is $SYS/brokers/<node>/clients/<id>/<event>, read back the same.
void CheckTopic(std::string_view topic, const mqtt::PresenceTopic& parsed) {
    if (!mqtt::IsValidNodeId(parsed.client_id)) {
        Fail("accepted a client id that is no node id", topic);
    }
    constexpr std::string_view kPrefix = "$SYS/brokers/";
    const std::string tail =
        "/clients/" + parsed.client_id + (parsed.connected ? "/connected" : "/disconnected");
    if (!topic.starts_with(kPrefix) || !topic.ends_with(tail) ||
        topic.size() <= kPrefix.size() + tail.size()) {
        Fail("accepted a topic that is not the event it was read as", topic);
    }
    const std::string_view node =
        topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - tail.size());
    if (node.find_first_of("/+#") != std::string_view::npos) {
        Fail("accepted an EMQX node name that is not one topic level", topic);
    }
}

// The integer a member holds, read independently of the code under test.
std::optional<std::int64_t> Member(const boost::json::object& o, const char* name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_int64()) {
        Fail("accepted a payload whose time is not an integer", name);
    }
    return v->get_int64();
}

void CheckPayload(
    std::string_view payload, const mqtt::PresenceTopic& topic, const mqtt::PresencePayload& event
) {
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(payload, ec);
    if (ec || !parsed.is_object()) {
        Fail("accepted a payload that is no JSON object", payload);
    }
    const auto& o = parsed.get_object();
    if (const auto* id = o.if_contains("clientid");
        id != nullptr && (!id->is_string() || id->get_string() != topic.client_id)) {
        Fail("accepted a payload naming another client", payload);
    }
    if (event.at_ms < 1 || event.at_ms > mqtt::kMaxPresenceMs || event.order % kVersions != 0 ||
        event.order / kVersions < 1 || event.order / kVersions > mqtt::kMaxPresenceMs) {
        Fail("accepted a time outside 1 ms .. the year 2262", payload);
    }
    const auto ts = Member(o, "ts");
    const auto connected_at = Member(o, "connected_at");
    const auto own = Member(o, topic.connected ? "connected_at" : "disconnected_at");
    if (event.at_ms != (ts ? *ts : own.value_or(-1))) {
        Fail("at_ms is not ts, nor the event's own time", payload);
    }
    if (connected_at && event.order != *connected_at * kVersions) {
        Fail("the order is not the connection's connected_at", payload);
    }
    // The same payload naming another client, or on another client's topic, is refused.
    boost::json::object other = o;
    other["clientid"] = topic.client_id + "x";
    if (mqtt::ParseEmqxPresencePayload(boost::json::serialize(other), topic)) {
        Fail("accepted a payload whose clientid was changed", payload);
    }
    if (o.contains("clientid")) {
        const mqtt::PresenceTopic elsewhere{topic.client_id + "x", topic.connected};
        if (mqtt::ParseEmqxPresencePayload(payload, elsewhere)) {
            Fail("accepted a payload on another client's topic", payload);
        }
    }
}

void Payload(std::string_view payload, const mqtt::PresenceTopic& topic) {
    if (const auto event = mqtt::ParseEmqxPresencePayload(payload, topic)) {
        CheckPayload(payload, topic, *event);
    }
}

}  // namespace

// Input: the topic, then after the first 0xFF byte (never in a topic name: not UTF-8) the
// payload. Without a 0xFF byte, the whole input is the payload of fuzz-node-1's connected and
// disconnected events.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::AsText(data, size);
    const std::size_t split = input.find('\xff');
    if (split == std::string_view::npos) {
        Payload(input, mqtt::PresenceTopic{"fuzz-node-1", true});
        Payload(input, mqtt::PresenceTopic{"fuzz-node-1", false});
        return 0;
    }
    const std::string_view topic = input.substr(0, split);
    const auto parsed = mqtt::ParseEmqxPresenceTopic(topic);
    if (parsed) {
        CheckTopic(topic, *parsed);
        Payload(input.substr(split + 1), *parsed);
    }
    return 0;
}

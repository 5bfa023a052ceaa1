// Node topics in both spellings the firmware uses: node/<id>/<suffix> and the basic-ingest
// form $aws/rules/<rule>/node/<id>/<suffix>; and the broker's presence topics and payloads, from
// our Mosquitto plugin or from EMQX's client events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::mqtt {

struct NodeTopic {
    std::string node_id;
    std::string suffix;  // "config", "params/local", "params/local/init", ...
};

// The node and suffix of a node→cloud topic; nullopt for anything else.
std::optional<NodeTopic> ParseNodeTopic(std::string_view topic);

struct PresenceTopic {
    std::string client_id;
    bool connected = false;
};

// $aws/events/presence/connected/<id> or .../disconnected/<id>.
std::optional<PresenceTopic> ParsePresenceTopic(std::string_view topic);

// What the broker link reads of a presence event's payload.
struct PresencePayload {
    std::int64_t at_ms = 0;  // "timestamp", Unix ms
    // Orders events across broker restarts: the plugin's versionNumber counts the connections
    // of a client id within one broker run, and its sessionIdentifier starts with the run's
    // start time in ms. (start ms, version) packed in one integer keeps a later run's events
    // newer than any of an earlier run.
    std::int64_t order = 0;
};

// The payload of a presence event (see mosquitto-plugin/); nullopt unless it is a JSON object
// whose "timestamp" and "versionNumber" are integers that fit in 64 bits, with a
// sessionIdentifier (when it starts with digits) that leaves the order in 64 bits. Never
// throws.
std::optional<PresencePayload> ParsePresencePayload(std::string_view payload);

// The plugin's retained <prefix>run message: {"runStartedAt": <ms>} (1 to kMaxPresenceMs).
// Returns the order its events start from (events of earlier runs are below it); nullopt for
// anything else. Never throws.
std::optional<std::int64_t> ParsePresenceRun(std::string_view payload);

// The topic of the plugin's run message.
inline constexpr std::string_view kPresenceRunTopic = "$aws/events/presence/run";

// Where the broker link learns who is connected ([mqtt] presence).
enum class PresenceSource {
    kPlugin,   // our Mosquitto plugin: $aws/events/presence/{connected,disconnected}/<id>
    kEmqxSys,  // EMQX's client events: $SYS/brokers/<emqx node>/clients/<id>/{connected,...}
};

// "plugin" or "emqx-sys"; nullopt for anything else.
std::optional<PresenceSource> ParsePresenceSource(std::string_view name);

// $SYS/brokers/<emqx node>/clients/<id>/connected or .../disconnected, the <id> a valid node id
// and the EMQX node name a non-empty level without wildcards.
std::optional<PresenceTopic> ParseEmqxPresenceTopic(std::string_view topic);

// The largest timestamp (ms) an EMQX presence event may carry (the year 2262): the plugin's
// bound too, the last millisecond whose order, ms * 1,000,000 + a count below 1,000,000, fits
// in 64 bits.
inline constexpr std::int64_t kMaxPresenceMs = 9223372036853;

// The payload of an EMQX client event on `topic` (ParseEmqxPresenceTopic); nullopt unless it is
// a JSON object whose "clientid", when present, is the topic's client id, and whose timestamps
// ("ts", "connected_at", "disconnected_at"), those present, are integers from 1 to
// kMaxPresenceMs, with at least "ts" or the event's own ("connected_at" for connected,
// "disconnected_at" for disconnected). at_ms: "ts", else the event's own; order: the
// connection's "connected_at" in the plugin's scale (ms * 1,000,000), a disconnect without one
// (EMQX 4) at its own time (see topics.cpp). Never throws.
std::optional<PresencePayload> ParseEmqxPresencePayload(
    std::string_view payload, const PresenceTopic& topic
);

// Node ids we issue and accept: 1..64 characters of [A-Za-z0-9_-] (no MQTT wildcards, no '/').
bool IsValidNodeId(std::string_view node_id);

}  // namespace rainmaker::mqtt

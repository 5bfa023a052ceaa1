// Node topics in both spellings the firmware uses: node/<id>/<suffix> and the basic-ingest
// form $aws/rules/<rule>/node/<id>/<suffix>; and the broker's presence topics and payloads.
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

// Node ids we issue and accept: 1..64 characters of [A-Za-z0-9_-] (no MQTT wildcards, no '/').
bool IsValidNodeId(std::string_view node_id);

}  // namespace rainmaker::mqtt

// Node topics in both spellings the firmware uses: node/<id>/<suffix> and the basic-ingest
// form $aws/rules/<rule>/node/<id>/<suffix>; and the broker's presence topics.
#pragma once

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

// Node ids we issue and accept: 1..64 characters of [A-Za-z0-9_-] (no MQTT wildcards, no '/').
bool IsValidNodeId(std::string_view node_id);

}  // namespace rainmaker::mqtt

// How the domain sends something to a node (the MQTT link implements it).
#pragma once

#include <string>
#include <string_view>

namespace rainmaker::domain::nodes {

class NodePublisher {
public:
    virtual ~NodePublisher() = default;
    // Publishes `payload` at QoS 1 on node/<node_id>/<suffix> (e.g. "params/remote").
    // Returns false when the broker link is down or refused the message.
    virtual bool Publish(
        std::string_view node_id, std::string_view suffix, std::string_view payload
    ) = 0;
};

}  // namespace rainmaker::domain::nodes

// What nodes send through the broker: config, params (init and local), user/mapping, alerts,
// and the broker's presence events. Malformed messages are refused (counted by the caller),
// never stored.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

class NodeIngest {
public:
    NodeIngest(storage::Database& db, MappingService& mapping, const core::Clock& clock);

    // One message of node `node_id` on topic suffix `suffix` ("config", "params/local",
    // "params/local/init", "params/local/<group>", "user/mapping", "alert", ...). Returns
    // false, changing nothing, when the payload is malformed.
    bool Handle(std::string_view node_id, std::string_view suffix, std::string_view payload);

    // A presence event; events of an older connection never override a newer one.
    void HandlePresence(
        std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
    );

    // The link (re)connected to a broker that (re)started: nodes connected to the old one are
    // offline until they connect again.
    void ResetPresence();

private:
    void EnsureNode(std::string_view node_id);

    storage::Database& db_;
    MappingService& mapping_;
    const core::Clock& clock_;
};

}  // namespace rainmaker::domain::nodes

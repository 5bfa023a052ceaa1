// Domain events into the event log, which is the outbox the webhook dispatcher reads: an event
// is written inside the transaction of the change it tells of, so it is delivered if and only
// if the change committed. The events of nodes' messages (connected, disconnected, params,
// config, alerts), which come at the ingest's rate, are written only while some destination
// takes their type (Wanted; the ingest asks before it builds an event): a server without
// webhooks or push senders pays one atomic load per message for them.
// Users' actions (mappings, sharing, groups, automations) are written always.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/events/event_filter_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {

// "rmaker.event." + the type the event log keeps.
std::string FullEventName(std::string_view type);

class EventLog {
public:
    EventLog(storage::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

    // Writes the event `type` ("node_connected") of node `node_id` for user `user_id` (either
    // may be "") when some destination takes it; call inside the change's transaction.
    void Record(
        std::string_view type,
        std::string_view user_id,
        std::string_view node_id,
        const boost::json::object& payload
    );
    // Whether some destination takes events of `type` ("node_connected") now.
    bool Wanted(std::string_view type) const;
    // The full event names ("rmaker.event.alert") `taker` (a channel: "webhooks", "push")
    // takes from now on; an event is wanted while some taker takes it.
    void SetWanted(std::string_view taker, const std::vector<std::string>& event_names);

private:
    storage::Database& db_;
    const core::Clock& clock_;
    std::mutex takers_mutex_;
    std::map<std::string, std::uint32_t, std::less<>> takers_;  // taker → its bits
    std::atomic<std::uint32_t> wanted_{0};  // bit n: EventNumber n, of every taker
    static_assert(kKnownEvents <= 32);
};

}  // namespace rainmaker::domain::events

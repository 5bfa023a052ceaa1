// The event log, which is also the outbox: what happened to whom, written in the transaction
// of the change, read in order by the consumers that deliver it (webhooks), each keeping how
// far it has read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rainmaker::storage {

struct EventRow {
    std::int64_t id = 0;
    std::string event_type;  // without the "rmaker.event." prefix: "node_connected"
    std::string user_id;     // "" for a node's event
    std::string node_id;     // "" for an event of no node
    std::string payload;     // JSON object text
    std::int64_t created_at = 0;
};

class EventStore {
public:
    virtual ~EventStore() = default;
    // Appends an event; ids grow in commit order and are never reused.
    virtual void Append(
        std::string_view event_type,
        std::string_view user_id,
        std::string_view node_id,
        std::string_view payload,
        std::int64_t at
    ) = 0;
    // Deletes the events created before `before`, except those a consumer has not read yet
    // and the newest event (ids are never reused, so a consumer's position stays valid);
    // returns how many.
    virtual int DeleteBefore(std::int64_t before) = 0;
    // Deletes the events of no user (nodes' events: read only by the consumers, which copy
    // what they deliver) with ids in (after_id, up_to_id], except the newest event.
    virtual void DeleteNodeEvents(std::int64_t after_id, std::int64_t up_to_id) = 0;
    // The user's events after `after_id`, oldest first.
    virtual std::vector<EventRow> ListForUser(
        std::string_view user_id, std::int64_t after_id, int limit
    ) = 0;
    // Every event after `after_id`, oldest first.
    virtual std::vector<EventRow> ListAfter(std::int64_t after_id, int limit) = 0;
    // The id of the last event `consumer` has taken; nullopt before its first.
    virtual std::optional<std::int64_t> Cursor(std::string_view consumer) = 0;
    virtual void SetCursor(std::string_view consumer, std::int64_t last_event_id) = 0;
    // The consumers whose names start with `prefix` and their cursors, by name.
    virtual std::vector<std::pair<std::string, std::int64_t>> Cursors(std::string_view prefix) = 0;
    virtual void DeleteCursor(std::string_view consumer) = 0;
    // The newest event's id (0: none).
    virtual std::int64_t LastId() = 0;
};

}  // namespace rainmaker::storage

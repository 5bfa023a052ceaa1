// The internal event log: what happened to whom, for webhooks and push notifications.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct EventRow {
    std::int64_t id = 0;
    std::string event_type;
    std::string user_id;
    std::string payload;  // JSON object text
    std::int64_t created_at = 0;
};

class EventStore {
public:
    virtual ~EventStore() = default;
    virtual void Append(
        std::string_view event_type,
        std::string_view user_id,
        std::string_view payload,
        std::int64_t at
    ) = 0;
    // Deletes the events created before `before`; returns how many.
    virtual int DeleteBefore(std::int64_t before) = 0;
    // The user's events after `after_id`, oldest first.
    virtual std::vector<EventRow> ListForUser(
        std::string_view user_id, std::int64_t after_id, int limit
    ) = 0;
};

}  // namespace rainmaker::storage

// The SQLite implementation of EventStore.
#pragma once

#include "storage/event_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlEventStore final : public EventStore {
public:
    explicit SqlEventStore(SqlDatabase& db) : db_(db) {}

    // storage::EventStore
    void Append(
        std::string_view event_type,
        std::string_view user_id,
        std::string_view node_id,
        std::string_view payload,
        std::int64_t at
    ) override;
    int DeleteBefore(std::int64_t before) override;
    void DeleteNodeEvents(std::int64_t after_id, std::int64_t up_to_id) override;
    std::vector<EventRow> ListForUser(std::string_view user_id, std::int64_t after_id, int limit)
        override;
    std::vector<EventRow> ListAfter(std::int64_t after_id, int limit) override;
    std::optional<std::int64_t> Cursor(std::string_view consumer) override;
    void SetCursor(std::string_view consumer, std::int64_t last_event_id) override;
    std::vector<std::pair<std::string, std::int64_t>> Cursors(std::string_view prefix) override;
    void DeleteCursor(std::string_view consumer) override;
    std::int64_t LastId() override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

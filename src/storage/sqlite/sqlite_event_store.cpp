// The event log in SQLite.
#include "storage/sqlite/sqlite_event_store.hpp"

#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::storage::sqlite {

void SqliteEventStore::Append(
    std::string_view event_type, std::string_view user_id, std::string_view payload, std::int64_t at
) {
    db_.Execute(
        "INSERT INTO events(event_type, user_id, payload, created_at) VALUES (?,?,?,?)",
        event_type,
        user_id,
        payload,
        at
    );
}

int SqliteEventStore::DeleteBefore(std::int64_t before) {
    return db_.InBatches("DELETE FROM events", "events", "created_at < ?", before);
}

std::vector<EventRow> SqliteEventStore::ListForUser(
    std::string_view user_id, std::int64_t after_id, int limit
) {
    return db_.FindAll(
        "SELECT id, event_type, user_id, payload, created_at FROM events WHERE user_id = ? AND "
        "id > ? ORDER BY id LIMIT ?",
        [](const Statement& s) {
            return EventRow{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)};
        },
        user_id,
        after_id,
        limit
    );
}

}  // namespace rainmaker::storage::sqlite

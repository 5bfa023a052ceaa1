// The event log in SQLite. Ids are rowids: they grow in commit order (one writer at a time)
// and are not reused as long as the newest row stays, which DeleteBefore keeps.
#include "storage/sql/sql_event_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kSelect =
    "SELECT id, event_type, user_id, node_id, payload, created_at FROM events ";

EventRow Read(const Statement& s) {
    return EventRow{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5)};
}

}  // namespace

void SqlEventStore::Append(
    std::string_view event_type,
    std::string_view user_id,
    std::string_view node_id,
    std::string_view payload,
    std::int64_t at
) {
    db_.Execute(
        "INSERT INTO events(event_type, user_id, node_id, payload, created_at) VALUES (?,?,?,?,?)",
        event_type,
        user_id,
        node_id,
        payload,
        at
    );
}

int SqlEventStore::DeleteBefore(std::int64_t before) {
    // Users' events by the retention index; nodes' events, which are in no index but their id
    // (V030), by id up to the slowest consumer: they are few, as planning deletes them.
    constexpr const char* kKept =
        "created_at < ? AND id < (SELECT MAX(id) FROM events) AND id <= COALESCE((SELECT "
        "MIN(last_event_id) FROM outbox_cursors), 9223372036854775807)";
    return db_.InBatches(
               "DELETE FROM events", "events", std::string("user_id <> '' AND ") + kKept, before
           ) +
           db_.InBatches(
               "DELETE FROM events", "events", std::string("user_id = '' AND ") + kKept, before
           );
}

void SqlEventStore::DeleteNodeEvents(std::int64_t after_id, std::int64_t up_to_id) {
    db_.Execute(
        "DELETE FROM events WHERE id > ? AND id <= ? AND user_id = '' AND id < (SELECT MAX(id) "
        "FROM events)",
        after_id,
        up_to_id
    );
}

std::vector<EventRow> SqlEventStore::ListForUser(
    std::string_view user_id, std::int64_t after_id, int limit
) {
    return db_.FindAll(
        std::string(kSelect) + "WHERE user_id = ? AND user_id <> '' AND id > ? ORDER BY id LIMIT ?",
        Read,
        user_id,
        after_id,
        limit
    );
}

std::vector<EventRow> SqlEventStore::ListAfter(std::int64_t after_id, int limit) {
    return db_.FindAll(
        std::string(kSelect) + "WHERE id > ? ORDER BY id LIMIT ?", Read, after_id, limit
    );
}

std::optional<std::int64_t> SqlEventStore::Cursor(std::string_view consumer) {
    return db_.FindOne(
        "SELECT last_event_id FROM outbox_cursors WHERE consumer = ?",
        consumer,
        [](const Statement& s) { return s.Int(0); }
    );
}

void SqlEventStore::SetCursor(std::string_view consumer, std::int64_t last_event_id) {
    db_.Execute(
        "INSERT INTO outbox_cursors(consumer, last_event_id) VALUES (?,?) ON CONFLICT(consumer) "
        "DO UPDATE SET last_event_id = excluded.last_event_id",
        consumer,
        last_event_id
    );
}

std::vector<std::pair<std::string, std::int64_t>> SqlEventStore::Cursors(std::string_view prefix) {
    // substr rather than LIKE: a prefix holding % or _ means itself.
    return db_.FindAll(
        "SELECT consumer, last_event_id FROM outbox_cursors WHERE substr(consumer, 1, ?) = ? "
        "ORDER BY consumer",
        [](const Statement& s) {
            return std::pair<std::string, std::int64_t>(s.Text(0), s.Int(1));
        },
        static_cast<std::int64_t>(prefix.size()),
        prefix
    );
}

void SqlEventStore::DeleteCursor(std::string_view consumer) {
    db_.Execute("DELETE FROM outbox_cursors WHERE consumer = ?", consumer);
}

std::int64_t SqlEventStore::LastId() {
    return db_.Count("SELECT MAX(id) FROM events");
}

}  // namespace rainmaker::storage::sql

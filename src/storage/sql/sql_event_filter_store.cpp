// Event filters in SQLite (V027): keyed by (event_type, entity_id), indexed by entity.
#include "storage/sql/sql_event_filter_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "event_type, entity_id, entity_type, enabled, integrations, created_by, updated_at";

EventFilterRow Read(const Statement& s) {
    EventFilterRow f;
    f.event_type = s.Text(0);
    f.entity_id = s.Text(1);
    f.entity_type = s.Text(2);
    f.enabled = s.Bool(3);
    f.integrations = s.Text(4);
    f.created_by = s.Text(5);
    f.updated_at = s.Int(6);
    return f;
}

std::string Select(const std::string& rest) {
    return std::string("SELECT ") + kColumns + " FROM event_filters " + rest;
}

}  // namespace

bool SqlEventFilterStore::Insert(const EventFilterRow& f) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO event_filters(") + kColumns + ") VALUES (?,?,?,?,?,?,?)",
            f.event_type,
            f.entity_id,
            f.entity_type,
            f.enabled,
            f.integrations,
            f.created_by,
            f.updated_at
        );
    });
}

bool SqlEventFilterStore::Update(const EventFilterRow& f) {
    return db_.Execute(
               "UPDATE event_filters SET enabled = ?, integrations = ?, created_by = ?, "
               "updated_at = ? WHERE event_type = ? AND entity_id = ?",
               f.enabled,
               f.integrations,
               f.created_by,
               f.updated_at,
               f.event_type,
               f.entity_id
           ) > 0;
}

std::optional<EventFilterRow> SqlEventFilterStore::Find(
    std::string_view event_type, std::string_view entity_id
) {
    return db_.FindFirst(
        Select("WHERE event_type = ? AND entity_id = ?"), Read, event_type, entity_id
    );
}

bool SqlEventFilterStore::Delete(std::string_view event_type, std::string_view entity_id) {
    return db_.Execute(
               "DELETE FROM event_filters WHERE event_type = ? AND entity_id = ?",
               event_type,
               entity_id
           ) > 0;
}

std::vector<EventFilterRow> SqlEventFilterStore::OfEvent(
    std::string_view event_type, std::string_view entity_type, int limit
) {
    if (entity_type.empty()) {
        return db_.FindAll(
            Select("WHERE event_type = ? ORDER BY entity_id LIMIT ?"), Read, event_type, limit
        );
    }
    return db_.FindAll(
        Select("WHERE event_type = ? AND entity_type = ? ORDER BY entity_id LIMIT ?"),
        Read,
        event_type,
        entity_type,
        limit
    );
}

std::vector<EventFilterRow> SqlEventFilterStore::OfEntity(std::string_view entity_id, int limit) {
    return db_.FindAll(
        Select("WHERE entity_id = ? ORDER BY event_type LIMIT ?"), Read, entity_id, limit
    );
}

int SqlEventFilterStore::DeleteOfEntity(std::string_view entity_type, std::string_view entity_id) {
    return db_.Execute(
        "DELETE FROM event_filters WHERE entity_id = ? AND entity_type = ?", entity_id, entity_type
    );
}

std::int64_t SqlEventFilterStore::Version() {
    return ChangeCounter(db_, "event_filters");
}

}  // namespace rainmaker::storage::sql

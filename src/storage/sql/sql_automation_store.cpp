// Automations in SQLite: one row each, found through the indexes of V012.
#include "storage/sql/sql_automation_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "automation_id, user_id, name, event_type, node_id, location, latitude, longitude, events, "
    "event_operator, actions, metadata, retrigger, enabled, last_state, next_run_at, created_at, "
    "updated_at";

AutomationRow Read(const Statement& s) {
    AutomationRow a;
    a.automation_id = s.Text(0);
    a.user_id = s.Text(1);
    a.name = s.Text(2);
    a.event_type = s.Text(3);
    a.node_id = s.Text(4);
    a.location = s.Text(5);
    a.latitude = s.Double(6);
    a.longitude = s.Double(7);
    a.events = s.Text(8);
    a.event_operator = s.Text(9);
    a.actions = s.Text(10);
    a.metadata = s.Text(11);
    a.retrigger = s.Bool(12);
    a.enabled = s.Bool(13);
    a.last_state = s.Bool(14);
    a.next_run_at = s.Int(15);
    a.created_at = s.Int(16);
    a.updated_at = s.Int(17);
    return a;
}

// The columns Insert and Update both write, in the order Write binds them.
constexpr const char* kWritten =
    "name, event_type, node_id, location, latitude, longitude, events, event_operator, actions, "
    "metadata, retrigger, enabled, last_state, next_run_at, updated_at";

std::string Select(const std::string& rest) {
    return std::string("SELECT ") + kColumns + " FROM automations " + rest;
}

}  // namespace

template <typename... Tail>
bool SqlAutomationStore::Write(
    const std::string& sql, const AutomationRow& a, const Tail&... tail
) {
    bool changed = false;
    const bool unique = db_.Unique([&] {
        changed = db_.Execute(
                      sql,
                      a.name,
                      a.event_type,
                      a.node_id,
                      a.location,
                      a.latitude,
                      a.longitude,
                      a.events,
                      a.event_operator,
                      a.actions,
                      a.metadata,
                      a.retrigger,
                      a.enabled,
                      a.last_state,
                      a.next_run_at,
                      a.updated_at,
                      tail...
                  ) > 0;
    });
    return unique && changed;  // not unique: the name is taken
}

bool SqlAutomationStore::Insert(const AutomationRow& a) {
    return Write(
        std::string("INSERT INTO automations(") + kWritten +
            ", automation_id, user_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        a,
        a.automation_id,
        a.user_id,
        a.created_at
    );
}

bool SqlAutomationStore::Update(const AutomationRow& a) {
    return Write(
        std::string("UPDATE automations SET (") + kWritten +
            ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE automation_id = ? AND user_id = ?",
        a,
        a.automation_id,
        a.user_id
    );
}

bool SqlAutomationStore::Delete(std::string_view user_id, std::string_view automation_id) {
    return db_.Execute(
               "DELETE FROM automations WHERE automation_id = ? AND user_id = ?",
               automation_id,
               user_id
           ) > 0;
}

std::optional<AutomationRow> SqlAutomationStore::Find(
    std::string_view user_id, std::string_view automation_id
) {
    return db_.FindFirst(
        Select("WHERE automation_id = ? AND user_id = ?"), Read, automation_id, user_id
    );
}

std::vector<AutomationRow> SqlAutomationStore::List(
    std::string_view user_id, std::string_view node_id, std::string_view start_id, int limit
) {
    if (node_id.empty()) {
        return db_.FindAll(
            Select("WHERE user_id = ? AND automation_id >= ? ORDER BY automation_id LIMIT ?"),
            Read,
            user_id,
            start_id,
            limit
        );
    }
    return db_.FindAll(
        Select("WHERE user_id = ? AND node_id = ? AND automation_id >= ? ORDER BY automation_id "
               "LIMIT ?"),
        Read,
        user_id,
        node_id,
        start_id,
        limit
    );
}

int SqlAutomationStore::CountForUser(std::string_view user_id) {
    return static_cast<int>(db_.Count("SELECT COUNT(*) FROM automations WHERE user_id = ?", user_id)
    );
}

int SqlAutomationStore::CountForUserNode(std::string_view user_id, std::string_view node_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM automations WHERE user_id = ? AND node_id = ? AND "
        "event_type = 'node_params'",
        user_id,
        node_id
    ));
}

std::vector<std::pair<double, double>> SqlAutomationStore::WeatherLocations(std::string_view user_id
) {
    const auto read = [](const Statement& s) { return std::pair{s.Double(0), s.Double(1)}; };
    if (user_id.empty()) {
        return db_.FindAll(
            "SELECT DISTINCT latitude, longitude FROM automations WHERE event_type = 'weather'",
            read
        );
    }
    return db_.FindAll(
        "SELECT DISTINCT latitude, longitude FROM automations WHERE user_id = ? AND "
        "event_type = 'weather'",
        read,
        user_id
    );
}

std::vector<AutomationRow> SqlAutomationStore::ForNode(std::string_view node_id) {
    return db_.FindAll(
        Select("WHERE node_id = ? AND event_type = 'node_params' AND enabled = 1"), Read, node_id
    );
}

std::vector<AutomationRow> SqlAutomationStore::DueDaylight(std::int64_t now, int limit) {
    return db_.FindAll(
        Select("WHERE next_run_at > 0 AND next_run_at <= ? AND event_type = 'daylight' AND "
               "enabled = 1 ORDER BY next_run_at LIMIT ?"),
        Read,
        now,
        limit
    );
}

std::vector<AutomationRow> SqlAutomationStore::Weather() {
    return db_.FindAll(
        Select("WHERE event_type = 'weather' AND enabled = 1 ORDER BY latitude, longitude"), Read
    );
}

void SqlAutomationStore::SetState(std::string_view automation_id, bool state) {
    db_.Execute(
        "UPDATE automations SET last_state = ? WHERE automation_id = ?", state, automation_id
    );
}

bool SqlAutomationStore::ClaimDaylight(
    std::string_view automation_id, std::int64_t due, std::int64_t next
) {
    return db_.Execute(
               "UPDATE automations SET next_run_at = ? WHERE automation_id = ? AND next_run_at = ?",
               next,
               automation_id,
               due
           ) > 0;
}

}  // namespace rainmaker::storage::sql

// Push endpoints in SQLite: one row each (V014), unique by ARN and by device token.
#include "storage/sql/sql_push_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "endpoint_arn, user_id, platform, platform_type, device_token, created_at";

PushEndpointRow Read(const Statement& s) {
    PushEndpointRow e;
    e.endpoint_arn = s.Text(0);
    e.user_id = s.Text(1);
    e.platform = s.Text(2);
    e.platform_type = s.Text(3);
    e.device_token = s.Text(4);
    e.created_at = s.Int(5);
    return e;
}

std::string Select(const std::string& rest) {
    return std::string("SELECT ") + kColumns + " FROM push_endpoints " + rest;
}

}  // namespace

bool SqlPushStore::Insert(const PushEndpointRow& e) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO push_endpoints(") + kColumns + ") VALUES (?,?,?,?,?,?)",
            e.endpoint_arn,
            e.user_id,
            e.platform,
            e.platform_type,
            e.device_token,
            e.created_at
        );
    });
}

std::optional<PushEndpointRow> SqlPushStore::Find(std::string_view endpoint_arn) {
    return db_.FindOne(Select("WHERE endpoint_arn = ?"), endpoint_arn, Read);
}

std::optional<PushEndpointRow> SqlPushStore::FindByToken(std::string_view device_token) {
    return db_.FindOne(Select("WHERE device_token = ?"), device_token, Read);
}

std::vector<PushEndpointRow> SqlPushStore::ListForUser(std::string_view user_id) {
    return db_.FindAll(Select("WHERE user_id = ? ORDER BY created_at, rowid"), Read, user_id);
}

int SqlPushStore::CountForUser(std::string_view user_id) {
    return static_cast<int>(
        db_.Count("SELECT COUNT(*) FROM push_endpoints WHERE user_id = ?", user_id)
    );
}

bool SqlPushStore::Delete(std::string_view endpoint_arn) {
    return db_.Execute("DELETE FROM push_endpoints WHERE endpoint_arn = ?", endpoint_arn) > 0;
}

}  // namespace rainmaker::storage::sql

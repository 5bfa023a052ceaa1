// Sharing requests in SQLite.
#include "storage/sql/sql_sharing_store.hpp"

#include "storage/sql/sql_database.hpp"
#include "storage/sql/stored_role.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "request_id, from_user, to_user, item_ids, primary_role, transfer, new_role, metadata, "
    "status, created_at, kind";

SharingRequestRow ReadRequest(const Statement& s) {
    SharingRequestRow r;
    r.request_id = s.Text(0);
    r.from_user = s.Text(1);
    r.to_user = s.Text(2);
    r.item_ids = s.Text(3);
    r.primary = s.Bool(4);
    r.transfer = s.Bool(5);
    r.new_role = StoredOptionalRole(s.Text(6), "sharing_requests.new_role");
    r.metadata = s.Text(7);
    r.status = s.Text(8);
    r.created_at = s.Int(9);
    r.kind = s.Text(10);
    return r;
}

}  // namespace

void SqlSharingStore::Put(const SharingRequestRow& r) {
    db_.WithWriteConnection([&](Connection& c) {
        c.Prepare(UpsertSql("sharing_requests", kColumns, "request_id"))
            .Bind(1, r.request_id)
            .Bind(2, r.from_user)
            .Bind(3, r.to_user)
            .Bind(4, r.item_ids)
            .Bind(5, r.primary)
            .Bind(6, r.transfer)
            .Bind(7, OptionalRoleText(r.new_role))
            .Bind(8, r.metadata)
            .Bind(9, r.status)
            .Bind(10, r.created_at)
            .Bind(11, r.kind)
            .Run();
    });
}

std::optional<SharingRequestRow> SqlSharingStore::Find(std::string_view request_id) {
    static const std::string kSql =
        std::string("SELECT ") + kColumns + " FROM sharing_requests WHERE request_id = ?";
    return db_.FindOne(kSql, request_id, ReadRequest);
}

void SqlSharingStore::Delete(std::string_view request_id) {
    db_.Execute("DELETE FROM sharing_requests WHERE request_id = ?", request_id);
}

std::vector<SharingRequestRow> SqlSharingStore::List(
    std::string_view kind, std::string_view user_id, bool sent, std::string_view start_id, int limit
) {
    static const std::string kSent = std::string("SELECT ") + kColumns +
                                     " FROM sharing_requests WHERE from_user = ? AND kind = ? "
                                     "AND request_id >= ? ORDER BY request_id LIMIT ?";
    static const std::string kReceived = std::string("SELECT ") + kColumns +
                                         " FROM sharing_requests WHERE to_user = ? AND kind = ? "
                                         "AND request_id >= ? ORDER BY request_id LIMIT ?";
    return db_.FindAll(sent ? kSent : kReceived, ReadRequest, user_id, kind, start_id, limit);
}

std::vector<SharingRequestRow> SqlSharingStore::Pending(
    std::string_view kind, std::string_view from_user, std::string_view to_user
) {
    static const std::string kSql = std::string("SELECT ") + kColumns +
                                    " FROM sharing_requests WHERE from_user = ? AND kind = ? AND "
                                    "to_user = ? AND status = 'pending' ORDER BY request_id";
    return db_.FindAll(kSql, ReadRequest, from_user, kind, to_user);
}

int SqlSharingStore::CountPendingFrom(std::string_view from_user) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM sharing_requests WHERE from_user = ? AND status = 'pending'",
        from_user
    ));
}

int SqlSharingStore::DeleteExpired(std::int64_t pending_before, std::int64_t closed_before) {
    return db_.InBatches(
        "DELETE FROM sharing_requests",
        "sharing_requests",
        "(status = 'pending' AND created_at < ?1) OR (status <> 'pending' AND created_at < ?2)",
        pending_before,
        closed_before
    );
}

}  // namespace rainmaker::storage::sql

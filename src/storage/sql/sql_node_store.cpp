// Nodes, mappings and mapping requests in SQLite.
#include "storage/sql/sql_node_store.hpp"

#include "storage/sql/admin_node_search.hpp"
#include "storage/sql/dynamic_query.hpp"
#include "storage/sql/sql_database.hpp"
#include "storage/sql/stored_role.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kNodeColumns =
    "node_id, created_at, mac_addr, platform, claimed_by, cert_pem, cert_serial, config, "
    "node_type, model, fw_version, params, params_updated_at, connected, connectivity_at, "
    "presence_version, revoked, claimed_at, mapped_at";

std::string NodeQuery(const char* where) {
    return std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE " + where;
}

NodeRow ReadNode(const Statement& s) {
    NodeRow n;
    n.node_id = s.Text(0);
    n.created_at = s.Int(1);
    n.mac_addr = s.Text(2);
    n.platform = s.Text(3);
    n.claimed_by = s.Text(4);
    n.cert_pem = s.Text(5);
    n.cert_serial = s.Text(6);
    n.config = s.Text(7);
    n.node_type = s.Text(8);
    n.model = s.Text(9);
    n.fw_version = s.Text(10);
    n.params = s.Text(11);
    n.params_updated_at = s.Int(12);
    n.connected = s.Bool(13);
    n.connectivity_at = s.Int(14);
    n.presence_version = s.Int(15);
    n.revoked = s.Bool(16);
    n.claimed_at = s.Int(17);
    n.mapped_at = s.Int(18);
    return n;
}

constexpr const char* kMappingColumns =
    "user_id, node_id, role, tags, metadata, group_id, admin_access, created_at, direct_role";

UserNodeRow ReadMapping(const Statement& s) {
    return UserNodeRow{
        s.Text(0),
        s.Text(1),
        StoredRole(s.Text(2), "user_nodes.role"),
        s.Text(3),
        s.Text(4),
        s.Text(5),
        s.Text(6),
        s.Int(7),
        StoredOptionalRole(s.Text(8), "user_nodes.direct_role")};
}

constexpr const char* kRequestColumns =
    "request_id, user_id, node_id, kind, secret_hash, challenge, status, tags, metadata, "
    "group_id, created_at, expires_at";

MappingRequestRow ReadRequest(const Statement& s) {
    return MappingRequestRow{
        s.Text(0),
        s.Text(1),
        s.Text(2),
        s.Text(3),
        s.Text(4),
        s.Text(5),
        s.Text(6),
        s.Text(7),
        s.Text(8),
        s.Text(9),
        s.Int(10),
        s.Int(11)};
}

}  // namespace

std::optional<NodeRow> SqlNodeStore::FindWhere(const std::string& sql, std::string_view value) {
    return db_.FindOne(sql, value, ReadNode);
}

std::optional<NodeRow> SqlNodeStore::Find(std::string_view node_id) {
    static const std::string kSql = NodeQuery("node_id = ?");
    return FindWhere(kSql, node_id);
}

std::optional<NodeRow> SqlNodeStore::FindByMac(std::string_view mac_addr) {
    static const std::string kSql = NodeQuery("mac_addr = ?");
    return FindWhere(kSql, mac_addr);
}

bool SqlNodeStore::Insert(const NodeRow& n) {
    return db_.Unique([&] {
        db_.WithWriteConnection([&](Connection& c) {
            auto s = c.Prepare(
                std::string("INSERT INTO nodes(") + kNodeColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            );
            s.Bind(1, n.node_id)
                .Bind(2, n.created_at)
                .Bind(3, n.mac_addr)
                .Bind(4, n.platform)
                .Bind(5, n.claimed_by)
                .Bind(6, n.cert_pem)
                .Bind(7, n.cert_serial)
                .Bind(8, n.config)
                .Bind(9, n.node_type)
                .Bind(10, n.model)
                .Bind(11, n.fw_version)
                .Bind(12, n.params)
                .Bind(13, n.params_updated_at)
                .Bind(14, n.connected)
                .Bind(15, n.connectivity_at)
                .Bind(16, n.presence_version)
                .Bind(17, n.revoked)
                .Bind(18, n.claimed_at)
                .Bind(19, n.mapped_at);
            s.Run();
        });
    });
}

std::vector<std::string> SqlNodeStore::NodeIdsMatching(
    std::string_view node_type, std::string_view model, std::string_view fw_version
) {
    // Only the given columns are compared, so SQLite can use their indexes.
    const std::pair<const char*, std::string_view> filters[] = {
        {"node_type", node_type}, {"model", model}, {"fw_version", fw_version}};
    std::string sql = "SELECT node_id FROM nodes WHERE true";
    for (const auto& [column, value] : filters) {
        if (!value.empty()) {
            sql += std::string(" AND ") + column + " = ?";
        }
    }
    sql += " ORDER BY node_id";
    std::vector<std::string> ids;
    db_.WithConnection([&](Connection& c) {
        auto s = c.Prepare(sql);
        int index = 0;
        for (const auto& [column, value] : filters) {
            if (!value.empty()) {
                s.Bind(++index, value);
            }
        }
        while (s.Step()) {
            ids.push_back(s.Text(0));
        }
    });
    return ids;
}

void SqlNodeStore::SetClaimer(std::string_view node_id, std::string_view user_id, std::int64_t at) {
    db_.Execute(
        "UPDATE nodes SET claimed_by = ?, claimed_at = ? WHERE node_id = ?", user_id, at, node_id
    );
}

void SqlNodeStore::ClearMac(std::string_view node_id) {
    db_.Execute("UPDATE nodes SET mac_addr = '' WHERE node_id = ?", node_id);
}

void SqlNodeStore::DeleteNode(std::string_view node_id) {
    // user_nodes cascade; the tables keyed by node id without a foreign key go one by one.
    for (const char* sql : {
             "DELETE FROM node_group_nodes WHERE node_id = ?",
             "DELETE FROM mapping_requests WHERE node_id = ?",
             "DELETE FROM node_mapping_reports WHERE node_id = ?",
             "DELETE FROM node_alerts WHERE node_id = ?",
             "DELETE FROM nodes WHERE node_id = ?",
         }) {
        db_.Execute(sql, node_id);
    }
}

void SqlNodeStore::AddCertificate(
    std::string_view node_id, std::string_view cert_pem, std::string_view serial, std::int64_t at
) {
    db_.Execute(
        "INSERT INTO node_certificates(serial, node_id, issued_at) VALUES (?,?,?)",
        serial,
        node_id,
        at
    );
    db_.Execute(
        "UPDATE nodes SET cert_pem = ?, cert_serial = ? WHERE node_id = ?",
        cert_pem,
        serial,
        node_id
    );
}

int SqlNodeStore::RevokeCertificates(
    std::string_view node_id, std::string_view keep_serial, std::int64_t at
) {
    return db_.Execute(
        "UPDATE node_certificates SET revoked_at = ? WHERE node_id = ? AND serial <> ? AND "
        "revoked_at = 0",
        at,
        node_id,
        keep_serial
    );
}

void SqlNodeStore::MarkMapped(std::string_view node_id, std::int64_t at) {
    db_.Execute("UPDATE nodes SET mapped_at = ? WHERE node_id = ?", at, node_id);
}

int SqlNodeStore::CountPendingClaims(std::string_view user_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM nodes WHERE claimed_by = ? AND claimed_by <> '' AND mapped_at = 0",
        user_id
    ));
}

int SqlNodeStore::CountClaims(std::string_view user_id) {
    return static_cast<int>(db_.Count("SELECT COUNT(*) FROM nodes WHERE claimed_by = ?", user_id));
}

std::vector<std::string> SqlNodeStore::ExpiredClaims(std::int64_t claimed_before, int limit) {
    return db_.FindAll(
        "SELECT node_id FROM nodes WHERE claimed_by <> '' AND mapped_at = 0 AND claimed_at < ? "
        "AND config = '' AND connectivity_at = 0 AND claimed_by NOT IN (SELECT user_id FROM "
        "users WHERE admin = 1 OR super_admin = 1) ORDER BY claimed_at LIMIT ?",
        [](const Statement& st) { return st.Text(0); },
        claimed_before,
        limit
    );
}

void SqlNodeStore::PutConfig(
    std::string_view node_id,
    std::string_view config,
    std::string_view type,
    std::string_view model,
    std::string_view fw_version
) {
    db_.Execute(
        "UPDATE nodes SET config = ?, node_type = ?, model = ?, fw_version = ? WHERE node_id = ?",
        config,
        type,
        model,
        fw_version,
        node_id
    );
}

void SqlNodeStore::PutParams(std::string_view node_id, std::string_view params, std::int64_t at) {
    db_.Execute(
        "UPDATE nodes SET params = ?, params_updated_at = ? WHERE node_id = ?", params, at, node_id
    );
}

bool SqlNodeStore::ApplyPresence(
    std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
) {
    // A connect of version v wins over anything older; a disconnect only ends the connection it
    // belongs to (a late disconnect of an older connection is ignored).
    return db_.Execute(
               "UPDATE nodes SET connected = ?1, connectivity_at = ?2, presence_version = ?3 "
               "WHERE node_id = ?4 AND (?3 > presence_version OR (?3 = presence_version AND ?1 "
               "= 0))",
               connected,
               at_ms,
               version,
               node_id
           ) > 0;
}

int SqlNodeStore::ResetPresence(std::int64_t at_ms) {
    return db_.Execute(
        "UPDATE nodes SET connected = 0, connectivity_at = ? WHERE connected = 1", at_ms
    );
}

int SqlNodeStore::EndEarlierRuns(std::int64_t at_ms, std::int64_t run_order) {
    int offline = 0;
    db_.Transaction([&] {
        offline = db_.Execute(
            "UPDATE nodes SET connected = 0, connectivity_at = ? WHERE connected = 1 AND "
            "presence_version < ?",
            at_ms,
            run_order
        );
        db_.Execute(
            "UPDATE nodes SET presence_version = ?1 WHERE presence_version < ?1", run_order
        );
    });
    return offline;
}

std::vector<std::string> SqlNodeStore::RevokedSerials() {
    return db_.FindAll(
        "SELECT serial FROM node_certificates WHERE revoked_at <> 0 UNION "
        "SELECT c.serial FROM node_certificates c JOIN nodes n ON n.node_id = c.node_id "
        "WHERE n.revoked = 1 ORDER BY 1",
        [](const Statement& st) { return st.Text(0); }
    );
}

std::optional<UserNodeRow> SqlNodeStore::FindMapping(
    std::string_view user_id, std::string_view node_id
) {
    static const std::string kSql = std::string("SELECT ") + kMappingColumns +
                                    " FROM user_nodes WHERE user_id = ? AND node_id = ?";
    return db_.FindFirst(kSql, ReadMapping, user_id, node_id);
}

void SqlNodeStore::PutMapping(const UserNodeRow& m) {
    db_.WithWriteConnection([&](Connection& c) {
        c.Prepare(UpsertSql("user_nodes", kMappingColumns, "user_id, node_id"))
            .Bind(1, m.user_id)
            .Bind(2, m.node_id)
            .Bind(3, core::Name(m.role))
            .Bind(4, m.tags)
            .Bind(5, m.metadata)
            .Bind(6, m.group_id)
            .Bind(7, m.admin_access)
            .Bind(8, m.created_at)
            .Bind(9, OptionalRoleText(m.direct_role))
            .Run();
    });
}

void SqlNodeStore::DeleteMapping(std::string_view user_id, std::string_view node_id) {
    db_.Execute("DELETE FROM user_nodes WHERE user_id = ? AND node_id = ?", user_id, node_id);
}

int SqlNodeStore::DeleteAllMappings(std::string_view node_id) {
    return db_.Execute("DELETE FROM user_nodes WHERE node_id = ?", node_id);
}

int SqlNodeStore::CountMappingsOfNode(std::string_view node_id) {
    return static_cast<int>(db_.Count("SELECT COUNT(*) FROM user_nodes WHERE node_id = ?", node_id)
    );
}

std::vector<UserNodeRow> SqlNodeStore::MappingsOfNode(std::string_view node_id) {
    static const std::string kSql = std::string("SELECT ") + kMappingColumns +
                                    " FROM user_nodes WHERE node_id = ? ORDER BY created_at, "
                                    "user_id";
    return db_.FindAll(kSql, ReadMapping, node_id);
}

std::int64_t SqlNodeStore::MappingsVersion() {
    return ChangeCounter(db_, "user_nodes");
}

std::vector<UserNodeRow> SqlNodeStore::ListMappings(
    std::string_view user_id, std::string_view start_id, int limit
) {
    static const std::string kSql = std::string("SELECT ") + kMappingColumns +
                                    " FROM user_nodes WHERE user_id = ? AND node_id >= ? ORDER "
                                    "BY node_id LIMIT ?";
    return db_.FindAll(kSql, ReadMapping, user_id, start_id, limit);
}

int SqlNodeStore::CountMappings(std::string_view user_id) {
    return static_cast<int>(db_.Count("SELECT COUNT(*) FROM user_nodes WHERE user_id = ?", user_id)
    );
}

void SqlNodeStore::PutRequest(const MappingRequestRow& r) {
    db_.WithWriteConnection([&](Connection& c) {
        c.Prepare(UpsertSql("mapping_requests", kRequestColumns, "request_id"))
            .Bind(1, r.request_id)
            .Bind(2, r.user_id)
            .Bind(3, r.node_id)
            .Bind(4, r.kind)
            .Bind(5, r.secret_hash)
            .Bind(6, r.challenge)
            .Bind(7, r.status)
            .Bind(8, r.tags)
            .Bind(9, r.metadata)
            .Bind(10, r.group_id)
            .Bind(11, r.created_at)
            .Bind(12, r.expires_at)
            .Run();
    });
}

std::optional<MappingRequestRow> SqlNodeStore::FindRequest(std::string_view request_id) {
    static const std::string kSql =
        std::string("SELECT ") + kRequestColumns + " FROM mapping_requests WHERE request_id = ?";
    return db_.FindOne(kSql, request_id, ReadRequest);
}

bool SqlNodeStore::MoveRequest(
    std::string_view request_id, std::string_view from, std::string_view to
) {
    return db_.Execute(
               "UPDATE mapping_requests SET status = ? WHERE request_id = ? AND status = ?",
               to,
               request_id,
               from
           ) > 0;
}

int SqlNodeStore::CountOpenRequests(std::string_view user_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM mapping_requests WHERE user_id = ? AND status = 'requested'", user_id
    ));
}

std::vector<MappingRequestRow> SqlNodeStore::OpenRequests(
    std::string_view node_id, std::string_view kind
) {
    static const std::string kSql = std::string("SELECT ") + kRequestColumns +
                                    " FROM mapping_requests WHERE node_id = ? AND kind = ? AND "
                                    "status = 'requested' ORDER BY created_at";
    return db_.FindAll(kSql, ReadRequest, node_id, kind);
}

void SqlNodeStore::PutReport(const NodeMappingReport& r) {
    db_.Execute(
        UpsertSql("node_mapping_reports", "node_id, user_id, secret_hash, reported_at", "node_id"),
        r.node_id,
        r.user_id,
        r.secret_hash,
        r.reported_at
    );
}

std::optional<NodeMappingReport> SqlNodeStore::FindReport(std::string_view node_id) {
    return db_.FindOne(
        "SELECT node_id, user_id, secret_hash, reported_at FROM node_mapping_reports WHERE "
        "node_id = ?",
        node_id,
        [](const Statement& st) {
            return NodeMappingReport{st.Text(0), st.Text(1), st.Text(2), st.Int(3)};
        }
    );
}

void SqlNodeStore::DeleteReport(std::string_view node_id) {
    db_.Execute("DELETE FROM node_mapping_reports WHERE node_id = ?", node_id);
}

int SqlNodeStore::SweepMappingRequests(
    std::int64_t now, std::int64_t closed_before, std::int64_t reports_before
) {
    return db_.InBatches(
               "UPDATE mapping_requests SET status = 'timedout'",
               "mapping_requests",
               "status = 'requested' AND expires_at <> 0 AND expires_at < ?",
               now
           ) +
           // Requests that never expire (a challenge with timeout 0) go after the same time.
           db_.InBatches(
               "DELETE FROM mapping_requests",
               "mapping_requests",
               "(status <> 'requested' OR expires_at = 0) AND created_at < ?",
               closed_before
           ) +
           db_.InBatches(
               "DELETE FROM node_mapping_reports",
               "node_mapping_reports",
               "reported_at < ?",
               reports_before
           );
}

void SqlNodeStore::AddAlert(
    std::string_view node_id, std::string_view payload, std::int64_t at, int keep
) {
    db_.Execute(
        "INSERT INTO node_alerts(node_id, payload, created_at) VALUES (?,?,?)", node_id, payload, at
    );
    if (keep <= 0) {
        return;  // no limit
    }
    // Ids grow, so the node's newest `keep` are the ones with the highest ids (index
    // node_alerts_node).
    db_.Execute(
        "DELETE FROM node_alerts WHERE node_id = ?1 AND id <= (SELECT id FROM node_alerts "
        "WHERE node_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        node_id,
        keep
    );
}

int SqlNodeStore::DeleteAlerts(std::int64_t before) {
    return db_.InBatches("DELETE FROM node_alerts", "node_alerts", "created_at < ?", before);
}

}  // namespace rainmaker::storage::sql

namespace rainmaker::storage::sql {

DynamicQuery SqlNodeStore::SearchQuery(
    const AdminNodeFilter& filter, std::string_view start_id, int limit, Dialect dialect
) {
    return AdminNodePageQuery(filter, kNodeColumns, start_id, limit, dialect);
}

DynamicQuery SqlNodeStore::CountQuery(const AdminNodeFilter& filter, Dialect dialect) {
    return AdminNodeCountQuery(filter, dialect);
}

std::vector<NodeRow> SqlNodeStore::SearchNodes(
    const AdminNodeFilter& filter, std::string_view start_id, int limit
) {
    std::vector<NodeRow> out;
    SearchQuery(filter, start_id, limit, db_.dialect()).ForEach(db_, [&](const Statement& s) {
        out.push_back(ReadNode(s));
    });
    return out;
}

int SqlNodeStore::CountNodes(const AdminNodeFilter& filter) {
    return static_cast<int>(CountQuery(filter, db_.dialect()).Count(db_));
}

bool SqlNodeStore::SetDeactivated(std::string_view node_id, bool deactivated) {
    return db_.Execute(
               "UPDATE nodes SET revoked = ? WHERE node_id = ? AND revoked <> ?",
               deactivated,
               node_id,
               deactivated
           ) > 0;
}

}  // namespace rainmaker::storage::sql

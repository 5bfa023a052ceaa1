// Command-response requests in SQLite: one row per request and node, pending ones found by node
// and by due time through partial indexes.
#include "storage/sql/sql_command_store.hpp"

#include <variant>

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "seq, request_id, node_id, user_id, user_name, admin, cmd, role, data_kind, data, status, "
    "created_at, expires_at, device_status, status_description, response_data, responded_at, "
    "ended_at";

constexpr const char* kPending = "status IN ('requested', 'in_progress')";

CommandRow ReadRow(const Statement& s) {
    CommandRow row;
    row.seq = s.Int(0);
    row.request_id = s.Text(1);
    row.node_id = s.Text(2);
    row.user_id = s.Text(3);
    row.user_name = s.Text(4);
    row.admin = s.Bool(5);
    row.cmd = static_cast<int>(s.Int(6));
    row.role = static_cast<int>(s.Int(7));
    row.data_kind = static_cast<int>(s.Int(8));
    row.data = s.Text(9);
    row.status = s.Text(10);
    row.created_at = s.Int(11);
    row.expires_at = s.Int(12);
    // A node's answer is recorded with its status byte; its data may be empty (a zero-length
    // BLOB reads back like NULL), so the status byte tells whether there is one.
    if (s.IsInteger(13)) {
        row.device_status = static_cast<int>(s.Int(13));
        row.response_data = s.Bytes(15);
    }
    row.status_description = s.Text(14);
    row.responded_at = s.Int(16);
    row.ended_at = s.Int(17);
    return row;
}

using Arg = std::variant<std::int64_t, std::string>;

// The WHERE clause of `filter` (without start_seq when `paged` is false) and its arguments.
std::string Where(const CommandFilter& filter, bool paged, std::vector<Arg>& args) {
    std::string where = "true";
    const auto add = [&](const char* clause, Arg arg) {
        args.push_back(std::move(arg));
        where += std::string(" AND ") + clause + std::to_string(args.size());
    };
    if (filter.user_id) {
        add("user_id = ?", *filter.user_id);
    }
    if (filter.request_id) {
        add("request_id = ?", *filter.request_id);
    }
    if (filter.node_id) {
        add("node_id = ?", *filter.node_id);
    }
    if (filter.status) {
        add("status = ?", *filter.status);
    }
    if (filter.cmd) {
        add("cmd = ?", static_cast<std::int64_t>(*filter.cmd));
    }
    if (filter.created_from) {
        add("created_at >= ?", *filter.created_from);
    }
    if (filter.created_to) {
        add("created_at <= ?", *filter.created_to);
    }
    if (paged && filter.start_seq) {
        add(filter.descending ? "seq <= ?" : "seq >= ?", *filter.start_seq);
    }
    return where;
}

void BindAll(Statement& s, const std::vector<Arg>& args) {
    int index = 0;
    for (const auto& arg : args) {
        ++index;
        std::visit([&](const auto& v) { s.Bind(index, v); }, arg);
    }
}

}  // namespace

bool SqlCommandStore::Insert(const CommandRow& row) {
    int changed = 0;
    db_.WithWriteConnection([&](Connection& c) {
        auto s = c.Prepare(
            "INSERT INTO cmd_requests(request_id, node_id, user_id, user_name, admin, cmd, role, "
            "data_kind, data, status, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(request_id, node_id) DO NOTHING"
        );
        s.Bind(1, row.request_id)
            .Bind(2, row.node_id)
            .Bind(3, row.user_id)
            .Bind(4, row.user_name)
            .Bind(5, row.admin)
            .Bind(6, row.cmd)
            .Bind(7, row.role)
            .Bind(8, row.data_kind)
            .Bind(9, row.data)
            .Bind(10, row.status)
            .Bind(11, row.created_at)
            .Bind(12, row.expires_at);
        s.Run();
        changed = c.Changes();
    });
    return changed > 0;
}

std::optional<CommandRow> SqlCommandStore::Find(
    std::string_view request_id, std::string_view node_id
) {
    return db_.FindFirst(
        std::string("SELECT ") + kColumns +
            " FROM cmd_requests WHERE request_id = ? AND node_id = ?",
        ReadRow,
        request_id,
        node_id
    );
}

std::vector<CommandRow> SqlCommandStore::List(const CommandFilter& filter, int limit) {
    std::vector<Arg> args;
    const std::string sql = std::string("SELECT ") + kColumns + " FROM cmd_requests WHERE " +
                            Where(filter, true, args) + " ORDER BY seq " +
                            (filter.descending ? "DESC" : "ASC") + " LIMIT " +
                            std::to_string(limit);
    std::vector<CommandRow> rows;
    db_.WithConnection([&](Connection& c) {
        auto s = c.Prepare(sql);
        BindAll(s, args);
        while (s.Step()) {
            rows.push_back(ReadRow(s));
        }
    });
    return rows;
}

int SqlCommandStore::Count(const CommandFilter& filter) {
    std::vector<Arg> args;
    const std::string sql = "SELECT COUNT(*) FROM cmd_requests WHERE " + Where(filter, false, args);
    int count = 0;
    db_.WithConnection([&](Connection& c) {
        auto s = c.Prepare(sql);
        BindAll(s, args);
        if (s.Step()) {
            count = static_cast<int>(s.Int(0));
        }
    });
    return count;
}

std::vector<CommandRow> SqlCommandStore::Pending(std::string_view node_id) {
    return db_.FindAll(
        std::string("SELECT ") + kColumns + " FROM cmd_requests WHERE node_id = ? AND " + kPending +
            " ORDER BY seq",
        ReadRow,
        node_id
    );
}

std::vector<CommandRow> SqlCommandStore::Unsent(std::string_view node_id) {
    return db_.FindAll(
        std::string("SELECT ") + kColumns + " FROM cmd_requests WHERE node_id = ? AND " + kPending +
            " AND status = 'requested' ORDER BY seq",
        ReadRow,
        node_id
    );
}

int SqlCommandStore::CountPending(std::string_view node_id) {
    return static_cast<int>(db_.Count(
        std::string("SELECT COUNT(*) FROM cmd_requests WHERE node_id = ? AND ") + kPending, node_id
    ));
}

int SqlCommandStore::CountPendingOf(std::string_view user_id, std::string_view node_id) {
    return static_cast<int>(db_.Count(
        std::string("SELECT COUNT(*) FROM cmd_requests WHERE node_id = ? AND user_id = ? AND ") +
            kPending,
        node_id,
        user_id
    ));
}

std::vector<CommandRow> SqlCommandStore::PendingOf(
    std::string_view user_id, std::string_view node_id, int cmd
) {
    return db_.FindAll(
        std::string("SELECT ") + kColumns +
            " FROM cmd_requests WHERE node_id = ? AND user_id = ? AND cmd = ? AND " + kPending +
            " ORDER BY seq",
        ReadRow,
        node_id,
        user_id,
        cmd
    );
}

void SqlCommandStore::SetRole(std::string_view request_id, std::string_view node_id, int role) {
    db_.Execute(
        std::string("UPDATE cmd_requests SET role = ? WHERE request_id = ? AND node_id = ? AND ") +
            kPending,
        role,
        request_id,
        node_id
    );
}

bool SqlCommandStore::MarkDelivered(std::string_view request_id, std::string_view node_id) {
    return db_.Execute(
               "UPDATE cmd_requests SET status = 'in_progress' WHERE request_id = ? AND "
               "node_id = ? AND status = 'requested'",
               request_id,
               node_id
           ) > 0;
}

bool SqlCommandStore::Finish(
    std::string_view request_id,
    std::string_view node_id,
    std::string_view status,
    std::optional<int> device_status,
    std::string_view description,
    const std::optional<std::string>& response,
    std::int64_t at
) {
    int changed = 0;
    db_.WithWriteConnection([&](Connection& c) {
        auto s = c.Prepare(
            std::string("UPDATE cmd_requests SET status = ?3, device_status = ?4, "
                        "status_description = ?5, response_data = ?6, responded_at = ?7, "
                        "ended_at = ?7 WHERE "
                        "request_id = ?1 AND node_id = ?2 AND ") +
            kPending
        );
        s.Bind(1, request_id).Bind(2, node_id).Bind(3, status).Bind(5, description).Bind(7, at);
        if (device_status) {  // unbound parameters are NULL
            s.Bind(4, *device_status);
        }
        if (response) {
            s.BindBlob(6, *response);
        }
        s.Run();
        changed = c.Changes();
    });
    return changed > 0;
}

int SqlCommandStore::FailPendingOfUser(
    std::string_view user_id, std::string_view description, std::int64_t at
) {
    return db_.InBatches(
        "UPDATE cmd_requests SET status = 'failure', status_description = ?2, ended_at = ?3",
        "cmd_requests",
        "user_id = ?1 AND " + std::string(kPending),
        user_id,
        description,
        at
    );
}

int SqlCommandStore::ExpireDue(std::int64_t now) {
    return db_.InBatches(
        "UPDATE cmd_requests SET status = 'timed_out', status_description = 'timed out', "
        "responded_at = 0, ended_at = ?1",
        "cmd_requests",
        std::string(kPending) + " AND expires_at > 0 AND expires_at <= ?1",
        now
    );
}

std::optional<std::int64_t> SqlCommandStore::NextExpiry() {
    return db_.FindFirst(
        std::string("SELECT expires_at FROM cmd_requests WHERE ") + kPending +
            " AND expires_at > 0 ORDER BY expires_at LIMIT 1",
        [](const Statement& s) { return s.Int(0); }
    );
}

int SqlCommandStore::DeleteEndedBefore(std::int64_t before) {
    return db_.InBatches(
        "DELETE FROM cmd_requests", "cmd_requests", "ended_at > 0 AND ended_at < ?", before
    );
}

}  // namespace rainmaker::storage::sql

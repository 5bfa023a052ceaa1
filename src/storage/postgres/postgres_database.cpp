// PostgreSQL as the engine of the SQL stores.
#include "storage/postgres/postgres_database.hpp"

#include <memory>
#include <string>

#include "storage/postgres/pg_connection.hpp"
#include "storage/postgres/pg_listener.hpp"

namespace rainmaker::storage::postgres {

namespace {

// The advisory lock every write transaction takes: one writer at a time across all instances,
// the same guarantee as SQLite's, so the stores' read-then-write steps need no more locking.
// READ COMMITTED whatever the server's default: each statement sees what the writer before
// committed. A writer waits for the lock 10 s at most, as for SQLite's busy timeout.
constexpr const char* kBeginWrite =
    "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; SET LOCAL lock_timeout = '10s'; "
    "SELECT pg_advisory_xact_lock(7236731)";

sql::Engine PostgresEngine(const std::string& url) {
    return sql::Engine{
        sql::Dialect::kPostgres,
        [url] { return std::make_unique<PgConnection>(url); },
        [](sql::Connection& c, bool writes) {
            c.Exec(writes ? kBeginWrite : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        },
        &Migrations(),
        // Under the writers' lock: two instances starting at once would race on the catalog.
        std::string(kBeginWrite) +
            "; CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name "
            "TEXT NOT NULL, applied_at BIGINT NOT NULL DEFAULT (extract(epoch FROM "
            "now())::bigint)); COMMIT"};
}

}  // namespace

PostgresDatabase::PostgresDatabase(const std::string& url)
    : sql::SqlDatabase(PostgresEngine(url)), url_(url) {
    Migrate();
}

PostgresDatabase::~PostgresDatabase() = default;

void PostgresDatabase::Notify(std::string_view channel, std::string_view payload) {
    // Inside a transaction PostgreSQL sends it at commit, and not at all on a rollback.
    ForEachRow(
        "SELECT pg_notify(?, ?)", [](const sql::Statement&) { return false; }, channel, payload
    );
}

std::uint64_t PostgresDatabase::Listen(
    const std::string& channel,
    std::function<void(std::string_view)> on,
    std::function<void()> on_gap
) {
    std::lock_guard lock(listener_mutex_);
    if (!listener_) {
        listener_ = std::make_unique<PgListener>(url_);
    }
    return listener_->Add(channel, std::move(on), std::move(on_gap));
}

void PostgresDatabase::Unlisten(std::uint64_t id) {
    std::lock_guard lock(listener_mutex_);
    if (listener_) {
        listener_->Remove(id);
    }
}

}  // namespace rainmaker::storage::postgres

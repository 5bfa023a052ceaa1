// PostgreSQL as the engine of the SQL stores.
#include "storage/postgres/postgres_database.hpp"

#include <memory>

#include "storage/postgres/pg_connection.hpp"

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
        "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; SELECT "
        "pg_advisory_xact_lock(7236731); CREATE TABLE IF NOT EXISTS "
        "schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT "
        "NOT NULL DEFAULT (extract(epoch FROM now())::bigint)); COMMIT"};
}

}  // namespace

PostgresDatabase::PostgresDatabase(const std::string& url) : sql::SqlDatabase(PostgresEngine(url)) {
    Migrate();
}

}  // namespace rainmaker::storage::postgres

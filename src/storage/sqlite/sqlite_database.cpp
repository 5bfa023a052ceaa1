// SQLite as the engine of the SQL stores.
#include "storage/sqlite/sqlite_database.hpp"

#include <memory>
#include <string>

#include "storage/sqlite/sqlite_connection.hpp"

namespace rainmaker::storage::sqlite {

namespace {

sql::Engine SqliteEngine(const std::filesystem::path& file) {
    return sql::Engine{
        sql::Dialect::kSqlite,
        [file = file.string()] { return std::make_unique<Connection>(file); },
        [](sql::Connection& c, bool writes) {
            // IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot
            // fail with SQLITE_BUSY half-way. DEFERRED: a read transaction, taken at the first
            // read and kept to the end.
            c.Exec(writes ? "BEGIN IMMEDIATE" : "BEGIN");
        },
        &Migrations(),
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
        "NULL, applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"};
}

}  // namespace

SqliteDatabase::SqliteDatabase(const std::filesystem::path& file)
    : sql::SqlDatabase(SqliteEngine(file)) {
    Migrate();
}

}  // namespace rainmaker::storage::sqlite

// The embedded store: one SQLite file in WAL mode, a small pool of connections, numbered
// migrations applied at open.
#pragma once

#include <filesystem>
#include <vector>

#include "storage/sql/migrations.hpp"
#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sqlite {

using sql::Statement;

class SqliteDatabase final : public sql::SqlDatabase {
public:
    // Opens (creating if needed) the database file and applies pending migrations.
    // Throws std::runtime_error when the file cannot be opened or a migration fails.
    explicit SqliteDatabase(const std::filesystem::path& file);
};

// Every SQLite migration (src/storage/sqlite/migrations), ordered by version.
const std::vector<sql::Migration>& Migrations();

}  // namespace rainmaker::storage::sqlite

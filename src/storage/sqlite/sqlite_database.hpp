// The embedded store: one SQLite file in WAL mode, a small pool of connections, numbered
// migrations applied at open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
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
    ~SqliteDatabase() override;

    // storage::Database. Messages reach the databases of this process on the same file (one
    // instance serves a SQLite file; a second object on it is a test's second instance).
    void Notify(std::string_view channel, std::string_view payload) override;
    std::uint64_t Listen(
        const std::string& channel,
        std::function<void(std::string_view)> on,
        std::function<void()> on_gap
    ) override;
    void Unlisten(std::uint64_t id) override;

private:
    std::string file_;
};

// Every SQLite migration (src/storage/sqlite/migrations), ordered by version.
const std::vector<sql::Migration>& Migrations();

}  // namespace rainmaker::storage::sqlite

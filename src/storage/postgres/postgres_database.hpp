// The stores on PostgreSQL: a pool of libpq connections to one database, its own migrations
// (src/storage/postgres/migrations) applied at open.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/sql/migrations.hpp"
#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::postgres {

class PgListener;

class PostgresDatabase final : public sql::SqlDatabase {
public:
    // Connects to `url` (postgresql://user@host:port/database or a libpq key=value string) and
    // applies pending migrations. Throws std::runtime_error when it cannot connect or a
    // migration fails.
    explicit PostgresDatabase(const std::string& url);
    ~PostgresDatabase() override;

    // storage::Database, over LISTEN/NOTIFY: every instance on the database hears a message.
    void Notify(std::string_view channel, std::string_view payload) override;
    std::uint64_t Listen(
        const std::string& channel,
        std::function<void(std::string_view)> on,
        std::function<void()> on_gap
    ) override;
    void Unlisten(std::uint64_t id) override;

private:
    std::string url_;
    std::mutex listener_mutex_;
    std::unique_ptr<PgListener> listener_;  // started by the first Listen
};

// Every PostgreSQL migration, ordered by version.
const std::vector<sql::Migration>& Migrations();

}  // namespace rainmaker::storage::postgres

// The stores on PostgreSQL: a pool of libpq connections to one database, its own migrations
// (src/storage/postgres/migrations) applied at open.
#pragma once

#include <string>
#include <vector>

#include "storage/sql/migrations.hpp"
#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::postgres {

class PostgresDatabase final : public sql::SqlDatabase {
public:
    // Connects to `url` (postgresql://user@host:port/database or a libpq key=value string) and
    // applies pending migrations. Throws std::runtime_error when it cannot connect or a
    // migration fails.
    explicit PostgresDatabase(const std::string& url);
};

// Every PostgreSQL migration, ordered by version.
const std::vector<sql::Migration>& Migrations();

}  // namespace rainmaker::storage::postgres

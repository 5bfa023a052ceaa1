// The database a storage test runs on: the store contract is one suite run on every engine.
// SQLite in the test's directory by default; with RAINMAKER_TEST_BACKEND=postgres (CTest's
// "postgres." tests), a fresh database of its own on the test PostgreSQL server
// (tests/support/postgres_server.sh), dropped when the test ends.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "storage/sql/sql_database.hpp"
#include "support/test_postgres.hpp"

namespace rainmaker::testing {

class TestDatabase {
public:
    explicit TestDatabase(const std::filesystem::path& dir);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    storage::sql::SqlDatabase& operator*() { return *db_; }

    storage::sql::SqlDatabase* operator->() { return db_.get(); }

    // Another SqlDatabase on the same database (as a second server instance would open it).
    std::unique_ptr<storage::sql::SqlDatabase> OpenAgain() { return Open(); }

private:
    std::unique_ptr<storage::sql::SqlDatabase> Open();

    std::filesystem::path file_;                      // SQLite
    std::unique_ptr<PostgresTestDatabase> postgres_;  // PostgreSQL (dropped after db_ closes)
    std::unique_ptr<storage::sql::SqlDatabase> db_;
};

}  // namespace rainmaker::testing

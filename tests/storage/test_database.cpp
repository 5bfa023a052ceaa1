// Opening the test databases (test_database.hpp).
#include "storage/test_database.hpp"

#include "storage/postgres/postgres_database.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::testing {

TestDatabase::TestDatabase(const std::filesystem::path& dir) : file_(dir / "db.sqlite") {
    if (OnPostgres()) {
        postgres_ = std::make_unique<PostgresTestDatabase>();
    }
    db_ = Open();
}

TestDatabase::~TestDatabase() {
    db_.reset();  // closes its connections before the database is dropped
}

std::unique_ptr<storage::sql::SqlDatabase> TestDatabase::Open() {
    if (!postgres_) {
        return std::make_unique<storage::sqlite::SqliteDatabase>(file_);
    }
    return std::make_unique<storage::postgres::PostgresDatabase>(postgres_->url());
}

}  // namespace rainmaker::testing

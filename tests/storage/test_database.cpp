// Opening and dropping the test databases (test_database.hpp).
#include "storage/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

#include "storage/postgres/pg_connection.hpp"
#include "storage/postgres/postgres_database.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::testing {

namespace {

// The test server's URL: RAINMAKER_TEST_POSTGRES_URL, or the file the CTest fixture wrote.
std::string ServerUrl() {
    if (const char* url = std::getenv("RAINMAKER_TEST_POSTGRES_URL"); url != nullptr && *url) {
        return url;
    }
    const std::filesystem::path file =
        std::filesystem::path(RAINMAKER_BINARY_DIR) / "postgres-test" / "url";
    std::ifstream in(file);
    std::string url;
    if (!std::getline(in, url) || url.empty()) {
        throw std::runtime_error(
            "RAINMAKER_TEST_BACKEND=postgres, but no server: " + file.string() +
            " is missing (ctest starts one as the postgres fixture; or set "
            "RAINMAKER_TEST_POSTGRES_URL)"
        );
    }
    return url;
}

// `url` (postgresql://.../db) naming database `name` instead.
std::string WithDatabase(const std::string& url, const std::string& name) {
    const auto slash = url.rfind('/');
    if (slash == std::string::npos || slash < url.find("//") + 2) {
        throw std::runtime_error("test postgres URL without a database: " + url);
    }
    return url.substr(0, slash + 1) + name;
}

}  // namespace

bool TestDatabase::OnPostgres() {
    const char* backend = std::getenv("RAINMAKER_TEST_BACKEND");
    return backend != nullptr && std::string(backend) == "postgres";
}

TestDatabase::TestDatabase(const std::filesystem::path& dir) : file_(dir / "db.sqlite") {
    if (OnPostgres()) {
        static std::atomic<int> counter{0};
        server_url_ = ServerUrl();
        name_ = "rm_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        storage::postgres::PgConnection admin(server_url_);
        admin.Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        admin.Exec("CREATE DATABASE " + name_);
    }
    db_ = Open();
}

TestDatabase::~TestDatabase() {
    db_.reset();
    if (!name_.empty()) {
        try {
            storage::postgres::PgConnection admin(server_url_);
            admin.Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {
            // The server is gone already (the fixture stopped it): nothing left to drop.
        }
    }
}

std::unique_ptr<storage::sql::SqlDatabase> TestDatabase::Open() {
    if (name_.empty()) {
        return std::make_unique<storage::sqlite::SqliteDatabase>(file_);
    }
    return std::make_unique<storage::postgres::PostgresDatabase>(WithDatabase(server_url_, name_));
}

}  // namespace rainmaker::testing

// Creating and dropping the test databases (test_postgres.hpp).
#include "support/test_postgres.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

#include <libpq-fe.h>

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
    const auto scheme = url.find("//");
    const auto slash = url.rfind('/');
    if (scheme == std::string::npos || slash == std::string::npos || slash < scheme + 2) {
        throw std::runtime_error("test postgres URL without a database: " + url);
    }
    return url.substr(0, slash + 1) + name;
}

// Runs `sql` on the server's maintenance database.
void Run(const std::string& server_url, const std::string& sql) {
    PGconn* conn = PQconnectdb(server_url.c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
        error = PQerrorMessage(conn);
    } else {
        PGresult* result = PQexec(conn, sql.c_str());
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
            error = PQresultErrorMessage(result);
        }
        PQclear(result);
    }
    PQfinish(conn);
    if (!error.empty()) {
        throw std::runtime_error("test postgres: " + sql + ": " + error);
    }
}

}  // namespace

bool OnPostgres() {
    const char* backend = std::getenv("RAINMAKER_TEST_BACKEND");
    return backend != nullptr && std::string(backend) == "postgres";
}

PostgresTestDatabase::PostgresTestDatabase() : server_url_(ServerUrl()) {
    static std::atomic<int> counter{0};
    // pid and a counter: unique among the test processes that share the server.
    name_ = "rm_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    Run(server_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    Run(server_url_, "CREATE DATABASE " + name_);
    url_ = WithDatabase(server_url_, name_);
}

PostgresTestDatabase::~PostgresTestDatabase() {
    try {
        Run(server_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
        // The server is gone already (the fixture stopped it): nothing left to drop.
    }
}

}  // namespace rainmaker::testing

// Databases of their own on the test PostgreSQL server (tests/support/postgres_server.sh), for
// tests run with RAINMAKER_TEST_BACKEND=postgres (CTest's "postgres." tests).
#pragma once

#include <string>

namespace rainmaker::testing {

// Whether this run's tests are on PostgreSQL.
bool OnPostgres();

// A new empty database on the test server; its URL. Throws when there is no server.
class PostgresTestDatabase {
public:
    PostgresTestDatabase();
    ~PostgresTestDatabase();  // drops it, closing what is still connected
    PostgresTestDatabase(const PostgresTestDatabase&) = delete;
    PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

    const std::string& url() const { return url_; }

private:
    std::string server_url_;
    std::string name_;
    std::string url_;
};

}  // namespace rainmaker::testing

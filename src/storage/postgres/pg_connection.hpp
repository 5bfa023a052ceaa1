// PostgreSQL behind sql::Connection (libpq): statements prepared once per connection and run
// with their parameters as text (types inferred by the server from the SQL), bytes in binary,
// results read as text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/sql/connection.hpp"

struct pg_conn;
struct pg_result;

namespace rainmaker::storage::postgres {

class PgConnection;

// `sql` as the stores write it (SQLite's spelling) for PostgreSQL, outside quotes and
// comments: parameters `?` (in order) and `?N` become `$N` (`params` is set to the highest);
// SQLite's planner hints, which PostgreSQL's planner takes none of, go: `INDEXED BY name` and
// the unary + before a column that keeps an index out of a term.
std::string ToPostgres(std::string_view sql, int& params);

class PgStatement final : public sql::StatementImpl {
public:
    // `rolls_back`: the statement is a ROLLBACK TO, which undoes settings made after it.
    PgStatement(PgConnection& connection, std::string name, int params, bool rolls_back);
    ~PgStatement() override;
    PgStatement(const PgStatement&) = delete;
    PgStatement& operator=(const PgStatement&) = delete;

    void BindText(int index, std::string_view value) override;
    void BindInt(int index, std::int64_t value) override;
    void BindDouble(int index, double value) override;
    void BindBlob(int index, std::string_view bytes) override;
    bool Step() override;
    void Reset() override;
    std::string Text(int column) const override;
    std::int64_t Int(int column) const override;
    double Double(int column) const override;
    std::string Bytes(int column) const override;
    bool IsInteger(int column) const override;
    bool IsReal(int column) const override;
    bool IsNull(int column) const override;

private:
    void Set(int index, std::string value, int format);
    const char* Value(int column) const;

    PgConnection& connection_;
    std::string name_;
    bool rolls_back_;
    std::vector<std::string> values_;
    std::vector<char> bound_;  // unbound parameters are NULL, as in SQLite
    std::vector<int> formats_;
    pg_result* result_ = nullptr;
    int rows_ = 0;
    int row_ = -1;
};

class PgConnection final : public sql::Connection {
public:
    // Connects to `url` (a libpq connection string or postgresql:// URI); throws when it cannot.
    explicit PgConnection(const std::string& url);
    ~PgConnection() override;
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    sql::Statement Prepare(const std::string& sql) override;
    void Exec(const std::string& sql) override;

    int Changes() const override { return changes_; }

    sql::TransactionState Transaction() const override;
    void SetDeadline(const core::Clock& clock, std::chrono::steady_clock::time_point end) override;
    void ClearDeadline() override;

    bool HasDeadline() const override { return clock_ != nullptr; }

    bool Broken() const override;

private:
    friend class PgStatement;

    // Brings the session's statement_timeout to what the deadline leaves (0: none) before a
    // statement runs; throws TimeBudgetSpent when nothing is left.
    void ApplyDeadline();
    // Throws for a failed `result` (and clears it): UniqueViolation for a key taken,
    // TimeBudgetSpent for a statement the deadline cancelled.
    void Check(pg_result* result, std::string_view what);

    pg_conn* conn_ = nullptr;
    int changes_ = 0;
    const core::Clock* clock_ = nullptr;
    std::chrono::steady_clock::time_point deadline_;
    std::int64_t timeout_ms_ = 0;  // the session's statement_timeout as last set; -1: unknown
    std::unordered_map<std::string, std::unique_ptr<PgStatement>> cache_;
};

}  // namespace rainmaker::storage::postgres

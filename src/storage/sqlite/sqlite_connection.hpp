// A thin RAII layer over sqlite3: a connection with a prepared-statement cache, and a statement
// with typed binds and reads. Errors become std::runtime_error (the storage boundary).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace rainmaker::core {
class Clock;
}

namespace rainmaker::storage::sqlite {

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

    ~Statement();  // resets the cached statement
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& Bind(int index, std::string_view value);

    // Text, not the pointer's truth value (a const char* would convert to bool first).
    Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }

    Statement& Bind(int index, std::int64_t value);

    Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }

    Statement& Bind(int index, bool value) { return Bind(index, static_cast<std::int64_t>(value)); }

    Statement& Bind(int index, double value);
    // Bytes as a BLOB (Bind of a string_view stores TEXT).
    Statement& BindBlob(int index, std::string_view bytes);

    // Steps once; true when a row is available.
    bool Step();
    // Steps to completion (for statements that return no rows).
    void Run();

    std::string Text(int column) const;
    std::int64_t Int(int column) const;
    double Double(int column) const;
    // The column's bytes, whatever its type (TEXT or BLOB).
    std::string Bytes(int column) const;
    bool IsInteger(int column) const;
    bool IsReal(int column) const;

    bool Bool(int column) const { return Int(column) != 0; }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

// True for SQLite's UNIQUE constraint failure (an insert of a key that exists).
bool IsUniqueViolation(const std::exception& e);

class Connection {
public:
    explicit Connection(const std::string& file);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // A cached prepared statement for `sql`, reset and unbound.
    Statement Prepare(const std::string& sql);
    // Runs one or more statements without results.
    void Exec(const std::string& sql);
    // Rows changed by the last statement.
    int Changes() const;
    // Whether a transaction is open (SQLite rolls one back by itself after some errors).
    bool InTransaction() const;

    // From now until ClearDeadline, a statement still running at `end` (as `clock` tells) stops:
    // its Step throws storage::TimeBudgetSpent. Throws it at once when `end` has passed.
    void SetDeadline(const core::Clock& clock, std::chrono::steady_clock::time_point end);
    void ClearDeadline();

    bool HasDeadline() const { return clock_ != nullptr; }

    bool in_transaction = false;

private:
    static int OnProgress(void* connection);

    sqlite3* db_ = nullptr;
    const core::Clock* clock_ = nullptr;
    std::chrono::steady_clock::time_point deadline_;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace rainmaker::storage::sqlite

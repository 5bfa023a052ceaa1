// SQLite behind sql::Connection: a connection with a prepared-statement cache, its deadline kept
// by the progress handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/sql/connection.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace rainmaker::storage::sqlite {

class SqliteStatement final : public sql::StatementImpl {
public:
    SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

    ~SqliteStatement() override;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

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
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

class Connection final : public sql::Connection {
public:
    explicit Connection(const std::string& file);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sql::Statement Prepare(const std::string& sql) override;
    void Exec(const std::string& sql) override;
    int Changes() const override;
    sql::TransactionState Transaction() const override;
    void SetDeadline(const core::Clock& clock, std::chrono::steady_clock::time_point end) override;
    void ClearDeadline() override;

    bool HasDeadline() const override { return clock_ != nullptr; }

private:
    static int OnProgress(void* connection);

    sqlite3* db_ = nullptr;
    const core::Clock* clock_ = nullptr;
    std::chrono::steady_clock::time_point deadline_;
    std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

}  // namespace rainmaker::storage::sqlite

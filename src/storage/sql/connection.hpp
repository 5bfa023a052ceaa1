// What the stores ask of a SQL engine: a connection with a prepared-statement cache, and a
// statement with typed binds and reads. SQLite (storage/sqlite) and PostgreSQL
// (storage/postgres) implement it; the stores (storage/sql) are written once against it.
// Errors are std::runtime_error (the storage boundary); a unique key taken is UniqueViolation.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rainmaker::core {
class Clock;
}

namespace rainmaker::storage::sql {

// An insert or update refused because a UNIQUE or PRIMARY KEY constraint holds the key.
class UniqueViolation : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One prepared statement of an engine, kept by its connection between uses; Statement is the
// handle the stores hold while they bind, run and read it.
class StatementImpl {
public:
    virtual ~StatementImpl() = default;
    virtual void BindText(int index, std::string_view value) = 0;
    virtual void BindInt(int index, std::int64_t value) = 0;
    virtual void BindDouble(int index, double value) = 0;
    virtual void BindBlob(int index, std::string_view bytes) = 0;
    // Runs the statement at the first call; true while a row is available.
    virtual bool Step() = 0;
    // Forgets binds and results, ready for the next use.
    virtual void Reset() = 0;
    virtual std::string Text(int column) const = 0;
    virtual std::int64_t Int(int column) const = 0;
    virtual double Double(int column) const = 0;
    virtual std::string Bytes(int column) const = 0;
    virtual bool IsInteger(int column) const = 0;
    virtual bool IsReal(int column) const = 0;
    virtual bool IsNull(int column) const = 0;
};

// Parameters are numbered from 1, in the SQL as `?` (in order) or `?N`.
class Statement {
public:
    explicit Statement(StatementImpl& impl) : impl_(&impl) {}

    ~Statement() { impl_->Reset(); }

    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& Bind(int index, std::string_view value) {
        impl_->BindText(index, value);
        return *this;
    }

    // Text, not the pointer's truth value (a const char* would convert to bool first).
    Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }

    Statement& Bind(int index, std::int64_t value) {
        impl_->BindInt(index, value);
        return *this;
    }

    Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }

    Statement& Bind(int index, bool value) { return Bind(index, static_cast<std::int64_t>(value)); }

    Statement& Bind(int index, double value) {
        impl_->BindDouble(index, value);
        return *this;
    }

    // Bytes as a BLOB / BYTEA (Bind of a string_view stores TEXT).
    Statement& BindBlob(int index, std::string_view bytes) {
        impl_->BindBlob(index, bytes);
        return *this;
    }

    // Steps once; true when a row is available.
    bool Step() { return impl_->Step(); }

    // Steps to completion (for statements that return no rows).
    void Run() {
        while (Step()) {
        }
    }

    std::string Text(int column) const { return impl_->Text(column); }

    std::int64_t Int(int column) const { return impl_->Int(column); }

    double Double(int column) const { return impl_->Double(column); }

    // The column's bytes, whatever its type (TEXT or BLOB).
    std::string Bytes(int column) const { return impl_->Bytes(column); }

    bool IsInteger(int column) const { return impl_->IsInteger(column); }

    bool IsReal(int column) const { return impl_->IsReal(column); }

    bool IsNull(int column) const { return impl_->IsNull(column); }

    bool Bool(int column) const { return Int(column) != 0; }

private:
    StatementImpl* impl_;
};

// Where a connection stands with transactions.
enum class TransactionState {
    kNone,    // autocommit: no transaction open (or the engine rolled it back by itself)
    kOpen,    // open and usable
    kFailed,  // open, but a statement failed: only a rollback (to a savepoint) is accepted
};

class Connection {
public:
    virtual ~Connection() = default;
    // A cached prepared statement for `sql`, ready to bind.
    virtual Statement Prepare(const std::string& sql) = 0;
    // Runs one or more statements without parameters or results.
    virtual void Exec(const std::string& sql) = 0;
    // Rows changed by the last statement.
    virtual int Changes() const = 0;
    virtual TransactionState Transaction() const = 0;
    // From now until ClearDeadline, a statement still running at `end` (as `clock` tells) stops:
    // it throws storage::TimeBudgetSpent. Throws it at once when `end` has passed.
    virtual void SetDeadline(
        const core::Clock& clock, std::chrono::steady_clock::time_point end
    ) = 0;
    virtual void ClearDeadline() = 0;
    virtual bool HasDeadline() const = 0;

    // Whether the connection is lost (the server went away): the pool drops it.
    virtual bool Broken() const { return false; }
};

}  // namespace rainmaker::storage::sql

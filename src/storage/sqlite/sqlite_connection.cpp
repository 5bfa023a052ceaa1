// sqlite3 calls and their error handling, in one file.
#include "storage/sqlite/sqlite_connection.hpp"

#include <stdexcept>

#include <sqlite3.h>

#include "core/clock.hpp"
#include "storage/time_budget.hpp"

namespace rainmaker::storage::sqlite {

namespace {

// How many virtual machine instructions run between two looks at the clock (some tens of
// microseconds of work; a look costs a clock read).
constexpr int kProgressInstructions = 1000;

[[noreturn]] void Fail(sqlite3* db, std::string_view what) {
    std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db);
    if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ||
        sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        throw sql::UniqueViolation(message);
    }
    throw std::runtime_error(message);
}

// Fail, but for a statement the deadline's progress handler stopped (nothing else interrupts).
[[noreturn]] void Fail(sqlite3* db, std::string_view what, int rc) {
    if (rc == SQLITE_INTERRUPT) {
        throw storage::TimeBudgetSpent(
            "sqlite: " + std::string(what) + ": stopped, its time budget is spent"
        );
    }
    Fail(db, what);
}

}  // namespace

SqliteStatement::~SqliteStatement() {
    sqlite3_finalize(stmt_);
}

void SqliteStatement::Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void SqliteStatement::BindText(int index, std::string_view value) {
    // Text is never NULL: an empty view without data binds '' (sqlite3 reads a null pointer
    // as NULL), as on PostgreSQL.
    const char* data = value.data() != nullptr ? value.data() : "";
    if (sqlite3_bind_text(stmt_, index, data, static_cast<int>(value.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        Fail(db_, "bind");
    }
}

void SqliteStatement::BindInt(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
        Fail(db_, "bind");
    }
}

void SqliteStatement::BindDouble(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) {
        Fail(db_, "bind");
    }
}

void SqliteStatement::BindBlob(int index, std::string_view bytes) {
    if (sqlite3_bind_blob64(
            stmt_, index, bytes.data(), static_cast<sqlite3_uint64>(bytes.size()), SQLITE_TRANSIENT
        ) != SQLITE_OK) {
        Fail(db_, "bind");
    }
}

bool SqliteStatement::Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    Fail(db_, "step", rc);
}

std::string SqliteStatement::Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return text == nullptr
               ? std::string{}
               : std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::int64_t SqliteStatement::Int(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double SqliteStatement::Double(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string SqliteStatement::Bytes(int column) const {
    const auto* bytes = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return bytes == nullptr
               ? std::string{}
               : std::string(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

bool SqliteStatement::IsInteger(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_INTEGER;
}

bool SqliteStatement::IsReal(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_FLOAT;
}

bool SqliteStatement::IsNull(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Connection::Connection(const std::string& file) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error("sqlite: cannot open " + file + ": " + message);
    }
    // WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every committed
    // transaction across a crash of the process (kill -9); only an OS crash or power loss can
    // lose the last ones. busy_timeout: writers queue instead of failing under contention.
    Exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=10000;"
    );
}

Connection::~Connection() {
    cache_.clear();  // finalizes every statement before the close
    sqlite3_close(db_);
}

sql::Statement Connection::Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(
            db_,
            sql.c_str(),
            static_cast<int>(sql.size()),
            SQLITE_PREPARE_PERSISTENT,
            &stmt,
            nullptr
        );
        if (rc != SQLITE_OK) {
            Fail(db_, "prepare " + sql, rc);
        }
        it = cache_.emplace(sql, std::make_unique<SqliteStatement>(db_, stmt)).first;
    }
    return sql::Statement(*it->second);
}

void Connection::Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error != nullptr ? error : "unknown error";
        sqlite3_free(error);
        throw std::runtime_error("sqlite: " + message);
    }
}

sql::TransactionState Connection::Transaction() const {
    // SQLite has no failed state: after the errors that end a transaction it rolls it back.
    return sqlite3_get_autocommit(db_) == 0 ? sql::TransactionState::kOpen
                                            : sql::TransactionState::kNone;
}

int Connection::Changes() const {
    return sqlite3_changes(db_);
}

void Connection::SetDeadline(const core::Clock& clock, std::chrono::steady_clock::time_point end) {
    if (clock.Monotonic() >= end) {
        throw storage::TimeBudgetSpent("sqlite: not started, the time budget is spent");
    }
    clock_ = &clock;
    deadline_ = end;
    sqlite3_progress_handler(db_, kProgressInstructions, &Connection::OnProgress, this);
}

void Connection::ClearDeadline() {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    clock_ = nullptr;
}

int Connection::OnProgress(void* connection) {
    const auto* c = static_cast<const Connection*>(connection);
    return c->clock_ != nullptr && c->clock_->Monotonic() >= c->deadline_ ? 1 : 0;
}

}  // namespace rainmaker::storage::sqlite

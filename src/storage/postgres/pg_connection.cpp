// libpq calls and their error handling, in one file.
#include "storage/postgres/pg_connection.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include <libpq-fe.h>

#include "core/clock.hpp"
#include "storage/time_budget.hpp"

namespace rainmaker::storage::postgres {

namespace {

// Type OIDs of the built-in types read here (pg_type.h is a server header).
constexpr Oid kBool = 16;
constexpr Oid kBytea = 17;
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
constexpr Oid kFloat4 = 700;
constexpr Oid kFloat8 = 701;
constexpr Oid kNumeric = 1700;

constexpr const char* kUniqueViolation = "23505";
constexpr const char* kQueryCanceled = "57014";

int HexDigit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string ToPostgres(std::string_view sql, int& params) {
    const auto is_name = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    std::string out;
    out.reserve(sql.size() + 16);
    params = 0;
    int next = 0;  // the number a bare `?` takes
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {  // a literal or a quoted name, to its closing quote
            const auto end = sql.find(c, i + 1);
            const auto stop = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, stop - i));
            i = stop - 1;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const auto end = sql.find('\n', i);
            const auto stop = end == std::string_view::npos ? sql.size() : end;
            out.append(sql.substr(i, stop - i));
            i = stop - 1;
        } else if (c == '?') {
            std::size_t j = i + 1;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') {
                ++j;
            }
            int number = 0;
            if (j > i + 1) {
                std::from_chars(sql.data() + i + 1, sql.data() + j, number);
            } else {
                number = next + 1;
            }
            next = number;
            params = std::max(params, number);
            out += '$';
            out += std::to_string(number);
            i = j - 1;
        } else if (c == '+' && i + 1 < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i + 1])) && (out.empty() || !is_name(out.back())) && (out.empty() || out.back() != ')')) {
            // A unary + before a column: SQLite's way to keep an index out of a term.
        } else if (c == 'I' && sql.substr(i).starts_with("INDEXED BY ") && (i == 0 || !is_name(sql[i - 1]))) {
            // SQLite's named index: skip it and its name (and the space after).
            std::size_t j = i + 11;
            while (j < sql.size() && is_name(sql[j])) {
                ++j;
            }
            while (j < sql.size() && sql[j] == ' ') {
                ++j;
            }
            i = j - 1;
        } else {
            out += c;
        }
    }
    return out;
}

PgStatement::PgStatement(PgConnection& connection, std::string name, int params, bool rolls_back)
    : connection_(connection),
      name_(std::move(name)),
      rolls_back_(rolls_back),
      values_(static_cast<std::size_t>(params)),
      bound_(static_cast<std::size_t>(params), 0),
      formats_(static_cast<std::size_t>(params), 0) {}

PgStatement::~PgStatement() {
    PQclear(result_);
}

void PgStatement::Set(int index, std::string value, int format) {
    if (index < 1 || index > static_cast<int>(values_.size())) {
        throw std::runtime_error(
            "postgres: bind: parameter " + std::to_string(index) + " of " +
            std::to_string(values_.size())
        );
    }
    const auto i = static_cast<std::size_t>(index - 1);
    values_[i] = std::move(value);
    bound_[i] = 1;
    formats_[i] = format;
}

void PgStatement::BindText(int index, std::string_view value) {
    // PostgreSQL's text holds no NUL (a parameter would end there and the rest be lost).
    if (value.find('\0') != std::string_view::npos) {
        throw std::runtime_error("postgres: bind: text with a NUL character");
    }
    Set(index, std::string(value), 0);
}

void PgStatement::BindInt(int index, std::int64_t value) {
    Set(index, std::to_string(value), 0);
}

void PgStatement::BindDouble(int index, double value) {
    if (std::isnan(value)) {
        Set(index, "NaN", 0);
    } else if (std::isinf(value)) {
        Set(index, value > 0 ? "Infinity" : "-Infinity", 0);
    } else {
        char text[32];
        std::snprintf(text, sizeof text, "%.17g", value);
        Set(index, text, 0);
    }
}

void PgStatement::BindBlob(int index, std::string_view bytes) {
    Set(index, std::string(bytes), 1);  // binary: the bytes as they are
}

bool PgStatement::Step() {
    if (result_ == nullptr) {
        connection_.ApplyDeadline();
        std::vector<const char*> values(values_.size());
        std::vector<int> lengths(values_.size());
        for (std::size_t i = 0; i < values_.size(); ++i) {
            values[i] = bound_[i] != 0 ? values_[i].c_str() : nullptr;
            lengths[i] = static_cast<int>(values_[i].size());
        }
        PGresult* result = PQexecPrepared(
            connection_.conn_,
            name_.c_str(),
            static_cast<int>(values.size()),
            values.data(),
            lengths.data(),
            formats_.data(),
            0
        );
        connection_.Check(result, "run");
        result_ = result;
        rows_ = PQntuples(result_);
        const char* changed = PQcmdTuples(result_);
        connection_.changes_ = changed != nullptr && *changed != '\0' ? std::atoi(changed) : 0;
        row_ = -1;
        if (rolls_back_) {
            connection_.timeout_ms_ = -1;  // a SET after the savepoint was undone with it
        }
    }
    return ++row_ < rows_;
}

void PgStatement::Reset() {
    PQclear(result_);
    result_ = nullptr;
    rows_ = 0;
    row_ = -1;
    std::fill(bound_.begin(), bound_.end(), 0);
    std::fill(formats_.begin(), formats_.end(), 0);
}

const char* PgStatement::Value(int column) const {
    if (result_ == nullptr || row_ < 0 || row_ >= rows_ || column < 0 ||
        column >= PQnfields(result_)) {
        throw std::runtime_error(
            "postgres: read of column " + std::to_string(column) + " off a row"
        );
    }
    return PQgetisnull(result_, row_, column) != 0 ? nullptr : PQgetvalue(result_, row_, column);
}

std::string PgStatement::Text(int column) const {
    const char* value = Value(column);
    return value == nullptr
               ? std::string{}
               : std::string(value, static_cast<std::size_t>(PQgetlength(result_, row_, column)));
}

std::int64_t PgStatement::Int(int column) const {
    const char* value = Value(column);
    if (value == nullptr) {
        return 0;  // as SQLite reads NULL
    }
    if (PQftype(result_, column) == kBool) {
        return *value == 't' ? 1 : 0;
    }
    const auto length = static_cast<std::size_t>(PQgetlength(result_, row_, column));
    std::int64_t n = 0;
    const auto [end, error] = std::from_chars(value, value + length, n);
    if (error == std::errc() && end == value + length) {
        return n;
    }
    // numeric, float: in range, as SQLite reads a REAL as an integer
    const double d = std::strtod(value, nullptr);
    if (!(d > -9.2e18 && d < 9.2e18)) {
        return d > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return static_cast<std::int64_t>(d);
}

double PgStatement::Double(int column) const {
    const char* value = Value(column);
    return value == nullptr ? 0.0 : std::strtod(value, nullptr);
}

std::string PgStatement::Bytes(int column) const {
    const char* value = Value(column);
    if (value == nullptr) {
        return {};
    }
    const auto length = static_cast<std::size_t>(PQgetlength(result_, row_, column));
    if (PQftype(result_, column) != kBytea) {
        return std::string(value, length);
    }
    // bytea's text form: \x and two hex digits a byte.
    if (length < 2 || value[0] != '\\' || value[1] != 'x' || length % 2 != 0) {
        throw std::runtime_error("postgres: bytea not in hex form");
    }
    std::string bytes;
    bytes.reserve((length - 2) / 2);
    for (std::size_t i = 2; i < length; i += 2) {
        const int high = HexDigit(value[i]);
        const int low = HexDigit(value[i + 1]);
        if (high < 0 || low < 0) {
            throw std::runtime_error("postgres: bytea not in hex form");
        }
        bytes += static_cast<char>(high * 16 + low);
    }
    return bytes;
}

bool PgStatement::IsInteger(int column) const {
    const Oid type = PQftype(result_, column);
    return Value(column) != nullptr && (type == kInt8 || type == kInt4 || type == kInt2);
}

bool PgStatement::IsReal(int column) const {
    const Oid type = PQftype(result_, column);
    return Value(column) != nullptr && (type == kFloat8 || type == kFloat4 || type == kNumeric);
}

bool PgStatement::IsNull(int column) const {
    return Value(column) == nullptr;
}

PgConnection::PgConnection(const std::string& url) {
    // At most 10 s to connect unless the URL says otherwise (its settings come after).
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"10", url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
        const std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
        PQfinish(conn_);
        throw std::runtime_error("postgres: cannot connect: " + message);
    }
    // Whatever the server's or role's defaults: notices (an IF NOT EXISTS that found the
    // table) are not the log's business; text is UTF-8, bytea read in hex, floats read back
    // exactly; literals as the SQL writes them; no statement timeout but the deadline's.
    try {
        Exec(
            "SET client_min_messages = warning; SET TIME ZONE 'UTC'; SET client_encoding = "
            "'UTF8'; SET bytea_output = 'hex'; SET extra_float_digits = 3; SET "
            "standard_conforming_strings = on; SET statement_timeout = 0"
        );
    } catch (...) {
        PQfinish(conn_);
        throw;
    }
}

PgConnection::~PgConnection() {
    cache_.clear();
    PQfinish(conn_);
}

void PgConnection::Check(PGresult* result, std::string_view what) {
    const auto status = PQresultStatus(result);
    if (result != nullptr &&
        (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)) {
        return;
    }
    // The primary message only: the detail line can quote the row's values (a name, a token).
    const char* primary =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = "postgres: " + std::string(what) + ": ";
    message += primary != nullptr ? primary : PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    PQclear(result);
    if (sqlstate == kUniqueViolation) {
        throw sql::UniqueViolation(message);
    }
    if (sqlstate == kQueryCanceled && clock_ != nullptr) {
        throw storage::TimeBudgetSpent(message + " (its time budget is spent)");
    }
    throw std::runtime_error(message);
}

sql::Statement PgConnection::Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        ApplyDeadline();  // the session's timeout may be a spent budget's
        int params = 0;
        const std::string text = ToPostgres(sql, params);
        const std::string name = "s" + std::to_string(cache_.size() + 1);
        PGresult* prepared = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
        Check(prepared, "prepare " + sql);
        PQclear(prepared);
        it = cache_
                 .emplace(
                     sql,
                     std::make_unique<PgStatement>(*this, name, params, sql.starts_with("ROLLBACK"))
                 )
                 .first;
    }
    return sql::Statement(*it->second);
}

void PgConnection::Exec(const std::string& sql) {
    ApplyDeadline();
    PGresult* result = PQexec(conn_, sql.c_str());
    Check(result, "exec");
    const char* changed = PQcmdTuples(result);
    changes_ = changed != nullptr && *changed != '\0' ? std::atoi(changed) : 0;
    PQclear(result);
    if (sql.starts_with("ROLLBACK")) {
        timeout_ms_ = -1;  // a SET inside the transaction was undone with it
    }
}

sql::TransactionState PgConnection::Transaction() const {
    switch (PQtransactionStatus(conn_)) {
        case PQTRANS_INTRANS:
        case PQTRANS_ACTIVE:
            return sql::TransactionState::kOpen;
        case PQTRANS_INERROR:
            return sql::TransactionState::kFailed;
        case PQTRANS_IDLE:
        case PQTRANS_UNKNOWN:
            break;
    }
    return sql::TransactionState::kNone;
}

bool PgConnection::Broken() const {
    return PQstatus(conn_) != CONNECTION_OK;
}

void PgConnection::SetDeadline(
    const core::Clock& clock, std::chrono::steady_clock::time_point end
) {
    if (clock.Monotonic() >= end) {
        throw storage::TimeBudgetSpent("postgres: not started, the time budget is spent");
    }
    clock_ = &clock;
    deadline_ = end;
}

void PgConnection::ClearDeadline() {
    clock_ = nullptr;  // the next statement sets statement_timeout back to 0
}

void PgConnection::ApplyDeadline() {
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) {
        return;  // only a rollback runs now, and it undoes the SET
    }
    std::int64_t wanted = 0;
    if (clock_ != nullptr) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline_ - clock_->Monotonic()).count();
        if (left <= 0) {
            throw storage::TimeBudgetSpent("postgres: not started, the time budget is spent");
        }
        wanted = left;
    }
    if (wanted == timeout_ms_ && clock_ == nullptr) {
        return;
    }
    const std::string set = "SET statement_timeout = " + std::to_string(wanted);
    PGresult* result = PQexec(conn_, set.c_str());
    Check(result, "exec");
    PQclear(result);
    timeout_ms_ = wanted;
}

}  // namespace rainmaker::storage::postgres

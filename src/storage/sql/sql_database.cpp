// Connection pool, transactions and migrations of the stores over SQL, for every engine.
#include "storage/sql/sql_database.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "storage/sql/sql_automation_store.hpp"
#include "storage/sql/sql_command_store.hpp"
#include "storage/sql/sql_event_filter_store.hpp"
#include "storage/sql/sql_event_store.hpp"
#include "storage/sql/sql_file_store.hpp"
#include "storage/sql/sql_group_store.hpp"
#include "storage/sql/sql_matter_store.hpp"
#include "storage/sql/sql_node_store.hpp"
#include "storage/sql/sql_oauth_store.hpp"
#include "storage/sql/sql_ota_image_store.hpp"
#include "storage/sql/sql_ota_job_store.hpp"
#include "storage/sql/sql_ota_upload_store.hpp"
#include "storage/sql/sql_push_store.hpp"
#include "storage/sql/sql_rbac_store.hpp"
#include "storage/sql/sql_sharing_store.hpp"
#include "storage/sql/sql_signing_store.hpp"
#include "storage/sql/sql_stores.hpp"
#include "storage/sql/sql_tag_store.hpp"
#include "storage/sql/sql_timeseries_store.hpp"
#include "storage/sql/sql_webhook_store.hpp"

namespace rainmaker::storage::sql {

namespace {
// The transaction this thread is running, per database: its connection, and whether it may
// write (Transaction) or only read (Snapshot).
struct Running {
    Connection* connection = nullptr;
    bool writes = false;
    std::vector<std::function<void()>> after_commit;
    int savepoints = 0;    // nested write transactions open (each a SAVEPOINT)
    bool aborted = false;  // a nested one could not be undone alone: only a rollback is left
};

// Refuses to go on in a transaction that cannot commit: the engine rolled it back by itself
// (SQLite after SQLITE_FULL, an I/O error, an interrupt...), a statement failed in it and was
// caught (PostgreSQL then refuses all but a rollback), or a savepoint could not be undone.
// Without this check, on SQLite, the statements that follow would run in autocommit mode, each
// committed on its own.
void CheckUsable(const Running& running) {
    if (running.aborted || running.connection->Transaction() != TransactionState::kOpen) {
        throw std::runtime_error("sql: the transaction failed and was rolled back");
    }
}

// Runs `work` inside the running write transaction, in a savepoint: when `work` throws, what it
// wrote (and the effects it registered) is undone and the enclosing transaction goes on as
// before it, whether or not the caller catches.
void RunInSavepoint(Running& running, const std::function<void()>& work) {
    CheckUsable(running);
    const std::string name = "nested_" + std::to_string(running.savepoints + 1);
    const auto effects = running.after_commit.size();
    const auto exec = [&](const std::string& sql) { running.connection->Prepare(sql).Run(); };
    exec("SAVEPOINT " + name);
    ++running.savepoints;
    try {
        work();
    } catch (...) {
        --running.savepoints;
        running.after_commit.resize(effects);
        if (running.connection->Transaction() == TransactionState::kNone) {
            throw;  // the engine rolled the whole transaction back: nothing to undo here
        }
        try {
            exec("ROLLBACK TO " + name);
            exec("RELEASE " + name);
        } catch (...) {
            running.aborted = true;  // the enclosing transaction can only roll back now
        }
        throw;  // what work() threw
    }
    --running.savepoints;
    exec("RELEASE " + name);
}

void RunEffects(std::vector<std::function<void()>>& effects) {
    for (auto& effect : effects) {
        try {
            effect();
        } catch (const std::exception& e) {
            core::log::Error(std::string("after-commit effect failed: ") + e.what());
        }
    }
}

thread_local std::unordered_map<const SqlDatabase*, Running> t_transaction;

// The time budget this thread runs under, per database (WithTimeBudget).
struct Budget {
    const core::Clock* clock = nullptr;
    std::chrono::steady_clock::time_point end;
};

thread_local std::unordered_map<const SqlDatabase*, Budget> t_budget;

// `fn` on `c`, under this thread's budget for `db` when it has one (a call made inside another
// on the same connection runs under the deadline that one set).
void UnderBudget(const SqlDatabase* db, Connection& c, const std::function<void(Connection&)>& fn) {
    const auto budget = t_budget.find(db);
    if (budget == t_budget.end() || c.HasDeadline()) {
        fn(c);
        return;
    }
    c.SetDeadline(*budget->second.clock, budget->second.end);
    try {
        fn(c);
    } catch (...) {
        c.ClearDeadline();
        throw;
    }
    c.ClearDeadline();
}

}  // namespace

SqlDatabase::SqlDatabase(Engine engine)
    : engine_(std::move(engine)),
      users_(std::make_unique<SqlUserStore>(*this)),
      sessions_(std::make_unique<SqlSessionStore>(*this)),
      codes_(std::make_unique<SqlCodeStore>(*this)),
      nodes_(std::make_unique<SqlNodeStore>(*this)),
      groups_(std::make_unique<SqlGroupStore>(*this)),
      sharing_(std::make_unique<SqlSharingStore>(*this)),
      events_(std::make_unique<SqlEventStore>(*this)),
      jobs_(std::make_unique<SqlJobStore>(*this)),
      timeseries_(std::make_unique<SqlTimeSeriesStore>(*this)),
      commands_(std::make_unique<SqlCommandStore>(*this)),
      automations_(std::make_unique<SqlAutomationStore>(*this)),
      push_(std::make_unique<SqlPushStore>(*this)),
      event_filters_(std::make_unique<SqlEventFilterStore>(*this)),
      webhooks_(std::make_unique<SqlWebhookStore>(*this)),
      oauth_(std::make_unique<SqlOAuthStore>(*this)),
      rbac_(std::make_unique<SqlRbacStore>(*this)),
      tags_(std::make_unique<SqlTagStore>(*this)),
      matter_(std::make_unique<SqlMatterStore>(*this)),
      ota_images_(std::make_unique<SqlOtaImageStore>(*this)),
      ota_uploads_(std::make_unique<SqlOtaUploadStore>(*this)),
      ota_jobs_(std::make_unique<SqlOtaJobStore>(*this)),
      files_(std::make_unique<SqlFileStore>(*this)),
      signing_(std::make_unique<SqlSigningStore>(*this)) {}

SqlDatabase::~SqlDatabase() = default;

UserStore& SqlDatabase::Users() {
    return *users_;
}

SessionStore& SqlDatabase::Sessions() {
    return *sessions_;
}

CodeStore& SqlDatabase::Codes() {
    return *codes_;
}

NodeStore& SqlDatabase::Nodes() {
    return *nodes_;
}

GroupStore& SqlDatabase::Groups() {
    return *groups_;
}

SharingStore& SqlDatabase::Sharing() {
    return *sharing_;
}

EventStore& SqlDatabase::Events() {
    return *events_;
}

JobStore& SqlDatabase::Jobs() {
    return *jobs_;
}

TimeSeriesStore& SqlDatabase::TimeSeries() {
    return *timeseries_;
}

CommandStore& SqlDatabase::Commands() {
    return *commands_;
}

AutomationStore& SqlDatabase::Automations() {
    return *automations_;
}

PushStore& SqlDatabase::Push() {
    return *push_;
}

EventFilterStore& SqlDatabase::EventFilters() {
    return *event_filters_;
}

WebhookStore& SqlDatabase::Webhooks() {
    return *webhooks_;
}

OAuthStore& SqlDatabase::OAuth() {
    return *oauth_;
}

RbacStore& SqlDatabase::Rbac() {
    return *rbac_;
}

TagStore& SqlDatabase::Tags() {
    return *tags_;
}

MatterStore& SqlDatabase::Matter() {
    return *matter_;
}

OtaImageStore& SqlDatabase::OtaImages() {
    return *ota_images_;
}

OtaUploadStore& SqlDatabase::OtaUploads() {
    return *ota_uploads_;
}

OtaJobStore& SqlDatabase::OtaJobs() {
    return *ota_jobs_;
}

FileStore& SqlDatabase::Files() {
    return *files_;
}

SigningStore& SqlDatabase::Signing() {
    return *signing_;
}

void SqlDatabase::AfterCommit(std::function<void()> effect) {
    if (const auto it = t_transaction.find(this); it != t_transaction.end()) {
        it->second.after_commit.push_back(std::move(effect));
        return;
    }
    std::vector<std::function<void()>> now{std::move(effect)};
    RunEffects(now);
}

std::unique_ptr<Connection> SqlDatabase::Acquire() {
    {
        std::lock_guard lock(pool_mutex_);
        if (!pool_.empty()) {
            auto connection = std::move(pool_.back());
            pool_.pop_back();
            return connection;
        }
    }
    return engine_.open();
}

void SqlDatabase::Release(std::unique_ptr<Connection> connection) {
    if (connection->Broken() || connection->Transaction() != TransactionState::kNone) {
        return;  // lost, or left in a transaction: closed here; Acquire opens a new one
    }
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(connection));
}

void SqlDatabase::WithConnection(const std::function<void(Connection&)>& fn) {
    if (const auto it = t_transaction.find(this); it != t_transaction.end()) {
        CheckUsable(it->second);
        UnderBudget(this, *it->second.connection, fn);
        return;
    }
    auto connection = Acquire();
    try {
        UnderBudget(this, *connection, fn);
    } catch (...) {
        Release(std::move(connection));
        throw;
    }
    Release(std::move(connection));
}

void SqlDatabase::WithWriteConnection(const std::function<void(Connection&)>& fn) {
    if (engine_.dialect == Dialect::kPostgres && !InTransaction()) {
        Transaction([&] { WithConnection(fn); });
        return;
    }
    WithConnection(fn);
}

bool SqlDatabase::InTransaction() const {
    return t_transaction.contains(this);
}

bool SqlDatabase::Unique(const std::function<void()>& write) {
    try {
        if (engine_.dialect == Dialect::kPostgres && InTransaction()) {
            Transaction(write);  // a savepoint, undone alone when the key is taken
        } else {
            write();
        }
        return true;
    } catch (const UniqueViolation&) {
        return false;
    }
}

void SqlDatabase::Transaction(const std::function<void()>& work) {
    RunIn(true, work);
}

void SqlDatabase::Snapshot(const std::function<void()>& work) {
    RunIn(false, work);
}

void SqlDatabase::WithTimeBudget(
    const core::Clock& clock, std::chrono::milliseconds budget, const std::function<void()>& work
) {
    Budget mine{&clock, clock.Monotonic() + budget};
    std::optional<Budget> outer;
    if (const auto it = t_budget.find(this); it != t_budget.end()) {
        outer = it->second;
        mine.end = std::min(mine.end, outer->end);
    }
    const auto restore = [&] {
        if (outer) {
            t_budget[this] = *outer;
        } else {
            t_budget.erase(this);
        }
    };
    t_budget[this] = mine;
    try {
        work();
    } catch (...) {
        restore();
        throw;
    }
    restore();
}

void SqlDatabase::RunIn(bool writes, const std::function<void()>& work) {
    if (const auto it = t_transaction.find(this); it != t_transaction.end()) {
        // Inside a transaction: join it. Writes inside a read snapshot could fail half-way
        // (SQLITE_BUSY; PostgreSQL refuses them), so that is a programming error, not a join.
        if (writes && !it->second.writes) {
            throw std::logic_error("Database::Transaction inside a Snapshot");
        }
        if (!writes) {
            work();  // a snapshot inside a transaction reads what it wrote
            return;
        }
        RunInSavepoint(it->second, work);
        return;
    }
    // Writers of this process queue here, woken the moment the one before commits, instead of
    // in the engine (SQLite's busy handler sleeps 1 to 100 ms between tries; other processes
    // queue there, or on PostgreSQL's lock).
    std::unique_lock write_turn(write_mutex_, std::defer_lock);
    if (writes) {
        write_turn.lock();
    }
    auto connection = Acquire();
    for (int attempt = 0;; ++attempt) {
        try {
            engine_.begin(*connection, writes);
            break;
        } catch (...) {
            if (connection->Broken() && attempt == 0) {
                // A pooled connection the server dropped (it restarted): once more on a new
                // one; nothing ran yet.
                connection = engine_.open();
                continue;
            }
            try {
                connection->Exec("ROLLBACK");
                Release(std::move(connection));
            } catch (...) {
            }
            throw;
        }
    }
    t_transaction[this] = Running{connection.get(), writes, {}};
    try {
        work();
        CheckUsable(t_transaction[this]);  // a failure the work caught must not commit half
        connection->Exec("COMMIT");
    } catch (...) {
        t_transaction.erase(this);
        try {
            connection->Exec("ROLLBACK");
        } catch (...) {
            // The connection is unusable (SQLite may have rolled back already after an I/O
            // error; a PostgreSQL connection may be lost): drop it, not back to the pool.
            connection.reset();
        }
        if (connection) {
            Release(std::move(connection));
        }
        throw;  // what work() (or COMMIT) threw
    }
    auto effects = std::move(t_transaction[this].after_commit);
    t_transaction.erase(this);
    Release(std::move(connection));
    if (write_turn.owns_lock()) {
        write_turn.unlock();
    }
    RunEffects(effects);
}

void CheckMigrations(
    const std::vector<Migration>& migrations, const std::set<std::int64_t>& applied
) {
    std::set<std::int64_t> versions;
    for (const auto& migration : migrations) {
        if (!versions.insert(migration.version).second) {
            throw std::runtime_error(
                "migrations: version " + std::to_string(migration.version) +
                " is embedded twice (renumber one of the V" + std::to_string(migration.version) +
                "__*.sql files)"
            );
        }
    }
    const std::int64_t known = versions.empty() ? 0 : *versions.rbegin();
    if (!applied.empty() && *applied.rbegin() > known) {
        throw std::runtime_error(
            "the database has schema version " + std::to_string(*applied.rbegin()) +
            ", newer than this binary knows (" + std::to_string(known) +
            "): it was used by a newer rainmaker-server; run that one, or restore a backup"
        );
    }
}

int SqlDatabase::SchemaVersion() {
    int version = 0;
    WithConnection([&](Connection& c) {
        auto stmt = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (stmt.Step()) {
            version = static_cast<int>(stmt.Int(0));
        }
    });
    return version;
}

void SqlDatabase::Migrate() {
    WithConnection([&](Connection& c) { c.Exec(engine_.create_migrations_table); });
    const auto& migrations = *engine_.migrations;
    // Every migration not recorded yet, in version order: branches merged in any order (V012
    // applied before V011 arrived) still get each one exactly once. Read inside the write
    // transaction: an instance starting beside this one waits, then finds them applied.
    Transaction([&] {
        std::set<std::int64_t> applied;
        ForEachRow("SELECT version FROM schema_migrations", [&](const Statement& s) {
            applied.insert(s.Int(0));
            return true;
        });
        CheckMigrations(migrations, applied);
        for (const auto& migration : migrations) {
            if (applied.contains(migration.version)) {
                continue;
            }
            WithConnection([&](Connection& c) { c.Exec(std::string(migration.sql)); });
            Execute(
                "INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                migration.version,
                migration.name
            );
        }
    });
}

namespace {

std::vector<std::string> SplitColumns(std::string_view list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto end = list.find(',', start);
        if (end == std::string_view::npos) {
            end = list.size();
        }
        auto name = list.substr(start, end - start);
        while (!name.empty() && name.front() == ' ') {
            name.remove_prefix(1);
        }
        while (!name.empty() && name.back() == ' ') {
            name.remove_suffix(1);
        }
        out.emplace_back(name);
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string UpsertSql(std::string_view table, std::string_view columns, std::string_view key) {
    const auto names = SplitColumns(columns);
    const auto keys = SplitColumns(key);
    std::string sql =
        "INSERT INTO " + std::string(table) + "(" + std::string(columns) + ") VALUES (";
    std::string set;
    for (std::size_t i = 0; i < names.size(); ++i) {
        sql += i == 0 ? "?" : ", ?";
        if (std::find(keys.begin(), keys.end(), names[i]) == keys.end()) {
            set += (set.empty() ? "" : ", ") + names[i] + " = excluded." + names[i];
        }
    }
    sql += ") ON CONFLICT(" + std::string(key) + ") DO ";
    sql += set.empty() ? "NOTHING" : "UPDATE SET " + set;
    return sql;
}

std::int64_t ChangeCounter(SqlDatabase& db, std::string_view table) {
    const auto value = db.FindFirst(
        "SELECT value FROM change_counters WHERE name = ?",
        [](const Statement& s) { return s.Int(0); },
        table
    );
    if (!value) {
        throw std::runtime_error("sql: no change counter of " + std::string(table));
    }
    return *value;
}

}  // namespace rainmaker::storage::sql

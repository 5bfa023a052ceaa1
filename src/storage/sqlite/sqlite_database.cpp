// Connection pool, transactions and migrations of the SQLite store.
#include "storage/sqlite/sqlite_database.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_automation_store.hpp"
#include "storage/sqlite/sqlite_command_store.hpp"
#include "storage/sqlite/sqlite_event_filter_store.hpp"
#include "storage/sqlite/sqlite_event_store.hpp"
#include "storage/sqlite/sqlite_file_store.hpp"
#include "storage/sqlite/sqlite_group_store.hpp"
#include "storage/sqlite/sqlite_matter_store.hpp"
#include "storage/sqlite/sqlite_node_store.hpp"
#include "storage/sqlite/sqlite_oauth_store.hpp"
#include "storage/sqlite/sqlite_ota_image_store.hpp"
#include "storage/sqlite/sqlite_ota_job_store.hpp"
#include "storage/sqlite/sqlite_ota_upload_store.hpp"
#include "storage/sqlite/sqlite_push_store.hpp"
#include "storage/sqlite/sqlite_rbac_store.hpp"
#include "storage/sqlite/sqlite_sharing_store.hpp"
#include "storage/sqlite/sqlite_signing_store.hpp"
#include "storage/sqlite/sqlite_stores.hpp"
#include "storage/sqlite/sqlite_tag_store.hpp"
#include "storage/sqlite/sqlite_timeseries_store.hpp"
#include "storage/sqlite/sqlite_webhook_store.hpp"

namespace rainmaker::storage::sqlite {

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

// Refuses to go on in a transaction that cannot commit: SQLite rolled it back by itself (after
// SQLITE_FULL, an I/O error, an interrupt...) or a savepoint could not be undone. Without this
// check the statements that follow would run in autocommit mode, each committed on its own.
void CheckUsable(const Running& running) {
    if (running.aborted || !running.connection->InTransaction()) {
        throw std::runtime_error("sqlite: the transaction failed and was rolled back");
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
        if (!running.connection->InTransaction()) {
            throw;  // SQLite rolled the whole transaction back: nothing to undo here
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

thread_local std::unordered_map<const SqliteDatabase*, Running> t_transaction;

// The time budget this thread runs under, per database (WithTimeBudget).
struct Budget {
    const core::Clock* clock = nullptr;
    std::chrono::steady_clock::time_point end;
};

thread_local std::unordered_map<const SqliteDatabase*, Budget> t_budget;

// `fn` on `c`, under this thread's budget for `db` when it has one (a call made inside another
// on the same connection runs under the deadline that one set).
void UnderBudget(
    const SqliteDatabase* db, Connection& c, const std::function<void(Connection&)>& fn
) {
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

SqliteDatabase::SqliteDatabase(std::filesystem::path file)
    : file_(std::move(file)),
      users_(std::make_unique<SqliteUserStore>(*this)),
      sessions_(std::make_unique<SqliteSessionStore>(*this)),
      codes_(std::make_unique<SqliteCodeStore>(*this)),
      nodes_(std::make_unique<SqliteNodeStore>(*this)),
      groups_(std::make_unique<SqliteGroupStore>(*this)),
      sharing_(std::make_unique<SqliteSharingStore>(*this)),
      events_(std::make_unique<SqliteEventStore>(*this)),
      jobs_(std::make_unique<SqliteJobStore>(*this)),
      timeseries_(std::make_unique<SqliteTimeSeriesStore>(*this)),
      commands_(std::make_unique<SqliteCommandStore>(*this)),
      automations_(std::make_unique<SqliteAutomationStore>(*this)),
      push_(std::make_unique<SqlitePushStore>(*this)),
      event_filters_(std::make_unique<SqliteEventFilterStore>(*this)),
      webhooks_(std::make_unique<SqliteWebhookStore>(*this)),
      oauth_(std::make_unique<SqliteOAuthStore>(*this)),
      rbac_(std::make_unique<SqliteRbacStore>(*this)),
      tags_(std::make_unique<SqliteTagStore>(*this)),
      matter_(std::make_unique<SqliteMatterStore>(*this)),
      ota_images_(std::make_unique<SqliteOtaImageStore>(*this)),
      ota_uploads_(std::make_unique<SqliteOtaUploadStore>(*this)),
      ota_jobs_(std::make_unique<SqliteOtaJobStore>(*this)),
      files_(std::make_unique<SqliteFileStore>(*this)),
      signing_(std::make_unique<SqliteSigningStore>(*this)) {
    Migrate();
}

SqliteDatabase::~SqliteDatabase() = default;

UserStore& SqliteDatabase::Users() {
    return *users_;
}

SessionStore& SqliteDatabase::Sessions() {
    return *sessions_;
}

CodeStore& SqliteDatabase::Codes() {
    return *codes_;
}

NodeStore& SqliteDatabase::Nodes() {
    return *nodes_;
}

GroupStore& SqliteDatabase::Groups() {
    return *groups_;
}

SharingStore& SqliteDatabase::Sharing() {
    return *sharing_;
}

EventStore& SqliteDatabase::Events() {
    return *events_;
}

JobStore& SqliteDatabase::Jobs() {
    return *jobs_;
}

TimeSeriesStore& SqliteDatabase::TimeSeries() {
    return *timeseries_;
}

CommandStore& SqliteDatabase::Commands() {
    return *commands_;
}

AutomationStore& SqliteDatabase::Automations() {
    return *automations_;
}

PushStore& SqliteDatabase::Push() {
    return *push_;
}

EventFilterStore& SqliteDatabase::EventFilters() {
    return *event_filters_;
}

WebhookStore& SqliteDatabase::Webhooks() {
    return *webhooks_;
}

OAuthStore& SqliteDatabase::OAuth() {
    return *oauth_;
}

RbacStore& SqliteDatabase::Rbac() {
    return *rbac_;
}

TagStore& SqliteDatabase::Tags() {
    return *tags_;
}

MatterStore& SqliteDatabase::Matter() {
    return *matter_;
}

OtaImageStore& SqliteDatabase::OtaImages() {
    return *ota_images_;
}

OtaUploadStore& SqliteDatabase::OtaUploads() {
    return *ota_uploads_;
}

OtaJobStore& SqliteDatabase::OtaJobs() {
    return *ota_jobs_;
}

FileStore& SqliteDatabase::Files() {
    return *files_;
}

SigningStore& SqliteDatabase::Signing() {
    return *signing_;
}

void SqliteDatabase::AfterCommit(std::function<void()> effect) {
    if (const auto it = t_transaction.find(this); it != t_transaction.end()) {
        it->second.after_commit.push_back(std::move(effect));
        return;
    }
    std::vector<std::function<void()>> now{std::move(effect)};
    RunEffects(now);
}

std::unique_ptr<Connection> SqliteDatabase::Acquire() {
    {
        std::lock_guard lock(pool_mutex_);
        if (!pool_.empty()) {
            auto connection = std::move(pool_.back());
            pool_.pop_back();
            return connection;
        }
    }
    return std::make_unique<Connection>(file_.string());
}

void SqliteDatabase::Release(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(connection));
}

void SqliteDatabase::WithConnection(const std::function<void(Connection&)>& fn) {
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

void SqliteDatabase::Transaction(const std::function<void()>& work) {
    // IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot fail
    // with SQLITE_BUSY half-way.
    RunIn("BEGIN IMMEDIATE", true, work);
}

void SqliteDatabase::Snapshot(const std::function<void()>& work) {
    // DEFERRED: a read transaction, taken at the first read and kept to the end.
    RunIn("BEGIN", false, work);
}

void SqliteDatabase::WithTimeBudget(
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

void SqliteDatabase::RunIn(const char* begin, bool writes, const std::function<void()>& work) {
    if (const auto it = t_transaction.find(this); it != t_transaction.end()) {
        // Inside a transaction: join it. Writes inside a read snapshot could fail with
        // SQLITE_BUSY half-way, so that is a programming error, not a join.
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
    // in SQLite's busy handler, which sleeps 1 to 100 ms between tries (other processes, the
    // admin commands, still meet the busy handler).
    std::unique_lock write_turn(write_mutex_, std::defer_lock);
    if (writes) {
        write_turn.lock();
    }
    auto connection = Acquire();
    connection->Exec(begin);
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
            // error): drop it instead of returning it to the pool.
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

int SqliteDatabase::SchemaVersion() {
    int version = 0;
    WithConnection([&](Connection& c) {
        auto stmt = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (stmt.Step()) {
            version = static_cast<int>(stmt.Int(0));
        }
    });
    return version;
}

void SqliteDatabase::Migrate() {
    WithConnection([](Connection& c) {
        c.Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name "
            "TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"
        );
    });
    // Every migration not recorded yet, in version order: branches merged in any order (V012
    // applied before V011 arrived) still get each one exactly once.
    std::set<std::int64_t> applied;
    WithConnection([&](Connection& c) {
        auto stmt = c.Prepare("SELECT version FROM schema_migrations");
        while (stmt.Step()) {
            applied.insert(stmt.Int(0));
        }
    });
    CheckMigrations(Migrations(), applied);
    for (const auto& migration : Migrations()) {
        if (applied.contains(migration.version)) {
            continue;
        }
        Transaction([&] {
            WithConnection([&](Connection& c) {
                c.Exec(std::string(migration.sql));
                c.Prepare("INSERT INTO schema_migrations(version, name) VALUES (?, ?)")
                    .Bind(1, migration.version)
                    .Bind(2, migration.name)
                    .Run();
            });
        });
    }
}

std::int64_t ChangeCounter(SqliteDatabase& db, std::string_view table) {
    const auto value = db.FindFirst(
        "SELECT value FROM change_counters WHERE name = ?",
        [](const Statement& s) { return s.Int(0); },
        table
    );
    if (!value) {
        throw std::runtime_error("sqlite: no change counter of " + std::string(table));
    }
    return *value;
}

}  // namespace rainmaker::storage::sqlite

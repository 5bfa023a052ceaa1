// The stores over a SQL engine, written once: connections come from the engine (SQLite or
// PostgreSQL), transactions, savepoints, time budgets and migrations work alike on both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/database.hpp"
#include "storage/sql/connection.hpp"
#include "storage/sql/migrations.hpp"

namespace rainmaker::storage::sql {

// Where the SQL the stores share must differ between engines (few places: most SQL is
// written to run on both).
enum class Dialect { kSqlite, kPostgres };

// How an engine opens connections and transactions, and its schema.
struct Engine {
    Dialect dialect;
    // A new connection (the pool keeps it).
    std::function<std::unique_ptr<Connection>()> open;
    // Opens a transaction on `c`: one that writes (one writer at a time, as SQLite has it, so a
    // read-then-write sees no other writer between), or a read-only consistent snapshot.
    std::function<void(Connection& c, bool writes)> begin;
    // The engine's migrations, and the statement creating their bookkeeping table
    // `schema_migrations(version, name, applied_at)` when it is missing.
    const std::vector<Migration>* migrations;
    std::string create_migrations_table;
};

class SqlDatabase : public Database {
public:
    // Set up by an engine, which calls Migrate() once it is ready.
    explicit SqlDatabase(Engine engine);
    ~SqlDatabase() override;

    // storage::Database
    UserStore& Users() override;
    SessionStore& Sessions() override;
    CodeStore& Codes() override;
    NodeStore& Nodes() override;
    GroupStore& Groups() override;
    SharingStore& Sharing() override;
    EventStore& Events() override;
    JobStore& Jobs() override;
    TimeSeriesStore& TimeSeries() override;
    CommandStore& Commands() override;
    AutomationStore& Automations() override;
    PushStore& Push() override;
    EventFilterStore& EventFilters() override;
    WebhookStore& Webhooks() override;
    OAuthStore& OAuth() override;
    RbacStore& Rbac() override;
    TagStore& Tags() override;
    MatterStore& Matter() override;
    OtaImageStore& OtaImages() override;
    OtaUploadStore& OtaUploads() override;
    OtaJobStore& OtaJobs() override;
    FileStore& Files() override;
    SigningStore& Signing() override;
    void Transaction(const std::function<void()>& work) override;
    void Snapshot(const std::function<void()>& work) override;
    void WithTimeBudget(
        const core::Clock& clock,
        std::chrono::milliseconds budget,
        const std::function<void()>& work
    ) override;
    void AfterCommit(std::function<void()> effect) override;

    // Runs `write`; false, with nothing of it kept, when a statement in it was refused for a
    // key already taken (UniqueViolation), true otherwise. Inside a transaction on PostgreSQL,
    // where a failed statement fails the whole transaction, it runs in a savepoint; the
    // transaction goes on either way.
    bool Unique(const std::function<void()>& write);

    // Whether this thread is inside a Transaction or Snapshot of this database.
    bool InTransaction() const;

    // Runs `fn` with this thread's transaction connection, or a pooled one (under this thread's
    // time budget, when WithTimeBudget set one).
    void WithConnection(const std::function<void(Connection&)>& fn);

    int SchemaVersion();

    Dialect dialect() const { return engine_.dialect; }

    // WithConnection for statements that write. On PostgreSQL, outside a transaction, they run
    // in a write transaction of their own: every write waits for the writer before it, as on
    // SQLite, so ids given at insert (the event log's) grow in commit order.
    void WithWriteConnection(const std::function<void(Connection&)>& fn);

    // Runs one statement that writes with `args` bound to ?1, ?2, ... in order; returns the
    // rows changed.
    template <typename... Args>
    int Execute(const std::string& sql, const Args&... args) {
        int changed = 0;
        WithWriteConnection([&](Connection& c) {
            auto s = c.Prepare(sql);
            int index = 0;
            (s.Bind(++index, args), ...);
            s.Run();
            changed = c.Changes();
        });
        return changed;
    }

    // Runs `statement` ("DELETE FROM t" or "UPDATE t SET ...") on the rows of `table` matching
    // `where` (args bound as for Execute), at most 1000 rows per statement until none is left,
    // so that a large backlog never holds the write lock long; returns the rows changed.
    template <typename... Args>
    int InBatches(
        const std::string& statement,
        const std::string& table,
        const std::string& where,
        const Args&... args
    ) {
        constexpr int kBatch = 1000;
        // A row's address: SQLite's rowid, PostgreSQL's ctid (found by a TID scan from an array).
        const std::string sql =
            dialect() == Dialect::kSqlite
                ? statement + " WHERE rowid IN (SELECT rowid FROM " + table + " WHERE " + where +
                      " LIMIT " + std::to_string(kBatch) + ")"
                : statement + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table + " WHERE " +
                      where + " LIMIT " + std::to_string(kBatch) + "))";
        int total = 0;
        for (;;) {
            const int n = Execute(sql, args...);
            total += n;
            if (n < kBatch) {
                return total;
            }
        }
    }

    // The integer in the first column of the first row of `sql` with `args` bound, or 0.
    template <typename... Args>
    std::int64_t Count(const std::string& sql, const Args&... args) {
        return FindFirst(
                   sql, [](const Statement& s) { return s.Int(0); }, args...
        )
            .value_or(0);
    }

    // Runs `sql` with `args` bound to ?1, ?2, ... in order and hands each row to `on_row`
    // until it returns false.
    template <typename OnRow, typename... Args>
    void ForEachRow(const std::string& sql, OnRow on_row, const Args&... args) {
        WithConnection([&](Connection& c) {
            auto s = c.Prepare(sql);
            int index = 0;
            (s.Bind(++index, args), ...);
            while (s.Step() && on_row(static_cast<const Statement&>(s))) {
            }
        });
    }

    // Every row of `sql` (args bound as for ForEachRow) read by `read`.
    template <typename Read, typename... Args>
    auto FindAll(const std::string& sql, Read read, const Args&... args)
        -> std::vector<decltype(read(std::declval<const Statement&>()))> {
        std::vector<decltype(read(std::declval<const Statement&>()))> rows;
        ForEachRow(
            sql,
            [&](const Statement& s) {
                rows.push_back(read(s));
                return true;
            },
            args...
        );
        return rows;
    }

    // The first row of `sql` (args bound as for ForEachRow) read by `read`, or nullopt.
    template <typename Read, typename... Args>
    auto FindFirst(const std::string& sql, Read read, const Args&... args)
        -> std::optional<decltype(read(std::declval<const Statement&>()))> {
        std::optional<decltype(read(std::declval<const Statement&>()))> row;
        ForEachRow(
            sql,
            [&](const Statement& s) {
                row = read(s);
                return false;
            },
            args...
        );
        return row;
    }

    // FindFirst with one text parameter, `key`.
    template <typename Read>
    auto FindOne(const std::string& sql, std::string_view key, Read read) {
        return FindFirst(sql, read, key);
    }

protected:
    // Applies the migrations the database has not recorded, in version order, in one write
    // transaction (so two instances starting at once apply each once).
    void Migrate();

private:
    // Begins (a write transaction when `writes`), work, COMMIT on this thread's connection;
    // ROLLBACK when work throws.
    void RunIn(bool writes, const std::function<void()>& work);
    std::unique_ptr<Connection> Acquire();
    void Release(std::unique_ptr<Connection> connection);

    Engine engine_;
    std::mutex pool_mutex_;
    std::mutex write_mutex_;  // one write transaction of this process at a time (RunIn)
    std::vector<std::unique_ptr<Connection>> pool_;
    std::unique_ptr<UserStore> users_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CodeStore> codes_;
    std::unique_ptr<NodeStore> nodes_;
    std::unique_ptr<GroupStore> groups_;
    std::unique_ptr<SharingStore> sharing_;
    std::unique_ptr<EventStore> events_;
    std::unique_ptr<JobStore> jobs_;
    std::unique_ptr<TimeSeriesStore> timeseries_;
    std::unique_ptr<CommandStore> commands_;
    std::unique_ptr<AutomationStore> automations_;
    std::unique_ptr<PushStore> push_;
    std::unique_ptr<EventFilterStore> event_filters_;
    std::unique_ptr<WebhookStore> webhooks_;
    std::unique_ptr<OAuthStore> oauth_;
    std::unique_ptr<RbacStore> rbac_;
    std::unique_ptr<TagStore> tags_;
    std::unique_ptr<MatterStore> matter_;
    std::unique_ptr<OtaImageStore> ota_images_;
    std::unique_ptr<OtaUploadStore> ota_uploads_;
    std::unique_ptr<OtaJobStore> ota_jobs_;
    std::unique_ptr<FileStore> files_;
    std::unique_ptr<SigningStore> signing_;
};

// "INSERT INTO table(columns) VALUES (?, ...) ON CONFLICT(key) DO UPDATE SET c = excluded.c"
// for each column not in `key` (comma-separated lists): the row is written whether or not its
// key is there, on every engine (SQLite's INSERT OR REPLACE is not PostgreSQL's).
std::string UpsertSql(std::string_view table, std::string_view columns, std::string_view key);

// The version of `table` kept by the change_counters triggers (SQLite V030): changes with every
// change of its rows, in the changing transaction. Throws when the counter is missing (the
// triggers would be gone with it: a table rebuilt without them must not freeze a cache).
std::int64_t ChangeCounter(SqlDatabase& db, std::string_view table);

}  // namespace rainmaker::storage::sql

// SQLite as the engine of the SQL stores.
#include "storage/sqlite/sqlite_database.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "storage/sqlite/sqlite_connection.hpp"

namespace rainmaker::storage::sqlite {

namespace {

sql::Engine SqliteEngine(const std::filesystem::path& file) {
    return sql::Engine{
        sql::Dialect::kSqlite,
        [file = file.string()] { return std::make_unique<Connection>(file); },
        [](sql::Connection& c, bool writes) {
            // IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot
            // fail with SQLITE_BUSY half-way. DEFERRED: a read transaction, taken at the first
            // read and kept to the end.
            c.Exec(writes ? "BEGIN IMMEDIATE" : "BEGIN");
        },
        &Migrations(),
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
        "NULL, applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"};
}

// The listeners of this process, by file and channel, with the database that registered each.
// Callbacks run under the mutex, so that Unlisten returns only once none is running.
struct Listener {
    std::uint64_t id;
    const SqliteDatabase* owner;
    std::function<void(std::string_view)> on;
};

std::mutex g_listeners_mutex;
std::multimap<std::pair<std::string, std::string>, Listener> g_listeners;
std::uint64_t g_last_listener = 0;

}  // namespace

SqliteDatabase::SqliteDatabase(const std::filesystem::path& file)
    : sql::SqlDatabase(SqliteEngine(file)),
      file_(std::filesystem::absolute(file).lexically_normal().string()) {
    Migrate();
}

SqliteDatabase::~SqliteDatabase() {
    std::lock_guard lock(g_listeners_mutex);
    std::erase_if(g_listeners, [this](const auto& entry) { return entry.second.owner == this; });
}

void SqliteDatabase::Notify(std::string_view channel, std::string_view payload) {
    AfterCommit([key = std::pair{file_, std::string(channel)}, message = std::string(payload)] {
        std::lock_guard lock(g_listeners_mutex);
        const auto [first, last] = g_listeners.equal_range(key);
        for (auto it = first; it != last; ++it) {
            it->second.on(message);
        }
    });
}

std::uint64_t SqliteDatabase::Listen(
    const std::string& channel,
    std::function<void(std::string_view)> on,
    std::function<void()> /*on_gap: nothing is missed within a process*/
) {
    std::lock_guard lock(g_listeners_mutex);
    const auto id = ++g_last_listener;
    g_listeners.emplace(std::pair{file_, channel}, Listener{id, this, std::move(on)});
    return id;
}

void SqliteDatabase::Unlisten(std::uint64_t id) {
    std::lock_guard lock(g_listeners_mutex);
    std::erase_if(g_listeners, [id](const auto& entry) { return entry.second.id == id; });
}

}  // namespace rainmaker::storage::sqlite

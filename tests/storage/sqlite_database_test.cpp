// The SQLite database itself: migrations applied by the versions recorded (a branch merged
// later with a lower number still gets applied), and effects run only after a commit.
#include "storage/sqlite/sqlite_database.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/time_budget.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::sqlite {
namespace {

using sql::CheckMigrations;
using sql::Migration;

bool HasTable(SqliteDatabase& db, const std::string& name) {
    return db.Count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name) ==
           1;
}

// V011 (command-response, another branch) was numbered before V012 (automations) but may be
// merged after it: a database that has V012 must still get V011. Simulated with V010: its
// record and tables removed from a database that has V012, as if it had never been applied.
TEST(SqliteDatabase, AppliesAMigrationBelowTheLatestOneWhenItWasNeverRecorded) {
    testing::TempDir dir;
    const auto file = dir.path() / "db.sqlite";
    {
        SqliteDatabase db(file);
        ASSERT_GE(db.SchemaVersion(), 12);
        ASSERT_TRUE(HasTable(db, "automations"));
        db.Execute("DELETE FROM schema_migrations WHERE version = 10");
        for (const char* table : {"ts_pages", "ts_chunks", "ts_head", "ts_series"}) {
            db.Execute(std::string("DROP TABLE ") + table);
        }
        ASSERT_FALSE(HasTable(db, "ts_series"));
    }
    SqliteDatabase db(file);
    EXPECT_TRUE(HasTable(db, "ts_series"));
    EXPECT_TRUE(HasTable(db, "ts_pages"));
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", 10), 1);
    // Nothing else ran twice (it would have failed on its existing tables).
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", 12), 1);
}

TEST(SqliteDatabase, RefusesADatabaseOfANewerSchemaThanItKnows) {
    testing::TempDir dir;
    const auto file = dir.path() / "db.sqlite";
    {
        SqliteDatabase db(file);
        db.Execute("INSERT INTO schema_migrations(version, name) VALUES (9999, 'from the future')");
    }
    try {
        SqliteDatabase db(file);
        ADD_FAILURE() << "a database of schema 9999 was opened";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 9999, newer than"), std::string::npos)
            << e.what();
    }
}

TEST(SqliteDatabase, RefusesTwoEmbeddedMigrationsOfOneVersion) {
    EXPECT_NO_THROW(CheckMigrations(Migrations(), {}));
    const std::vector<Migration> twice = {
        {1, "accounts", "SELECT 1"}, {11, "commands", "SELECT 1"}, {11, "other", "SELECT 1"}};
    try {
        CheckMigrations(twice, {});
        ADD_FAILURE() << "two migrations V11 were accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("version 11 is embedded twice"), std::string::npos)
            << e.what();
    }
    const std::vector<Migration> known = {{1, "accounts", "SELECT 1"}, {2, "nodes", "SELECT 1"}};
    EXPECT_NO_THROW(CheckMigrations(known, {1, 2}));
    EXPECT_THROW(CheckMigrations(known, {1, 2, 3}), std::runtime_error);
}

// V013 gives command requests that ended before it an end time: their answer, else their
// expiry, else their creation; pending ones stay 0.
TEST(SqliteDatabase, V013DatesTheEndOfCommandRequestsThatHadEnded) {
    testing::TempDir dir;
    const auto file = dir.path() / "db.sqlite";
    {
        SqliteDatabase db(file);
        // Back to V011's table, as a database made before V013.
        db.Execute("DELETE FROM schema_migrations WHERE version = 13");
        db.Execute("DROP INDEX cmd_requests_ended");
        db.Execute("ALTER TABLE cmd_requests DROP COLUMN ended_at");
        db.Execute("CREATE INDEX cmd_requests_created ON cmd_requests(created_at)");
        const char* rows[] = {
            "('a', 'success', 100, 130, 120)",
            "('b', 'timed_out', 100, 130, 0)",
            "('c', 'failure', 100, 0, 0)",
            "('d', 'in_progress', 100, 130, 0)"};
        for (const char* row : rows) {
            db.Execute(
                std::string("INSERT INTO cmd_requests(request_id, node_id, user_id, user_name, "
                            "cmd, role, data_kind, data, status, created_at, expires_at, "
                            "responded_at) SELECT r, 'n', 'u', 'u', 1, 2, 0, '', s, c, e, a FROM "
                            "(SELECT column1 AS r, column2 AS s, column3 AS c, column4 AS e, "
                            "column5 AS a FROM (VALUES ") +
                row + "))"
            );
        }
    }
    SqliteDatabase db(file);
    const auto ended = [&](const char* id) {
        return db.Count(
            "SELECT ended_at FROM cmd_requests WHERE request_id = ?", std::string_view(id)
        );
    };
    EXPECT_EQ(ended("a"), 120);  // answered
    EXPECT_EQ(ended("b"), 130);  // timed out at its expiry
    EXPECT_EQ(ended("c"), 100);  // ended without expiry nor answer: its creation
    EXPECT_EQ(ended("d"), 0);    // pending
}

TEST(SqliteDatabase, AfterCommitEffectsRunOnceTheOutermostTransactionCommitted) {
    testing::TempDir dir;
    SqliteDatabase db(dir.path() / "db.sqlite");
    std::vector<std::string> ran;
    db.Transaction([&] {
        db.AfterCommit([&] { ran.push_back("outer"); });
        db.Transaction([&] { db.AfterCommit([&] { ran.push_back("inner"); }); });
        EXPECT_TRUE(ran.empty());  // a nested transaction joins: nothing has committed yet
    });
    EXPECT_EQ(ran, (std::vector<std::string>{"outer", "inner"}));

    ran.clear();
    EXPECT_THROW(
        db.Transaction([&] {
            db.AfterCommit([&] { ran.push_back("rolled back"); });
            throw std::runtime_error("no");
        }),
        std::runtime_error
    );
    EXPECT_TRUE(ran.empty());

    // Outside a transaction at once; one that throws does not stop the others.
    db.AfterCommit([&] { ran.push_back("now"); });
    EXPECT_EQ(ran, (std::vector<std::string>{"now"}));
    ran.clear();
    db.Transaction([&] {
        db.AfterCommit([] { throw std::runtime_error("effect failed"); });
        db.AfterCommit([&] { ran.push_back("still"); });
    });
    EXPECT_EQ(ran, (std::vector<std::string>{"still"}));
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

namespace rainmaker::storage::sqlite {
namespace {

// A nested Transaction is a savepoint: when it throws, its own writes and effects are undone
// and the enclosing transaction commits the rest — also two levels down, and also when an
// inner level that succeeded belongs to an outer one that failed.
TEST(SqliteDatabase, ANestedTransactionThatFailsUndoesOnlyItsOwnWrites) {
    testing::TempDir dir;
    SqliteDatabase db(dir.path() / "db.sqlite");
    db.Execute("CREATE TABLE t (v TEXT NOT NULL)");
    const auto put = [&](const char* v) { db.Execute("INSERT INTO t(v) VALUES (?)", v); };
    std::vector<std::string> ran;
    db.Transaction([&] {
        put("outer");
        try {
            db.Transaction([&] {
                put("inner, undone");
                db.AfterCommit([&] { ran.push_back("inner effect, dropped"); });
                throw std::runtime_error("inner failed");
            });
        } catch (const std::runtime_error&) {
        }
        db.Transaction([&] {
            put("second");
            try {
                db.Transaction([&] {
                    put("third level, undone");
                    throw std::runtime_error("third failed");
                });
            } catch (const std::runtime_error&) {
            }
            db.AfterCommit([&] { ran.push_back("second effect"); });
        });
        try {
            db.Transaction([&] {
                db.Transaction([&] { put("kept by its own level, undone with its parent"); });
                throw std::runtime_error("parent failed");
            });
        } catch (const std::runtime_error&) {
        }
        put("last");
    });
    db.Snapshot([&] {
        for (const auto* v : {"outer", "second", "last"}) {  // bound as text
            EXPECT_EQ(db.Count("SELECT COUNT(*) FROM t WHERE v = ?", v), 1) << v;
        }
    });
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM t"), 3);
    EXPECT_EQ(ran, (std::vector<std::string>{"second effect"}));
}

// When SQLite rolls the whole transaction back by itself (here: a write interrupted by the time
// budget, inside a nested transaction whose failure the caller catches), nothing more runs in
// it: the writes that follow would otherwise be committed one by one in autocommit mode.
TEST(SqliteDatabase, AfterSqliteRolledTheTransactionBackNothingMoreIsWrittenInIt) {
    testing::TempDir dir;
    SqliteDatabase db(dir.path() / "db.sqlite");
    db.Execute("CREATE TABLE t (v TEXT NOT NULL)");
    const core::SystemClock clock;
    const auto put = [&](const char* v) { db.Execute("INSERT INTO t(v) VALUES (?)", v); };
    EXPECT_THROW(
        db.Transaction([&] {
            put("before");
            try {
                db.Transaction([&] {
                    db.WithTimeBudget(clock, std::chrono::milliseconds(20), [&] {
                        db.Execute(
                            "INSERT INTO t(v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT "
                            "x + 1 FROM c) SELECT 'endless' FROM c"
                        );
                    });
                });
                ADD_FAILURE() << "the endless insert ended";
            } catch (const TimeBudgetSpent&) {
            }
            EXPECT_THROW(put("after, refused"), std::runtime_error);
            EXPECT_THROW(db.Transaction([&] { put("nested after, refused"); }), std::runtime_error);
        }),
        std::runtime_error
    );
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM t"), 0);
    put("a later transaction works");
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM t"), 1);
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

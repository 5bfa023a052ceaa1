// The SQLite store: migrations, users, sessions, codes, transactions.
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::sqlite {
namespace {

UserRow MakeUser(std::string id, std::string name) {
    UserRow u;
    u.user_id = std::move(id);
    u.user_name = std::move(name);
    u.password_hash = "hash";
    u.created_at = 1;
    return u;
}

class SqliteStoreTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
};

TEST_F(SqliteStoreTest, AppliesMigrationsOnceAcrossReopens) {
    const int version = db_.SchemaVersion();
    EXPECT_GE(version, 1);
    const auto again = db_owner_.OpenAgain();
    EXPECT_EQ(again->SchemaVersion(), version);
}

// A key already taken refuses that one insert and nothing else: the transaction around it
// goes on and commits (on PostgreSQL, where a failed statement fails the whole transaction,
// the insert runs in a savepoint).
TEST_F(SqliteStoreTest, ATakenKeyInsideATransactionRefusesOnlyThatInsert) {
    db_.Transaction([&] {
        EXPECT_TRUE(db_.Users().Insert(MakeUser("u1", "a@b.com")));
        EXPECT_FALSE(db_.Users().Insert(MakeUser("u2", "a@b.com")));  // name taken
        EXPECT_TRUE(db_.Users().Insert(MakeUser("u3", "c@d.com")));
        EXPECT_FALSE(db_.Users().Rename("u3", "a@b.com"));
        EXPECT_TRUE(db_.Users().Rename("u3", "e@f.com"));
    });
    EXPECT_TRUE(db_.Users().FindById("u1"));
    EXPECT_FALSE(db_.Users().FindById("u2"));
    ASSERT_TRUE(db_.Users().FindById("u3"));
    EXPECT_EQ(db_.Users().FindById("u3")->user_name, "e@f.com");
}

TEST_F(SqliteStoreTest, InsertsFindsUpdatesAndDeletesUsers) {
    auto u = MakeUser("u1", "a@b.com");
    ASSERT_TRUE(db_.Users().Insert(u));
    EXPECT_FALSE(db_.Users().Insert(MakeUser("u2", "a@b.com")));  // name taken
    u.name = "Alice";
    ASSERT_TRUE(db_.Users().SetProfile(u));
    ASSERT_TRUE(db_.Users().SetCustomData("u1", R"({"k":{"value":1}})"));
    const auto found = db_.Users().FindByName("a@b.com");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "Alice");
    EXPECT_EQ(found->custom_data, R"({"k":{"value":1}})");
    EXPECT_TRUE(db_.Users().FindById("u1"));
    db_.Users().Delete("u1");
    EXPECT_FALSE(db_.Users().FindById("u1"));
    EXPECT_FALSE(db_.Users().SetProfile(u));
    EXPECT_FALSE(db_.Users().SetPassword("u1", "h"));
}

// Each setter writes its own columns only: a writer holding an old copy of the row cannot undo
// what another wrote meanwhile (hardening finding 2).
TEST_F(SqliteStoreTest, UserSettersWriteOnlyTheirOwnColumns) {
    auto stale = MakeUser("u1", "a@b.com");
    ASSERT_TRUE(db_.Users().Insert(stale));
    ASSERT_TRUE(db_.Users().SetCustomData("u1", R"({"k":{"value":1}})"));
    ASSERT_TRUE(db_.Users().SetPublicProfile("u1", R"({"p":1})"));
    ASSERT_TRUE(db_.Users().SetPassword("u1", "new-hash"));
    ASSERT_TRUE(db_.Users().Confirm("u1"));
    stale.name = "Alice";
    stale.tags = R"(["a:b"])";
    ASSERT_TRUE(db_.Users().SetProfile(stale));  // from the copy read before all of the above
    const auto u = db_.Users().FindById("u1");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->custom_data, R"({"k":{"value":1}})");
    EXPECT_EQ(u->public_profile, R"({"p":1})");
    EXPECT_EQ(u->password_hash, "new-hash");
    EXPECT_TRUE(u->confirmed);
    EXPECT_EQ(u->name, "Alice");
    EXPECT_EQ(u->tags, R"(["a:b"])");
    // Signing up again sets the password only while the account is unconfirmed.
    EXPECT_FALSE(db_.Users().SetUnconfirmedPassword("u1", "attacker", 2));
    EXPECT_EQ(db_.Users().FindById("u1")->password_hash, "new-hash");
}

TEST_F(SqliteStoreTest, FindsUsersByVerifiedPhoneOnly) {
    auto u = MakeUser("u1", "a@b.com");
    u.phone_number = "+15551234567";
    db_.Users().Insert(u);
    EXPECT_FALSE(db_.Users().FindByPhone("+15551234567"));
    u.phone_verified = true;
    db_.Users().SetProfile(u);
    EXPECT_EQ(db_.Users().FindByPhone("+15551234567")->user_id, "u1");
    db_.Users().Insert(MakeUser("u2", "+15550000000"));
    EXPECT_EQ(db_.Users().FindByPhone("+15550000000")->user_id, "u2");
}

TEST_F(SqliteStoreTest, DeletingAUserCascadesToSessionsAndCodes) {
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    ASSERT_TRUE(db_.Sessions().Insert(SessionRow{"s1", "u1", "h1", 1, 100, false}, "hash"));
    db_.Codes().Put(CodeRow{"u1", "signup", "c", "", 100, 0});
    db_.Users().Delete("u1");
    EXPECT_FALSE(db_.Sessions().FindById("s1"));
    EXPECT_FALSE(db_.Codes().Find("u1", "signup"));
}

// A login opens its session only over the password it checked (review of #14: a login racing
// a reset must not leave a session the reset did not revoke).
TEST_F(SqliteStoreTest, ASessionOpensOnlyOverThePasswordItsLoginChecked) {
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    ASSERT_TRUE(db_.Users().SetPassword("u1", "new"));
    EXPECT_FALSE(db_.Sessions().Insert(SessionRow{"s1", "u1", "h1", 1, 100, false}, "hash"));
    EXPECT_FALSE(db_.Sessions().FindById("s1"));
    EXPECT_TRUE(db_.Sessions().Insert(SessionRow{"s1", "u1", "h1", 1, 100, false}, "new"));
    // A change replaces only the password it was checked against.
    EXPECT_FALSE(db_.Users().ReplacePassword("u1", "hash", "other"));
    EXPECT_TRUE(db_.Users().ReplacePassword("u1", "new", "other"));
    EXPECT_EQ(db_.Users().FindById("u1")->password_hash, "other");
}

TEST_F(SqliteStoreTest, RevokesSessionsOneByOneOrAll) {
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    ASSERT_TRUE(db_.Sessions().Insert(SessionRow{"s1", "u1", "h1", 1, 100, false}, "hash"));
    ASSERT_TRUE(db_.Sessions().Insert(SessionRow{"s2", "u1", "h2", 1, 100, false}, "hash"));
    db_.Sessions().Revoke("s1");
    EXPECT_TRUE(db_.Sessions().FindById("s1")->revoked);
    EXPECT_EQ(db_.Sessions().RevokeAllForUser("u1"), std::vector<std::string>{"s2"});
    EXPECT_EQ(db_.Sessions().FindByRefreshHash("h2")->session_id, "s2");
    db_.Sessions().DeleteExpired(101);
    EXPECT_FALSE(db_.Sessions().FindById("s1"));
}

TEST_F(SqliteStoreTest, KeepsOneCodePerPurposeAndCountsAttempts) {
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    db_.Codes().Put(CodeRow{"u1", "reset", "c1", "", 100, 0});
    db_.Codes().Put(CodeRow{"u1", "reset", "c2", "", 100, 0});
    EXPECT_EQ(db_.Codes().Find("u1", "reset")->code_hash, "c2");
    EXPECT_EQ(db_.Codes().AddAttempt("u1", "reset"), 1);
    EXPECT_EQ(db_.Codes().AddAttempt("u1", "reset"), 2);
    db_.Codes().Delete("u1", "reset");
    EXPECT_FALSE(db_.Codes().Find("u1", "reset"));
    EXPECT_EQ(db_.Codes().AddAttempt("u1", "reset"), 0);
}

TEST_F(SqliteStoreTest, ASnapshotReadsOneStateWhileOthersCommit) {
    ASSERT_TRUE(db_.Users().Insert(MakeUser("u1", "a@b.com")));
    bool before = false;
    bool inside_after = false;
    db_.Snapshot([&] {
        before = db_.Users().FindById("u2").has_value();
        // Another thread (another connection) commits a new user meanwhile.
        std::thread writer([&] { ASSERT_TRUE(db_.Users().Insert(MakeUser("u2", "c@d.com"))); });
        writer.join();
        inside_after = db_.Users().FindById("u2").has_value();
    });
    EXPECT_FALSE(before);
    EXPECT_FALSE(inside_after);                           // the snapshot does not see it
    EXPECT_TRUE(db_.Users().FindById("u2").has_value());  // afterwards it is there
}

TEST_F(SqliteStoreTest, ATransactionInsideASnapshotIsRefused) {
    bool ran = false;
    EXPECT_THROW(db_.Snapshot([&] { db_.Transaction([&] { ran = true; }); }), std::logic_error);
    EXPECT_FALSE(ran);
    // Snapshots and transactions join their own kind.
    db_.Transaction([&] { db_.Snapshot([&] { ran = true; }); });
    EXPECT_TRUE(ran);
}

TEST_F(SqliteStoreTest, RollsBackATransactionThatThrows) {
    EXPECT_THROW(
        db_.Transaction([&] {
            db_.Users().Insert(MakeUser("u1", "a@b.com"));
            throw std::runtime_error("abort");
        }),
        std::runtime_error
    );
    EXPECT_FALSE(db_.Users().FindById("u1"));
    db_.Transaction([&] { db_.Users().Insert(MakeUser("u1", "a@b.com")); });
    EXPECT_TRUE(db_.Users().FindById("u1"));
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

namespace rainmaker::storage::sqlite {
namespace {

TEST_F(SqliteStoreTest, PresenceOfAnOlderConnectionNeverOverridesANewerOne) {
    NodeRow node;
    node.node_id = "n1";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    EXPECT_TRUE(db_.Nodes().ApplyPresence("n1", true, 100, 1));
    // Fast reconnect: the new connection's event arrives before the old one's disconnect.
    EXPECT_TRUE(db_.Nodes().ApplyPresence("n1", true, 200, 2));
    EXPECT_FALSE(db_.Nodes().ApplyPresence("n1", false, 210, 1));
    EXPECT_TRUE(db_.Nodes().Find("n1")->connected);
    EXPECT_EQ(db_.Nodes().Find("n1")->connectivity_at, 200);
    EXPECT_TRUE(db_.Nodes().ApplyPresence("n1", false, 300, 2));
    EXPECT_FALSE(db_.Nodes().Find("n1")->connected);
    EXPECT_FALSE(db_.Nodes().ApplyPresence("n1", true, 400, 2));  // a replayed connect
    EXPECT_FALSE(db_.Nodes().ApplyPresence("unknown", true, 400, 9));
}

TEST_F(SqliteStoreTest, ResetPresenceMarksConnectedNodesOffline) {
    NodeRow node;
    node.node_id = "n1";
    db_.Nodes().Insert(node);
    node.node_id = "n2";
    db_.Nodes().Insert(node);
    db_.Nodes().ApplyPresence("n1", true, 100, 5);
    db_.Nodes().ApplyPresence("n2", true, 100, 7);
    // A broker run whose events are ordered from 7 on: n1 was reported by an earlier one.
    EXPECT_EQ(db_.Nodes().EndEarlierRuns(500, 7), 1);
    const auto after = db_.Nodes().Find("n1");
    EXPECT_FALSE(after->connected);
    EXPECT_EQ(after->connectivity_at, 500);
    EXPECT_TRUE(db_.Nodes().Find("n2")->connected);
    EXPECT_EQ(db_.Nodes().EndEarlierRuns(600, 7), 0);
    // A late connect of the earlier run (version 6, after n1's 5) changes nothing now.
    EXPECT_FALSE(db_.Nodes().ApplyPresence("n1", true, 550, 6));
    EXPECT_FALSE(db_.Nodes().Find("n1")->connected);
    // The new run's connect does.
    EXPECT_TRUE(db_.Nodes().ApplyPresence("n1", true, 700, 8));
    // Every node offline (EMQX's reset), versions kept.
    EXPECT_EQ(db_.Nodes().ResetPresence(800), 2);
    EXPECT_FALSE(db_.Nodes().Find("n2")->connected);
    EXPECT_TRUE(db_.Nodes().ApplyPresence("n2", true, 900, 8));
}

TEST_F(SqliteStoreTest, MappingsListInNodeOrderFromAStartId) {
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    for (const auto* id : {"c", "a", "b"}) {
        NodeRow node;
        node.node_id = id;
        db_.Nodes().Insert(node);
        db_.Nodes().PutMapping(UserNodeRow{
            "u1",
            id,
            core::ResourceRole::kPrimary,
            "[]",
            "{}",
            "",
            "",
            1,
            core::ResourceRole::kPrimary});
    }
    const auto page = db_.Nodes().ListMappings("u1", "b", 10);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].node_id, "b");
    EXPECT_EQ(page[1].node_id, "c");
    EXPECT_EQ(db_.Nodes().CountMappings("u1"), 3);
    db_.Users().Delete("u1");  // mappings go with the user
    EXPECT_EQ(db_.Nodes().CountMappingsOfNode("a"), 0);
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

namespace rainmaker::storage::sqlite {
namespace {

TEST_F(SqliteStoreTest, EventsAreKeptInOrderPerUser) {
    db_.Events().Append("user_node_sharing_add", "u1", "", R"({"node_id":"n1"})", 10);
    db_.Events().Append("user_node_group_added", "u2", "", R"({"node_id":"n1"})", 11);
    db_.Events().Append("user_node_group_removed", "u1", "", R"({"node_id":"n1"})", 12);
    const auto events = db_.Events().ListForUser("u1", 0, 10);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].event_type, "user_node_sharing_add");
    EXPECT_EQ(events[1].event_type, "user_node_group_removed");
    EXPECT_EQ(db_.Events().ListForUser("u1", events[0].id, 10).size(), 1u);
}

// The planner's caches follow these versions (V030's triggers): every write of a mapping or a
// filter changes them, and a missing counter is an error, not a version that never changes.
TEST_F(SqliteStoreTest, MappingAndFilterVersionsChangeWithEveryWrite) {
    EXPECT_EQ(
        db_.Count(
            rainmaker::testing::OnPostgres()
                ? "SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                  "('user_nodes'::regclass, 'event_filters'::regclass)"
                : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND (tbl_name = "
                  "'user_nodes' OR tbl_name = 'event_filters')"
        ),
        6
    );
    db_.Users().Insert(MakeUser("u1", "a@b.com"));
    NodeRow node;
    node.node_id = "n1";
    db_.Nodes().Insert(node);
    auto version = db_.Nodes().MappingsVersion();
    const auto changed = [&](std::int64_t now) {
        const bool moved = now != version;
        version = now;
        return moved;
    };
    UserNodeRow mapping;
    mapping.user_id = "u1";
    mapping.node_id = "n1";
    db_.Nodes().PutMapping(mapping);
    EXPECT_TRUE(changed(db_.Nodes().MappingsVersion()));
    db_.Nodes().PutMapping(mapping);  // replaced
    EXPECT_TRUE(changed(db_.Nodes().MappingsVersion()));
    db_.Nodes().DeleteMapping("u1", "n1");
    EXPECT_TRUE(changed(db_.Nodes().MappingsVersion()));
    EXPECT_FALSE(changed(db_.Nodes().MappingsVersion()));

    version = db_.EventFilters().Version();
    EventFilterRow filter{"rmaker.event.alert", "Node", "n1", true, "[]", "u1", 1};
    ASSERT_TRUE(db_.EventFilters().Insert(filter));
    EXPECT_TRUE(changed(db_.EventFilters().Version()));
    filter.enabled = false;
    ASSERT_TRUE(db_.EventFilters().Update(filter));
    EXPECT_TRUE(changed(db_.EventFilters().Version()));
    ASSERT_TRUE(db_.EventFilters().Delete(filter.event_type, filter.entity_id));
    EXPECT_TRUE(changed(db_.EventFilters().Version()));

    db_.Execute("DELETE FROM change_counters WHERE name = 'event_filters'");
    EXPECT_THROW(db_.EventFilters().Version(), std::runtime_error);
}

// Users' events are found by the retention index, nodes' events (in no index but their id) by
// the consumers' cursors: both go once old and read, the unread and the newest stay.
TEST_F(SqliteStoreTest, RetentionDeletesReadEventsOfUsersAndNodes) {
    db_.Events().Append("user_node_added", "u1", "n1", "{}", 10);    // 1
    db_.Events().Append("node_params_changed", "", "n1", "{}", 10);  // 2
    db_.Events().Append("node_params_changed", "", "n2", "{}", 10);  // 3
    db_.Events().Append("user_node_removed", "u1", "n1", "{}", 10);  // 4
    db_.Events().Append("node_connected", "", "n1", "{}", 10);       // 5
    db_.Events().Append("node_connected", "", "n1", "{}", 10);       // 6, the newest
    db_.Events().SetCursor("deliveries", 3);
    EXPECT_EQ(db_.Events().ListForUser("", 0, 10).size(), 0u);  // nodes' events have no user
    EXPECT_EQ(db_.Events().DeleteBefore(11), 3);
    std::vector<std::int64_t> left;
    for (const auto& e : db_.Events().ListAfter(0, 10)) {
        left.push_back(e.id);
    }
    EXPECT_EQ(left, (std::vector<std::int64_t>{4, 5, 6}));
    db_.Events().SetCursor("deliveries", 6);
    EXPECT_EQ(db_.Events().DeleteBefore(10), 0);  // not old enough
    EXPECT_EQ(db_.Events().DeleteBefore(11), 2);
    ASSERT_EQ(db_.Events().ListAfter(0, 10).size(), 1u);
    EXPECT_EQ(db_.Events().LastId(), 6);
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

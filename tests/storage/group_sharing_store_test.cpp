// The SQLite store's group sharing, top-level listings, admin groups, node queries, sharing
// request kinds and the direct_role column of V006.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_connection.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/resource_role_print.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::sqlite {
namespace {

using core::ResourceRole;
constexpr auto kPrimary = ResourceRole::kPrimary;
constexpr auto kSecondary = ResourceRole::kSecondary;

UserRow MakeUser(std::string id, std::string name) {
    UserRow u;
    u.user_id = std::move(id);
    u.user_name = std::move(name);
    u.password_hash = "hash";
    u.created_at = 1;
    return u;
}

GroupRow MakeGroup(
    std::string id,
    std::string owner,
    std::string parent = "",
    std::string kind = "user",
    std::string query = ""
) {
    GroupRow g;
    g.group_id = std::move(id);
    g.owner_id = std::move(owner);
    g.group_name = g.group_id;
    g.level = parent.empty() ? 1 : 2;
    g.parent_id = std::move(parent);
    g.kind = std::move(kind);
    g.group_query = std::move(query);
    g.created_at = 1;
    return g;
}

std::vector<std::string> Ids(const std::vector<GroupRow>& groups) {
    std::vector<std::string> ids;
    for (const auto& g : groups) {
        ids.push_back(g.group_id);
    }
    return ids;
}

std::vector<std::string> UsersOf(const std::vector<GroupShareRow>& shares) {
    std::vector<std::string> ids;
    for (const auto& s : shares) {
        ids.push_back(s.user_id);
    }
    return ids;
}

std::vector<std::string> RequestIds(const std::vector<SharingRequestRow>& requests) {
    std::vector<std::string> ids;
    for (const auto& r : requests) {
        ids.push_back(r.request_id);
    }
    return ids;
}

using Strings = std::vector<std::string>;

class GroupSharingStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(db_.Users().Insert(MakeUser("owner", "owner@x.com")));
        ASSERT_TRUE(db_.Users().Insert(MakeUser("alice", "alice@x.com")));
        ASSERT_TRUE(db_.Users().Insert(MakeUser("bob", "bob@x.com")));
    }

    void AddNodeRow(const std::string& id) {
        NodeRow node;
        node.node_id = id;
        ASSERT_TRUE(db_.Nodes().Insert(node));
    }

    void Map(const std::string& user, const std::string& node, ResourceRole role) {
        db_.Nodes().PutMapping(UserNodeRow{user, node, role, "[]", "{}", "", "", 1, role});
    }

    void Share(const std::string& group, const std::string& user, ResourceRole role) {
        db_.Groups().PutShare(GroupShareRow{group, user, role, "{}", 1});
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
};

TEST_F(GroupSharingStoreTest, PutsFindsReplacesAndDeletesShares) {
    db_.Groups().Insert(MakeGroup("g1", "owner"));
    EXPECT_FALSE(db_.Groups().FindShare("g1", "alice"));
    db_.Groups().PutShare(GroupShareRow{"g1", "alice", kSecondary, R"({"a":1})", 20});
    db_.Groups().PutShare(GroupShareRow{"g1", "bob", kPrimary, "{}", 10});

    const auto share = db_.Groups().FindShare("g1", "alice");
    ASSERT_TRUE(share);
    EXPECT_EQ(share->group_id, "g1");
    EXPECT_EQ(share->user_id, "alice");
    EXPECT_EQ(share->role, kSecondary);
    EXPECT_EQ(share->metadata, R"({"a":1})");
    EXPECT_EQ(share->created_at, 20);
    EXPECT_FALSE(db_.Groups().FindShare("g1", "owner"));

    // Oldest first.
    EXPECT_EQ(UsersOf(db_.Groups().SharesOfGroup("g1")), (Strings{"bob", "alice"}));

    // A second put replaces the row (no duplicate), with every column.
    db_.Groups().PutShare(GroupShareRow{"g1", "alice", kPrimary, "{}", 5});
    const auto shares = db_.Groups().SharesOfGroup("g1");
    ASSERT_EQ(shares.size(), 2u);
    EXPECT_EQ(shares[0].user_id, "alice");
    EXPECT_EQ(shares[0].role, kPrimary);
    EXPECT_EQ(shares[0].metadata, "{}");
    EXPECT_EQ(shares[0].created_at, 5);
    EXPECT_EQ(shares[1].user_id, "bob");

    db_.Groups().DeleteShare("g1", "alice");
    EXPECT_FALSE(db_.Groups().FindShare("g1", "alice"));
    EXPECT_TRUE(db_.Groups().FindShare("g1", "bob"));
    EXPECT_EQ(UsersOf(db_.Groups().SharesOfGroup("g1")), (Strings{"bob"}));
    EXPECT_TRUE(db_.Groups().SharesOfGroup("other").empty());
}

TEST_F(GroupSharingStoreTest, DeletingAGroupDeletesItsSharesAndThoseOfItsSubGroups) {
    db_.Groups().Insert(MakeGroup("g1", "owner"));
    db_.Groups().Insert(MakeGroup("g1a", "owner", "g1"));
    db_.Groups().Insert(MakeGroup("g2", "owner"));
    Share("g1", "alice", kSecondary);
    Share("g1a", "bob", kSecondary);
    Share("g2", "alice", kPrimary);

    db_.Groups().Delete("g1");
    EXPECT_FALSE(db_.Groups().Find("g1a"));
    EXPECT_FALSE(db_.Groups().FindShare("g1", "alice"));
    EXPECT_FALSE(db_.Groups().FindShare("g1a", "bob"));
    EXPECT_TRUE(db_.Groups().SharesOfGroup("g1").empty());
    EXPECT_TRUE(db_.Groups().FindShare("g2", "alice"));

    // The share goes with its user too.
    db_.Users().Delete("alice");
    EXPECT_FALSE(db_.Groups().FindShare("g2", "alice"));
}

TEST_F(GroupSharingStoreTest, SharedNodeSourcesGiveEachShareWithItsRoleAndOwner) {
    AddNodeRow("n1");
    db_.Groups().Insert(MakeGroup("g1", "owner"));
    db_.Groups().Insert(MakeGroup("g2", "owner"));
    db_.Groups().AddNode("g1", "n1");
    db_.Groups().AddNode("g2", "n1");
    Share("g1", "alice", kPrimary);
    Share("g2", "alice", kSecondary);

    // The share's own role: what the owner holds is the domain's to weigh.
    const auto sources = db_.Groups().SharedNodeSources("alice", "n1");
    ASSERT_EQ(sources.size(), 2u);
    EXPECT_EQ(sources[0].group_id, "g1");
    EXPECT_EQ(sources[0].role, kPrimary);
    EXPECT_EQ(sources[0].owner_id, "owner");
    EXPECT_EQ(sources[1].group_id, "g2");
    EXPECT_EQ(sources[1].role, kSecondary);

    // Nobody else has a share.
    EXPECT_TRUE(db_.Groups().SharedNodeSources("bob", "n1").empty());
    EXPECT_TRUE(db_.Groups().SharedNodeSources("owner", "n1").empty());
}

TEST_F(GroupSharingStoreTest, SharedNodeSourcesNeedTheNodeInTheGroup) {
    AddNodeRow("n1");
    AddNodeRow("n2");
    db_.Groups().Insert(MakeGroup("g1", "owner"));
    db_.Groups().AddNode("g1", "n1");
    Share("g1", "alice", kPrimary);
    EXPECT_EQ(db_.Groups().SharedNodeSources("alice", "n1").size(), 1u);
    EXPECT_TRUE(db_.Groups().SharedNodeSources("alice", "n2").empty());
    db_.Groups().RemoveNode("g1", "n1");
    EXPECT_TRUE(db_.Groups().SharedNodeSources("alice", "n1").empty());
}

TEST_F(GroupSharingStoreTest, ListTopLevelGivesOwnTopLevelAndSharedGroupsInIdOrder) {
    db_.Groups().Insert(MakeGroup("g1", "alice"));
    db_.Groups().Insert(MakeGroup("g2", "owner"));
    db_.Groups().Insert(MakeGroup("g3", "alice", "g1"));  // own sub-group
    db_.Groups().Insert(MakeGroup("g4", "alice"));
    db_.Groups().Insert(MakeGroup("g5", "bob"));
    db_.Groups().Insert(MakeGroup("g6", "owner"));  // shared with bob only
    db_.Groups().Insert(MakeGroup("g0", "bob"));    // not shared
    Share("g2", "alice", kSecondary);
    Share("g5", "alice", kPrimary);
    Share("g6", "bob", kSecondary);
    Share("g1", "bob", kSecondary);    // alice's own group shared out
    Share("g4", "alice", kSecondary);  // an own group is listed once

    EXPECT_EQ(
        Ids(db_.Groups().ListTopLevel("user", "alice", "", 10)), (Strings{"g1", "g2", "g4", "g5"})
    );
    EXPECT_EQ(db_.Groups().CountTopLevel("user", "alice"), 4);

    // start_id is inclusive; limit cuts the merged list.
    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("user", "alice", "g2", 2)), (Strings{"g2", "g4"}));
    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("user", "alice", "g3", 10)), (Strings{"g4", "g5"}));
    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("user", "alice", "", 1)), (Strings{"g1"}));
    EXPECT_TRUE(db_.Groups().ListTopLevel("user", "alice", "g6", 10).empty());

    EXPECT_EQ(
        Ids(db_.Groups().ListTopLevel("user", "bob", "", 10)), (Strings{"g0", "g1", "g5", "g6"})
    );
    EXPECT_EQ(db_.Groups().CountTopLevel("user", "bob"), 4);
    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("user", "owner", "", 10)), (Strings{"g2", "g6"}));
    EXPECT_EQ(db_.Groups().CountTopLevel("user", "owner"), 2);
}

TEST_F(GroupSharingStoreTest, ListTopLevelKeepsAdminAndUserGroupsApart) {
    db_.Groups().Insert(MakeGroup("a1", "alice", "", "admin"));
    db_.Groups().Insert(MakeGroup("a2", "alice", "a1", "admin"));  // admin sub-group
    db_.Groups().Insert(MakeGroup("a3", "owner", "", "admin"));
    db_.Groups().Insert(MakeGroup("u1", "alice"));
    db_.Groups().Insert(MakeGroup("u2", "owner"));
    Share("a3", "alice", kSecondary);
    Share("u2", "alice", kSecondary);

    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("user", "alice", "", 10)), (Strings{"u1", "u2"}));
    EXPECT_EQ(db_.Groups().CountTopLevel("user", "alice"), 2);
    EXPECT_EQ(Ids(db_.Groups().ListTopLevel("admin", "alice", "", 10)), (Strings{"a1", "a3"}));
    EXPECT_EQ(db_.Groups().CountTopLevel("admin", "alice"), 2);
    EXPECT_TRUE(db_.Groups().ListTopLevel("admin", "bob", "", 10).empty());
    EXPECT_EQ(db_.Groups().CountTopLevel("admin", "bob"), 0);
}

TEST_F(GroupSharingStoreTest, SetOwnerMovesTheGroupAndItsSubGroupsOnly) {
    db_.Groups().Insert(MakeGroup("t1", "owner"));
    db_.Groups().Insert(MakeGroup("t1a", "owner", "t1"));
    auto leaf = MakeGroup("t1a1", "owner", "t1a");
    leaf.level = 3;
    db_.Groups().Insert(leaf);
    db_.Groups().Insert(MakeGroup("t1b", "owner", "t1"));
    db_.Groups().Insert(MakeGroup("t2", "owner"));
    db_.Groups().Insert(MakeGroup("t2a", "owner", "t2"));

    db_.Groups().SetOwner("t1", "alice");
    for (const auto* id : {"t1", "t1a", "t1a1", "t1b"}) {
        EXPECT_EQ(db_.Groups().Find(id)->owner_id, "alice") << id;
    }
    EXPECT_EQ(db_.Groups().Find("t2")->owner_id, "owner");
    EXPECT_EQ(db_.Groups().Find("t2a")->owner_id, "owner");

    // From the middle of a tree: that branch, not its parent or sibling.
    db_.Groups().SetOwner("t1a", "bob");
    EXPECT_EQ(db_.Groups().Find("t1")->owner_id, "alice");
    EXPECT_EQ(db_.Groups().Find("t1b")->owner_id, "alice");
    EXPECT_EQ(db_.Groups().Find("t1a")->owner_id, "bob");
    EXPECT_EQ(db_.Groups().Find("t1a1")->owner_id, "bob");
    // The tree itself is unchanged.
    EXPECT_EQ(db_.Groups().Find("t1a1")->parent_id, "t1a");
    EXPECT_EQ(db_.Groups().Find("t1a")->parent_id, "t1");
}

TEST_F(GroupSharingStoreTest, ListByQueryGivesTheOwnersAdminGroupsOfExactlyThatQuery) {
    const std::string query = R"({"node_type":"light"})";
    db_.Groups().Insert(MakeGroup("q2", "alice", "", "admin", query));
    db_.Groups().Insert(MakeGroup("q1", "alice", "", "admin", query));
    db_.Groups().Insert(MakeGroup("q3", "alice", "", "admin", R"({"node_type":"lights"})"));
    db_.Groups().Insert(MakeGroup("q4", "alice", "", "user", query));  // not admin
    db_.Groups().Insert(MakeGroup("q5", "bob", "", "admin", query));   // someone else's
    db_.Groups().Insert(MakeGroup("q6", "alice", "", "admin"));        // listed nodes

    EXPECT_EQ(Ids(db_.Groups().ListByQuery("alice", query)), (Strings{"q1", "q2"}));
    EXPECT_EQ(Ids(db_.Groups().ListByQuery("bob", query)), (Strings{"q5"}));
    EXPECT_TRUE(db_.Groups().ListByQuery("owner", query).empty());
    EXPECT_EQ(db_.Groups().Find("q1")->group_query, query);
    EXPECT_EQ(db_.Groups().Find("q1")->kind, "admin");
}

TEST_F(GroupSharingStoreTest, FindByNameIsScopedByKindOwnerAndParent) {
    auto user_home = MakeGroup("gu", "alice");
    user_home.group_name = "Home";
    auto admin_home = MakeGroup("ga", "alice", "", "admin");
    admin_home.group_name = "Home";
    auto room = MakeGroup("gr", "alice", "gu");
    room.group_name = "Home";
    db_.Groups().Insert(user_home);
    db_.Groups().Insert(admin_home);
    db_.Groups().Insert(room);

    EXPECT_EQ(db_.Groups().FindByName("user", "alice", "", "Home")->group_id, "gu");
    EXPECT_EQ(db_.Groups().FindByName("admin", "alice", "", "Home")->group_id, "ga");
    EXPECT_EQ(db_.Groups().FindByName("user", "alice", "gu", "Home")->group_id, "gr");
    EXPECT_FALSE(db_.Groups().FindByName("admin", "alice", "gu", "Home"));
    EXPECT_FALSE(db_.Groups().FindByName("user", "bob", "", "Home"));
    EXPECT_FALSE(db_.Groups().FindByName("user", "alice", "", "Office"));
}

TEST_F(GroupSharingStoreTest, GroupsOfNodeIsScopedByKindAndOwner) {
    db_.Groups().Insert(MakeGroup("u1", "alice"));
    db_.Groups().Insert(MakeGroup("u2", "alice"));
    db_.Groups().Insert(MakeGroup("a1", "alice", "", "admin"));
    db_.Groups().Insert(MakeGroup("b1", "bob"));
    db_.Groups().AddNode("u1", "n1");
    db_.Groups().AddNode("u2", "n2");
    db_.Groups().AddNode("a1", "n1");
    db_.Groups().AddNode("b1", "n1");

    EXPECT_EQ(Ids(db_.Groups().GroupsOfNode("user", "alice", "n1")), (Strings{"u1"}));
    EXPECT_EQ(Ids(db_.Groups().GroupsOfNode("admin", "alice", "n1")), (Strings{"a1"}));
    EXPECT_EQ(Ids(db_.Groups().GroupsOfNode("user", "bob", "n1")), (Strings{"b1"}));
    EXPECT_EQ(Ids(db_.Groups().GroupsOfNode("user", "alice", "n2")), (Strings{"u2"}));
    EXPECT_TRUE(db_.Groups().GroupsOfNode("admin", "alice", "n2").empty());
    EXPECT_TRUE(db_.Groups().GroupsOfNode("user", "owner", "n1").empty());
}

TEST_F(GroupSharingStoreTest, RemoveNodeFromUserGroupsLeavesAdminGroupsAlone) {
    db_.Groups().Insert(MakeGroup("u1", "alice"));
    db_.Groups().Insert(MakeGroup("u1a", "alice", "u1"));
    db_.Groups().Insert(MakeGroup("b1", "bob"));
    db_.Groups().Insert(MakeGroup("a1", "alice", "", "admin"));
    for (const auto* group : {"u1", "u1a", "b1", "a1"}) {
        db_.Groups().AddNode(group, "n1");
    }
    db_.Groups().AddNode("u1", "n2");

    db_.Groups().RemoveNodeFromUserGroups("n1");
    EXPECT_EQ(db_.Groups().Nodes("u1"), (Strings{"n2"}));
    EXPECT_TRUE(db_.Groups().Nodes("u1a").empty());
    EXPECT_TRUE(db_.Groups().Nodes("b1").empty());
    EXPECT_EQ(db_.Groups().Nodes("a1"), (Strings{"n1"}));
}

TEST_F(GroupSharingStoreTest, NodeIdsMatchingTreatsAnEmptyArgumentAsAny) {
    struct Spec {
        const char* id;
        const char* type;
        const char* model;
        const char* fw;
    };

    for (const auto& s : {
             Spec{"n3", "light", "m1", "1.0"},
             Spec{"n1", "light", "m2", "1.0"},
             Spec{"n4", "light", "m1", "2.0"},
             Spec{"n2", "switch", "m1", "1.0"},
         }) {
        AddNodeRow(s.id);
        db_.Nodes().PutConfig(s.id, "{}", s.type, s.model, s.fw);
    }
    AddNodeRow("n5");  // never reported a config

    auto& nodes = db_.Nodes();
    EXPECT_EQ(nodes.NodeIdsMatching("", "", ""), (Strings{"n1", "n2", "n3", "n4", "n5"}));
    EXPECT_EQ(nodes.NodeIdsMatching("light", "", ""), (Strings{"n1", "n3", "n4"}));
    EXPECT_EQ(nodes.NodeIdsMatching("light", "m1", ""), (Strings{"n3", "n4"}));
    EXPECT_EQ(nodes.NodeIdsMatching("light", "m1", "1.0"), (Strings{"n3"}));
    EXPECT_EQ(nodes.NodeIdsMatching("", "m1", ""), (Strings{"n2", "n3", "n4"}));
    EXPECT_EQ(nodes.NodeIdsMatching("", "", "1.0"), (Strings{"n1", "n2", "n3"}));
    EXPECT_EQ(nodes.NodeIdsMatching("", "m1", "2.0"), (Strings{"n4"}));
    EXPECT_TRUE(nodes.NodeIdsMatching("switch", "m2", "").empty());
    EXPECT_TRUE(nodes.NodeIdsMatching("fan", "", "").empty());
}

TEST_F(GroupSharingStoreTest, SharingListKeepsNodeAndGroupRequestsApart) {
    auto put = [&](const char* id, const char* from, const char* to, const char* kind) {
        SharingRequestRow r;
        r.request_id = id;
        r.from_user = from;
        r.to_user = to;
        r.kind = kind;
        r.status = "pending";
        r.created_at = 1;
        db_.Sharing().Put(r);
    };
    put("r1", "alice", "bob", "node");
    put("r2", "alice", "bob", "group");
    put("r3", "alice", "bob", "node");
    put("r4", "bob", "alice", "group");

    auto& sharing = db_.Sharing();
    EXPECT_EQ(RequestIds(sharing.List("node", "alice", true, "", 10)), (Strings{"r1", "r3"}));
    EXPECT_EQ(RequestIds(sharing.List("group", "alice", true, "", 10)), (Strings{"r2"}));
    EXPECT_EQ(RequestIds(sharing.List("group", "alice", false, "", 10)), (Strings{"r4"}));
    EXPECT_TRUE(sharing.List("node", "alice", false, "", 10).empty());
    EXPECT_EQ(RequestIds(sharing.List("node", "bob", false, "", 10)), (Strings{"r1", "r3"}));
    EXPECT_EQ(RequestIds(sharing.List("group", "bob", false, "", 10)), (Strings{"r2"}));
    EXPECT_EQ(RequestIds(sharing.List("group", "bob", true, "", 10)), (Strings{"r4"}));
    // start_id is inclusive and the limit applies within the kind.
    EXPECT_EQ(RequestIds(sharing.List("node", "bob", false, "r2", 10)), (Strings{"r3"}));
    EXPECT_EQ(RequestIds(sharing.List("node", "alice", true, "", 1)), (Strings{"r1"}));
    EXPECT_EQ(sharing.Find("r2")->kind, "group");
    EXPECT_EQ(sharing.Find("r1")->kind, "node");
}

TEST_F(GroupSharingStoreTest, MappingsRoundTripTheirDirectRole) {
    AddNodeRow("n1");
    AddNodeRow("n2");
    db_.Nodes().PutMapping(UserNodeRow{
        "alice", "n1", kSecondary, "[]", "{}", "", "", 1, std::nullopt});
    db_.Nodes().PutMapping(UserNodeRow{"alice", "n2", kPrimary, "[]", "{}", "", "", 1, kPrimary});
    db_.Nodes().PutMapping(UserNodeRow{"bob", "n1", kPrimary, "[]", "{}", "", "", 1, kSecondary});

    const auto groups_only = db_.Nodes().FindMapping("alice", "n1");
    ASSERT_TRUE(groups_only);
    EXPECT_EQ(groups_only->direct_role, std::nullopt);
    EXPECT_EQ(groups_only->role, kSecondary);
    const auto direct = db_.Nodes().FindMapping("alice", "n2");
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->direct_role, kPrimary);
    EXPECT_EQ(direct->role, kPrimary);
    const auto mixed = db_.Nodes().FindMapping("bob", "n1");
    ASSERT_TRUE(mixed);
    EXPECT_EQ(mixed->direct_role, kSecondary);
    EXPECT_EQ(mixed->role, kPrimary);

    const auto listed = db_.Nodes().ListMappings("alice", "", 10);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].direct_role, std::nullopt);
    EXPECT_EQ(listed[1].direct_role, kPrimary);
}

// A database made before V006: its mappings were all direct, so direct_role takes their role.
TEST(GroupSharingMigrationTest, V006CopiesTheRoleOfExistingMappingsIntoDirectRole) {
    testing::TempDir dir;
    const auto file = dir.path() / "old.sqlite";
    {
        Connection c(file.string());
        c.Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name "
            "TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"
        );
        int applied = 0;
        for (const auto& m : Migrations()) {
            if (m.version > 5) {
                continue;
            }
            c.Exec(std::string(m.sql));
            c.Prepare("INSERT INTO schema_migrations(version, name) VALUES (?, ?)")
                .Bind(1, m.version)
                .Bind(2, m.name)
                .Run();
            ++applied;
        }
        ASSERT_EQ(applied, 5);
        c.Exec(
            "INSERT INTO users(user_id, user_name, password_hash, created_at) VALUES "
            "('u1', 'a@b.com', 'h', 1), ('u2', 'c@d.com', 'h', 1);"
            "INSERT INTO nodes(node_id, created_at) VALUES ('n1', 1), ('n2', 1);"
            "INSERT INTO user_nodes(user_id, node_id, role, created_at) VALUES "
            "('u1', 'n1', 'primary', 1), ('u2', 'n1', 'secondary', 1), "
            "('u1', 'n2', 'secondary', 1);"
        );
    }

    SqliteDatabase db(file);
    EXPECT_GE(db.SchemaVersion(), 6);
    const auto a = db.Nodes().FindMapping("u1", "n1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->role, kPrimary);
    EXPECT_EQ(a->direct_role, kPrimary);
    const auto b = db.Nodes().FindMapping("u2", "n1");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->role, kSecondary);
    EXPECT_EQ(b->direct_role, kSecondary);
    const auto c = db.Nodes().FindMapping("u1", "n2");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->direct_role, kSecondary);
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

// Where a user's access to a node comes from (domain/nodes/node_access), over the SQLite store:
// the direct role, groups shared with the user, the best of them, and the ripple when access
// is lost.
#include "domain/nodes/node_access.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/resource_role_print.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::nodes {
namespace {

using core::ResourceRole;
using storage::GroupRow;
using storage::GroupShareRow;
using storage::NodeRow;
using storage::UserNodeRow;
using storage::UserRow;
using Strings = std::vector<std::string>;

constexpr std::int64_t kNow = 100;
constexpr auto kPrimary = ResourceRole::kPrimary;
constexpr auto kSecondary = ResourceRole::kSecondary;

class NodeAccessTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"owner", "alice", "bob", "carol"}) {
            UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        for (const auto* node : {"n1", "n2"}) {
            NodeRow n;
            n.node_id = node;
            ASSERT_TRUE(db_.Nodes().Insert(n));
        }
    }

    void AddUser(const std::string& user) {
        UserRow u;
        u.user_id = user;
        u.user_name = user + "@x.com";
        u.password_hash = "hash";
        u.created_at = 1;
        ASSERT_TRUE(db_.Users().Insert(u));
    }

    void Group(const std::string& id, const std::string& owner, const std::string& kind = "user") {
        GroupRow g;
        g.group_id = id;
        g.owner_id = owner;
        g.group_name = id;
        g.kind = kind;
        g.created_at = 1;
        db_.Groups().Insert(g);
    }

    void Share(const std::string& group, const std::string& user, ResourceRole role) {
        db_.Groups().PutShare(GroupShareRow{group, user, role, "{}", 1});
    }

    // What the group service does: the node goes in, then the share holders are recomputed.
    void AddToGroup(const std::string& group, const std::string& node) {
        db_.Groups().AddNode(group, node);
        SyncGroupShares(db_, group, {node}, kNow);
    }

    void RemoveFromGroup(const std::string& group, const std::string& node) {
        db_.Groups().RemoveNode(group, node);
        SyncGroupShares(db_, group, {node}, kNow);
    }

    std::optional<UserNodeRow> Mapping(const std::string& user, const std::string& node) {
        return db_.Nodes().FindMapping(user, node);
    }

    // The effective role, nullopt without a mapping.
    std::optional<ResourceRole> Role(const std::string& user, const std::string& node) {
        const auto m = Mapping(user, node);
        return m ? std::optional(m->role) : std::nullopt;
    }

    bool Holds(const std::string& group, const std::string& node) {
        const auto nodes = db_.Groups().Nodes(group);
        return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
};

TEST_F(NodeAccessTest, DirectRoleAloneSetsChangesAndRemovesTheMapping) {
    SetDirectRole(db_, "alice", "n1", kSecondary, kNow);
    auto m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kSecondary);
    EXPECT_EQ(m->direct_role, kSecondary);
    EXPECT_EQ(m->created_at, kNow);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"NODE"}));

    SetDirectRole(db_, "alice", "n1", kPrimary, kNow + 1);
    m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kPrimary);
    EXPECT_EQ(m->direct_role, kPrimary);
    EXPECT_EQ(m->created_at, kNow);  // the same mapping

    SetDirectRole(db_, "alice", "n1", std::nullopt, kNow + 2);
    EXPECT_FALSE(Mapping("alice", "n1"));
    EXPECT_TRUE(AccessSources(db_, "alice", "n1").empty());

    // Clearing a role nobody has creates nothing.
    SetDirectRole(db_, "bob", "n1", std::nullopt, kNow);
    EXPECT_FALSE(Mapping("bob", "n1"));
    // Other users and nodes are untouched.
    SetDirectRole(db_, "alice", "n2", kPrimary, kNow);
    SetDirectRole(db_, "bob", "n2", kSecondary, kNow);
    SetDirectRole(db_, "alice", "n2", std::nullopt, kNow);
    EXPECT_EQ(Role("bob", "n2"), kSecondary);
}

TEST_F(NodeAccessTest, GroupOnlyAccessFollowsTheNodeInAndOutOfASharedGroup) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kSecondary);

    AddToGroup("g1", "n1");
    const auto m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kSecondary);
    EXPECT_EQ(m->direct_role, std::nullopt);
    EXPECT_EQ(m->created_at, kNow);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"g1"}));
    EXPECT_FALSE(Mapping("bob", "n1"));  // no share
    EXPECT_EQ(Role("owner", "n1"), kPrimary);

    RemoveFromGroup("g1", "n1");
    EXPECT_FALSE(Mapping("alice", "n1"));
    EXPECT_TRUE(AccessSources(db_, "alice", "n1").empty());
    EXPECT_EQ(Role("owner", "n1"), kPrimary);
}

TEST_F(NodeAccessTest, SharingAnExistingGroupGivesAccessOnSync) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    AddToGroup("g1", "n1");
    EXPECT_FALSE(Mapping("alice", "n1"));  // not shared yet

    Share("g1", "alice", kPrimary);
    SyncAccess(db_, "alice", "n1", kNow);
    EXPECT_EQ(Role("alice", "n1"), kPrimary);

    db_.Groups().DeleteShare("g1", "alice");
    SyncAccess(db_, "alice", "n1", kNow);
    EXPECT_FALSE(Mapping("alice", "n1"));
}

TEST_F(NodeAccessTest, EffectiveRoleIsTheBestOfDirectAndGroupRoles) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kPrimary);
    SetDirectRole(db_, "alice", "n1", kSecondary, kNow);
    EXPECT_EQ(Role("alice", "n1"), kSecondary);

    AddToGroup("g1", "n1");
    auto m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kPrimary);
    EXPECT_EQ(m->direct_role, kSecondary);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"NODE", "g1"}));

    // Without the direct role the group alone still gives primary.
    SetDirectRole(db_, "alice", "n1", std::nullopt, kNow);
    m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kPrimary);
    EXPECT_EQ(m->direct_role, std::nullopt);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"g1"}));

    // Back to direct secondary, then the group goes: secondary remains.
    SetDirectRole(db_, "alice", "n1", kSecondary, kNow);
    EXPECT_EQ(Role("alice", "n1"), kPrimary);
    RemoveFromGroup("g1", "n1");
    m = Mapping("alice", "n1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->role, kSecondary);
    EXPECT_EQ(m->direct_role, kSecondary);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"NODE"}));
}

TEST_F(NodeAccessTest, ADirectPrimaryIsNotLoweredByASecondaryGroup) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kSecondary);
    SetDirectRole(db_, "alice", "n1", kPrimary, kNow);
    AddToGroup("g1", "n1");
    EXPECT_EQ(Role("alice", "n1"), kPrimary);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"NODE", "g1"}));
}

TEST_F(NodeAccessTest, AGroupGivesPrimaryOnlyWhileItsOwnerIsPrimary) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kPrimary);
    Group("g2", "owner");
    Share("g2", "bob", kSecondary);
    AddToGroup("g1", "n1");
    AddToGroup("g2", "n1");
    EXPECT_EQ(Role("alice", "n1"), kPrimary);
    EXPECT_EQ(Role("bob", "n1"), kSecondary);  // a secondary share stays secondary

    SetDirectRole(db_, "owner", "n1", kSecondary, kNow);
    EXPECT_EQ(Role("owner", "n1"), kSecondary);
    EXPECT_EQ(Role("alice", "n1"), kSecondary);
    EXPECT_EQ(Role("bob", "n1"), kSecondary);

    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    EXPECT_EQ(Role("alice", "n1"), kPrimary);
    EXPECT_EQ(Role("bob", "n1"), kSecondary);
}

TEST_F(NodeAccessTest, AGroupOwnersDemotionRipplesDownAChainOfShares) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kPrimary);
    AddToGroup("g1", "n1");
    Group("ga", "alice");
    Share("ga", "bob", kPrimary);
    AddToGroup("ga", "n1");
    ASSERT_EQ(Role("alice", "n1"), kPrimary);
    ASSERT_EQ(Role("bob", "n1"), kPrimary);

    SetDirectRole(db_, "owner", "n1", kSecondary, kNow);
    EXPECT_EQ(Role("alice", "n1"), kSecondary);
    EXPECT_EQ(Role("bob", "n1"), kSecondary);
    EXPECT_TRUE(Holds("ga", "n1"));  // a lower role keeps the node in the groups
}

TEST_F(NodeAccessTest, LosingAllAccessRipplesThroughTheUsersOwnGroups) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kSecondary);
    AddToGroup("g1", "n1");
    ASSERT_EQ(Role("alice", "n1"), kSecondary);

    // alice puts n1 (and her own n2) into her group and shares it with bob; bob does the same
    // for carol.
    SetDirectRole(db_, "alice", "n2", kPrimary, kNow);
    Group("ga", "alice");
    Share("ga", "bob", kSecondary);
    AddToGroup("ga", "n1");
    AddToGroup("ga", "n2");
    Group("gb", "bob");
    Share("gb", "carol", kSecondary);
    AddToGroup("gb", "n1");
    ASSERT_EQ(Role("bob", "n1"), kSecondary);
    ASSERT_EQ(Role("bob", "n2"), kSecondary);
    ASSERT_EQ(Role("carol", "n1"), kSecondary);

    // An admin group of alice's is not a sharing source and keeps the node.
    Group("adm", "alice", "admin");
    db_.Groups().AddNode("adm", "n1");

    RemoveFromGroup("g1", "n1");
    EXPECT_FALSE(Mapping("alice", "n1"));
    EXPECT_FALSE(Holds("ga", "n1"));
    EXPECT_TRUE(Holds("ga", "n2"));
    EXPECT_FALSE(Mapping("bob", "n1"));
    EXPECT_FALSE(Holds("gb", "n1"));
    EXPECT_FALSE(Mapping("carol", "n1"));
    EXPECT_TRUE(Holds("adm", "n1"));
    // What came from elsewhere stays.
    EXPECT_EQ(Role("owner", "n1"), kPrimary);
    EXPECT_EQ(Role("alice", "n2"), kPrimary);
    EXPECT_EQ(Role("bob", "n2"), kSecondary);
}

TEST_F(NodeAccessTest, AnOwnerLosingTheNodeTakesItOutOfTheirSharedGroups) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    SetDirectRole(db_, "owner", "n2", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kPrimary);
    AddToGroup("g1", "n1");
    AddToGroup("g1", "n2");
    ASSERT_EQ(Role("alice", "n1"), kPrimary);

    SetDirectRole(db_, "owner", "n1", std::nullopt, kNow);
    EXPECT_FALSE(Mapping("owner", "n1"));
    EXPECT_EQ(db_.Groups().Nodes("g1"), (Strings{"n2"}));
    EXPECT_FALSE(Mapping("alice", "n1"));
    EXPECT_EQ(Role("alice", "n2"), kPrimary);
}

TEST_F(NodeAccessTest, AUserWithAnotherSourceKeepsTheNodeAndTheirGroups) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kSecondary);
    Group("g2", "owner");
    Share("g2", "alice", kSecondary);
    AddToGroup("g1", "n1");
    AddToGroup("g2", "n1");
    Group("ga", "alice");
    Share("ga", "bob", kSecondary);
    AddToGroup("ga", "n1");

    RemoveFromGroup("g1", "n1");
    EXPECT_EQ(Role("alice", "n1"), kSecondary);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"g2"}));
    EXPECT_TRUE(Holds("ga", "n1"));
    EXPECT_EQ(Role("bob", "n1"), kSecondary);
}

TEST_F(NodeAccessTest, AccessSourcesNameNodeFirstThenGroupsInIdOrder) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    SetDirectRole(db_, "bob", "n1", kSecondary, kNow);
    Group("gz", "owner");
    Share("gz", "alice", kSecondary);
    AddToGroup("gz", "n1");
    Group("gm", "bob");
    Share("gm", "alice", kSecondary);
    AddToGroup("gm", "n1");
    Group("ga", "owner");  // shared, but does not hold n1
    Share("ga", "alice", kPrimary);
    AddToGroup("ga", "n2");

    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"gm", "gz"}));
    SetDirectRole(db_, "alice", "n1", kSecondary, kNow);
    EXPECT_EQ(AccessSources(db_, "alice", "n1"), (Strings{"NODE", "gm", "gz"}));
    EXPECT_TRUE(AccessSources(db_, "carol", "n1").empty());
    EXPECT_EQ(AccessSources(db_, "owner", "n1"), (Strings{"NODE"}));
}

// Two users sharing their groups with each other must not keep a node alive between them once
// its real source is gone. Reachable through the API: the groups are shared while empty (the
// "primary on every node" check passes), then each adds n1, which needs only a mapping.
TEST_F(NodeAccessTest, MutuallySharedGroupsDoNotKeepLostAccessAlive) {
    // Alice and Bob share groups holding n1 with each other: once g1 no longer gives it,
    // neither may keep it through the other.
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kSecondary);
    AddToGroup("g1", "n1");
    Group("ga", "alice");
    Share("ga", "bob", kSecondary);
    AddToGroup("ga", "n1");
    Group("gb", "bob");
    Share("gb", "alice", kSecondary);
    AddToGroup("gb", "n1");
    ASSERT_EQ(Role("alice", "n1"), kSecondary);
    ASSERT_EQ(Role("bob", "n1"), kSecondary);

    RemoveFromGroup("g1", "n1");
    EXPECT_FALSE(Mapping("alice", "n1"));
    EXPECT_FALSE(Mapping("bob", "n1"));
}

// The same cycle with primary shares: the owner's demotion must reach both users.
TEST_F(NodeAccessTest, MutuallySharedGroupsDoNotKeepALostPrimaryAlive) {
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g1", "owner");
    Share("g1", "alice", kPrimary);
    AddToGroup("g1", "n1");
    Group("ga", "alice");
    Share("ga", "bob", kPrimary);
    AddToGroup("ga", "n1");
    Group("gb", "bob");
    Share("gb", "alice", kPrimary);
    AddToGroup("gb", "n1");
    ASSERT_EQ(Role("alice", "n1"), kPrimary);
    ASSERT_EQ(Role("bob", "n1"), kPrimary);

    SetDirectRole(db_, "owner", "n1", kSecondary, kNow);
    EXPECT_EQ(Role("alice", "n1"), kSecondary);
    EXPECT_EQ(Role("bob", "n1"), kSecondary);
}

// A chain longer than any recursion bound: user k shares a group holding n1 with user k+1.
// The whole chain has the node, and loses it when the first user does.
TEST_F(NodeAccessTest, ALongChainOfSharesGivesAndTakesTheNodeToItsEnd) {
    constexpr int kLength = 24;
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    std::string previous = "owner";
    for (int i = 0; i < kLength; ++i) {
        const std::string user = "chain" + std::to_string(i);
        AddUser(user);
        const std::string group = "g-" + previous;
        Group(group, previous);
        Share(group, user, kPrimary);
        AddToGroup(group, "n1");
        ASSERT_EQ(Role(user, "n1"), kPrimary) << user;
        previous = user;
    }
    SetDirectRole(db_, "owner", "n1", std::nullopt, kNow);
    for (int i = 0; i < kLength; ++i) {
        EXPECT_FALSE(Mapping("chain" + std::to_string(i), "n1")) << i;
    }
}

// Every pair of k users shares a group holding n1 with each other as secondary: the number of
// paths grows as k!, the work of one recomputation must not.
TEST_F(NodeAccessTest, ADenseWebOfSharesIsSettledWithoutExploringEveryPath) {
    constexpr int kUsers = 12;
    SetDirectRole(db_, "owner", "n1", kPrimary, kNow);
    Group("g-owner", "owner");
    std::vector<std::string> users;
    for (int i = 0; i < kUsers; ++i) {
        users.push_back("web" + std::to_string(i));
        AddUser(users.back());
        Group("g-" + users.back(), users.back());
    }
    for (const auto& from : users) {
        for (const auto& to : users) {
            if (from != to) {
                Share("g-" + from, to, kSecondary);
            }
        }
    }
    Share("g-owner", users[0], kPrimary);
    AddToGroup("g-owner", "n1");
    for (const auto& user : users) {
        AddToGroup("g-" + user, "n1");
    }
    EXPECT_EQ(Role(users[0], "n1"), kPrimary);
    EXPECT_EQ(Role(users[kUsers - 1], "n1"), kSecondary);
    RemoveFromGroup("g-owner", "n1");
    for (const auto& user : users) {
        EXPECT_FALSE(Mapping(user, "n1")) << user;
    }
}

}  // namespace
}  // namespace rainmaker::domain::nodes

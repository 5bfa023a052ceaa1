// Resource roles in their SQLite columns: written as their names ("" where a role may be
// absent), read back as the same role, and any other stored text refused loudly (an internal
// error), never read as some role.
#include "storage/sql/stored_role.hpp"

#include <functional>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/nodes/node_access.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/resource_role_print.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::sql {
namespace {

using core::ResourceRole;

// The code an ApiError carries, or nullopt when `fn` throws none.
std::optional<core::ErrorCode> CodeOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const core::ApiError& e) {
        return e.code();
    }
    return std::nullopt;
}

TEST(StoredRole, ReadsTheNamesAndRefusesEverythingElse) {
    EXPECT_EQ(StoredRole("primary", "t.c"), ResourceRole::kPrimary);
    EXPECT_EQ(StoredRole("secondary", "t.c"), ResourceRole::kSecondary);
    EXPECT_EQ(StoredOptionalRole("", "t.c"), std::nullopt);
    EXPECT_EQ(StoredOptionalRole("secondary", "t.c"), ResourceRole::kSecondary);
    for (const auto* text : {"", "owner", "Primary", "secondary ", "admin"}) {
        EXPECT_EQ(CodeOf([&] { StoredRole(text, "t.c"); }), core::ErrorCode::kInternal) << text;
    }
    EXPECT_EQ(CodeOf([] { StoredOptionalRole("Secondary", "t.c"); }), core::ErrorCode::kInternal);
    try {
        StoredRole("owner", "user_nodes.role");
        ADD_FAILURE() << "no error";
    } catch (const core::ApiError& e) {
        // The client sees the generic text; the log names the column and what it held.
        EXPECT_EQ(e.description(), core::Info(core::ErrorCode::kInternal).description);
        EXPECT_NE(e.internal().find("user_nodes.role"), std::string::npos);
        EXPECT_NE(e.internal().find("'owner'"), std::string::npos);
    }
    EXPECT_EQ(OptionalRoleText(std::nullopt), "");
    EXPECT_EQ(OptionalRoleText(ResourceRole::kPrimary), "primary");
}

class StoredRoleColumnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"alice", "bob"}) {
            UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        NodeRow node;
        node.node_id = "n1";
        ASSERT_TRUE(db_.Nodes().Insert(node));
        GroupRow group;
        group.group_id = "g1";
        group.owner_id = "alice";
        group.group_name = "Home";
        group.created_at = 1;
        db_.Groups().Insert(group);
        db_.Groups().AddNode("g1", "n1");
    }

    // The text a column holds, read with SQL.
    std::string Column(const std::string& sql) {
        return db_.FindFirst(sql, [](const Statement& s) { return s.Text(0); }).value_or("?");
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
};

TEST_F(StoredRoleColumnsTest, MappingRolesAreStoredByNameAndReadBack) {
    UserNodeRow m;
    m.user_id = "bob";
    m.node_id = "n1";
    m.role = ResourceRole::kSecondary;
    m.direct_role = std::nullopt;
    db_.Nodes().PutMapping(m);
    EXPECT_EQ(Column("SELECT role FROM user_nodes WHERE user_id = 'bob'"), "secondary");
    EXPECT_EQ(Column("SELECT direct_role FROM user_nodes WHERE user_id = 'bob'"), "");
    auto read = db_.Nodes().FindMapping("bob", "n1");
    ASSERT_TRUE(read);
    EXPECT_EQ(read->role, ResourceRole::kSecondary);
    EXPECT_EQ(read->direct_role, std::nullopt);

    m.role = ResourceRole::kPrimary;
    m.direct_role = ResourceRole::kSecondary;
    db_.Nodes().PutMapping(m);
    EXPECT_EQ(Column("SELECT role FROM user_nodes WHERE user_id = 'bob'"), "primary");
    EXPECT_EQ(Column("SELECT direct_role FROM user_nodes WHERE user_id = 'bob'"), "secondary");
    read = db_.Nodes().FindMapping("bob", "n1");
    ASSERT_TRUE(read);
    EXPECT_EQ(read->role, ResourceRole::kPrimary);
    EXPECT_EQ(read->direct_role, ResourceRole::kSecondary);
}

TEST_F(StoredRoleColumnsTest, AnUnknownMappingRoleFailsEveryReadInsteadOfBecomingARole) {
    UserNodeRow m;
    m.user_id = "bob";
    m.node_id = "n1";
    db_.Nodes().PutMapping(m);
    db_.Execute("UPDATE user_nodes SET role = 'owner' WHERE user_id = 'bob'");
    const auto internal = core::ErrorCode::kInternal;
    EXPECT_EQ(CodeOf([&] { db_.Nodes().FindMapping("bob", "n1"); }), internal);
    EXPECT_EQ(CodeOf([&] { db_.Nodes().ListMappings("bob", "", 10); }), internal);
    EXPECT_EQ(CodeOf([&] { db_.Nodes().MappingsOfNode("n1"); }), internal);
    // Nor does the access computation settle on some role (nor drop the row) from it.
    EXPECT_EQ(
        CodeOf([&] { db_.Transaction([&] { domain::nodes::SyncAccess(db_, "bob", "n1", 1); }); }),
        internal
    );
    EXPECT_EQ(Column("SELECT role FROM user_nodes WHERE user_id = 'bob'"), "owner");

    db_.Execute("UPDATE user_nodes SET role = 'secondary', direct_role = 'Primary'");
    EXPECT_EQ(CodeOf([&] { db_.Nodes().FindMapping("bob", "n1"); }), internal);
    db_.Execute("UPDATE user_nodes SET direct_role = 'secondary'");
    EXPECT_EQ(CodeOf([&] { db_.Nodes().FindMapping("bob", "n1"); }), std::nullopt);
}

TEST_F(StoredRoleColumnsTest, ShareRolesAreStoredByNameAndAnUnknownOneFailsTheRead) {
    db_.Groups().PutShare(GroupShareRow{"g1", "bob", ResourceRole::kPrimary, "{}", 1});
    EXPECT_EQ(Column("SELECT role FROM group_shares WHERE user_id = 'bob'"), "primary");
    ASSERT_TRUE(db_.Groups().FindShare("g1", "bob"));
    EXPECT_EQ(db_.Groups().FindShare("g1", "bob")->role, ResourceRole::kPrimary);
    ASSERT_EQ(db_.Groups().SharedNodeSources("bob", "n1").size(), 1U);
    EXPECT_EQ(db_.Groups().SharedNodeSources("bob", "n1")[0].role, ResourceRole::kPrimary);

    // Empty is no role here: a share always has one.
    for (const auto* text : {"", "admin"}) {
        db_.Execute("UPDATE group_shares SET role = ?", std::string(text));
        const auto internal = core::ErrorCode::kInternal;
        EXPECT_EQ(CodeOf([&] { db_.Groups().FindShare("g1", "bob"); }), internal) << text;
        EXPECT_EQ(CodeOf([&] { db_.Groups().SharesOfGroup("g1"); }), internal) << text;
        EXPECT_EQ(CodeOf([&] { db_.Groups().SharedNodeSources("bob", "n1"); }), internal) << text;
    }
}

TEST_F(StoredRoleColumnsTest, ATransferNewRoleIsStoredByNameAndAnUnknownOneFailsTheRead) {
    SharingRequestRow r;
    r.request_id = "r1";
    r.from_user = "alice";
    r.to_user = "bob";
    r.transfer = true;
    r.new_role = ResourceRole::kSecondary;
    r.status = "pending";
    r.created_at = 1;
    db_.Sharing().Put(r);
    EXPECT_EQ(Column("SELECT new_role FROM sharing_requests"), "secondary");
    EXPECT_EQ(db_.Sharing().Find("r1")->new_role, ResourceRole::kSecondary);
    r.new_role = std::nullopt;
    db_.Sharing().Put(r);
    EXPECT_EQ(Column("SELECT new_role FROM sharing_requests"), "");
    EXPECT_EQ(db_.Sharing().Find("r1")->new_role, std::nullopt);

    db_.Execute("UPDATE sharing_requests SET new_role = 'none'");
    EXPECT_EQ(CodeOf([&] { db_.Sharing().Find("r1"); }), core::ErrorCode::kInternal);
    EXPECT_EQ(
        CodeOf([&] { db_.Sharing().Pending("node", "alice", "bob"); }), core::ErrorCode::kInternal
    );
}

}  // namespace
}  // namespace rainmaker::storage::sql

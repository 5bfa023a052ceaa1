// Roles and policies (domain/rbac) over the SQLite store: the rules of #91-#100 with every
// refusal changing nothing, the level rules that keep a restricted admin from granting more
// than they hold, and the route guard: allow/deny precedence, node scopes, defaults, the
// cached view following every change, RBAC switched off.
#include "domain/rbac/rbac_service.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/auth/token_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::rbac {
namespace {

namespace json = boost::json;
using auth::AuthContext;
using auth::PlatformRole;

class NoMessages final : public users::MessageSender {
public:
    void Send(const users::OutgoingMessage&) override {}
};

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

AuthContext Caller(const std::string& id, PlatformRole role) {
    AuthContext c;
    c.user_id = id;
    c.user_name = id + "@example.com";
    c.session_id = "s-" + id;
    c.role = role;
    return c;
}

users::UserSelector User(const std::string& id) {
    return users::UserSelector{id, std::nullopt};
}

json::value Allow(
    std::string_view actions, std::string_view resources, std::string_view filters = ""
) {
    return json::parse(
        std::string(R"({"version":"1.0.0",)") +
        (filters.empty() ? "" : std::string(R"("filters":)") + std::string(filters) + ",") +
        R"("statement":[{"Effect":"Allow","Action":)" + std::string(actions) + R"(,"Resource":)" +
        std::string(resources) + "}]}"
    );
}

class RbacServiceTest : public ::testing::Test {
protected:
    RbacServiceTest()
        : db_owner_(dir_.path()),
          db_(*db_owner_),
          signer_(crypto::JwtSigner::LoadOrCreate(dir_.path() / "key.pem")),
          tokens_(*signer_, db_, clock_, auth::TokenConfig{}),
          accounts_(db_, tokens_, sender_, clock_, users::AccountConfig{}) {
        for (const auto* id : {"root", "boss", "lead", "support", "other", "plain"}) {
            storage::UserRow u;
            u.user_id = id;
            u.user_name = std::string(id) + "@example.com";
            u.password_hash = "x";
            u.confirmed = true;
            u.super_admin = std::string(id) == "root";
            u.admin = std::string(id) != "root" && std::string(id) != "plain";
            EXPECT_TRUE(db_.Users().Insert(u));
        }
    }

    // `lead` holds a level-1 role allowing every admin route; `support` a level-5 read-only one.
    void SeedLevels() {
        rbac_.AddPolicy(root_, "all", Allow(R"(["api:*"])", R"(["/admin/*"])"));
        rbac_.AddPolicy(root_, "read", Allow(R"(["api:Get"])", R"(["/admin/*"])"));
        rbac_.AddRole(root_, RoleInfo{"lead_role", {"all"}, 1});
        rbac_.AddRole(root_, RoleInfo{"support_role", {"read"}, 5});
        rbac_.AddRole(root_, RoleInfo{"unlevelled", {"read"}, std::nullopt});
        rbac_.UpdateUserRoles(root_, User("lead"), Operation::kAdd, {"lead_role"});
        rbac_.UpdateUserRoles(root_, User("support"), Operation::kAdd, {"support_role"});
    }

    std::vector<std::string> RolesOf(const std::string& id) { return db_.Rbac().RolesOfUser(id); }

    testing::TempDir dir_;
    testing::FakeClock clock_;
    rainmaker::testing::TestDatabase db_owner_;
    rainmaker::storage::sql::SqlDatabase& db_;
    std::unique_ptr<crypto::JwtSigner> signer_;
    auth::TokenService tokens_;
    NoMessages sender_;
    users::AccountService accounts_;
    RbacService rbac_{db_, accounts_, clock_, RbacConfig{}};
    const AuthContext root_ = Caller("root", PlatformRole::kSuperAdmin);
    const AuthContext boss_ = Caller("boss", PlatformRole::kAdmin);  // admin, no role
    const AuthContext lead_ = Caller("lead", PlatformRole::kAdmin);
    const AuthContext support_ = Caller("support", PlatformRole::kAdmin);
    const AuthContext other_ = Caller("other", PlatformRole::kAdmin);
};

TEST_F(RbacServiceTest, DefaultsAreThereAndNeverChange) {
    const auto roles = rbac_.GetRoles(std::nullopt);
    ASSERT_EQ(roles.size(), 2u);
    EXPECT_EQ(roles[0].role_name, "RM_DEFAULT_ADMIN");
    EXPECT_EQ(roles[0].role_level, 0);
    EXPECT_EQ(roles[1].role_name, "RM_DEFAULT_READ_ONLY");
    EXPECT_EQ(rbac_.GetPolicies(std::nullopt).size(), 2u);

    const auto body = Allow(R"(["api:*"])", R"(["*"])");
    EXPECT_EQ(CodeOf([&] { rbac_.UpdatePolicy(root_, "RM_DEFAULT_READ_ONLY", body); }), 129028);
    EXPECT_EQ(CodeOf([&] { rbac_.DeletePolicy(root_, "RM_DEFAULT_READ_ONLY"); }), 129028);
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, "RM_DEFAULT_MINE", body); }), 129028);
    EXPECT_EQ(CodeOf([&] { rbac_.DeleteRole(root_, "RM_DEFAULT_ADMIN"); }), 129027);
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "RM_DEFAULT_ADMIN", RoleUpdate{Operation::kAdd, {}, 3, false});
        }),
        129027
    );
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.AddRole(root_, RoleInfo{"RM_DEFAULT_X", {"RM_DEFAULT_READ_ONLY"}, 3});
        }),
        129027
    );
    EXPECT_EQ(
        rbac_.GetPolicies(std::string("RM_DEFAULT_READ_ONLY"))[0].policy_json,
        json::parse(
            R"({"version":"1.0.0","statement":[{"Effect":"Allow","Action":["api:Get"],"Resource":["/v1/admin/*"]}]})"
        )
    );
}

TEST_F(RbacServiceTest, PoliciesAddGetUpdateDeleteWithTheirErrors) {
    const auto read = Allow(R"(["api:Get"])", R"(["/admin/nodes"])");
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, "", read); }), 129002);
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, "x", read); }), 129002);  // 2..256
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, std::string(257, 'p'), read); }), 129002);
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, "two\nlines", read); }), 129002);
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"tab\trole", {"p"}, 1}); }), 129001);
    EXPECT_EQ(
        CodeOf([&] { rbac_.AddPolicy(root_, "bad", json::parse(R"({"statement":[]})")); }), 129010
    );
    EXPECT_EQ(rbac_.GetPolicies(std::nullopt).size(), 2u);  // nothing stored

    rbac_.AddPolicy(root_, "nodes_read", read);
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(root_, "nodes_read", read); }), 129007);
    EXPECT_EQ(rbac_.GetPolicies(std::string("nodes_read"))[0].policy_json, read);
    EXPECT_EQ(CodeOf([&] { rbac_.GetPolicies(std::string("missing")); }), 129008);

    const auto write = Allow(R"(["api:Put"])", R"(["/admin/nodes"])");
    rbac_.UpdatePolicy(root_, "nodes_read", write);
    EXPECT_EQ(rbac_.GetPolicies(std::string("nodes_read"))[0].policy_json, write);
    EXPECT_EQ(CodeOf([&] { rbac_.UpdatePolicy(root_, "missing", write); }), 129008);

    rbac_.AddRole(root_, RoleInfo{"holder", {"nodes_read"}, 2});
    EXPECT_EQ(CodeOf([&] { rbac_.DeletePolicy(root_, "nodes_read"); }), 129023);
    rbac_.DeleteRole(root_, "holder");
    rbac_.DeletePolicy(root_, "nodes_read");
    EXPECT_EQ(CodeOf([&] { rbac_.DeletePolicy(root_, "nodes_read"); }), 129008);
}

TEST_F(RbacServiceTest, RolesAddUpdateDeleteWithTheirErrors) {
    rbac_.AddPolicy(root_, "p1", Allow(R"(["api:Get"])", R"(["*"])"));
    rbac_.AddPolicy(root_, "p2", Allow(R"(["api:Put"])", R"(["*"])"));
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"", {"p1"}, 1}); }), 129001);
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"r1", {}, 1}); }), 129002);
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"r1", {"nope"}, 1}); }), 129011);
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"r1", {"p1"}, -1}); }), 129035);
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.AddRole(root_, RoleInfo{"r1", std::vector<std::string>(11, "p1"), 1});
        }),
        129024
    );
    EXPECT_EQ(rbac_.GetRoles(std::nullopt).size(), 2u);  // nothing stored

    rbac_.AddRole(root_, RoleInfo{"r1", {"p1", "p1"}, 3});  // a repeated name counts once
    EXPECT_EQ(rbac_.GetRoles(std::string("r1"))[0].policies, std::vector<std::string>{"p1"});
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(root_, RoleInfo{"r1", {"p1"}, 3}); }), 129014);
    EXPECT_EQ(CodeOf([&] { rbac_.GetRoles(std::string("r9")); }), 129017);

    rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kAdd, {"p2"}, std::nullopt, false});
    EXPECT_EQ(
        rbac_.GetRoles(std::string("r1"))[0].policies, (std::vector<std::string>{"p1", "p2"})
    );
    rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kRemove, {"p1"}, 7, false});
    auto role = rbac_.GetRoles(std::string("r1"))[0];
    EXPECT_EQ(role.policies, std::vector<std::string>{"p2"});
    EXPECT_EQ(role.role_level, 7);
    rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kAdd, {}, std::nullopt, true});
    EXPECT_EQ(rbac_.GetRoles(std::string("r1"))[0].role_level, std::nullopt);

    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "r1", RoleUpdate{std::nullopt, {"p1"}, {}, false});
        }),
        129041
    );
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kAdd, {}, 2, true});
        }),
        129044
    );
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kRemove, {"p2"}, {}, false});
        }),
        129011
    );  // a role keeps a policy
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "r1", RoleUpdate{Operation::kRemove, {"p1"}, {}, false});
        }),
        129011
    );  // not in the role
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "r9", RoleUpdate{Operation::kAdd, {"p1"}, {}, false});
        }),
        129017
    );
    EXPECT_EQ(rbac_.GetRoles(std::string("r1"))[0].policies, std::vector<std::string>{"p2"});

    rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"r1"});
    EXPECT_EQ(CodeOf([&] { rbac_.DeleteRole(root_, "r1"); }), 129024);
    rbac_.UpdateUserRoles(root_, User("other"), Operation::kRemove, {"r1"});
    rbac_.DeleteRole(root_, "r1");
    EXPECT_EQ(CodeOf([&] { rbac_.DeleteRole(root_, "r1"); }), 129017);
}

TEST_F(RbacServiceTest, UserRolesByUserAndByRole) {
    SeedLevels();
    EXPECT_EQ(rbac_.RolesOfUser(User("lead")), std::vector<std::string>{"lead_role"});
    EXPECT_EQ(rbac_.UsersWithRole("support_role"), std::vector<std::string>{"support@example.com"});
    EXPECT_EQ(CodeOf([&] { rbac_.RolesOfUser(User("other")); }), 129018);
    EXPECT_EQ(CodeOf([&] { rbac_.UsersWithRole("unlevelled"); }), 129030);
    EXPECT_EQ(CodeOf([&] { rbac_.UsersWithRole("nope"); }), 129017);
    EXPECT_EQ(CodeOf([&] { rbac_.RolesOfUser(User("ghost")); }), 101026);
    EXPECT_EQ(
        CodeOf([&] { rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {}); }), 129021
    );
    EXPECT_EQ(
        CodeOf([&] { rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"nope"}); }),
        129020
    );
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"support_role", "nope"});
        }),
        129020
    );
    EXPECT_TRUE(RolesOf("other").empty());  // all or nothing
}

TEST_F(RbacServiceTest, ARestrictedAdminAssignsOnlyRolesBelowTheirLevel) {
    SeedLevels();
    // lead (level 1) may give support_role (level 5) to another admin, and take it back.
    rbac_.UpdateUserRoles(lead_, User("other"), Operation::kAdd, {"support_role"});
    EXPECT_EQ(RolesOf("other"), std::vector<std::string>{"support_role"});
    // Not their own level, nor a role without a level.
    EXPECT_EQ(
        CodeOf([&] { rbac_.UpdateUserRoles(lead_, User("other"), Operation::kAdd, {"lead_role"}); }
        ),
        129033
    );
    EXPECT_EQ(
        CodeOf([&] { rbac_.UpdateUserRoles(lead_, User("other"), Operation::kAdd, {"unlevelled"}); }
        ),
        129037
    );
    // Never their own roles (adding one would add rights).
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(lead_, User("lead"), Operation::kAdd, {"support_role"});
        }),
        129033
    );
    // Removing someone's last role would leave an unrestricted admin.
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(lead_, User("other"), Operation::kRemove, {"support_role"});
        }),
        129033
    );
    EXPECT_EQ(RolesOf("other"), std::vector<std::string>{"support_role"});
    // support (level 5) cannot assign the level-1 role, nor touch lead's.
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(support_, User("other"), Operation::kAdd, {"lead_role"});
        }),
        129033
    );
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(support_, User("lead"), Operation::kRemove, {"lead_role"});
        }),
        129033
    );
    EXPECT_EQ(RolesOf("lead"), std::vector<std::string>{"lead_role"});
    // An admin without roles and a superadmin may do all of it.
    rbac_.UpdateUserRoles(boss_, User("other"), Operation::kRemove, {"support_role"});
    EXPECT_TRUE(RolesOf("other").empty());
    rbac_.UpdateUserRoles(root_, User("lead"), Operation::kAdd, {"unlevelled"});
}

TEST_F(RbacServiceTest, ACallerWhoseRolesHaveNoLevelAssignsNothing) {
    SeedLevels();
    rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"unlevelled"});
    const auto other = other_;
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateUserRoles(other, User("boss"), Operation::kAdd, {"support_role"});
        }),
        129038
    );
}

TEST_F(RbacServiceTest, OnlyUnrestrictedCallersWritePoliciesAndRoles) {
    SeedLevels();
    // lead (level 1) holds every admin route, yet writes no policy or role: a restricted admin
    // cannot write rights they do not hold (for an accomplice) nor lift their own limits.
    const auto everything = Allow(R"(["api:*"])", R"(["*"])");
    const auto before_roles = rbac_.GetRoles(std::nullopt).size();
    const auto before_policies = rbac_.GetPolicies(std::nullopt).size();
    EXPECT_EQ(CodeOf([&] { rbac_.AddPolicy(lead_, "mine", everything); }), 100004);
    EXPECT_EQ(CodeOf([&] { rbac_.UpdatePolicy(lead_, "read", everything); }), 100004);
    EXPECT_EQ(CodeOf([&] { rbac_.DeletePolicy(lead_, "read"); }), 100004);
    EXPECT_EQ(CodeOf([&] { rbac_.AddRole(lead_, RoleInfo{"mine", {"all"}, 7}); }), 100004);
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(
                lead_, "support_role", RoleUpdate{Operation::kAdd, {"all"}, {}, false}
            );
        }),
        100004
    );
    EXPECT_EQ(CodeOf([&] { rbac_.DeleteRole(lead_, "unlevelled"); }), 100004);
    EXPECT_EQ(rbac_.GetRoles(std::nullopt).size(), before_roles);
    EXPECT_EQ(rbac_.GetPolicies(std::nullopt).size(), before_policies);
    EXPECT_EQ(
        rbac_.GetRoles(std::string("support_role"))[0].policies, std::vector<std::string>{"read"}
    );
    // An admin without roles may.
    rbac_.AddRole(boss_, RoleInfo{"mine", {"all"}, 7});
    rbac_.UpdatePolicy(boss_, "read", Allow(R"(["api:Get"])", R"(["/admin/nodes"])"));
    // Removing the level of a role that has none is 129042.
    EXPECT_EQ(
        CodeOf([&] {
            rbac_.UpdateRole(root_, "unlevelled", RoleUpdate{Operation::kAdd, {}, {}, true});
        }),
        129042
    );
}

TEST_F(RbacServiceTest, AStoredPolicyThatNoLongerParsesFailsClosed) {
    SeedLevels();
    rbac_.AddPolicy(root_, "deny_cmd", json::parse(R"({"statement":[
        {"Effect":"Deny","Action":["api:*"],"Resource":["/admin/nodes/cmd"]}]})"));
    rbac_.AddRole(root_, RoleInfo{"deny_role", {"deny_cmd"}, 9});
    rbac_.UpdateUserRoles(root_, User("lead"), Operation::kAdd, {"deny_role"});
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(lead_, "POST", "/v1/admin/nodes/cmd"); }), 100004);
    // The stored Deny damaged: its holder is refused everything rather than freed.
    db_.Rbac().SetPolicyJson("deny_cmd", "{not json");
    rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"support_role"});  // a change
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(lead_, "POST", "/v1/admin/nodes/cmd"); }), 100004);
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(lead_, "GET", "/v1/admin/node_group"); }), 100004);
    EXPECT_EQ(rbac_.Authorize(support_, "GET", "/v1/admin/node_group"), nullptr);
}

TEST_F(RbacServiceTest, TheGuardAllowsWhatPoliciesAllowAndDenyWins) {
    SeedLevels();
    // Unrestricted: superadmin, an admin without roles, users (they never reach admin routes).
    EXPECT_EQ(rbac_.Authorize(root_, "DELETE", "/v1/admin/node_group"), nullptr);
    EXPECT_EQ(rbac_.Authorize(boss_, "DELETE", "/v1/admin/node_group"), nullptr);
    // support: reads only.
    EXPECT_EQ(rbac_.Authorize(support_, "GET", "/v1/admin/node_group"), nullptr);
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(support_, "PUT", "/v1/admin/node_group"); }), 100004);
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(support_, "POST", "/v1/admin/nodes/cmd"); }), 100004);
    // A denying statement in another role wins.
    rbac_.AddPolicy(root_, "no_cmd", json::parse(R"({"statement":[
        {"Effect":"Deny","Action":["api:*"],"Resource":["/admin/nodes/cmd"]}]})"));
    rbac_.AddRole(root_, RoleInfo{"no_cmd_role", {"no_cmd"}, 9});
    EXPECT_EQ(rbac_.Authorize(lead_, "POST", "/v1/admin/nodes/cmd"), nullptr);
    rbac_.UpdateUserRoles(root_, User("lead"), Operation::kAdd, {"no_cmd_role"});
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(lead_, "POST", "/v1/admin/nodes/cmd"); }), 100004);
    EXPECT_EQ(rbac_.Authorize(lead_, "POST", "/v1/admin/node_group"), nullptr);
    // The view follows a removal at once.
    rbac_.UpdateUserRoles(root_, User("lead"), Operation::kRemove, {"no_cmd_role"});
    EXPECT_EQ(rbac_.Authorize(lead_, "POST", "/v1/admin/nodes/cmd"), nullptr);
    // And a policy change.
    rbac_.UpdatePolicy(root_, "read", Allow(R"(["api:Get"])", R"(["/admin/nodes*"])"));
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(support_, "GET", "/v1/admin/node_group"); }), 100004);
    EXPECT_EQ(rbac_.Authorize(support_, "GET", "/v1/admin/nodes/tsdata"), nullptr);
}

TEST_F(RbacServiceTest, NodeFiltersNarrowTheNodesOfAnAllowedRoute) {
    rbac_.AddPolicy(
        root_,
        "lights",
        Allow(
            R"(["api:Get"])", R"(["/admin/*"])", R"([{"type":"nodes","rules":{"type":["light"]}}])"
        )
    );
    rbac_.AddPolicy(root_, "not_pune", json::parse(R"({"filters":[{"type":"nodes","rules":
        {"tags":["location:pune"]}}],"statement":[{"Effect":"Deny","Action":["api:*"],
        "Resource":["*"]}]})"));
    rbac_.AddRole(root_, RoleInfo{"lights_role", {"lights", "not_pune"}, 4});
    rbac_.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"lights_role"});
    const auto scope = rbac_.Authorize(other_, "GET", "/v1/admin/nodes/tsdata");
    ASSERT_NE(scope, nullptr);
    const std::vector<std::string> delhi{"location:delhi"};
    const std::vector<std::string> pune{"location:pune"};
    EXPECT_TRUE(scope->Allows(NodeFacts{"light", delhi}));
    EXPECT_FALSE(scope->Allows(NodeFacts{"switch", delhi}));
    EXPECT_FALSE(scope->Allows(NodeFacts{"light", pune}));
    EXPECT_EQ(CodeOf([&] { rbac_.Authorize(other_, "PUT", "/v1/admin/nodes"); }), 100004);
}

TEST_F(RbacServiceTest, DisabledRbacRestrictsNobodyAndAnswers129036) {
    SeedLevels();
    RbacService off(db_, accounts_, clock_, RbacConfig{false});
    EXPECT_EQ(off.Authorize(support_, "DELETE", "/v1/admin/node_group"), nullptr);
    EXPECT_EQ(CodeOf([&] { off.GetRoles(std::nullopt); }), 129036);
    EXPECT_EQ(
        CodeOf([&] { off.AddPolicy(root_, "pp", Allow(R"(["api:Get"])", R"(["*"])")); }), 129036
    );
    EXPECT_EQ(
        CodeOf([&] { off.UpdateUserRoles(root_, User("other"), Operation::kAdd, {"support_role"}); }
        ),
        129036
    );
}

}  // namespace
}  // namespace rainmaker::domain::rbac

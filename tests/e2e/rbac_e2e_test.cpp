// Roles and policies end to end (#91-#100): a support admin with the read-only role sees but
// changes nothing; a role's node filter hides the nodes outside it; the level rules on
// assigning roles; the documented errors with nothing changed; RBAC switched off (129036).
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

constexpr const char* kRoot = "root@example.com";
constexpr const char* kLead = "lead@example.com";
constexpr const char* kSupport = "support@example.com";
constexpr const char* kFiltered = "filtered@example.com";

boost::json::value Policy(const std::string& actions, const std::string& filters = "") {
    return boost::json::parse(
        R"({"version":"1.0.0",)" + (filters.empty() ? "" : R"("filters":)" + filters + ",") +
        R"("statement":[{"Effect":"Allow","Action":)" + actions +
        R"(,"Resource":["/v1/admin/*"]}]})"
    );
}

class RbacTest : public ::testing::Test, protected DeviceLab {
protected:
    RbacTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          root_(CreateAdminAndLogin(client_, server_, kRoot, "--superadmin")),
          lead_(CreateAdminAndLogin(client_, server_, kLead, "--admin")),
          support_(CreateAdminAndLogin(client_, server_, kSupport, "--admin")),
          filtered_(CreateAdminAndLogin(client_, server_, kFiltered, "--admin")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // A mapped, running node (type Lightbulb) whose config has reached the server.
    Device Online(const std::string& name) {
        auto d = Claim(alice_, name);
        sim_ = RunMapped(alice_, d);
        const auto config = Eventually(
            "/v1/user/nodes/config?node_id=" + d.node_id,
            alice_,
            [](const HttpResult& r) { return r.status == 200; }
        );
        EXPECT_EQ(config.status, 200) << config.body;
        return d;
    }

    HttpResult Assign(
        const Tokens& by,
        const std::string& user,
        const std::string& op,
        std::initializer_list<std::string> roles
    ) {
        return client_.Put(
            "/v1/admin/user_role?user_name=" + user + "&operation=" + op,
            object{{"roles", JsonStrings(roles)}},
            by.accesstoken
        );
    }

    HttpResult Roles(const std::string& user) {
        return client_.Get("/v1/admin/user_role?user_name=" + user, root_.accesstoken);
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens root_;
    Tokens lead_;
    Tokens support_;
    Tokens filtered_;
    std::unique_ptr<SimProcess> sim_;
};

TEST_F(RbacTest, AReadOnlySupportAdminSeesButChangesNothing) {
    const auto d = Online("n1");
    ASSERT_EQ(Assign(root_, kSupport, "add", {"RM_DEFAULT_READ_ONLY"}).status, 200);
    EXPECT_EQ(Roles(kSupport).json.at("roles"), boost::json::array{"RM_DEFAULT_READ_ONLY"});

    // Reads pass the guard.
    const auto api = client_.Get("/v1/admin/api_paths_methods", support_.accesstoken);
    EXPECT_EQ(api.status, 200) << api.body;
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/node_group", support_.accesstoken), 404, 108027));
    EXPECT_EQ(client_.Get("/v1/admin/role", support_.accesstoken).status, 200);
    const auto cmds = client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, support_.accesstoken);
    EXPECT_EQ(cmds.status, 200) << cmds.body;

    // Changes do not, and change nothing.
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/node_group",
            object{{"group_name", "Fleet"}, {"nodes", JsonStrings({d.node_id})}},
            support_.accesstoken
        ),
        400,
        100004
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/node_group", support_.accesstoken), 404, 108027));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/nodes/cmd",
            object{{"node_ids", JsonStrings({d.node_id})}, {"cmd", 1}, {"data", object{}}},
            support_.accesstoken
        ),
        400,
        100004
    ));
    EXPECT_EQ(
        client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, root_.accesstoken).json.at("total"),
        0
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/admin/custom_data?user_name=alice@example.com",
            object{{"k", object{{"value", 1}}}},
            support_.accesstoken
        ),
        400,
        100004
    ));
    EXPECT_TRUE(IsFailure(Assign(support_, kFiltered, "add", {"RM_DEFAULT_READ_ONLY"}), 400, 100004)
    );
    EXPECT_TRUE(IsFailure(Roles(kFiltered), 400, 129018));
    // A user is never an admin, whatever the roles say.
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/role", alice_.accesstoken), 400, 100004));

    // Taking the role away gives the admin back every admin right, at once.
    ASSERT_EQ(Assign(root_, kSupport, "remove", {"RM_DEFAULT_READ_ONLY"}).status, 200);
    const auto fleet = client_.Post(
        "/v1/admin/node_group",
        object{{"group_name", "Fleet"}, {"nodes", JsonStrings({d.node_id})}},
        support_.accesstoken
    );
    EXPECT_EQ(fleet.status, 200) << fleet.body;
}

TEST_F(RbacTest, ARolesNodeFilterHidesTheNodesOutsideIt) {
    const auto d = Online("n1");
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/policy",
                object{
                    {"policy_name", "switches"},
                    {"policy_json",
                     Policy(R"(["api:*"])", R"([{"type":"nodes","rules":{"type":["Switch"]}}])")}},
                root_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/role",
                object{
                    {"role_name", "switch_ops"},
                    {"policies", JsonStrings({"switches"})},
                    {"role_level", 3}},
                root_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(Assign(root_, kFiltered, "add", {"switch_ops"}).status, 200);

    // The Lightbulb is outside: it answers like a node that does not exist.
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/node_group",
            object{{"group_name", "Lights"}, {"nodes", JsonStrings({d.node_id})}},
            filtered_.accesstoken
        ),
        400,
        108012
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, filtered_.accesstoken), 400, 126003
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get(
            "/v1/admin/nodes/simple_tsdata?node_id=" + d.node_id +
                "&param_name=Light.Power&data_type=bool",
            filtered_.accesstoken
        ),
        400,
        136001
    ));
    const auto sent = client_.Post(
        "/v1/admin/nodes/cmd",
        object{{"node_ids", JsonStrings({d.node_id})}, {"cmd", 1}, {"data", object{}}},
        filtered_.accesstoken
    );
    EXPECT_TRUE(IsFailure(sent, 404, 100015));  // as for a node that does not exist
    EXPECT_EQ(
        client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, root_.accesstoken).json.at("total"),
        0
    );

    // The policy widened to Lightbulbs: the node is theirs to reach.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/admin/policy?policy_name=switches",
                object{
                    {"policy_json",
                     Policy(
                         R"(["api:*"])",
                         R"([{"type":"nodes","rules":{"type":["Switch","Lightbulb"]}}])"
                     )}},
                root_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(
        client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, filtered_.accesstoken).status, 200
    );
    const auto lights = client_.Post(
        "/v1/admin/node_group",
        object{{"group_name", "Lights"}, {"nodes", JsonStrings({d.node_id})}},
        filtered_.accesstoken
    );
    EXPECT_EQ(lights.status, 200) << lights.body;
}

TEST_F(RbacTest, TagFiltersFollowTheNodesAdminTags) {
    const auto d = Online("n1");
    // Every admin route, but never on nodes tagged location:pune.
    const auto deny_pune =
        boost::json::parse(R"({"filters":[{"type":"nodes","rules":{"tags":["location:pune"]}}],)"
                           R"("statement":[{"Effect":"Deny","Action":["api:*"],"Resource":["*"]}]})"
        );
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/policy",
                object{{"policy_name", "not_pune"}, {"policy_json", deny_pune}},
                root_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/role",
                object{
                    {"role_name", "outside_pune"},
                    {"policies", JsonStrings({"RM_DEFAULT_FULL_ACCESS", "not_pune"})},
                    {"role_level", 3}},
                root_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(Assign(root_, kFiltered, "add", {"outside_pune"}).status, 200);
    const std::string node_url = "/v1/admin/nodes?node_id=" + d.node_id;
    EXPECT_EQ(client_.Get(node_url, filtered_.accesstoken).status, 200);

    // Tagged location:pune by the superadmin, the node is out of reach at once.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id,
                object{{"tags", JsonStrings({"location:pune"})}},
                root_.accesstoken
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(client_.Get(node_url, filtered_.accesstoken), 404, 100015));
    EXPECT_EQ(client_.Get("/v1/admin/nodes", filtered_.accesstoken).json.at("total"), 0);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/nodes/cmd?node_id=" + d.node_id, filtered_.accesstoken), 400, 126003
    ));
    // Nor can they take the tag off.
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id, filtered_.accesstoken
        ),
        400,
        135001
    ));
    EXPECT_EQ(client_.Get("/v1/admin/nodes", root_.accesstoken).json.at("total"), 1);
}

TEST_F(RbacTest, RolesAreAssignedOnlyBelowTheCallersLevel) {
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/role",
                object{
                    {"role_name", "lead_role"},
                    {"policies", JsonStrings({"RM_DEFAULT_FULL_ACCESS"})},
                    {"role_level", 1}},
                root_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(Assign(root_, kLead, "add", {"lead_role"}).status, 200);
    EXPECT_EQ(Assign(lead_, kSupport, "add", {"RM_DEFAULT_READ_ONLY"}).status, 200);
    EXPECT_TRUE(IsFailure(Assign(lead_, kFiltered, "add", {"RM_DEFAULT_ADMIN"}), 400, 129033));
    EXPECT_TRUE(IsFailure(Assign(lead_, kFiltered, "add", {"lead_role"}), 400, 129033));
    EXPECT_TRUE(IsFailure(Assign(lead_, kLead, "add", {"RM_DEFAULT_READ_ONLY"}), 400, 129033));
    EXPECT_TRUE(IsFailure(Assign(lead_, kSupport, "remove", {"RM_DEFAULT_READ_ONLY"}), 400, 129033)
    );
    EXPECT_EQ(Roles(kSupport).json.at("roles"), boost::json::array{"RM_DEFAULT_READ_ONLY"});
    EXPECT_TRUE(IsFailure(Roles(kFiltered), 400, 129018));
    const auto holders = client_.Get("/v1/admin/user_role?role_name=lead_role", root_.accesstoken);
    EXPECT_EQ(holders.json.at("users"), boost::json::array{kLead}) << holders.body;
    // The role is in use: it cannot go.
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/admin/role?role_name=lead_role", root_.accesstoken), 400, 129024
    ));
}

TEST_F(RbacTest, EachDocumentedErrorChangesNothing) {
    const auto t = root_.accesstoken;
    EXPECT_TRUE(
        IsFailure(client_.Post("/v1/admin/policy", object{{"policy_name", "p1"}}, t), 400, 129009)
    );
    EXPECT_TRUE(IsFailure(
        client_.Post("/v1/admin/policy", object{{"policy_json", Policy(R"(["api:Get"])")}}, t),
        400,
        129002
    ));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/policy",
            object{{"policy_name", "p1"}, {"policy_json", object{{"statement", "all"}}}},
            t
        ),
        400,
        129010
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/policy?policy_name=p1", t), 404, 129008));
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/policy",
                object{{"policy_name", "p1"}, {"policy_json", Policy(R"(["api:Get"])")}},
                t
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/policy",
            object{{"policy_name", "p1"}, {"policy_json", Policy(R"(["api:Put"])")}},
            t
        ),
        400,
        129007
    ));
    EXPECT_EQ(
        client_.Get("/v1/admin/policy?policy_name=p1", t)
            .json.at("policies")
            .at(0)
            .at("policy_json"),
        Policy(R"(["api:Get"])")
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/admin/policy?policy_name=RM_DEFAULT_READ_ONLY",
            object{{"policy_json", Policy(R"(["api:*"])")}},
            t
        ),
        400,
        129028
    ));

    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/role",
            object{{"role_name", "r1"}, {"policies", JsonStrings({"p1"})}, {"role_level", "high"}},
            t
        ),
        400,
        129035
    ));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/role",
            object{{"role_name", "r1"}, {"policies", JsonStrings({"p1"})}, {"role_level", -2}},
            t
        ),
        400,
        129035
    ));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/role", object{{"role_name", "r1"}, {"policies", JsonStrings({"nope"})}}, t
        ),
        400,
        129011
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/role?role_name=r1", t), 404, 129017));
    ASSERT_EQ(
        client_
            .Post(
                "/v1/admin/role",
                object{{"role_name", "r1"}, {"policies", JsonStrings({"p1"})}, {"role_level", 2}},
                t
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/admin/role?role_name=r1", object{{"role_level", 4}}, t), 400, 129041
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/admin/role?role_name=r1&operation=swap", object{{"role_level", 4}}, t),
        400,
        129022
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/admin/role?role_name=r1&operation=add",
            object{{"role_level", 4}, {"remove_role_level", true}},
            t
        ),
        400,
        129044
    ));
    EXPECT_TRUE(IsFailure(client_.Delete("/v1/admin/policy?policy_name=p1", t), 400, 129023));
    EXPECT_TRUE(
        IsFailure(client_.Delete("/v1/admin/role?role_name=RM_DEFAULT_ADMIN", t), 400, 129027)
    );
    const auto role = client_.Get("/v1/admin/role?role_name=r1", t);
    EXPECT_EQ(
        role.json.at("roles").at(0),
        (object{{"role_name", "r1"}, {"policies", JsonStrings({"p1"})}, {"role_level", 2}})
    );

    EXPECT_TRUE(IsFailure(Assign(root_, kSupport, "add", {}), 400, 129021));
    EXPECT_TRUE(IsFailure(Assign(root_, kSupport, "add", {"r1", "nope"}), 400, 129020));
    EXPECT_TRUE(IsFailure(Assign(root_, "nobody@example.com", "add", {"r1"}), 400, 101026));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/admin/user_role?user_name=" + std::string(kSupport),
            object{{"roles", JsonStrings({"r1"})}},
            t
        ),
        400,
        129041
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/user_role?user_name=" + std::string(kSupport) + "&role_name=r1", t),
        400,
        129029
    ));
    EXPECT_TRUE(IsFailure(Roles(kSupport), 400, 129018));  // nothing was assigned
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/user_role?role_name=r1", t), 400, 129030));

    ASSERT_EQ(client_.Delete("/v1/admin/role?role_name=r1", t).status, 200);
    ASSERT_EQ(client_.Delete("/v1/admin/policy?policy_name=p1", t).status, 200);
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/policy?policy_name=p1", t), 404, 129008));
}

TEST(RbacDisabledTest, EveryRbacRouteAnswers129036AndAdminsAreUnrestricted) {
    TempDir dir;
    const auto file = dir.path() / "server.toml";
    std::ofstream(file) << "[rbac]\nenabled = false\n";
    ServerProcess::Options options;
    options.args = {"--config", file.string()};
    ServerProcess server(options);
    HttpClient client(server.port());
    const auto root = CreateAdminAndLogin(client, server, kRoot, "--superadmin");
    EXPECT_TRUE(IsFailure(client.Get("/v1/admin/role", root.accesstoken), 400, 129036));
    EXPECT_TRUE(IsFailure(client.Get("/v1/admin/policy", root.accesstoken), 400, 129036));
    EXPECT_TRUE(IsFailure(
        client.Put(
            "/v1/admin/user_role?user_name=x@example.com&operation=add", object{}, root.accesstoken
        ),
        400,
        129036
    ));
    EXPECT_EQ(client.Get("/v1/admin/api_paths_methods", root.accesstoken).status, 200);
}

}  // namespace
}  // namespace rainmaker::testing

// Admin nodes and tags end to end (#23-#26, #106-#109): an admin finds any node by its reported
// type/model/firmware, tags and status, tags nodes, groups and users, and cuts a live node off at
// once (#24 activate=false): the simulated node is dropped within a second, cannot reconnect, and
// is back after activate=true. Every documented error answers with nothing changed.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;
using namespace std::chrono_literals;

class AdminNodesTest : public ::testing::Test, protected DeviceLab {
protected:
    AdminNodesTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          ops_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          root_(CreateAdminAndLogin(client_, server_, "root@example.com", "--superadmin")) {}

    using DeviceLab::Run;

    HttpResult Send(
        const std::string& method,
        const std::string& target,
        const std::string& body,
        const Tokens& t
    ) {
        return client_.Request(method, target, body, {{"Authorization", t.accesstoken}});
    }

    // The failure envelope of `r` is `code` with HTTP `status`.
    static void ExpectError(const HttpResult& r, std::int64_t code, int status = 400) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
        EXPECT_EQ(r.ErrorCode(), code) << r.body;
    }

    std::vector<std::string> Tags(const std::string& type, const std::string& id) {
        const auto r = client_.Get(
            "/v1/admin/tags?resource_type=" + type + "&resource_id=" + id, ops_.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<std::string> out;
        for (const auto& t : r.json.at("resources").at(0).at("tags").as_array()) {
            out.emplace_back(t.as_string());
        }
        return out;
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens ops_;
    Tokens root_;
};

TEST_F(AdminNodesTest, DeactivationDropsALiveNodeAtOnceAndActivationLetsItBack) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto online =
        Eventually("/v1/admin/nodes?node_status=online", ops_, [](const HttpResult& r) {
            return r.status == 200 && r.json.at("total") == 1;
        });
    ASSERT_EQ(online.json.at("total"), 1) << online.body;
    EXPECT_EQ(online.json.at("node_info").at(0).at("node_status"), "online");

    const auto before = std::chrono::steady_clock::now();
    // A body without tags ({}, as some clients always send one) is no body: activate alone.
    const auto deactivated = client_.Put(
        "/v1/admin/nodes?node_id=" + d.node_id + "&activate=false", object{}, ops_.accesstoken
    );
    ASSERT_EQ(deactivated.status, 200) << deactivated.body;
    EXPECT_FALSE(sim->WaitFor("disconnected", 1000ms).empty())
        << "the live connection was not closed within a second";
    EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);

    const auto one = client_.Get("/v1/admin/nodes?node_id=" + d.node_id, ops_.accesstoken);
    EXPECT_EQ(one.json.at("node_info").at(0).at("node_status"), "deactivated") << one.body;
    const auto listed = client_.Get("/v1/admin/nodes?node_status=deactivated", ops_.accesstoken);
    EXPECT_EQ(listed.json.at("total"), 1) << listed.body;

    // Reconnects are refused while deactivated.
    sim->Send("reconnect");
    EXPECT_TRUE(sim->Collect("connected", 3s).empty()) << "a deactivated node reconnected";

    const auto activated =
        Send("PUT", "/v1/admin/nodes?node_id=" + d.node_id + "&activate=true", "", ops_);
    ASSERT_EQ(activated.status, 200) << activated.body;
    sim->Send("reconnect");
    EXPECT_FALSE(sim->WaitFor("connected", 15s).empty()) << "the activated node did not return";
    const auto back =
        Eventually("/v1/admin/nodes?node_id=" + d.node_id, ops_, [](const HttpResult& r) {
            return r.status == 200 && r.json.at("node_info").at(0).at("node_status") == "online";
        });
    EXPECT_EQ(back.json.at("node_info").at(0).at("node_status"), "online") << back.body;
}

TEST_F(AdminNodesTest, SearchFiltersTagsAndPagesEveryNode) {
    const auto a = Claim(alice_, "a");
    const auto b = Claim(alice_, "b");
    auto sim_a = RunMapped(alice_, a);
    auto sim_b = RunMapped(alice_, b);
    const auto both = Eventually("/v1/admin/nodes?type=Lightbulb", ops_, [](const HttpResult& r) {
        return r.status == 200 && r.json.at("total") == 2;
    });
    ASSERT_EQ(both.json.at("total"), 2) << both.body;
    const auto& info = both.json.at("node_info").at(0);
    const std::string model(info.at("model").as_string());
    const std::string fw(info.at("fw_version").as_string());
    EXPECT_FALSE(info.as_object().contains("config"));

    // #24 tags (both), one unknown node: 207 with one entry each.
    const auto tagged = Send(
        "PUT",
        "/v1/admin/nodes?node_id=" + a.node_id + ",nosuchnode",
        R"({"tags":["city:pune"]})",
        ops_
    );
    ASSERT_EQ(tagged.status, 207) << tagged.body;
    const auto& results = tagged.json.at("nodes").as_array();
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].at("status"), "success");
    EXPECT_EQ(results[1].at("status"), "failure");
    EXPECT_EQ(results[1].at("error_code"), 100015);
    ASSERT_EQ(
        Send("PUT", "/v1/admin/nodes?node_id=" + b.node_id, R"({"tags":["city:delhi"]})", ops_)
            .status,
        200
    );

    const auto pune = client_.Get(
        "/v1/admin/nodes?type=Lightbulb&model=" + model + "&tags=city:pune", ops_.accesstoken
    );
    EXPECT_EQ(pune.json.at("total"), 1) << pune.body;
    EXPECT_EQ(pune.json.at("nodes").at(0), boost::json::value(a.node_id));
    EXPECT_EQ(pune.json.at("node_info").at(0).at("tags").at(0), "city:pune");
    const auto either =
        client_.Get("/v1/admin/nodes?tags=city:pune%20OR%20city:delhi", ops_.accesstoken);
    EXPECT_EQ(either.json.at("total"), 2) << either.body;
    const auto full = client_.Get(
        "/v1/admin/nodes?type=Lightbulb&model=" + model + "&fw_version=" + fw, ops_.accesstoken
    );
    EXPECT_EQ(full.json.at("total"), 2) << full.body;

    // Pages of one: next_id is the last id of the page; start_id continues after it.
    const auto first = client_.Get("/v1/admin/nodes?num_records=1", ops_.accesstoken);
    ASSERT_EQ(first.json.at("nodes").as_array().size(), 1u) << first.body;
    EXPECT_EQ(first.json.at("total"), 2);
    const std::string next(first.json.at("next_id").as_string());
    const auto second =
        client_.Get("/v1/admin/nodes?num_records=1&start_id=" + next, ops_.accesstoken);
    ASSERT_EQ(second.json.at("nodes").as_array().size(), 1u) << second.body;
    EXPECT_NE(second.json.at("nodes").at(0), first.json.at("nodes").at(0));
    EXPECT_FALSE(second.json.as_object().contains("next_id"));

    // The single node comes with config and params.
    const auto one = client_.Get("/v1/admin/nodes?node_id=" + a.node_id, ops_.accesstoken);
    EXPECT_EQ(one.json.at("node_info").at(0).at("config").at("info").at("type"), "Lightbulb");
    EXPECT_TRUE(one.json.at("node_info").at(0).at("params").is_object());

    // Summary counts over a window.
    const auto summary = client_.Get("/v1/admin/nodes?summary=true&start_time=0", ops_.accesstoken);
    EXPECT_EQ(summary.json.at("active_count"), 2) << summary.body;
    EXPECT_EQ(summary.json.at("not_activated_count"), 0);

    // #25 tag names and values of nodes.
    const auto names = client_.Get("/v1/admin/nodes/tags", ops_.accesstoken);
    EXPECT_EQ(names.json.at("tags"), (boost::json::array{"city"})) << names.body;
    const auto values = client_.Get("/v1/admin/nodes/tags?tag_name=city", ops_.accesstoken);
    EXPECT_EQ(values.json.at("tag_values"), (boost::json::array{"delhi", "pune"})) << values.body;
    EXPECT_EQ(values.json.at("total"), 2);

    // #26 both ways (superadmin).
    const auto mine =
        client_.Get("/v1/admin/user/nodes?user_name=alice@example.com", root_.accesstoken);
    EXPECT_EQ(mine.json.at("primary").at("total"), 2) << mine.body;
    EXPECT_EQ(mine.json.at("total"), 2);
    const auto users = client_.Get("/v1/admin/user/nodes?node_id=" + a.node_id, root_.accesstoken);
    EXPECT_EQ(users.json.at("primary").at("users").at(0).at("user_name"), "alice@example.com")
        << users.body;
    const auto secondary = client_.Get(
        "/v1/admin/user/nodes?user_name=alice@example.com&role=secondary", root_.accesstoken
    );
    EXPECT_EQ(secondary.json.at("total"), 0) << secondary.body;
}

TEST_F(AdminNodesTest, EveryDocumentedErrorChangesNothing) {
    const auto d = Claim(alice_, "n1");
    ASSERT_EQ(
        Send("PUT", "/v1/admin/nodes?node_id=" + d.node_id, R"({"tags":["keep:me"]})", ops_).status,
        200
    );
    // #23
    ExpectError(client_.Get("/v1/admin/nodes?model=m", ops_.accesstoken), 105034);
    ExpectError(client_.Get("/v1/admin/nodes?type=t&fw_version=1", ops_.accesstoken), 105035);
    ExpectError(client_.Get("/v1/admin/nodes?node_status=sleepy", ops_.accesstoken), 105044);
    ExpectError(
        client_.Get("/v1/admin/nodes?tags=a:1%20AND%20b:2%20OR%20c:3", ops_.accesstoken), 105042
    );
    ExpectError(client_.Get("/v1/admin/nodes?tags=nocolon", ops_.accesstoken), 105046);
    ExpectError(client_.Get("/v1/admin/nodes?summary=true", ops_.accesstoken), 105063);
    ExpectError(client_.Get("/v1/admin/nodes?summary=true&start_time=x", ops_.accesstoken), 105063);
    ExpectError(client_.Get("/v1/admin/nodes?node_id=nosuch", ops_.accesstoken), 100015, 404);
    ExpectError(client_.Get("/v1/admin/nodes?num_records=0", ops_.accesstoken), 100021);
    // #24: nothing is attached or deactivated by a refused request.
    const std::string node = "/v1/admin/nodes?node_id=" + d.node_id;
    ExpectError(Send("PUT", "/v1/admin/nodes", R"({"tags":["a:b"]})", ops_), 105018);
    ExpectError(Send("PUT", node + "&activate=maybe", "", ops_), 105025);
    ExpectError(Send("PUT", node + "&activate=false", R"({"tags":["bad"]})", ops_), 105046);
    ExpectError(Send("PUT", node, R"({"tags":[]})", ops_), 105048);
    ExpectError(Send("PUT", node, "", ops_), 105048);
    ExpectError(Send("PUT", node, "{}", ops_), 105048);
    ExpectError(Send("PUT", node, R"({"tags":"a:b"})", ops_), 105046);
    std::string many = "/v1/admin/nodes?node_id=" + d.node_id;
    for (int i = 0; i < 25; ++i) {
        many += ",n" + std::to_string(i);
    }
    ExpectError(Send("PUT", many, R"({"tags":["a:b"]})", ops_), 105062);
    ExpectError(Send("PUT", node + "," + d.node_id, R"({"tags":["a:b"]})", ops_), 105062);
    ExpectError(
        Send("PUT", "/v1/admin/nodes?node_id=nosuch", R"({"tags":["a:b"]})", ops_), 100015, 404
    );
    EXPECT_EQ(Tags("Node", d.node_id), (std::vector<std::string>{"keep:me"}));
    const auto status = client_.Get(node, ops_.accesstoken);
    EXPECT_EQ(status.json.at("node_info").at(0).at("node_status"), "not_activated") << status.body;
    // #25
    ExpectError(client_.Get("/v1/admin/nodes/tags?tag_name=a:b", ops_.accesstoken), 100021);
    // #26
    ExpectError(client_.Get("/v1/admin/user/nodes", root_.accesstoken), 103036);
    ExpectError(
        client_.Get("/v1/admin/user/nodes?user_id=x&node_id=" + d.node_id, root_.accesstoken),
        103037
    );
    ExpectError(
        client_.Get("/v1/admin/user/nodes?user_name=x&node_id=" + d.node_id, root_.accesstoken),
        103038
    );
    ExpectError(
        client_.Get(
            "/v1/admin/user/nodes?user_name=alice@example.com&role=owner", root_.accesstoken
        ),
        103023
    );
    // Role names are exact; and the target is checked before the role.
    ExpectError(
        client_.Get(
            "/v1/admin/user/nodes?user_name=alice@example.com&role=Primary", root_.accesstoken
        ),
        103023
    );
    ExpectError(
        client_.Get(
            "/v1/admin/user/nodes?user_id=x&role=owner&node_id=" + d.node_id, root_.accesstoken
        ),
        103037
    );
    ExpectError(
        client_.Get("/v1/admin/user/nodes?user_name=nobody@x.com", root_.accesstoken), 101026
    );
    ExpectError(client_.Get("/v1/admin/user/nodes?node_id=nosuch", root_.accesstoken), 100015, 404);
    ExpectError(client_.Get("/v1/admin/user/nodes?node_id=" + d.node_id, ops_.accesstoken), 100004);

    // #106-#109
    const std::string res = "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id;
    ExpectError(
        Send("PUT", "/v1/admin/tags?resource_id=" + d.node_id, R"({"tags":["a:b"]})", ops_), 135016
    );
    ExpectError(
        Send("PUT", "/v1/admin/tags?resource_type=Node", R"({"tags":["a:b"]})", ops_), 135015
    );
    ExpectError(
        Send(
            "PUT", "/v1/admin/tags?resource_type=Device&resource_id=x", R"({"tags":["a:b"]})", ops_
        ),
        135001
    );
    ExpectError(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=OTAImage&resource_id=x",
            R"({"tags":["a:b"]})",
            ops_
        ),
        135001
    );
    ExpectError(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=Node&resource_id=nosuch",
            R"({"tags":["a:b"]})",
            ops_
        ),
        135001
    );
    ExpectError(Send("PUT", res, R"({"tags":["nocolon"]})", ops_), 135002);
    ExpectError(Send("PUT", res, R"({"tags":[]})", ops_), 135002);
    ExpectError(Send("PUT", res, R"({"tags":[1]})", ops_), 135002);
    ExpectError(Send("PUT", res, R"({"tags":["a:b","bad"]})", ops_), 135002);
    ExpectError(Send("PUT", res, "[]", ops_), 100006);
    ExpectError(Send("DELETE", res, R"({"tags":["nocolon"]})", ops_), 135002);
    ExpectError(
        Send("DELETE", "/v1/admin/tags?resource_type=Node", R"({"tags":["a:b"]})", ops_), 135015
    );
    ExpectError(client_.Get("/v1/admin/tags", ops_.accesstoken), 135012);
    ExpectError(client_.Get("/v1/admin/tags?tag_name=a", ops_.accesstoken), 135014);
    ExpectError(client_.Get("/v1/admin/tags?tag_value=a", ops_.accesstoken), 135013);
    ExpectError(client_.Get("/v1/admin/tags?resource_type=Node", ops_.accesstoken), 135015);
    ExpectError(client_.Get("/v1/admin/tags?resource_id=x", ops_.accesstoken), 135016);
    ExpectError(client_.Get("/v1/admin/tags?tags=a:1", ops_.accesstoken), 135016);
    ExpectError(
        client_.Get("/v1/admin/tags?tags=a:1&resource_type=Node&tag_name=a", ops_.accesstoken),
        135017
    );
    ExpectError(
        client_.Get(
            "/v1/admin/tags?tags=a:1%20AND%20b:1%20OR%20c:1&resource_type=Node", ops_.accesstoken
        ),
        135011
    );
    ExpectError(
        client_.Get("/v1/admin/tags?tags=a:1%20OR&resource_type=Node", ops_.accesstoken), 135002
    );
    ExpectError(
        client_.Get("/v1/admin/tags?tag_name=a&tag_value=b&custom_data=true", ops_.accesstoken),
        135012
    );
    ExpectError(
        client_.Get("/v1/admin/tags?tag_name=a&tag_value=b&resource_type=Device", ops_.accesstoken),
        135001
    );
    ExpectError(
        client_.Get(
            "/v1/admin/tags?tag_name=a&tag_value=b&start_id=" + std::string(300, 'x'),
            ops_.accesstoken
        ),
        135007
    );
    ExpectError(client_.Get("/v1/admin/tags/names?resource_type=Thing", ops_.accesstoken), 135001);
    ExpectError(
        client_.Get("/v1/admin/tags/names?start_id=" + std::string(300, 'x'), ops_.accesstoken),
        135007
    );
    EXPECT_EQ(Tags("Node", d.node_id), (std::vector<std::string>{"keep:me"}));
    // Users are refused every admin route.
    ExpectError(client_.Get("/v1/admin/nodes", alice_.accesstoken), 100004);
    ExpectError(client_.Get("/v1/admin/tags/names", alice_.accesstoken), 100004);
}

TEST_F(AdminNodesTest, TagsOnNodesGroupsAndUsersByEveryQueryMode) {
    const auto d = Claim(alice_, "n1");
    const auto group =
        client_.Post("/v1/user/node_group", object{{"group_name", "Home"}}, alice_.accesstoken);
    ASSERT_EQ(group.status, 200) << group.body;
    const std::string group_id = group.Str("group_id");
    const auto me = client_.Get("/v1/user2", alice_.accesstoken);
    const std::string user_id = me.Str("user_id");

    ASSERT_EQ(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=NODE&resource_id=" + d.node_id,
            R"({"tags":["city:pune","floor:1"]})",
            ops_
        )
            .status,
        200
    );
    ASSERT_EQ(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=group&resource_id=" + group_id,
            R"({"tags":["city:pune"]})",
            ops_
        )
            .status,
        200
    );
    ASSERT_EQ(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=User&resource_id=" + user_id,
            R"({"tags":["tier:gold"]})",
            ops_
        )
            .status,
        200
    );
    // Attaching again changes nothing.
    ASSERT_EQ(
        Send(
            "PUT",
            "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id,
            R"({"tags":["city:pune"]})",
            ops_
        )
            .status,
        200
    );
    EXPECT_EQ(Tags("Node", d.node_id), (std::vector<std::string>{"city:pune", "floor:1"}));

    // tag_name + tag_value: every resource type, or one.
    const auto pune = client_.Get("/v1/admin/tags?tag_name=city&tag_value=pune", ops_.accesstoken);
    EXPECT_EQ(pune.json.at("total"), 2) << pune.body;
    const auto pune_groups = client_.Get(
        "/v1/admin/tags?tag_name=city&tag_value=pune&resource_type=Group", ops_.accesstoken
    );
    ASSERT_EQ(pune_groups.json.at("total"), 1) << pune_groups.body;
    EXPECT_EQ(pune_groups.json.at("resources").at(0).at("resource_type"), "GROUP");
    EXPECT_EQ(
        pune_groups.json.at("resources").at(0).at("resource_id"), boost::json::value(group_id)
    );
    // resource + tag_name.
    const auto floors = client_.Get(
        "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id + "&tag_name=floor",
        ops_.accesstoken
    );
    EXPECT_EQ(floors.json.at("resources").at(0).at("tags"), (boost::json::array{"floor:1"}))
        << floors.body;
    // tags expression + resource type.
    const auto both = client_.Get(
        "/v1/admin/tags?tags=city:pune%20AND%20floor:1&resource_type=Node", ops_.accesstoken
    );
    EXPECT_EQ(both.json.at("total"), 1) << both.body;
    const auto gold = client_.Get(
        "/v1/admin/tags?tags=tier:gold&resource_type=User&custom_data=true&node_counts=true",
        ops_.accesstoken
    );
    ASSERT_EQ(gold.json.at("total"), 1) << gold.body;
    EXPECT_TRUE(gold.json.at("resources").at(0).at("custom_data").is_object());
    // Claimed but never mapped: no node of hers yet.
    EXPECT_EQ(gold.json.at("resources").at(0).at("node_count"), 0);
    // Names and values, all types or one.
    const auto names = client_.Get("/v1/admin/tags/names", ops_.accesstoken);
    EXPECT_EQ(names.json.at("tags"), (boost::json::array{"city", "floor", "tier"})) << names.body;
    const auto user_names =
        client_.Get("/v1/admin/tags/names?resource_type=User", ops_.accesstoken);
    EXPECT_EQ(user_names.json.at("tags"), (boost::json::array{"tier"}));
    const auto paged = client_.Get("/v1/admin/tags/names?num_records=2", ops_.accesstoken);
    EXPECT_EQ(paged.json.at("next_id"), "floor") << paged.body;
    EXPECT_EQ(paged.json.at("total"), 3);
    const auto rest =
        client_.Get("/v1/admin/tags/names?num_records=2&start_id=floor", ops_.accesstoken);
    EXPECT_EQ(rest.json.at("tags"), (boost::json::array{"tier"})) << rest.body;

    // Detach.
    ASSERT_EQ(
        Send(
            "DELETE",
            "/v1/admin/tags?resource_type=Node&resource_id=" + d.node_id,
            R"({"tags":["floor:1"]})",
            ops_
        )
            .status,
        200
    );
    EXPECT_EQ(Tags("Node", d.node_id), (std::vector<std::string>{"city:pune"}));
    // Tags go with their group.
    ASSERT_EQ(Send("DELETE", "/v1/user/node_group?group_id=" + group_id, "", alice_).status, 200);
    const auto after = client_.Get(
        "/v1/admin/tags?tag_name=city&tag_value=pune&resource_type=Group", ops_.accesstoken
    );
    EXPECT_EQ(after.json.at("total"), 0) << after.body;
}

// `rainmaker-server admin` on the data directory of a running server: list-users, set-role,
// reset-password, deactivate-node and activate-node; bad input exits non-zero, changing nothing.
TEST_F(AdminNodesTest, AdminCommandLineManagesUsersAndNodes) {
    std::string out;
    ASSERT_EQ(server_.RunCommand({"admin", "list-users"}, &out), 0) << out;
    EXPECT_NE(out.find("alice@example.com\tuser\tconfirmed"), std::string::npos) << out;
    EXPECT_NE(out.find("ops@example.com\tadmin"), std::string::npos) << out;
    EXPECT_NE(out.find("root@example.com\tsuperadmin"), std::string::npos) << out;

    // set-role: refused spellings and users change nothing.
    EXPECT_NE(
        server_.RunCommand(
            {"admin", "set-role", "--user-name", "alice@example.com", "--role", "owner"}, &out, true
        ),
        0
    );
    EXPECT_NE(
        server_.RunCommand(
            {"admin", "set-role", "--user-name", "nobody@example.com", "--role", "admin"},
            &out,
            true
        ),
        0
    );
    ExpectError(
        client_.Get("/v1/admin/nodes", Login(client_, "alice@example.com").accesstoken), 100004
    );
    ASSERT_EQ(
        server_.RunCommand(
            {"admin", "set-role", "--user-name", "alice@example.com", "--role", "admin"}, &out
        ),
        0
    ) << out;
    const auto as_admin = Login(client_, "alice@example.com");
    EXPECT_EQ(client_.Get("/v1/admin/nodes", as_admin.accesstoken).status, 200);
    ExpectError(client_.Get("/v1/admin/user/nodes?node_id=x", as_admin.accesstoken), 100004);
    ASSERT_EQ(
        server_.RunCommand(
            {"admin", "set-role", "--user-name", "alice@example.com", "--role", "superadmin"}, &out
        ),
        0
    ) << out;
    ExpectError(
        client_.Get(
            "/v1/admin/user/nodes?node_id=x", Login(client_, "alice@example.com").accesstoken
        ),
        100015,
        404
    );
    ASSERT_EQ(server_.RunCommand({"admin", "list-users"}, &out), 0);
    EXPECT_NE(out.find("alice@example.com\tsuperadmin"), std::string::npos) << out;

    // reset-password: the policy holds; the old password no longer logs in.
    EXPECT_NE(
        server_.RunCommand(
            {"admin", "reset-password", "--user-name", "alice@example.com", "--password", "short"},
            &out,
            true
        ),
        0
    );
    EXPECT_EQ(TryLogin(client_, "alice@example.com", kPassword).status, 200);
    ASSERT_EQ(
        server_.RunCommand(
            {"admin",
             "reset-password",
             "--user-name",
             "alice@example.com",
             "--password",
             "N3wPassword!x"},
            &out
        ),
        0
    ) << out;
    EXPECT_NE(TryLogin(client_, "alice@example.com", kPassword).status, 200);
    EXPECT_EQ(TryLogin(client_, "alice@example.com", "N3wPassword!x").status, 200);

    // deactivate-node / activate-node on a live node: the running server is told (SIGHUP), so
    // the node is dropped at once and comes back after activation.
    const auto d = Claim(root_, "n1");
    auto sim = RunMapped(root_, d);
    const std::string one = "/v1/admin/nodes?node_id=" + d.node_id;
    const auto online = Eventually(one, ops_, [](const HttpResult& r) {
        return r.status == 200 && r.json.at("node_info").at(0).at("node_status") == "online";
    });
    ASSERT_EQ(online.json.at("node_info").at(0).at("node_status"), "online") << online.body;
    EXPECT_NE(
        server_.RunCommand({"admin", "deactivate-node", "--node-id", "nosuch"}, &out, true), 0
    );
    ASSERT_EQ(server_.RunCommand({"admin", "deactivate-node", "--node-id", d.node_id}, &out), 0)
        << out;
    EXPECT_NE(out.find("told the running server"), std::string::npos) << out;
    EXPECT_FALSE(sim->WaitFor("disconnected", 2000ms).empty())
        << "the live connection was not closed after deactivate-node";
    EXPECT_EQ(
        client_.Get(one, ops_.accesstoken).json.at("node_info").at(0).at("node_status"),
        "deactivated"
    );
    sim->Send("reconnect");
    EXPECT_TRUE(sim->Collect("connected", 2s).empty()) << "a deactivated node reconnected";
    ASSERT_EQ(server_.RunCommand({"admin", "activate-node", "--node-id", d.node_id}, &out), 0)
        << out;
    sim->Send("reconnect");
    EXPECT_FALSE(sim->WaitFor("connected", 15s).empty()) << "the activated node did not return";
}

}  // namespace
}  // namespace rainmaker::testing

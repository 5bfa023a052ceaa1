// Admin node groups end to end (#52-#55): an admin (made with `admin create-user --admin`)
// groups any node the server knows, by list or by node type/model/firmware version (dynamic
// groups, re-evaluated by regroup), apart from every user's own groups; others get 100004.
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

using boost::json::array;
using boost::json::object;

constexpr const char* kAdmin = "ops@example.com";

class AdminGroupsTest : public ::testing::Test, protected DeviceLab {
protected:
    AdminGroupsTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          admin_(CreateAdminAndLogin(client_, server_, kAdmin, "--admin")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // A mapped, running node whose config (type Lightbulb, model rainmaker-sim, firmware
    // 1.0.0) has reached the server.
    Device Online(const std::string& name, std::unique_ptr<SimProcess>& sim) {
        auto d = Claim(alice_, name);
        sim = RunMapped(alice_, d);
        const auto config = Eventually(
            "/v1/user/nodes/config?node_id=" + d.node_id,
            alice_,
            [](const HttpResult& r) { return r.status == 200; }
        );
        EXPECT_EQ(config.status, 200) << config.body;
        return d;
    }

    HttpResult Create(const Tokens& t, object body) {
        return client_.Post("/v1/admin/node_group", body, t.accesstoken);
    }

    HttpResult Update(const std::string& id, object body) {
        return client_.Put("/v1/admin/node_group?group_id=" + id, body, admin_.accesstoken);
    }

    HttpResult Get(const std::string& query) {
        return client_.Get("/v1/admin/node_group" + query, admin_.accesstoken);
    }

    array Nodes(const std::string& id) {
        const auto r = Get("?group_id=" + id + "&node_list=true");
        return r.json.at("groups").at(0).at("nodes").as_array();
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens admin_;
};

TEST_F(AdminGroupsTest, AdminGroupsHoldAnyKnownNodeApartFromUserGroups) {
    std::unique_ptr<SimProcess> sim;
    const auto d = Online("n1", sim);
    // Only admins: a user's token gets 100004 on every admin group operation.
    EXPECT_TRUE(IsFailure(Create(alice_, {{"group_name", "Fleet"}}), 400, 100004));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/node_group", alice_.accesstoken), 400, 100004));
    EXPECT_TRUE(IsFailure(Get(""), 404, 108027));  // none yet

    const auto fleet =
        Create(admin_, {{"group_name", "Fleet"}, {"nodes", JsonStrings({d.node_id})}});
    ASSERT_EQ(fleet.status, 200) << fleet.body;
    const std::string id = fleet.Str("group_id");
    EXPECT_TRUE(IsFailure(
        Create(admin_, {{"group_name", "Other"}, {"nodes", JsonStrings({"NoSuchNode"})}}),
        400,
        108012
    ));
    EXPECT_TRUE(IsFailure(Create(admin_, {{"group_name", "Fleet"}}), 400, 108007));
    EXPECT_TRUE(IsFailure(Create(admin_, {{"group_name", "M"}, {"is_matter", true}}), 400, 108121));
    const auto sub = Create(
        admin_,
        {{"group_name", "Batch 1"}, {"parent_group_id", id}, {"nodes", JsonStrings({d.node_id})}}
    );
    ASSERT_EQ(sub.status, 200) << sub.body;

    const auto details = Get("?group_id=" + id + "&node_details=true&sub_groups=true");
    ASSERT_EQ(details.status, 200) << details.body;
    const auto& group = details.json.at("groups").at(0);
    EXPECT_EQ(group.at("node_details").at(0).at("id"), boost::json::value(d.node_id));
    EXPECT_EQ(group.at("node_details").at(0).at("type"), "Lightbulb");
    EXPECT_EQ(group.at("sub_groups").at(0).at("group_name"), "Batch 1");
    EXPECT_EQ(Get("").json.at("total"), 1);

    // The user groups and the admin groups do not see each other.
    EXPECT_EQ(client_.Get("/v1/user/node_group", alice_.accesstoken).json.at("total"), 0);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/node_group?group_id=" + id, alice_.accesstoken), 400, 108023
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/node_group?group_id=" + id, admin_.accesstoken), 400, 108023
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group/sharing",
            object{{"groups", JsonStrings({id})}, {"user_name", "alice@example.com"}},
            admin_.accesstoken
        ),
        400,
        108038
    ));

    // Updates: rename, a node not in the group, nothing to update.
    ASSERT_EQ(Update(id, {{"group_name", "FleetA"}, {"description", "first"}}).status, 200);
    EXPECT_EQ(Get("?group_name=FleetA").json.at("groups").at(0).at("description"), "first");
    EXPECT_TRUE(IsFailure(
        Update(id, {{"operation", "remove"}, {"nodes", JsonStrings({"NoSuchNode"})}}), 400, 108150
    ));
    EXPECT_TRUE(IsFailure(Update(id, object{}), 400, 108024));
    ASSERT_EQ(
        Update(id, {{"operation", "remove"}, {"nodes", JsonStrings({d.node_id})}}).status, 200
    );
    EXPECT_TRUE(Nodes(id).empty());

    // Alice's unmapping the node does not touch admin groups; deleting does.
    ASSERT_EQ(Update(id, {{"operation", "add"}, {"nodes", JsonStrings({d.node_id})}}).status, 200);
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/mapping",
                object{{"node_id", d.node_id}, {"operation", "remove"}},
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(id), JsonStrings({d.node_id}));
    ASSERT_EQ(
        client_.Delete("/v1/admin/node_group?group_id=" + id, admin_.accesstoken).status, 200
    );
    EXPECT_TRUE(IsFailure(Get("?group_id=" + id), 400, 108023));
    EXPECT_TRUE(IsFailure(Get("?group_id=" + sub.Str("group_id")), 400, 108023));
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/admin/node_group?group_id=" + id, admin_.accesstoken), 400, 108023
    ));
}

TEST_F(AdminGroupsTest, DynamicGroupsFollowTypeModelAndFirmwareOnRegroup) {
    std::unique_ptr<SimProcess> s1;
    const auto d1 = Online("n1", s1);
    const auto lights = Create(admin_, {{"group_name", "Lights"}, {"node_type", "Lightbulb"}});
    ASSERT_EQ(lights.status, 200) << lights.body;
    const std::string id = lights.Str("group_id");
    EXPECT_EQ(Nodes(id), JsonStrings({d1.node_id}));
    EXPECT_EQ(
        Get("?group_id=" + id).json.at("groups").at(0).at("group_query").at("node_type"),
        "Lightbulb"
    );

    // The bad inputs of dynamic groups.
    EXPECT_TRUE(IsFailure(
        Create(admin_, {{"group_name", "Again"}, {"node_type", "Lightbulb"}}), 400, 108075
    ));
    EXPECT_TRUE(IsFailure(
        Create(admin_, {{"group_name", "None"}, {"node_model", "no-such-model"}}), 404, 108063
    ));
    EXPECT_TRUE(IsFailure(
        Create(
            admin_,
            {{"group_name", "Both"},
             {"node_model", "rainmaker-sim"},
             {"nodes", JsonStrings({d1.node_id})}}
        ),
        400,
        108061
    ));
    EXPECT_TRUE(
        IsFailure(Create(admin_, {{"group_name", "Sub"}, {"parent_group_id", id}}), 400, 108149)
    );
    const auto plain = Create(admin_, {{"group_name", "Plain"}});
    ASSERT_EQ(plain.status, 200) << plain.body;
    EXPECT_TRUE(IsFailure(
        Create(
            admin_,
            {{"group_name", "SubQ"},
             {"parent_group_id", plain.Str("group_id")},
             {"node_fw_version", "1.0.0"}}
        ),
        400,
        108059
    ));
    EXPECT_TRUE(IsFailure(Create(admin_, {{"group_name", "R"}, {"regroup", true}}), 400, 108066));
    EXPECT_TRUE(IsFailure(Update(id, {{"regroup", true}, {"group_name", "X"}}), 400, 108067));
    EXPECT_TRUE(IsFailure(Update(plain.Str("group_id"), {{"regroup", true}}), 400, 108065));
    EXPECT_TRUE(IsFailure(Update(id, {{"node_type", "Switch"}}), 400, 108060));
    EXPECT_TRUE(IsFailure(
        Update(id, {{"operation", "add"}, {"nodes", JsonStrings({d1.node_id})}}), 400, 108076
    ));

    // A second light comes online: regroup takes it in.
    std::unique_ptr<SimProcess> s2;
    const auto d2 = Online("n2", s2);
    EXPECT_EQ(Nodes(id).size(), 1u);
    ASSERT_EQ(Update(id, {{"regroup", true}}).status, 200);
    auto expected = JsonStrings({d1.node_id, d2.node_id});
    if (d2.node_id < d1.node_id) {
        expected = JsonStrings({d2.node_id, d1.node_id});
    }
    EXPECT_EQ(Nodes(id), expected);

    // The groups made from one group_query.
    const auto by_type = Get("?node_type=Lightbulb");
    ASSERT_EQ(by_type.json.at("groups").as_array().size(), 1u) << by_type.body;
    EXPECT_EQ(by_type.json.at("groups").at(0).at("group_id"), boost::json::value(id));
    EXPECT_TRUE(Get("?node_type=Switch").json.at("groups").as_array().empty());
}

}  // namespace
}  // namespace rainmaker::testing

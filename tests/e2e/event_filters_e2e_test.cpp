// Event filters over HTTP (#76-#83): the answers' shape (event_entity_mapping_list, total,
// upper-case entity types), a System filter set and changed by an admin, a user's own filter,
// DELETE with the reference's JSON body and with a query, and the documented bad inputs.
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;

constexpr const char* kSystemConnected = "system.rmaker.event.node_connected";

class EventFiltersTest : public ::testing::Test {
protected:
    EventFiltersTest()
        : client_(server_.port()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")) {}

    HttpResult Send(
        const std::string& method, const std::string& path, const object& body, const Tokens& who
    ) {
        return client_.Request(
            method, path, boost::json::serialize(body), {{"Authorization", who.accesstoken}}
        );
    }

    ServerProcess server_;
    HttpClient client_;
    Tokens admin_;
    Tokens alice_;
};

TEST_F(EventFiltersTest, AdminsSetSystemFiltersAndUsersTheirOwn) {
    object system{
        {"event_type", "rmaker.event.node_connected"},
        {"entity_id", kSystemConnected},
        {"entity_type", "System"},
        {"enabled", true},
        {"enabled_for_integrations", array{"mobile_push_notification"}}};
    auto r = Send("POST", "/v1/admin/event_filter", system, admin_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("status"), "success");
    EXPECT_TRUE(IsFailure(Send("POST", "/v1/admin/event_filter", system, admin_), 400, 113110));
    // The reference's own sample sends enabled as a string.
    system["enabled"] = "false";
    system["enabled_for_integrations"] = array{"mobile_push_notification", "webhook"};
    r = Send("PUT", "/v1/admin/event_filter", system, admin_);
    ASSERT_EQ(r.status, 200) << r.body;

    r = client_.Get(
        "/v1/admin/event_filter?event_type=rmaker.event.node_connected&entity_type=System",
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 1);
    const auto& entry = r.json.at("event_entity_mapping_list").at(0).as_object();
    EXPECT_EQ(entry.at("event_type"), "rmaker.event.node_connected");
    EXPECT_EQ(entry.at("entity_id"), kSystemConnected);
    EXPECT_EQ(entry.at("entity_type"), "SYSTEM");
    EXPECT_EQ(entry.at("enabled"), false);
    EXPECT_EQ(entry.at("enabled_for_integrations"), (array{"mobile_push_notification", "webhook"}));

    // A user's own filter; the user does not see the System one.
    const std::string alice_id = client_.Get("/v1/user2", alice_.accesstoken).Str("user_id");
    ASSERT_FALSE(alice_id.empty());
    object own{
        {"event_type", "rmaker.event.node_disconnected"},
        {"entity_id", alice_id},
        {"entity_type", "user"},
        {"enabled", true},
        {"enabled_for_integrations", array{"webhook"}}};
    r = Send("POST", "/v1/user/event_filter", own, alice_);
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Get("/v1/user/event_filter?entity_id=" + alice_id, alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 1);
    EXPECT_EQ(r.json.at("event_entity_mapping_list").at(0).at("entity_type"), "USER");
    r = client_.Get(
        "/v1/user/event_filter?event_type=rmaker.event.node_connected", alice_.accesstoken
    );
    EXPECT_EQ(r.json.at("total").as_int64(), 0) << r.body;
    // The admin sees it.
    r = client_.Get("/v1/admin/event_filter?entity_id=" + alice_id, admin_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 1) << r.body;

    // DELETE with the reference's JSON body, and with a query.
    r = Send(
        "DELETE",
        "/v1/admin/event_filter",
        object{{"event_type", "rmaker.event.node_connected"}, {"entity_id", kSystemConnected}},
        admin_
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Delete(
        "/v1/user/event_filter?event_type=rmaker.event.node_disconnected&entity_id=" + alice_id,
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Get("/v1/admin/event_filter?entity_id=" + alice_id, admin_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 0) << r.body;
}

TEST_F(EventFiltersTest, BadInputsAnswerTheirCodes) {
    const auto post = [&](object body) {
        return Send("POST", "/v1/admin/event_filter", body, admin_);
    };
    object base{
        {"event_type", "rmaker.event.alert"},
        {"entity_id", "system.rmaker.event.alert"},
        {"entity_type", "System"},
        {"enabled", true},
        {"enabled_for_integrations", array{"webhook"}}};
    const auto without = [&](const char* key) {
        auto body = base;
        body.erase(key);
        return body;
    };
    EXPECT_TRUE(IsFailure(post(without("event_type")), 400, 113101));
    EXPECT_TRUE(IsFailure(post(without("entity_id")), 400, 113102));
    EXPECT_TRUE(IsFailure(post(without("entity_type")), 400, 113103));
    EXPECT_TRUE(IsFailure(post(without("enabled")), 400, 113105));
    EXPECT_TRUE(IsFailure(post(without("enabled_for_integrations")), 400, 113106));
    auto body = base;
    body["entity_type"] = "Group";
    EXPECT_TRUE(IsFailure(post(body), 400, 113107));
    body = base;
    body["enabled_for_integrations"] = array{};
    EXPECT_TRUE(IsFailure(post(body), 400, 113133));
    body = base;
    body["enabled_for_integrations"] = "webhook";
    EXPECT_TRUE(IsFailure(post(body), 400, 100006));
    body = base;
    body["enabled"] = 3;
    EXPECT_TRUE(IsFailure(post(body), 400, 100006));
    EXPECT_TRUE(IsFailure(
        client_.Request(
            "POST", "/v1/admin/event_filter", "[1]", {{"Authorization", admin_.accesstoken}}
        ),
        400,
        100006
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/event_filter?entity_type=Node", admin_.accesstoken), 400, 100021
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/event_filter", admin_.accesstoken), 400, 113101));
    EXPECT_TRUE(IsFailure(
        client_.Get(
            "/v1/admin/"
            "event_filter?event_type=rmaker.event.alert&entity_id=system.rmaker.event.alert",
            admin_.accesstoken
        ),
        400,
        113109
    ));
    EXPECT_TRUE(IsFailure(Send("PUT", "/v1/admin/event_filter", base, admin_), 400, 113109));
    // Users: not a System filter, not another event.
    body = base;
    EXPECT_TRUE(IsFailure(Send("POST", "/v1/user/event_filter", body, alice_), 400, 113107));
    // Nothing was kept.
    const auto r =
        client_.Get("/v1/admin/event_filter?event_type=rmaker.event.alert", admin_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 0) << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

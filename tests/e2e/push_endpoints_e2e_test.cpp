// Push-notification endpoint registration (#84-#86) end to end with the real server: register,
// list and delete as the phone apps and the SDK do, each documented error with nothing changed,
// a token moving between users, the per-user cap, and two users seeing only their own.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

constexpr const char* kPath = "/v1/user/push_notification/mobile_platform_endpoint";

class PushEndpointsTest : public ::testing::Test {
protected:
    PushEndpointsTest()
        : client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    HttpResult Register(const Tokens& t, const object& body) {
        return client_.Post(kPath, body, t.accesstoken);
    }

    HttpResult List(const Tokens& t) { return client_.Get(kPath, t.accesstoken); }

    // The caller's endpoints as listed (the whole answer, for "nothing changed").
    std::string Listed(const Tokens& t) {
        const auto r = List(t);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.body;
    }

    std::vector<std::string> ListedTokens(const Tokens& t) {
        std::vector<std::string> out;
        const auto r = List(t);
        for (const auto& e : r.json.at("platform_endpoints").as_array()) {
            out.emplace_back(e.at("mobile_device_token").as_string());
        }
        return out;
    }

    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Tokens bob_;
};

TEST_F(PushEndpointsTest, RegistersListsAndDeletesAsTheAppsDo) {
    // An FCM token holds ':' (percent-encoded in the DELETE query below).
    const std::string token = "dXk1:APA91bH-abc_DEF";
    const auto created =
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", token}});
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.Str("status"), "success");
    const std::string arn = created.Str("platform_endpoint_arn");
    EXPECT_EQ(arn.rfind("arn:rainmaker:push:endpoint/", 0), 0U) << arn;
    const auto vendor = Register(
        alice_,
        object{{"platform", "GCM"}, {"mobile_device_token", "ab12cd"}, {"platform_type", "fcm"}}
    );
    ASSERT_EQ(vendor.status, 201) << vendor.body;

    const auto list = List(alice_);
    ASSERT_EQ(list.status, 200) << list.body;
    const auto& endpoints = list.json.at("platform_endpoints").as_array();
    ASSERT_EQ(endpoints.size(), 2U) << list.body;
    const auto& first = endpoints[0].as_object();
    EXPECT_EQ(first.at("mobile_device_token"), boost::json::value(token));
    EXPECT_EQ(first.at("platform_endpoint_arn"), boost::json::value(arn));
    EXPECT_EQ(first.at("platform_application_arn"), "arn:rainmaker:push:app/GCM");
    EXPECT_EQ(first.at("platform"), "GCM");
    EXPECT_FALSE(first.contains("platform_type"));
    EXPECT_EQ(endpoints[1].at("platform_type"), "fcm");

    // By token (query), then by ARN.
    const auto by_token = client_.Delete(
        std::string(kPath) + "?mobile_device_token=dXk1%3AAPA91bH-abc_DEF", alice_.accesstoken
    );
    ASSERT_EQ(by_token.status, 200) << by_token.body;
    EXPECT_EQ(by_token.Str("status"), "success");
    EXPECT_EQ(ListedTokens(alice_), std::vector<std::string>{"ab12cd"});
    const auto by_arn = client_.Delete(
        std::string(kPath) + "?endpoint=" + vendor.Str("platform_endpoint_arn"), alice_.accesstoken
    );
    ASSERT_EQ(by_arn.status, 200) << by_arn.body;
    EXPECT_TRUE(ListedTokens(alice_).empty());
    EXPECT_EQ(Listed(alice_), R"({"platform_endpoints":[]})");
    // The same keys in a JSON body when the query has none.
    ASSERT_EQ(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "body"}}).status, 201
    );
    const auto by_body = client_.Request(
        "DELETE",
        kPath,
        R"({"mobile_device_token":"body"})",
        {{"Authorization", alice_.accesstoken}, {"Content-Type", "application/json"}}
    );
    ASSERT_EQ(by_body.status, 200) << by_body.body;
    EXPECT_TRUE(ListedTokens(alice_).empty());
}

TEST_F(PushEndpointsTest, EachDocumentedErrorChangesNothing) {
    ASSERT_EQ(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "kept"}}).status, 201
    );
    const std::string before = Listed(alice_);
    const std::string bob_before = Listed(bob_);

    EXPECT_TRUE(IsFailure(Register(alice_, object{{"mobile_device_token", "t"}}), 400, 114002));
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "WNS"}, {"mobile_device_token", "t"}}), 400, 114002
    ));
    EXPECT_TRUE(IsFailure(Register(alice_, object{{"platform", "GCM"}}), 400, 114012));
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", ""}}), 400, 114012
    ));
    EXPECT_TRUE(IsFailure(
        Register(
            alice_,
            object{{"platform", "GCM"}, {"mobile_device_token", "t"}, {"platform_type", "x"}}
        ),
        400,
        114018
    ));
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", true}}), 400, 100006
    ));
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "a b"}}), 400, 100006
    ));
    EXPECT_TRUE(IsFailure(
        Register(
            alice_, object{{"platform", "GCM"}, {"mobile_device_token", std::string(1025, 'x')}}
        ),
        400,
        100036
    ));
    EXPECT_TRUE(IsFailure(
        client_.Request("POST", kPath, "{not json", {{"Authorization", alice_.accesstoken}}),
        400,
        100006
    ));
    // Already registered by the caller.
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "kept"}}), 400, 114016
    ));
    // Deletion: neither key; unknown token or ARN; both keys naming different endpoints.
    EXPECT_TRUE(IsFailure(client_.Delete(kPath, alice_.accesstoken), 400, 114021));
    EXPECT_TRUE(IsFailure(
        client_.Delete(std::string(kPath) + "?mobile_device_token=", alice_.accesstoken),
        400,
        114021
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(std::string(kPath) + "?mobile_device_token=nope", alice_.accesstoken),
        400,
        114036
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            std::string(kPath) + "?endpoint=arn:rainmaker:push:endpoint/00", alice_.accesstoken
        ),
        400,
        114036
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            std::string(kPath) +
                "?mobile_device_token=kept&endpoint=arn:rainmaker:push:endpoint/00",
            alice_.accesstoken
        ),
        400,
        114036
    ));
    // Without a token: 401.
    EXPECT_TRUE(IsFailure(client_.Get(kPath), 401, 100004));
    EXPECT_TRUE(IsFailure(
        client_.Post(kPath, object{{"platform", "GCM"}, {"mobile_device_token", "anon"}}),
        401,
        100004
    ));
    EXPECT_TRUE(
        IsFailure(client_.Delete(std::string(kPath) + "?mobile_device_token=kept"), 401, 100004)
    );

    EXPECT_EQ(Listed(alice_), before);
    EXPECT_EQ(Listed(bob_), bob_before);
}

TEST_F(PushEndpointsTest, UsersSeeAndDeleteOnlyTheirOwn) {
    const auto a =
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "alice-phone"}});
    ASSERT_EQ(a.status, 201) << a.body;
    ASSERT_EQ(
        Register(bob_, object{{"platform", "APNS"}, {"mobile_device_token", "bob-phone"}}).status,
        201
    );
    EXPECT_EQ(ListedTokens(alice_), std::vector<std::string>{"alice-phone"});
    EXPECT_EQ(ListedTokens(bob_), std::vector<std::string>{"bob-phone"});
    // Bob cannot delete Alice's endpoint, by token or by ARN: it is not found for him.
    EXPECT_TRUE(IsFailure(
        client_.Delete(std::string(kPath) + "?mobile_device_token=alice-phone", bob_.accesstoken),
        400,
        114036
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            std::string(kPath) + "?endpoint=" + a.Str("platform_endpoint_arn"), bob_.accesstoken
        ),
        400,
        114036
    ));
    EXPECT_EQ(ListedTokens(alice_), std::vector<std::string>{"alice-phone"});
}

TEST_F(PushEndpointsTest, ATokenRegisteredByAnotherUserMovesToThem) {
    const auto a = Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "shared"}});
    ASSERT_EQ(a.status, 201) << a.body;
    const auto b = Register(bob_, object{{"platform", "GCM"}, {"mobile_device_token", "shared"}});
    ASSERT_EQ(b.status, 201) << b.body;
    EXPECT_NE(a.Str("platform_endpoint_arn"), b.Str("platform_endpoint_arn"));
    EXPECT_TRUE(ListedTokens(alice_).empty());
    EXPECT_EQ(ListedTokens(bob_), std::vector<std::string>{"shared"});
}

TEST_F(PushEndpointsTest, OneUserHoldsAtMostAHundredEndpoints) {
    for (int i = 0; i < 100; ++i) {
        const auto r = Register(
            alice_, object{{"platform", "GCM"}, {"mobile_device_token", "t" + std::to_string(i)}}
        );
        ASSERT_EQ(r.status, 201) << i << " " << r.body;
    }
    const std::string before = Listed(alice_);
    EXPECT_TRUE(IsFailure(
        Register(alice_, object{{"platform", "GCM"}, {"mobile_device_token", "t100"}}), 429, 100070
    ));
    EXPECT_EQ(Listed(alice_), before);
    // Another user is not held back.
    EXPECT_EQ(
        Register(bob_, object{{"platform", "GCM"}, {"mobile_device_token", "b"}}).status, 201
    );
}

}  // namespace
}  // namespace rainmaker::testing

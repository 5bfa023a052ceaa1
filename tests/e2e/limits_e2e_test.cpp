// Per-user quotas and stored-document limits against the real server (hardening finding 3):
// groups per user, pending sharing requests (and no duplicates of one), claims waiting to be
// mapped, and the size of what a merge may grow. Each refusal changes nothing.
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

class LimitsTest : public ::testing::Test {
protected:
    LimitsTest()
        : config_(
              "[groups]\nmax_per_user = 3\n[sharing]\nmax_pending_per_user = 2\n"
              "[claims]\nmax_pending_per_user = 1\n"
          ),
          server_(config_.Options()),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")),
          carol_(SignUpAndLogin(client_, server_, "carol@example.com")) {}

    HttpResult CreateGroup(const std::string& name) {
        return client_.Post(
            "/v1/user/node_group", object{{"group_name", name}}, alice_.accesstoken
        );
    }

    int GroupCount() {
        const auto r = client_.Get("/v1/user/node_group", alice_.accesstoken);
        return r.status == 200 ? static_cast<int>(r.json.at("groups").as_array().size()) : -1;
    }

    HttpResult ShareGroup(const std::string& group_id, const std::string& to) {
        return client_.Put(
            "/v1/user/node_group/sharing",
            object{{"groups", JsonStrings({group_id})}, {"user_name", to}},
            alice_.accesstoken
        );
    }

    int PendingSent() {
        const auto r = client_.Get(
            "/v1/user/node_group/sharing/requests?primary_user=true", alice_.accesstoken
        );
        return r.status == 200 ? static_cast<int>(r.json.at("sharing_requests").as_array().size())
                               : -1;
    }

    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Tokens bob_;
    Tokens carol_;
};

TEST_F(LimitsTest, AUserOwnsAtMostTheConfiguredNumberOfGroups) {
    const auto home = CreateGroup("Home");
    ASSERT_EQ(home.status, 200) << home.body;
    ASSERT_EQ(
        client_
            .Post(
                "/v1/user/node_group",
                object{{"group_name", "Room"}, {"parent_group_id", home.Str("group_id")}},
                alice_.accesstoken
            )
            .status,
        200
    );
    ASSERT_EQ(CreateGroup("Office").status, 200);
    EXPECT_TRUE(IsFailure(CreateGroup("Garage"), 429, 100070));
    EXPECT_EQ(GroupCount(), 2);  // top level: Home and Office
    // Another user has a quota of their own.
    EXPECT_EQ(
        client_.Post("/v1/user/node_group", object{{"group_name", "Home"}}, bob_.accesstoken)
            .status,
        200
    );
}

TEST_F(LimitsTest, ARepeatedSharingRequestIsTheSameRequestAndPendingOnesAreCapped) {
    const auto home = CreateGroup("Home").Str("group_id");
    const auto office = CreateGroup("Office").Str("group_id");
    const auto first = ShareGroup(home, "bob@example.com");
    ASSERT_EQ(first.status, 200) << first.body;
    // The same offer again (a retry) names the pending request instead of adding one.
    const auto again = ShareGroup(home, "bob@example.com");
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.Str("request_id"), first.Str("request_id"));
    EXPECT_EQ(PendingSent(), 1);
    ASSERT_EQ(ShareGroup(office, "bob@example.com").status, 200);
    EXPECT_TRUE(IsFailure(ShareGroup(home, "carol@example.com"), 429, 100070));
    EXPECT_EQ(PendingSent(), 2);
    // Once Bob answers one, there is room again.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group/sharing/requests",
                object{{"request_id", first.Str("request_id")}, {"accept", false}},
                bob_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(ShareGroup(home, "carol@example.com").status, 200);
}

TEST_F(LimitsTest, ClaimsWaitingToBeMappedAreCapped) {
    const object first{{"mac_addr", "AABBCCDDEE01"}, {"platform", "esp32"}};
    const object second{{"mac_addr", "AABBCCDDEE02"}, {"platform", "esp32"}};
    const auto r = client_.Post("/claim/initiate", first, alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(IsFailure(client_.Post("/claim/initiate", second, alice_.accesstoken), 429, 100070)
    );
    // The same device again is no new claim.
    EXPECT_EQ(
        client_.Post("/claim/initiate", first, alice_.accesstoken).Str("node_id"), r.Str("node_id")
    );
}

TEST_F(LimitsTest, MergedDocumentsCannotGrowPastTheirLimit) {
    const std::string chunk(40 * 1024, 'p');
    const auto put = [&](const char* key) {
        return client_.Put(
            "/v1/user/public_profile", object{{"profile", object{{key, chunk}}}}, alice_.accesstoken
        );
    };
    ASSERT_EQ(put("a").status, 200);
    EXPECT_TRUE(IsFailure(put("b"), 400, 100036));
    const auto profile = client_.Get("/v1/user/public_profile", alice_.accesstoken);
    ASSERT_EQ(profile.status, 200);
    EXPECT_TRUE(profile.json.at("profile").as_object().contains("a"));
    EXPECT_FALSE(profile.json.at("profile").as_object().contains("b"));

    const auto group = client_.Post(
        "/v1/user/node_group",
        object{{"group_name", "Home"}, {"custom_data", object{{"a", chunk}}}},
        alice_.accesstoken
    );
    ASSERT_EQ(group.status, 200) << group.body;
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group?group_id=" + group.Str("group_id"),
            object{{"custom_data", object{{"b", chunk}}}},
            alice_.accesstoken
        ),
        400,
        100036
    ));
}

}  // namespace
}  // namespace rainmaker::testing

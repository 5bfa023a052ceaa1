// Push endpoint registration (domain/push) over the SQLite store: the checks of #84-#86, a
// duplicate, a token moving between users, the per-user cap, deletion by token and by ARN,
// isolation between users, and the rows going with the account.
#include "domain/push/push_service.hpp"

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::push {
namespace {

using core::ApiError;

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

EndpointInput In(
    std::optional<std::string> platform,
    std::optional<std::string> token,
    std::optional<std::string> type = std::nullopt
) {
    return EndpointInput{std::move(platform), std::move(token), std::move(type)};
}

class PushServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"alice", "bob"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
    }

    std::vector<std::string> Tokens(const auth::AuthContext& who) {
        std::vector<std::string> out;
        for (const auto& e : service_.List(who)) {
            out.push_back(e.device_token);
        }
        return out;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    PushConfig config_ = [] {
        PushConfig c;
        c.max_endpoints_per_user = 3;
        return c;
    }();
    PushService service_{db_, clock_, config_};
    auth::AuthContext alice_{"alice", "alice@x.com", "s1"};
    auth::AuthContext bob_{"bob", "bob@x.com", "s2"};
};

TEST_F(PushServiceTest, RegistersListsAndDeletesByArn) {
    const auto r = service_.Register(alice_, In("GCM", "tok-1", "huawei"));
    EXPECT_FALSE(r.moved);
    EXPECT_TRUE(std::regex_match(
        r.endpoint.endpoint_arn, std::regex("arn:rainmaker:push:endpoint/[0-9a-f]{32}")
    )) << r.endpoint.endpoint_arn;
    clock_.Advance(std::chrono::seconds(1));
    service_.Register(alice_, In("APNS_SANDBOX", "tok-2"));

    const auto list = service_.List(alice_);
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].endpoint_arn, r.endpoint.endpoint_arn);
    EXPECT_EQ(list[0].device_token, "tok-1");
    EXPECT_EQ(list[0].platform, "GCM");
    EXPECT_EQ(list[0].platform_type, "huawei");
    EXPECT_EQ(list[0].application_arn, "arn:rainmaker:push:app/GCM/huawei");
    EXPECT_EQ(list[1].device_token, "tok-2");
    EXPECT_EQ(list[1].application_arn, "arn:rainmaker:push:app/APNS_SANDBOX");

    service_.Delete(alice_, "", r.endpoint.endpoint_arn);
    EXPECT_EQ(Tokens(alice_), std::vector<std::string>{"tok-2"});
    service_.Delete(alice_, "tok-2", "");
    EXPECT_TRUE(service_.List(alice_).empty());
}

TEST_F(PushServiceTest, EachArnIsNewAndStable) {
    const auto a = service_.Register(alice_, In("GCM", "tok-1")).endpoint.endpoint_arn;
    EXPECT_EQ(service_.List(alice_).at(0).endpoint_arn, a);
    service_.Delete(alice_, "tok-1", "");
    const auto b = service_.Register(alice_, In("GCM", "tok-1")).endpoint.endpoint_arn;
    EXPECT_NE(a, b);
}

TEST_F(PushServiceTest, RefusesBadRegistrationsWithNothingChanged) {
    service_.Register(alice_, In("GCM", "kept"));
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In(std::nullopt, "t")); }), 114002);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("gcm", "t")); }), 114002);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("FCM", "t")); }), 114002);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", std::nullopt)); }), 114012);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "")); }), 114012);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "t", "nokia")); }), 114018);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "a b")); }), 100006);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "a\nb")); }), 100006);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "t\xc3\xa9")); }), 100006);
    EXPECT_EQ(
        CodeOf([&] { service_.Register(alice_, In("GCM", std::string(1025, 'x'))); }), 100036
    );
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", std::string(1024, 'x'))); }), 0);
    // The same token again, whatever the platform: 114016, the first registration kept.
    const auto before = service_.List(alice_);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "kept")); }), 114016);
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("APNS", "kept")); }), 114016);
    const auto after = service_.List(alice_);
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        EXPECT_EQ(after[i].endpoint_arn, before[i].endpoint_arn);
        EXPECT_EQ(after[i].platform, before[i].platform);
    }
}

TEST_F(PushServiceTest, ATokenMovesToTheUserWhoRegistersIt) {
    const auto old = service_.Register(alice_, In("GCM", "phone")).endpoint.endpoint_arn;
    const auto r = service_.Register(bob_, In("GCM", "phone"));
    EXPECT_TRUE(r.moved);
    EXPECT_NE(r.endpoint.endpoint_arn, old);
    EXPECT_TRUE(service_.List(alice_).empty());
    EXPECT_EQ(Tokens(bob_), std::vector<std::string>{"phone"});
    // Alice's old ARN is gone for everyone.
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "", old); }), 114036);
    EXPECT_EQ(CodeOf([&] { service_.Delete(bob_, "", old); }), 114036);
}

// An APNs token is hex: the same phone's token in another letter case is the same token, so it
// moves instead of making a second endpoint (review of #84); FCM tokens are case-sensitive.
TEST_F(PushServiceTest, AnApnsTokenIsOneTokenInEitherCase) {
    service_.Register(alice_, In("APNS", "ABCDEF0123"));
    EXPECT_EQ(Tokens(alice_), std::vector<std::string>{"abcdef0123"});
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("APNS", "abcdef0123")); }), 114016);
    EXPECT_TRUE(service_.Register(bob_, In("APNS_SANDBOX", "AbCdEf0123")).moved);
    EXPECT_TRUE(service_.List(alice_).empty());
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "ABCDEF0123", ""); }), 114036);
    service_.Delete(bob_, "ABCDEF0123", "");
    EXPECT_TRUE(service_.List(bob_).empty());
    service_.Register(alice_, In("GCM", "Tok"));
    EXPECT_FALSE(service_.Register(alice_, In("GCM", "tok")).moved);
    EXPECT_EQ(Tokens(alice_).size(), 2U);
}

TEST_F(PushServiceTest, APlatformTypeGoesWithGcmOnly) {
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("APNS", "ab12", "huawei")); }), 114018);
    EXPECT_EQ(
        CodeOf([&] { service_.Register(alice_, In("APNS_SANDBOX", "ab12", "fcm")); }), 114018
    );
    EXPECT_TRUE(service_.List(alice_).empty());
    EXPECT_EQ(service_.Register(alice_, In("GCM", "tok", "oppo")).endpoint.platform_type, "oppo");
}

TEST_F(PushServiceTest, CapsEndpointsPerUserAndAMoveRespectsIt) {
    for (const auto* t : {"a1", "a2", "a3"}) {
        service_.Register(alice_, In("GCM", t));
    }
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "a4")); }), 100070);
    // Bob's token cannot move to a full Alice: Bob keeps it.
    service_.Register(bob_, In("GCM", "b1"));
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "b1")); }), 100070);
    EXPECT_EQ(Tokens(bob_), std::vector<std::string>{"b1"});
    EXPECT_EQ(service_.List(alice_).size(), 3U);
    // Room again after a deletion.
    service_.Delete(alice_, "a1", "");
    EXPECT_EQ(CodeOf([&] { service_.Register(alice_, In("GCM", "a4")); }), 0);
}

TEST_F(PushServiceTest, DeletionNeedsAKeyAndOnlyFindsTheCallersEndpoints) {
    const auto arn = service_.Register(alice_, In("GCM", "tok")).endpoint.endpoint_arn;
    const auto other = service_.Register(alice_, In("GCM", "tok-b")).endpoint.endpoint_arn;
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "", ""); }), 114021);
    EXPECT_EQ(CodeOf([&] { service_.Delete(bob_, "tok", ""); }), 114036);
    EXPECT_EQ(CodeOf([&] { service_.Delete(bob_, "", arn); }), 114036);
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "nope", ""); }), 114036);
    EXPECT_EQ(
        CodeOf([&] { service_.Delete(alice_, "", "arn:rainmaker:push:endpoint/x"); }), 114036
    );
    // Both given: they must name the same endpoint.
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "tok", other); }), 114036);
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, std::string(1025, 'x'), ""); }), 100036);
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, "", std::string(257, 'x')); }), 100036);
    EXPECT_EQ(service_.List(alice_).size(), 2U);
    service_.Delete(alice_, "tok", arn);  // both, matching
    EXPECT_EQ(Tokens(alice_), std::vector<std::string>{"tok-b"});
}

TEST_F(PushServiceTest, EndpointsGoWithTheAccount) {
    service_.Register(alice_, In("GCM", "a"));
    service_.Register(bob_, In("APNS", "b"));
    db_.Users().Delete("alice");
    EXPECT_FALSE(db_.Push().FindByToken("a").has_value());
    EXPECT_EQ(db_.Push().CountForUser("alice"), 0);
    EXPECT_EQ(Tokens(bob_), std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace rainmaker::domain::push

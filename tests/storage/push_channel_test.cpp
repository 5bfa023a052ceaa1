// Push notifications through the delivery pipeline over SQLite with scripted senders: an alert
// reaches every endpoint of every user of the node (primary and secondary) on the platforms
// with a sender, once; the mobile_push event filters decide per user and node; a token the
// service calls invalid removes its endpoint; failures are retried; the alert's text.
#include "domain/push/push_channel.hpp"

#include <deque>
#include <map>

#include <gtest/gtest.h>

#include "domain/events/event_log.hpp"
#include "domain/push/push_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::push {
namespace {

using events::SendResult;

class ScriptedSender final : public PushSender {
public:
    SendResult Send(
        events::Poster&, const storage::PushEndpointRow& endpoint, const std::string& notification
    ) override {
        sent.emplace_back(endpoint.device_token, boost::json::parse(notification).as_object());
        if (const auto it = outcomes.find(endpoint.device_token); it != outcomes.end()) {
            return SendResult{it->second, "scripted"};
        }
        return SendResult{SendResult::Outcome::kSent, {}};
    }

    std::map<std::string, SendResult::Outcome> outcomes;  // by token; default sent
    std::vector<std::pair<std::string, boost::json::object>> sent;
};

class NoPoster final : public events::Poster {
public:
    Result Post(const events::PostRequest&) override { return Result{}; }
};

class PushChannelTest : public ::testing::Test {
protected:
    PushChannelTest() {
        for (const auto* user : {"alice", "bob", "carol"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            db_.Users().Insert(u);
        }
        storage::NodeRow n;
        n.node_id = "node-a";
        n.created_at = 1;
        n.config = R"({"node_id":"node-a","info":{"name":"Front door"}})";
        db_.Nodes().Insert(n);
        storage::UserNodeRow m;
        m.user_id = "alice";
        m.node_id = "node-a";
        db_.Nodes().PutMapping(m);
        m.user_id = "bob";
        m.role = core::ResourceRole::kSecondary;
        m.direct_role = core::ResourceRole::kSecondary;
        db_.Nodes().PutMapping(m);
        Register(alice_, "GCM", "alice-phone");
        Register(alice_, "APNS", "alice-ipad");
        Register(bob_, "GCM", "bob-phone");
        Register(carol_, "GCM", "carol-phone");  // not a user of the node
        if (channel_.Enabled()) {
            log_.SetWanted("push", {std::string(kPushedEvent)});
        }
        dispatcher_.Plan();  // the cursor starts at the newest event
    }

    void Register(const auth::AuthContext& who, const char* platform, const char* token) {
        EndpointInput in;
        in.platform = platform;
        in.mobile_device_token = token;
        push_.Register(who, in);
    }

    void Alert(const std::string& text) {
        db_.Transaction([&] {
            log_.Record(
                "alert",
                "",
                "node-a",
                boost::json::object{{"node_id", "node-a"}, {"alert", {{"esp.alert.str", text}}}}
            );
        });
    }

    std::vector<std::string> Drain() {
        dispatcher_.Plan();
        while (dispatcher_.Work(poster_) >= 0) {
        }
        std::vector<std::string> tokens;
        for (const auto& [token, n] : fcm_.sent) {
            tokens.push_back(token);
        }
        for (const auto& [token, n] : apns_.sent) {
            tokens.push_back(token);
        }
        fcm_.sent.clear();
        apns_.sent.clear();
        std::sort(tokens.begin(), tokens.end());
        return tokens;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    events::EventLog log_{db_, clock_};
    events::EventFilterService filters_{db_, clock_};
    PushService push_{db_, clock_};
    ScriptedSender fcm_;
    ScriptedSender apns_;
    PushChannel channel_{db_, filters_, PushSenders{&fcm_, &apns_}};
    events::DeliveryDispatcher dispatcher_{
        db_, clock_, events::DeliveryConfig{}, nullptr, {&channel_}};
    NoPoster poster_;
    auth::AuthContext admin_{"root", "root@x.com", "s", auth::PlatformRole::kAdmin};
    auth::AuthContext alice_{"alice", "alice@x.com", "s"};
    auth::AuthContext bob_{"bob", "bob@x.com", "s"};
    auth::AuthContext carol_{"carol", "carol@x.com", "s"};
};

TEST_F(PushChannelTest, AnAlertReachesEveryPhoneOfTheNodesUsersOnce) {
    Alert("Door open");
    EXPECT_EQ(Drain(), (std::vector<std::string>{"alice-ipad", "alice-phone", "bob-phone"}));
    Alert("Door closed");
    dispatcher_.Plan();
    while (dispatcher_.Work(poster_) >= 0) {
    }
    ASSERT_EQ(fcm_.sent.size(), 2u);
    const auto& n = fcm_.sent[0].second;
    EXPECT_EQ(n.at("title"), "Front door");
    EXPECT_EQ(n.at("body"), "Door closed");
    EXPECT_EQ(n.at("node_id"), "node-a");
    EXPECT_EQ(n.at("event_type"), "rmaker.event.alert");
}

TEST_F(PushChannelTest, FiltersDecidePerUserAndNode) {
    events::FilterInput f;
    f.event_type = std::string(kPushedEvent);
    f.entity_id = "bob";
    f.entity_type = "User";
    f.enabled = true;
    f.enabled_for_integrations = std::vector<std::string>{"webhook"};
    filters_.Add(admin_, events::FilterScope::kAdmin, f);
    Alert("one");
    EXPECT_EQ(Drain(), (std::vector<std::string>{"alice-ipad", "alice-phone"}));
    f.entity_id = "node-a";
    f.entity_type = "Node";
    f.enabled = false;
    f.enabled_for_integrations = std::vector<std::string>{"mobile_push"};
    filters_.Add(admin_, events::FilterScope::kAdmin, f);
    Alert("two");
    EXPECT_TRUE(Drain().empty());  // the node's filter is off for everyone
}

TEST_F(PushChannelTest, InvalidTokensAreRemovedAndFailuresRetried) {
    fcm_.outcomes["bob-phone"] = SendResult::Outcome::kGone;
    apns_.outcomes["alice-ipad"] = SendResult::Outcome::kFailed;
    Alert("Door open");
    EXPECT_EQ(Drain(), (std::vector<std::string>{"alice-ipad", "alice-phone", "bob-phone"}));
    EXPECT_TRUE(push_.List(bob_).empty());        // the endpoint went
    EXPECT_EQ(push_.List(alice_).size(), 2u);     // a failure removes nothing
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 1);  // the iPad's, in back-off
    apns_.outcomes.clear();
    clock_.Advance(std::chrono::seconds(2));
    EXPECT_EQ(Drain(), (std::vector<std::string>{"alice-ipad"}));
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 0);
    Alert("again");
    EXPECT_EQ(Drain(), (std::vector<std::string>{"alice-ipad", "alice-phone"}));
}

TEST_F(PushChannelTest, PlatformsWithoutASenderGetNothing) {
    PushChannel fcm_only(db_, filters_, PushSenders{&fcm_, nullptr});
    PushChannel none(db_, filters_, PushSenders{});
    EXPECT_FALSE(none.Enabled());
    std::vector<storage::DeliveryRow> out;
    storage::EventRow e;
    e.id = 1;
    e.node_id = "node-a";
    e.event_type = "alert";
    e.payload = R"({"alert":{"esp.alert.str":"x"}})";
    fcm_only.Plan(e, std::string(kPushedEvent), {"push:"}, out);
    EXPECT_EQ(out.size(), 2u);  // alice's phone and bob's, not the iPad
    out.clear();
    none.Plan(e, std::string(kPushedEvent), {"push:"}, out);
    fcm_only.Plan(e, "rmaker.event.node_connected", {"push:"}, out);
    EXPECT_TRUE(out.empty());
}

TEST(AlertText, TellsTheAlertOrTheNotifiedParams) {
    EXPECT_EQ(AlertText(boost::json::parse(R"({"esp.alert.str":"Door open"})")), "Door open");
    EXPECT_EQ(
        AlertText(boost::json::parse(R"({"Light":{"Brightness":40,"Power":true}})")),
        "Light: Brightness 40, Power true"
    );
    EXPECT_EQ(AlertText(boost::json::parse("[1]")), "");
    // At most 256 bytes, never half a character.
    const auto long_text =
        AlertText(boost::json::object{{"esp.alert.str", std::string(255, 'a') + "é"}});
    EXPECT_EQ(long_text, std::string(255, 'a'));
}

}  // namespace
}  // namespace rainmaker::domain::push

// Push notifications end to end: a node's alerts (node/<id>/alert, published as the node) reach
// every phone its primary and secondary users registered (#84) through fake FCM and APNs
// services (tests/support/fake_push.mjs) that verify the server's signed tokens and the
// messages' shape; an APNS_SANDBOX phone through the sandbox URL; each push exactly once and
// in order; a token the service calls unregistered removed from its user's list (#85) and not
// tried again; a Node event filter (#76/#77) without mobile_push holding an alert back from
// everyone, and with it letting the next one through; the params a node notifies with as the
// text of an alert.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/fake_push.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;
using namespace std::chrono_literals;

constexpr const char* kEndpoints = "/v1/user/push_notification/mobile_platform_endpoint";
constexpr const char* kAlertEvent = "rmaker.event.alert";

// APNs device tokens are 64 hex digits; the bad one starts with "bad" (hex too).
const std::string kApnsToken(64, 'a');
const std::string kSandboxToken = std::string(32, 'c') + std::string(32, '5');
const std::string kBadApnsToken = "bad" + std::string(61, 'f');

// (platform as the fake saw it, device token).
using Phones = std::vector<std::pair<std::string, std::string>>;

// The phones that get every alert once.
const Phones kGoodPhones = {
    {"GCM", "good-alice"},
    {"APNS", kApnsToken},
    {"APNS_SANDBOX", kSandboxToken},
    {"GCM", "good-bob"}};

class PushLab : public ::testing::Test, protected DeviceLab {
protected:
    PushLab(FakePush::ApnsConnections apns_connections, const std::string& delivery_toml)
        : DeviceLab(server_, client_, dir_),
          push_(apns_connections),
          config_(
              push_.ConfigToml() + "[delivery]\nbackoff_base_ms = 50\nbackoff_cap_seconds = 1\n" +
              delivery_toml
          ),
          server_(config_.Options()),
          client_(server_.port()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // Alice's node, claimed and mapped by the simulator (which then stops: the test speaks as
    // the node), shared with Bob, who accepts.
    void SetUp() override {
        device_ = Claim(alice_, "n1");
        {
            auto sim = RunMapped(alice_, device_);
            const auto node =
                Eventually("/v1/user/nodes?node_details=true", alice_, [](const HttpResult& r) {
                    return r.body.find("\"Brightness\"") != std::string::npos;
                });
            ASSERT_NE(node.body.find("\"Brightness\""), std::string::npos) << node.body;
            const auto& name =
                node.json.at("node_details").at(0).at("config").at("info").at("name");
            node_name_ = std::string(name.as_string());
        }
        const auto shared = client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"nodes", JsonStrings({device_.node_id})}, {"user_name", "bob@example.com"}},
            alice_.accesstoken
        );
        ASSERT_EQ(shared.status, 200) << shared.body;
        const auto accepted = client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", shared.Str("request_id")}, {"accept", true}},
            bob_.accesstoken
        );
        ASSERT_EQ(accepted.status, 200) << accepted.body;
        const auto mine =
            client_.Get("/v1/user/nodes?node_id=" + device_.node_id, bob_.accesstoken);
        ASSERT_EQ(mine.status, 200) << mine.body;
        ASSERT_EQ(mine.json.at("node_details").at(0).at("primary"), false) << mine.body;
    }

    void Register(const Tokens& t, const std::string& platform, const std::string& token) {
        const auto r = client_.Post(
            kEndpoints,
            object{{"platform", platform}, {"mobile_device_token", token}},
            t.accesstoken
        );
        ASSERT_EQ(r.status, 201) << platform << " " << token << ": " << r.body;
    }

    // The device tokens a user's endpoints list (#85), sorted.
    std::vector<std::string> ListedTokens(const Tokens& t) {
        const auto r = client_.Get(kEndpoints, t.accesstoken);
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<std::string> out;
        if (r.status == 200) {
            for (const auto& e : r.json.at("platform_endpoints").as_array()) {
                out.emplace_back(e.at("mobile_device_token").as_string());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    // An alert of the node (node/<id>/alert), published with its certificate.
    void Alert(const object& payload) {
        MqttCredentials node;
        node.port = server_.mqtt_port();
        node.ca_file = server_.ca_file();
        node.cert_file = device_.dir / "node.crt";
        node.key_file = device_.dir / "node.key";
        const auto r = MosquittoPub(
            node,
            device_.node_id,
            "node/" + device_.node_id + "/alert",
            boost::json::serialize(payload)
        );
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }

    // One number out of the server's database (sqlite3 CLI), or -1.
    long long Query(const std::string& sql) {
        const auto r = RunProgram({"sqlite3", (server_.data_dir() / "rainmaker.db").string(), sql});
        if (r.exit_code != 0) {
            return -1;
        }
        try {
            return std::stoll(r.output);
        } catch (const std::exception&) {
            return -1;
        }
    }

    // Waits until the server stored `alerts` alerts of the node (each with its event, in one
    // transaction) and its delivery planner's cursor reached the newest event.
    bool WaitPlanned(int alerts) {
        return WaitFor(
            [&] {
                return Query(
                           "SELECT COUNT(*) FROM node_alerts WHERE node_id = '" + device_.node_id +
                           "'"
                       ) == alerts &&
                       Query(
                           "SELECT (SELECT last_event_id FROM outbox_cursors WHERE consumer = "
                           "'deliveries') >= (SELECT MAX(id) FROM events)"
                       ) == 1;
            },
            20s
        );
    }

    template <typename Predicate>
    bool WaitFor(Predicate predicate, std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!predicate()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            std::this_thread::sleep_for(50ms);
        }
        return true;
    }

    // The bodies each good phone received, in order.
    std::map<std::string, std::vector<std::string>> BodiesByToken(const PushLog& log) {
        std::map<std::string, std::vector<std::string>> out;
        for (const auto& p : log.pushes) {
            out[p.token].push_back(p.body);
        }
        return out;
    }

    // Waits until each of `phones` received `count` pushes (or more); the log then.
    PushLog WaitForPushes(std::size_t count, const Phones& phones = kGoodPhones) {
        PushLog log;
        WaitFor(
            [&] {
                log = push_.Received();
                const auto bodies = BodiesByToken(log);
                return std::all_of(phones.begin(), phones.end(), [&](const auto& phone) {
                    const auto it = bodies.find(phone.second);
                    return it != bodies.end() && it->second.size() >= count;
                });
            },
            20s
        );
        return log;
    }

    static std::string Describe(const PushLog& log) {
        std::string out = "pushes:";
        for (const auto& p : log.pushes) {
            out += "\n  #" + std::to_string(p.seq) + " " + p.platform + " " + p.token + " \"" +
                   p.title + "\" \"" + p.body + "\"" + (p.sandbox ? " (sandbox)" : "");
        }
        out += "\nrejected:";
        for (const auto& r : log.rejected) {
            out += "\n  " + r;
        }
        out += "\ngone:";
        for (const auto& g : log.gone) {
            out += "\n  " + g;
        }
        out += "\nAPNs: " + std::to_string(log.apns_requests) + " requests on " +
               std::to_string(log.apns_connections) + " connections";
        return out;
    }

    HttpResult SetNodeFilter(const std::string& method, const array& integrations) {
        return client_.Request(
            method,
            "/v1/admin/event_filter",
            boost::json::serialize(object{
                {"event_type", kAlertEvent},
                {"entity_id", device_.node_id},
                {"entity_type", "Node"},
                {"enabled", true},
                {"enabled_for_integrations", integrations}}),
            {{"Authorization", admin_.accesstoken}}
        );
    }

    TempDir dir_;
    FakePush push_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens admin_;
    Tokens alice_;
    Tokens bob_;
    Device device_;
    std::string node_name_;
};

// Every APNs push on a connection of its own (see fake_push.mjs: this libcurl fails on a reused
// h2c connection), with the default number of delivery workers.
class PushDeliveryTest : public PushLab {
protected:
    PushDeliveryTest() : PushLab(FakePush::ApnsConnections::kPerPush, "") {}
};

TEST_F(PushDeliveryTest, AlertsReachEveryUsersPhonesOnceAsFiltersAllow) {
    ASSERT_FALSE(node_name_.empty());
    Register(alice_, "GCM", "good-alice");
    Register(alice_, "APNS", kApnsToken);
    Register(alice_, "APNS_SANDBOX", kSandboxToken);
    Register(alice_, "APNS", kBadApnsToken);
    Register(bob_, "GCM", "good-bob");
    Register(bob_, "GCM", "bad-bob");
    ASSERT_EQ(ListedTokens(bob_), (std::vector<std::string>{"bad-bob", "good-bob"}));

    // 1. An alert goes to every phone of both users.
    Alert(object{{"esp.alert.str", "Door open"}});
    auto log = WaitForPushes(1);
    ASSERT_TRUE(log.ok) << "the fake push services did not answer";
    auto bodies = BodiesByToken(log);
    for (const auto& [platform, token] : kGoodPhones) {
        ASSERT_EQ(bodies[token], (std::vector<std::string>{"Door open"}))
            << platform << " " << token << "\n"
            << Describe(log);
    }
    for (const auto& p : log.pushes) {
        const auto expected =
            std::find_if(kGoodPhones.begin(), kGoodPhones.end(), [&](const auto& phone) {
                return phone.second == p.token;
            });
        ASSERT_TRUE(expected != kGoodPhones.end()) << "a push to an unexpected token\n"
                                                   << Describe(log);
        EXPECT_EQ(p.platform, expected->first) << Describe(log);
        EXPECT_EQ(p.sandbox, p.platform == "APNS_SANDBOX") << Describe(log);
        EXPECT_EQ(p.title, node_name_) << Describe(log);
        ASSERT_TRUE(p.data.contains("node_id")) << Describe(log);
        EXPECT_EQ(p.data.at("node_id"), boost::json::value(device_.node_id));
        EXPECT_EQ(p.data.at("event_type"), kAlertEvent);
        if (p.platform == "GCM") {
            // FCM's data values are strings: the alert as JSON text.
            ASSERT_TRUE(p.data.contains("data")) << Describe(log);
            EXPECT_EQ(
                boost::json::parse(p.data.at("data").as_string()),
                boost::json::parse(R"({"esp.alert.str":"Door open"})")
            );
        }
    }
    // The tokens the services called unknown leave their users' lists.
    ASSERT_TRUE(WaitFor([&] { return ListedTokens(bob_).size() == 1; }, 20s))
        << Describe(push_.Received());
    EXPECT_EQ(ListedTokens(bob_), (std::vector<std::string>{"good-bob"}));
    ASSERT_TRUE(WaitFor([&] { return ListedTokens(alice_).size() == 3; }, 20s))
        << Describe(push_.Received());
    auto alices = std::vector<std::string>{"good-alice", kApnsToken, kSandboxToken};
    std::sort(alices.begin(), alices.end());
    EXPECT_EQ(ListedTokens(alice_), alices);
    // Exactly once: nothing more arrives for the first alert.
    std::this_thread::sleep_for(700ms);
    log = push_.Received();
    EXPECT_EQ(log.pushes.size(), kGoodPhones.size()) << Describe(log);

    // 2. A Node filter of alerts without mobile_push: the next alert reaches nobody.
    auto r = SetNodeFilter("POST", array{"webhook"});
    ASSERT_EQ(r.status, 200) << r.body;
    Alert(object{{"esp.alert.str", "Window open"}});
    ASSERT_TRUE(WaitPlanned(2)) << "the second alert was not stored and planned";
    std::this_thread::sleep_for(1500ms);
    log = push_.Received();
    EXPECT_EQ(log.pushes.size(), kGoodPhones.size()) << Describe(log);

    // 3. mobile_push enabled again: the next alert arrives (and the held-back one does not).
    r = SetNodeFilter("PUT", array{"webhook", "mobile_push"});
    ASSERT_EQ(r.status, 200) << r.body;
    Alert(object{{"esp.alert.str", "Door closed"}});
    log = WaitForPushes(2);
    bodies = BodiesByToken(log);
    for (const auto& [platform, token] : kGoodPhones) {
        ASSERT_EQ(bodies[token], (std::vector<std::string>{"Door open", "Door closed"}))
            << platform << " " << token << "\n"
            << Describe(log);
    }

    // 4. The params a node notifies with are the alert's text.
    Alert(object{{"Light", object{{"Brightness", 40}}}});
    log = WaitForPushes(3);
    bodies = BodiesByToken(log);
    for (const auto& [platform, token] : kGoodPhones) {
        ASSERT_EQ(bodies[token].size(), 3U) << platform << " " << token << "\n" << Describe(log);
        const auto& text = bodies[token][2];
        EXPECT_NE(text.find("Brightness 40"), std::string::npos) << text;
        EXPECT_EQ(text, "Light: Brightness 40");
    }
    std::this_thread::sleep_for(700ms);
    log = push_.Received();
    EXPECT_EQ(log.pushes.size(), 3 * kGoodPhones.size()) << Describe(log);
    for (const auto& p : log.pushes) {
        EXPECT_NE(p.body, "Window open") << Describe(log);
    }
    // Every request the services saw was well formed and signed; each bad token was tried once
    // (then forgotten); one access token served every FCM send.
    EXPECT_TRUE(log.rejected.empty()) << Describe(log);
    std::multiset<std::string> gone(log.gone.begin(), log.gone.end());
    EXPECT_EQ(gone, (std::multiset<std::string>{"GCM bad-bob", "APNS " + kBadApnsToken}))
        << Describe(log);
    EXPECT_EQ(log.token_requests, 1) << Describe(log);
    EXPECT_EQ(log.fcm_send_requests, 1 + 3 * 2) << Describe(log);
    EXPECT_EQ(log.apns_requests, 1 + 3 * 2) << Describe(log);
}

// One delivery worker (one curl handle) and an APNs that keeps its connections open, as Apple's
// does: the worker's second push to APNs reuses the h2c connection of its first.
class PushDeliveryOneWorkerTest : public PushLab {
protected:
    PushDeliveryOneWorkerTest()
        : PushLab(FakePush::ApnsConnections::kKept, "max_in_flight = 1\n") {}
};

// The libcurl of Debian 12 (7.88.1) fails every request after the first on a reused HTTP/2
// prior-knowledge connection (curl/curl#10634, fixed in 8.0.0): CurlPoster opens one per push
// over h2c there. This fails if it reuses one.
TEST_F(PushDeliveryOneWorkerTest, AlertsKeepReachingAnApnsPhoneOnAKeptConnection) {
    const Phones phones = {{"GCM", "good-alice"}, {"APNS", kApnsToken}};
    Register(alice_, "GCM", "good-alice");
    Register(alice_, "APNS", kApnsToken);
    const std::vector<std::string> texts = {"One", "Two", "Three"};
    for (const auto& text : texts) {
        Alert(object{{"esp.alert.str", text}});
    }
    const auto log = WaitForPushes(texts.size(), phones);
    auto bodies = BodiesByToken(log);
    EXPECT_EQ(bodies["good-alice"], texts) << Describe(log);
    EXPECT_EQ(bodies[kApnsToken], texts) << Describe(log);
    EXPECT_TRUE(log.rejected.empty()) << Describe(log);
}

}  // namespace
}  // namespace rainmaker::testing

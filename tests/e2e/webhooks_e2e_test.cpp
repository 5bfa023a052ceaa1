// Webhooks end to end (#72-#75): a receiver on loopback that fails, times out and recovers;
// a mapped node's params reports (published as the node) reach it signed, each at least once
// and in order, across a kill -9 of the server with deliveries waiting and one in flight; the
// integration listed without its secret; and, with private addresses not allowed, the loopback
// receiver refused at connection time, the deliveries dead and replayable by an admin.
#include <atomic>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

constexpr const char* kSecret = "receiver-shared-secret-0001";

std::string HmacHex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(
        EVP_sha256(),
        key.data(),
        static_cast<int>(key.size()),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size(),
        mac,
        &size
    );
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 0xF];
    }
    return out;
}

std::string HeaderOf(const std::string& request, const std::string& name) {
    const auto at = request.find("\r\n" + name + ": ");
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + name.size() + 4;
    return request.substr(start, request.find("\r\n", start) - start);
}

// What the receiver does with the next requests.
enum class Mode { kAccept, kFail, kStall };

class WebhookLab : public ::testing::Test, public DeviceLab {
protected:
    WebhookLab(const std::string& webhooks_toml, const std::string& delivery_toml)
        : DeviceLab(server_, client_, dir_),
          receiver_([this](const std::string& request) { return Receive(request); }),
          config_(
              "[webhooks]\ntimeout_seconds = 1\n" + webhooks_toml +
              "[delivery]\nbackoff_base_ms = 50\nbackoff_cap_seconds = 1\n" + delivery_toml
          ),
          server_(config_.Options()),
          client_(server_.port()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")) {}

    // Alice's node, claimed and mapped by the simulator, which then stops: the test speaks as
    // the node.
    void SetUp() override { device_ = ClaimConfigured(alice_, "n1", "Brightness"); }

    std::string Receive(const std::string& request) {
        const auto body = request.substr(request.find("\r\n\r\n") + 4);
        const auto mode = mode_.load();
        std::lock_guard lock(mutex_);
        ++requests_;
        if (HeaderOf(request, "X-Rainmaker-Signature") != "sha256=" + HmacHex(kSecret, body)) {
            ++bad_signatures_;
        }
        if (mode == Mode::kFail) {
            return FakeHttpServer::Response(500, "{}");
        }
        if (mode == Mode::kStall) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the timeout
            return FakeHttpServer::Response(200, "{}");
        }
        accepted_.push_back(boost::json::parse(body).as_object());
        return FakeHttpServer::Response(200, "{}");
    }

    HttpResult Send(const std::string& method, const std::string& path, const object& body) {
        return client_.Request(
            method, path, boost::json::serialize(body), {{"Authorization", admin_.accesstoken}}
        );
    }

    void AddWebhook() {
        const auto r = Send(
            "POST",
            "/v1/admin/webhook_user_node_integration",
            object{
                {"webhook_name", "fleet"},
                {"enabled", true},
                {"nodes_list", boost::json::array{device_.node_id}},
                {"events",
                 boost::json::array{object{{"event_name", "rmaker.event.node_params_changed"}}}},
                {"url", receiver_.Url() + "/hooks/rainmaker"},
                {"secret", kSecret}}
        );
        ASSERT_EQ(r.status, 200) << r.body;
    }

    // A params report of the node, published with its certificate.
    void Report(int brightness) {
        MqttCredentials node;
        node.port = server_.mqtt_port();
        node.ca_file = server_.ca_file();
        node.cert_file = device_.dir / "node.crt";
        node.key_file = device_.dir / "node.key";
        const auto r = MosquittoPub(
            node,
            device_.node_id,
            "node/" + device_.node_id + "/params/local",
            boost::json::serialize(object{{"Light", object{{"Brightness", brightness}}}})
        );
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }

    // The brightness values the receiver accepted, in the order it accepted them.
    std::vector<std::int64_t> Accepted() {
        std::lock_guard lock(mutex_);
        std::vector<std::int64_t> out;
        for (const auto& b : accepted_) {
            out.push_back(b.at("data").at("params").at("Light").at("Brightness").as_int64());
        }
        return out;
    }

    template <typename Predicate>
    bool WaitFor(Predicate predicate, std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!predicate()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return true;
    }

    int Requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    TempDir dir_;
    std::atomic<Mode> mode_{Mode::kAccept};
    std::mutex mutex_;
    int requests_ = 0;
    int bad_signatures_ = 0;
    std::vector<object> accepted_;
    FakeHttpServer receiver_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens admin_;
    Tokens alice_;
    Device device_;
};

class WebhooksTest : public WebhookLab {
protected:
    WebhooksTest() : WebhookLab("allow_private = true\n", "max_attempts = 100\n") {}
};

TEST_F(WebhooksTest, SignedReportsArriveInOrderThroughFailuresTimeoutsAndAKill) {
    AddWebhook();
    auto r = client_.Get("/v1/admin/webhook_user_node_integration", admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& hook = r.json.at("webhook_user_node_integrations").at(0);
    EXPECT_EQ(hook.at("webhook_name"), "fleet");
    EXPECT_EQ(hook.at("url").as_string(), receiver_.Url() + "/hooks/rainmaker");
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << "the secret is never answered";

    Report(1);
    ASSERT_TRUE(WaitFor([&] { return Accepted().size() == 1; })) << Requests();

    // The receiver fails: reports wait in their node's queue, retried with back-off.
    mode_ = Mode::kFail;
    for (int b = 2; b <= 5; ++b) {
        Report(b);
    }
    ASSERT_TRUE(WaitFor([&] { return Requests() >= 5; }));
    r = client_.Get(
        "/v1/admin/webhook_user_node_integration/deliveries?state=waiting&webhook_name=fleet",
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("deliveries").as_array().size(), 4u) << r.body;
    EXPECT_EQ(r.json.at("deliveries").at(0).at("last_error"), "HTTP 500") << r.body;

    // It stalls past the timeout; the server is killed with a post in flight.
    mode_ = Mode::kStall;
    const int before = Requests();
    ASSERT_TRUE(WaitFor([&] { return Requests() > before; }));
    server_.Kill();
    mode_ = Mode::kAccept;
    server_.Restart();  // (REST is on a new port now: the test goes on through MQTT)
    ASSERT_TRUE(WaitFor([&] { return Accepted().size() >= 5; })) << Requests();
    Report(6);
    ASSERT_TRUE(WaitFor([&] { return !Accepted().empty() && Accepted().back() == 6; }));

    // Each report at least once, in the node's order (a report sent again after the kill may
    // repeat, never overtake).
    const auto values = Accepted();
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << ::testing::PrintToString(values);
    for (int b = 1; b <= 6; ++b) {
        EXPECT_NE(std::find(values.begin(), values.end(), b), values.end()) << b;
    }
    std::lock_guard lock(mutex_);
    EXPECT_EQ(bad_signatures_, 0);
    for (const auto& body : accepted_) {
        EXPECT_EQ(body.at("event_type"), "rmaker.event.node_params_changed");
        EXPECT_EQ(body.at("webhook_name"), "fleet");
        EXPECT_EQ(body.at("node_id").as_string(), device_.node_id);
    }
}

class WebhooksPrivateRefusedTest : public WebhookLab {
protected:
    WebhooksPrivateRefusedTest() : WebhookLab("", "max_attempts = 2\n") {}
};

TEST_F(WebhooksPrivateRefusedTest, ALoopbackReceiverIsRefusedAndDeadDeliveriesReplay) {
    AddWebhook();
    Report(7);
    HttpResult r;
    ASSERT_TRUE(WaitFor([&] {
        r = client_.Get(
            "/v1/admin/webhook_user_node_integration/deliveries?webhook_name=fleet",
            admin_.accesstoken
        );
        return r.status == 200 && r.json.at("deliveries").as_array().size() == 1;
    })) << r.body;
    const auto& dead = r.json.at("deliveries").at(0);
    EXPECT_EQ(dead.at("attempts"), 2);
    EXPECT_NE(std::string(dead.at("last_error").as_string()).find("internal"), std::string::npos)
        << r.body;
    EXPECT_EQ(Requests(), 0) << "the receiver was reached";

    // Bad input changes nothing; a replay queues it again (and it dies again here).
    EXPECT_TRUE(IsFailure(
        Send(
            "POST",
            "/v1/admin/webhook_user_node_integration/deliveries/replay",
            object{{"webhook_name", "fleet"}, {"delivery_ids", boost::json::array{"x"}}}
        ),
        400,
        100006
    ));
    EXPECT_TRUE(IsFailure(
        Send(
            "POST",
            "/v1/admin/webhook_user_node_integration/deliveries/replay",
            object{{"webhook_name", "nope"}}
        ),
        400,
        113153
    ));
    r = Send(
        "POST",
        "/v1/admin/webhook_user_node_integration/deliveries/replay",
        object{{"webhook_name", "fleet"}}
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("replayed"), 1);
    EXPECT_TRUE(IsFailure(
        Send(
            "PUT",
            "/v1/admin/webhook_user_node_integration?operation=rename",
            object{{"webhook_name", "fleet"}}
        ),
        400,
        113157
    ));
    r = client_.Request(
        "DELETE",
        "/v1/admin/webhook_user_node_integration?webhook_name=fleet",
        "",
        {{"Authorization", admin_.accesstoken}}
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Get(
        "/v1/admin/webhook_user_node_integration/deliveries?webhook_name=fleet", admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 113153));
}

}  // namespace
}  // namespace rainmaker::testing

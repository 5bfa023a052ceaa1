// Broker isolation end to end: the real server and its Mosquitto, driven by mosquitto_pub,
// mosquitto_sub and mosquitto_rr with node certificates from `admin issue-node-certs`. A node
// uses only its own topics and its own identity, a client needs a certificate from our CA that
// is not revoked, and the server learns presence and ingests what nodes send.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

// The server's own MQTT client: its user name and client id on the loopback listener.
constexpr const char* kLinkUser = "rainmaker-server";
constexpr const char* kLinkClientId = "rainmaker-server";
// Our stand-in for the server when a test needs something sent to a node.
constexpr const char* kControlClientId = "e2e-link-control";

std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

std::string ReadText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The value of the sample `name` in a Prometheus text body, or -1 when it is missing.
long long MetricValue(const std::string& body, const std::string& name) {
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(name + " ")) {
            return std::stoll(line.substr(name.size() + 1));
        }
    }
    return -1;
}

std::string ParamsLocal(const std::string& node_id) {
    return "node/" + node_id + "/params/local";
}

std::string ParamsRemote(const std::string& node_id) {
    return "node/" + node_id + "/params/remote";
}

// The basic-ingest spelling of a node→cloud topic (spec §2.1).
std::string BasicIngest(const std::string& rule, const std::string& node_id) {
    return "$aws/rules/" + rule + "/node/" + node_id + "/params/local";
}

class BrokerIsolation : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(server_.mqtt_port(), 0) << "the server did not print its devices URL";
        std::string out;
        const int status = server_.RunCommand(
            {"admin", "issue-node-certs", "--count", "3", "--out", certs_.path().string()}, &out
        );
        ASSERT_EQ(status, 0) << out;
        std::istringstream lines(out);
        std::vector<std::string> ids;
        for (std::string id; std::getline(lines, id);) {
            if (!id.empty()) {
                ids.push_back(id);
            }
        }
        ASSERT_EQ(ids.size(), 3u) << out;
        a_ = ids[0];
        b_ = ids[1];
        c_ = ids[2];
        // The server keeps only the params a node's config declares: each node reports one
        // first, as firmware does at every start.
        for (const auto& id : ids) {
            const auto r = MosquittoPub(Node(id), id, "node/" + id + "/config", ConfigOf(id));
            ASSERT_EQ(r.exit_code, 0) << r.output;
        }
        for (const auto& id : ids) {
            ASSERT_EQ(WaitForNodeField(id, "config <> ''", "1"), "1") << id;
        }
    }

    // A node config with a Light device: Power (bool) and Brightness (int).
    static std::string ConfigOf(const std::string& node_id) {
        return R"({"node_id":")" + node_id +
               R"(","config_version":"2020-03-20","info":{"name":"n","fw_version":"1.0",)"
               R"("type":"Light"},"devices":[{"name":"Light","type":"esp.device.light",)"
               R"("params":[{"name":"Power","data_type":"bool","properties":["read","write"]},)"
               R"({"name":"Brightness","data_type":"int","properties":["read","write"]}]}]})";
    }

    // Node `node_id`'s certificate on the device listener (the port changes on restart).
    MqttCredentials Node(const std::string& node_id) const {
        MqttCredentials c;
        c.port = server_.mqtt_port();
        c.ca_file = server_.ca_file();
        c.cert_file = certs_.path() / node_id / "node.crt";
        c.key_file = certs_.path() / node_id / "node.key";
        return c;
    }

    // The server's own credentials on its loopback listener, read from the files it generates
    // (the last listener of mosquitto.conf is the loopback one).
    MqttCredentials Link() const {
        const auto broker_dir = server_.data_dir() / "broker";
        MqttCredentials c;
        std::istringstream conf(ReadText(broker_dir / "mosquitto.conf"));
        for (std::string line; std::getline(conf, line);) {
            if (line.starts_with("listener ")) {
                std::istringstream words(line.substr(9));
                words >> c.port;
            }
        }
        c.username = kLinkUser;
        c.password = Trim(ReadText(broker_dir / "link-password"));
        return c;
    }

    // Runs `query` with the sqlite3 CLI on the server's database; its trimmed output.
    std::string Sql(const std::string& query) const {
        const auto r = RunProgram(
            {"sqlite3",
             "-cmd",
             ".timeout 5000",
             (server_.data_dir() / "rainmaker.db").string(),
             query},
            10s
        );
        return r.exit_code == 0 ? Trim(r.output) : "sqlite3 failed: " + r.output;
    }

    // SQL expression `expression` over node `node_id`'s row.
    std::string NodeField(const std::string& node_id, const std::string& expression) const {
        return Sql("SELECT " + expression + " FROM nodes WHERE node_id = '" + node_id + "'");
    }

    // Polls NodeField until it equals `expected` (the server ingests asynchronously); returns
    // the last value read.
    std::string WaitForNodeField(
        const std::string& node_id,
        const std::string& expression,
        const std::string& expected,
        std::chrono::milliseconds timeout = 10s
    ) const {
        std::string value;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        do {
            value = NodeField(node_id, expression);
            if (value == expected) {
                break;
            }
            std::this_thread::sleep_for(50ms);
        } while (std::chrono::steady_clock::now() < deadline);
        return value;
    }

    // The reported Light.Power of `node_id` as sqlite prints it ("1", "0", or "" when none).
    static std::string PowerOf() {
        return "CASE WHEN json_valid(params) THEN json_extract(params, '$.Light.Power') END";
    }

    long long Metric(const std::string& name) const {
        HttpClient http(server_.port());
        return MetricValue(http.Get("/metrics").body, name);
    }

    // Publishes params from `node_id` on its own topic and waits until the server stored them:
    // everything the broker accepted before it has been ingested by then.
    void PublishOwnParamsAndWaitForIngest(const std::string& node_id) {
        const auto r = MosquittoPub(
            Node(node_id), node_id, ParamsLocal(node_id), R"({"Light":{"Power":true}})"
        );
        ASSERT_EQ(r.exit_code, 0) << r.output;
        ASSERT_EQ(WaitForNodeField(node_id, PowerOf(), "1"), "1");
    }

    ServerProcess server_;
    TempDir certs_;
    std::string a_;
    std::string b_;
    std::string c_;
};

TEST_F(BrokerIsolation, NodePublishesAndSubscribesOnItsOwnTopics) {
    // One connection subscribes to node/<id>/echo and publishes to it: it gets its message.
    std::vector<std::string> rr = {"mosquitto_rr"};
    const auto connect = MqttConnectArgs(Node(a_), a_);
    rr.insert(rr.end(), connect.begin(), connect.end());
    const std::string echo = "node/" + a_ + "/echo";
    rr.insert(rr.end(), {"-q", "1", "-t", echo, "-e", echo, "-m", "hello", "-W", "10"});
    const auto r = RunProgram(rr);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("hello"), std::string::npos) << r.output;

    // What the server sends to the node on node/<id>/params/remote reaches it.
    MosquittoSub sub(Node(a_), a_, {"node/" + a_ + "/#"});
    ASSERT_TRUE(sub.WaitSubscribed()) << sub.output();
    const auto sent =
        MosquittoPub(Link(), kControlClientId, ParamsRemote(a_), R"({"Light":{"Power":false}})");
    ASSERT_EQ(sent.exit_code, 0) << sent.output;
    ASSERT_TRUE(sub.WaitForMessage(ParamsRemote(a_))) << sub.output();
    EXPECT_EQ(sub.messages().back().payload, R"({"Light":{"Power":false}})");
}

TEST_F(BrokerIsolation, ServerIngestsNodeParamsInBothTopicSpellings) {
    const auto plain = MosquittoPub(Node(a_), a_, ParamsLocal(a_), R"({"Light":{"Power":true}})");
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    const auto basic = MosquittoPub(
        Node(a_), a_, BasicIngest("esp_set_params", a_), R"({"Light":{"Brightness":40}})"
    );
    ASSERT_EQ(basic.exit_code, 0) << basic.output;
    EXPECT_EQ(
        WaitForNodeField(
            a_,
            "CASE WHEN json_valid(params) THEN json_extract(params, '$.Light.Power') || ',' || "
            "json_extract(params, '$.Light.Brightness') END",
            "1,40"
        ),
        "1,40"
    );
}

TEST_F(BrokerIsolation, NodeCannotPublishToAnotherNodesTopics) {
    MosquittoSub b_sub(Node(b_), b_, {"node/" + b_ + "/#"});
    ASSERT_TRUE(b_sub.WaitSubscribed()) << b_sub.output();

    // Mosquitto 2.0 acknowledges a denied QoS 1 publish and drops it: only the receiving side
    // can tell.
    const std::string payload = R"({"Light":{"Power":false}})";
    for (const auto& topic :
         {ParamsRemote(b_),
          ParamsLocal(b_),
          "node/" + b_ + "/config",
          BasicIngest("esp_set_params", b_),
          BasicIngest("x", b_)}) {
        const auto r = MosquittoPub(Node(a_), a_, topic, payload);
        EXPECT_EQ(r.exit_code, 0) << topic << ": " << r.output;
    }
    // The user name a client sends is discarded: the certificate's CN is the identity.
    MqttCredentials claiming_b = Node(a_);
    claiming_b.username = b_;
    const auto r = MosquittoPub(claiming_b, a_, ParamsRemote(b_), payload);
    EXPECT_EQ(r.exit_code, 0) << r.output;

    // A message the broker accepts after those arrives alone.
    const auto control = MosquittoPub(Link(), kControlClientId, ParamsRemote(b_), "control");
    ASSERT_EQ(control.exit_code, 0) << control.output;
    ASSERT_TRUE(b_sub.WaitForMessage(ParamsRemote(b_))) << b_sub.output();
    b_sub.Drain(300ms);
    ASSERT_EQ(b_sub.messages().size(), 1u) << b_sub.output();
    EXPECT_EQ(b_sub.messages()[0].payload, "control");

    // Nor did the server ingest anything for B: A's own params, published last, arrived.
    PublishOwnParamsAndWaitForIngest(a_);
    EXPECT_EQ(NodeField(b_, "params"), "");
}

TEST_F(BrokerIsolation, NodeCannotReadAnotherNodesTopicsOrPresence) {
    MosquittoSub a_sub(
        Node(a_),
        a_,
        {"node/" + b_ + "/#",
         "node/+/params/local",
         "#",
         "$aws/#",
         "$aws/events/presence/#",
         "$aws/rules/+/node/" + b_ + "/#"}
    );
    ASSERT_TRUE(a_sub.WaitSubscribed()) << a_sub.output();

    // B reports in both spellings, one session each, and the server sends to B. Waiting for
    // the server to apply each session's disconnect makes sure B's presence events went out.
    const auto plain = MosquittoPub(Node(b_), b_, ParamsLocal(b_), R"({"Light":{"Power":true}})");
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    ASSERT_EQ(WaitForNodeField(b_, "connected = 0 AND presence_version > 0", "1"), "1");
    const std::string first_session = NodeField(b_, "presence_version");
    const auto basic = MosquittoPub(
        Node(b_), b_, BasicIngest("esp_set_params", b_), R"({"Light":{"Brightness":7}})"
    );
    ASSERT_EQ(basic.exit_code, 0) << basic.output;
    ASSERT_EQ(
        WaitForNodeField(b_, "connected = 0 AND presence_version > " + first_session, "1"), "1"
    );
    const auto to_b = MosquittoPub(Link(), kControlClientId, ParamsRemote(b_), "to-b");
    ASSERT_EQ(to_b.exit_code, 0) << to_b.output;

    const auto control = MosquittoPub(Link(), kControlClientId, ParamsRemote(a_), "control");
    ASSERT_EQ(control.exit_code, 0) << control.output;
    ASSERT_TRUE(a_sub.WaitForMessage(ParamsRemote(a_))) << a_sub.output();
    a_sub.Drain(300ms);
    ASSERT_EQ(a_sub.messages().size(), 1u) << a_sub.output();
    EXPECT_EQ(a_sub.messages()[0].payload, "control");
}

TEST_F(BrokerIsolation, NodeCannotForgeAnotherNodesPresence) {
    // b_ connected once (its config) and is offline: that must stay so.
    ASSERT_EQ(WaitForNodeField(b_, "connected", "0"), "0");
    const std::string before = NodeField(b_, "connected || ',' || presence_version");
    const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()
    )
                                 .count();
    const std::string forged = R"({"clientId":")" + b_ + R"(","timestamp":)" +
                               std::to_string(now_ms) +
                               R"(,"eventType":"connected","sessionIdentifier":"forged",)"
                               R"("principalIdentifier":")" +
                               b_ + R"(","versionNumber":1000,"ipAddress":"127.0.0.1"})";
    const auto r = MosquittoPub(Node(a_), a_, "$aws/events/presence/connected/" + b_, forged);
    EXPECT_EQ(r.exit_code, 0) << r.output;

    PublishOwnParamsAndWaitForIngest(a_);
    EXPECT_EQ(NodeField(b_, "connected || ',' || presence_version"), before);
}

TEST_F(BrokerIsolation, ClientWithoutCertificateIsRefused) {
    MqttCredentials no_cert = Node(a_);
    no_cert.cert_file.clear();
    no_cert.key_file.clear();
    const auto r = MosquittoPub(no_cert, a_, ParamsLocal(a_), "{}");
    EXPECT_FALSE(r.timed_out) << r.output;
    EXPECT_NE(r.exit_code, 0) << r.output;

    // Nor does the server's own password open the device listener.
    no_cert.username = kLinkUser;
    no_cert.password = Link().password;
    const auto with_password = MosquittoPub(no_cert, "e2e-password", ParamsLocal(a_), "{}");
    EXPECT_FALSE(with_password.timed_out) << with_password.output;
    EXPECT_NE(with_password.exit_code, 0) << with_password.output;

    // The same client with its certificate is accepted.
    const auto ok = MosquittoPub(Node(a_), a_, ParamsLocal(a_), "{}");
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST_F(BrokerIsolation, ClientWithCertificateFromAnotherCaIsRefused) {
    // A CA of our own making and a certificate for node A's id under it, plus a self-signed
    // one: the CN alone must not be enough.
    TempDir rogue;
    const auto p = [&](const char* name) { return (rogue.path() / name).string(); };
    const std::vector<std::vector<std::string>> steps = {
        {"openssl",
         "req",
         "-x509",
         "-newkey",
         "ec",
         "-pkeyopt",
         "ec_paramgen_curve:P-256",
         "-nodes",
         "-keyout",
         p("ca.key"),
         "-out",
         p("ca.pem"),
         "-subj",
         "/CN=rogue-ca",
         "-days",
         "1"},
        {"openssl",
         "req",
         "-newkey",
         "ec",
         "-pkeyopt",
         "ec_paramgen_curve:P-256",
         "-nodes",
         "-keyout",
         p("node.key"),
         "-out",
         p("node.csr"),
         "-subj",
         "/CN=" + a_},
        {"openssl",
         "x509",
         "-req",
         "-in",
         p("node.csr"),
         "-CA",
         p("ca.pem"),
         "-CAkey",
         p("ca.key"),
         "-CAcreateserial",
         "-out",
         p("node.crt"),
         "-days",
         "1"},
        {"openssl",
         "req",
         "-x509",
         "-newkey",
         "ec",
         "-pkeyopt",
         "ec_paramgen_curve:P-256",
         "-nodes",
         "-keyout",
         p("self.key"),
         "-out",
         p("self.crt"),
         "-subj",
         "/CN=" + a_,
         "-days",
         "1"},
    };
    for (const auto& step : steps) {
        const auto r = RunProgram(step);
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }

    MqttCredentials other_ca = Node(a_);
    other_ca.cert_file = p("node.crt");
    other_ca.key_file = p("node.key");
    const auto r = MosquittoPub(other_ca, a_, ParamsLocal(a_), "{}");
    EXPECT_FALSE(r.timed_out) << r.output;
    EXPECT_NE(r.exit_code, 0) << r.output;

    MqttCredentials self_signed = Node(a_);
    self_signed.cert_file = p("self.crt");
    self_signed.key_file = p("self.key");
    const auto s = MosquittoPub(self_signed, a_, ParamsLocal(a_), "{}");
    EXPECT_FALSE(s.timed_out) << s.output;
    EXPECT_NE(s.exit_code, 0) << s.output;
}

TEST_F(BrokerIsolation, RevokedNodeIsRefusedAfterRestartWhileOtherNodesConnect) {
    const auto before = MosquittoPub(Node(a_), a_, ParamsLocal(a_), "{}");
    ASSERT_EQ(before.exit_code, 0) << before.output;

    // No API revokes yet: mark the row, and the server writes the CRL at start.
    ASSERT_EQ(server_.Stop(), 0);
    ASSERT_EQ(Sql("UPDATE nodes SET revoked = 1 WHERE node_id = '" + a_ + "'"), "");
    server_.Restart();
    ASSERT_NE(server_.mqtt_port(), 0);

    const auto revoked = MosquittoPub(Node(a_), a_, ParamsLocal(a_), "{}");
    EXPECT_FALSE(revoked.timed_out) << revoked.output;
    EXPECT_NE(revoked.exit_code, 0) << revoked.output;
    for (const auto& other : {b_, c_}) {
        const auto ok = MosquittoPub(Node(other), other, ParamsLocal(other), "{}");
        EXPECT_EQ(ok.exit_code, 0) << other << ": " << ok.output;
    }
}

TEST_F(BrokerIsolation, ServerSeesNodePresenceAndIngestsItsMessages) {
    const long long ingested = Metric("rainmaker_mqtt_ingested_total");
    ASSERT_GE(ingested, 0);
    PublishOwnParamsAndWaitForIngest(a_);
    EXPECT_GT(Metric("rainmaker_mqtt_ingested_total"), ingested);

    // A node that stays connected is online; when its connection drops (no DISCONNECT, as on
    // power loss) it is offline.
    MosquittoSub sub(Node(b_), b_, {"node/" + b_ + "/#"});
    ASSERT_TRUE(sub.WaitSubscribed()) << sub.output();
    EXPECT_EQ(WaitForNodeField(b_, "connected", "1"), "1");
    sub.Kill();
    EXPECT_EQ(WaitForNodeField(b_, "connected", "0"), "0");
}

TEST_F(BrokerIsolation, NodeCannotTakeOverAnotherNodesClientId) {
    MosquittoSub b_sub(Node(b_), b_, {"node/" + b_ + "/#"});
    ASSERT_TRUE(b_sub.WaitSubscribed()) << b_sub.output();
    ASSERT_EQ(WaitForNodeField(b_, "connected", "1"), "1");
    const std::string b_presence = NodeField(b_, "connected || ',' || presence_version");
    const std::string a_session = NodeField(a_, "presence_version");

    // Node A's certificate with node B's client id: the client id must follow the certificate
    // (use_username_as_clientid), or A drops B's session and speaks for B's presence.
    const auto r = MosquittoPub(Node(a_), b_, ParamsLocal(a_), R"({"Light":{"Power":true}})");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(WaitForNodeField(a_, PowerOf(), "1"), "1");
    b_sub.Drain(1500ms);  // mosquitto_sub reconnects about a second after being dropped

    EXPECT_EQ(b_sub.ConnectCount(), 1)
        << "node A's client dropped node B's connection by using B's client id\n"
        << b_sub.output();
    EXPECT_EQ(NodeField(b_, "connected || ',' || presence_version"), b_presence)
        << "node B's presence changed because of node A's connection";
    // The session was A's, so its presence is A's.
    EXPECT_EQ(WaitForNodeField(a_, "presence_version > " + a_session, "1", 3s), "1")
        << "the connection of node A's certificate was not reported as A";
}

TEST_F(BrokerIsolation, NodeCannotTakeOverTheServersClientId) {
    ASSERT_EQ(Metric("rainmaker_mqtt_link_up"), 1);
    // Client ids are global across listeners: a node using the server's id would drop the
    // server's link (and be dropped by it when it reconnects), over and over.
    MosquittoSub impostor(Node(a_), kLinkClientId, {"node/" + a_ + "/#"});
    ASSERT_TRUE(impostor.WaitSubscribed()) << impostor.output();

    // Counted only when the server says so (0): a /metrics request that got no answer in time
    // on a loaded machine (-1) says nothing about the link.
    int down = 0;
    int answered = 0;
    const auto deadline = std::chrono::steady_clock::now() + 2500ms;
    while (std::chrono::steady_clock::now() < deadline) {
        const long long up = Metric("rainmaker_mqtt_link_up");
        down += up == 0 ? 1 : 0;
        answered += up >= 0 ? 1 : 0;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(answered, 0);
    EXPECT_EQ(down, 0) << "the server's broker link went down while node A used its client id";
    impostor.Drain(10ms);
    EXPECT_EQ(impostor.ConnectCount(), 1) << impostor.output();

    PublishOwnParamsAndWaitForIngest(b_);
}

}  // namespace
}  // namespace rainmaker::testing

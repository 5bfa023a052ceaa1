// Command-response end to end (#101-#104) with the real server, its Mosquitto and the
// simulator as the node: each operation's happy path (echo, set params, base64, failures of
// each kind, a deferred answer, the admin route), every documented error changing nothing and
// sending nothing, a request to an offline node delivered after its reconnect poll, timeouts,
// override, 207 partial refusals; and the simulator started from a terminal, in its background
// (never stopped for tty input) and in its foreground (reads its commands).
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;
using namespace std::chrono_literals;

constexpr int kEcho = 0x1000;
constexpr int kDeferred = 0x1001;
constexpr int kFail = 0x1002;
constexpr int kPrimaryOnly = 0x1003;

class CommandResponseTest : public ::testing::Test, protected DeviceLab {
protected:
    CommandResponseTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")),
          eve_(SignUpAndLogin(client_, server_, "eve@example.com")),
          ops_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // Alice's node, running and online, shared with Bob as secondary.
    void SetUpNode() {
        node_ = Claim(alice_, "n1");
        sim_ = RunMapped(alice_, node_);
        const auto shared = client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"nodes", JsonStrings({node_.node_id})}, {"user_name", "bob@example.com"}},
            alice_.accesstoken
        );
        ASSERT_EQ(shared.status, 200) << shared.body;
        ASSERT_EQ(
            client_
                .Put(
                    "/v1/user/nodes/sharing/requests",
                    object{{"request_id", shared.Str("request_id")}, {"accept", true}},
                    bob_.accesstoken
                )
                .status,
            200
        );
        WaitConnected(true);
    }

    void WaitConnected(bool connected) {
        const auto status = Eventually(
            "/v1/user/nodes/status?node_id=" + node_.node_id,
            alice_,
            [connected](const HttpResult& r) {
                return r.status == 200 && r.json.at("connectivity").at("connected") == connected;
            }
        );
        ASSERT_EQ(status.json.at("connectivity").at("connected"), connected) << status.body;
    }

    HttpResult Post(const Tokens& t, const object& body, bool admin = false) {
        return client_.Post(
            admin ? "/v1/admin/nodes/cmd" : "/v1/user/nodes/cmd", body, t.accesstoken
        );
    }

    object Command(int cmd, boost::json::value data, const std::vector<std::string>& nodes = {}) {
        array ids;
        for (const auto& n : nodes.empty() ? std::vector<std::string>{node_.node_id} : nodes) {
            ids.emplace_back(n);
        }
        return object{{"node_ids", std::move(ids)}, {"cmd", cmd}, {"data", std::move(data)}};
    }

    // POSTs and returns the request id (expects a 200).
    std::string Send(const Tokens& t, const object& body, bool admin = false) {
        const auto r = Post(t, body, admin);
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.Str("status"), "success") << r.body;
        return r.Str("request_id");
    }

    // The request's record for the node once its status is `want` (or the last one read).
    object WaitStatus(
        const Tokens& t, const std::string& id, const std::string& want, bool admin = false
    ) {
        const std::string target = std::string(admin ? "/v1/admin" : "/v1/user") +
                                   "/nodes/cmd?request_id=" + id + "&node_id=" + node_.node_id;
        const auto r = Eventually(target, t, [&](const HttpResult& g) {
            return g.status == 200 && g.json.at("requests").as_array().size() == 1 &&
                   g.json.at("requests").at(0).at("status") == want.c_str();
        });
        EXPECT_EQ(r.status, 200) << r.body;
        if (r.status != 200 || r.json.at("requests").as_array().empty()) {
            ADD_FAILURE() << "no request " << id << ": " << r.body;
            return {};
        }
        const auto& record = r.json.at("requests").at(0).as_object();
        EXPECT_EQ(record.at("status"), want.c_str()) << r.body;
        return record;
    }

    int Total(const Tokens& t, const std::string& query) {
        const auto r = client_.Get("/v1/user/nodes/cmd?" + query, t.accesstoken);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.status == 200 ? static_cast<int>(r.json.at("total").as_int64()) : -1;
    }

    // The "command <id> <cmd> <role> <data>" line of the simulator for request `id`.
    std::string Received(const std::string& id) {
        for (int i = 0; i < 5; ++i) {
            const auto line = sim_->WaitFor("command ");
            if (line.rfind("command " + id + " ", 0) == 0 || line.empty()) {
                return line;
            }
        }
        return {};
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens bob_;
    Tokens eve_;
    Tokens ops_;
    Device node_;
    std::unique_ptr<SimProcess> sim_;
};

TEST_F(CommandResponseTest, EachOperationWorksWithTheNode) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());

    // #102: a custom command, answered at once with its data.
    const auto echo = Send(alice_, Command(kEcho, object{{"hello", "world"}}));
    EXPECT_EQ(echo.size(), 22u);
    EXPECT_EQ(
        Received(echo), "command " + echo + " 4096 2 " + R"({"hello":"world"})"
    );  // role 2: primary
    auto record = WaitStatus(alice_, echo, "success");
    EXPECT_EQ(record.at("node_id"), node_.node_id.c_str());
    EXPECT_EQ(record.at("cmd"), kEcho);
    EXPECT_EQ(record.at("device_status"), 0);
    EXPECT_EQ(record.at("status_description"), "success");
    EXPECT_EQ(record.at("request_data"), (object{{"hello", "world"}}));
    EXPECT_EQ(record.at("response_data"), (object{{"hello", "world"}}));
    EXPECT_EQ(record.at("is_base64"), false);
    EXPECT_EQ(record.at("user_name"), "alice@example.com");
    const auto at = record.at("request_timestamp").as_int64();
    EXPECT_EQ(record.at("expiration_timestamp").as_int64(), at + 30);
    EXPECT_GE(record.at("response_timestamp").as_int64(), at);

    // #101 by each filter.
    EXPECT_EQ(Total(alice_, "request_id=" + echo), 1);
    EXPECT_EQ(Total(alice_, "node_id=" + node_.node_id), 1);
    EXPECT_EQ(Total(alice_, "status=success"), 1);
    EXPECT_EQ(Total(alice_, "node_id=" + node_.node_id + "&cmd_id=4096"), 1);
    EXPECT_EQ(Total(alice_, "node_id=" + node_.node_id + "&cmd_id=4097"), 0);
    EXPECT_EQ(Total(alice_, "node_id=" + node_.node_id + "&status=failure"), 0);
    EXPECT_EQ(
        Total(
            alice_,
            "node_id=" + node_.node_id + "&start_time=" + std::to_string(at - 1) +
                "&end_time=" + std::to_string(at + 1)
        ),
        1
    );
    EXPECT_EQ(
        Total(
            alice_,
            "node_id=" + node_.node_id + "&start_time=" + std::to_string(at + 1) +
                "&end_time=" + std::to_string(at + 100)
        ),
        0
    );

    // Set params (cmd 1): the node answers with the changed params instead of reporting them
    // on params/local; the server merges them.
    const auto set =
        Send(alice_, Command(1, object{{"params", object{{"Light", object{{"Brightness", 77}}}}}}));
    EXPECT_FALSE(Received(set).empty());
    record = WaitStatus(alice_, set, "success");
    EXPECT_EQ(
        record.at("response_data"),
        (object{{"status", "success"}, {"params", object{{"Light", object{{"Brightness", 77}}}}}})
    );
    const auto params = Eventually(
        "/v1/user/nodes/params?node_id=" + node_.node_id,
        alice_,
        [](const HttpResult& p) { return p.json.at("Light").at("Brightness") == 77; }
    );
    EXPECT_EQ(params.json.at("Light").at("Brightness"), 77) << params.body;

    // Base64 data reaches the node decoded.
    auto b64 = Command(kEcho, "aGVsbG8=");
    b64["is_base64"] = true;
    const auto binary = Send(alice_, b64);
    EXPECT_EQ(Received(binary), "command " + binary + " 4096 2 hello");
    record = WaitStatus(alice_, binary, "success");
    EXPECT_EQ(record.at("request_data"), "aGVsbG8=");
    EXPECT_EQ(record.at("is_base64"), true);
    EXPECT_EQ(record.at("response_data"), "hello");

    // Failures the node answers: failed (1), auth failed (3, a secondary's role byte), not
    // found (4).
    record = WaitStatus(alice_, Send(alice_, Command(kFail, "x")), "failure");
    EXPECT_EQ(record.at("device_status"), 1);
    EXPECT_EQ(record.at("status_description"), "failed");
    const auto by_bob = Send(bob_, Command(kPrimaryOnly, "x"));
    EXPECT_EQ(Received(by_bob), "command " + by_bob + " 4099 4 x");  // role 4: secondary
    record = WaitStatus(bob_, by_bob, "failure");
    EXPECT_EQ(record.at("device_status"), 3);
    EXPECT_EQ(record.at("status_description"), "authentication failed");
    record = WaitStatus(alice_, Send(alice_, Command(0x2000, "x")), "failure");
    EXPECT_EQ(record.at("device_status"), 4);
    EXPECT_EQ(record.at("status_description"), "command not found");

    // A deferred answer: in progress until the node answers.
    auto slow = Command(kDeferred, "later");
    slow["timeout"] = 600;
    const auto deferred = Send(alice_, slow);
    EXPECT_FALSE(sim_->WaitFor("deferred " + deferred).empty());
    WaitStatus(alice_, deferred, "in_progress");
    EXPECT_EQ(Total(alice_, "status=in_progress"), 1);
    sim_->Send("answer " + deferred + " 0 " + R"({"late":true})");
    record = WaitStatus(alice_, deferred, "success");
    EXPECT_EQ(record.at("response_data"), (object{{"late", true}}));

    // #104/#103: the admin route reaches any node (role 1) and reads every request of it.
    const auto by_admin = Send(ops_, Command(kPrimaryOnly, "ops"), true);
    EXPECT_EQ(Received(by_admin), "command " + by_admin + " 4099 1 ops");
    record = WaitStatus(ops_, by_admin, "success", true);
    EXPECT_EQ(record.at("user_name"), "ops@example.com");
    const auto all = client_.Get("/v1/admin/nodes/cmd?node_id=" + node_.node_id, ops_.accesstoken);
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json.at("total"), 8);
    // Users read their own requests only.
    EXPECT_EQ(Total(alice_, "node_id=" + node_.node_id), 6);
    EXPECT_EQ(Total(bob_, "node_id=" + node_.node_id), 1);
    EXPECT_EQ(Total(bob_, "request_id=" + echo), 0);

    // Pages: next_id → start_id, newest first with desc_order.
    std::vector<std::string> seen;
    std::string start;
    for (int page = 0; page < 10; ++page) {
        const auto r = client_.Get(
            "/v1/user/nodes/cmd?node_id=" + node_.node_id + "&num_records=4&desc_order=true" +
                (start.empty() ? "" : "&start_id=" + start),
            alice_.accesstoken
        );
        ASSERT_EQ(r.status, 200) << r.body;
        for (const auto& item : r.json.at("requests").as_array()) {
            seen.emplace_back(item.at("request_id").as_string());
        }
        start = r.Str("next_id");
        if (start.empty()) {
            break;
        }
    }
    ASSERT_EQ(seen.size(), 6u);
    EXPECT_EQ(seen.front(), deferred);
    EXPECT_EQ(seen.back(), echo);
}

TEST_F(CommandResponseTest, EveryDocumentedErrorChangesNothingAndSendsNothing) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());
    const auto& n = node_.node_id;
    const auto with = [&](auto change) {
        auto body = Command(kEcho, object{{"k", "v"}});
        change(body);
        return body;
    };

    struct Case {
        const Tokens* who;
        object body;
        int status;
        int code;
    };

    array many;
    for (int i = 0; i < 26; ++i) {
        many.emplace_back("n" + std::to_string(i));
    }
    const std::vector<Case> posts = {
        {&alice_, object{}, 400, 131102},
        {&alice_, with([](object& b) { b["node_ids"] = array{}; }), 400, 131102},
        {&alice_, with([](object& b) { b["node_ids"] = "x"; }), 400, 100006},
        {&alice_, with([&](object& b) { b["node_ids"] = many; }), 400, 131103},
        {&alice_,
         with([&](object& b) {
             b["node_ids"] = JsonStrings({n, n});
         }),
         400,
         131104},
        {&alice_, with([](object& b) { b.erase("cmd"); }), 400, 131107},
        {&alice_, with([](object& b) { b["cmd"] = 65536; }), 400, 131107},
        {&alice_, with([](object& b) { b["cmd"] = "1"; }), 400, 131107},
        {&alice_, with([](object& b) { b.erase("data"); }), 400, 131105},
        {&alice_, with([](object& b) { b["data"] = 5; }), 400, 131106},
        {&alice_, with([](object& b) { b["data"] = std::string(65537, 'x'); }), 400, 131111},
        {&alice_,
         with([](object& b) {
             b["data"] = "%%%";
             b["is_base64"] = true;
         }),
         400,
         131114},
        {&alice_, with([](object& b) { b["is_base64"] = "yes"; }), 400, 100006},
        {&alice_, with([](object& b) { b["timeout"] = 0; }), 400, 131115},
        {&alice_, with([](object& b) { b["timeout"] = 2592001; }), 400, 131115},
        {&eve_, with([](object&) {}), 400, 100010},  // not hers
        {&alice_,
         with([](object& b) { b["node_ids"] = JsonStrings({"nosuchnode"}); }),
         400,
         100010},
    };
    for (const auto& c : posts) {
        const auto r = Post(*c.who, c.body);
        EXPECT_TRUE(IsFailure(r, c.status, c.code)) << boost::json::serialize(c.body);
    }
    EXPECT_TRUE(IsFailure(
        client_.Request(
            "POST", "/v1/user/nodes/cmd", "not json", {{"Authorization", alice_.accesstoken}}
        ),
        400,
        100006
    ));
    EXPECT_TRUE(IsFailure(
        Post(ops_, with([](object& b) { b["node_ids"] = JsonStrings({"nosuchnode"}); }), true),
        404,
        100015
    ));

    const std::vector<std::pair<std::string, int>> gets = {
        {"", 131003},
        {"request_id=", 131001},
        {"cmd_id=1", 131011},
        {"node_id=" + n + "&cmd_id=abc", 131015},
        {"node_id=" + n + "&start_time=1", 131013},
        {"node_id=" + n + "&start_time=5&end_time=1", 131012},
        {"start_time=1&end_time=5", 131014},
        {"status=done", 100021},
        {"node_id=" + n + "&start_id=zz", 105043},
        {"node_id=" + n + "&num_records=0", 100021},
        {"node_id=nosuchnode", 126003},
    };
    for (const auto& [query, code] : gets) {
        EXPECT_TRUE(
            IsFailure(client_.Get("/v1/user/nodes/cmd?" + query, alice_.accesstoken), 400, code)
        ) << query;
    }
    EXPECT_TRUE(
        IsFailure(client_.Get("/v1/user/nodes/cmd?node_id=" + n, eve_.accesstoken), 400, 126003)
    );
    EXPECT_TRUE(
        IsFailure(client_.Get("/v1/admin/nodes/cmd?node_id=" + n, alice_.accesstoken), 400, 100004)
    );

    // Nothing stored, nothing sent.
    const auto admin_view = client_.Get("/v1/admin/nodes/cmd?node_id=" + n, ops_.accesstoken);
    EXPECT_EQ(admin_view.json.at("total"), 0) << admin_view.body;
    EXPECT_TRUE(sim_->Collect("command", 1000ms).empty());
}

TEST_F(CommandResponseTest, ARequestToAnOfflineNodeIsDeliveredAfterItsReconnectPoll) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());
    sim_->Send("disconnect");  // a power cut
    ASSERT_NO_FATAL_FAILURE(WaitConnected(false));
    const auto id = Send(alice_, Command(kEcho, "while you were away"));
    WaitStatus(alice_, id, "requested");
    EXPECT_TRUE(sim_->Collect("command", 1000ms).empty());
    EXPECT_EQ(
        client_.Get("/v1/user/nodes/cmd?request_id=" + id, alice_.accesstoken)
            .json.at("requests")
            .at(0)
            .at("status"),
        "requested"
    );
    sim_->Send("reconnect");
    EXPECT_EQ(Received(id), "command " + id + " 4096 2 while you were away");
    const auto record = WaitStatus(alice_, id, "success");
    EXPECT_EQ(record.at("response_data"), "while you were away");
}

TEST_F(CommandResponseTest, ARequestNotAnsweredInTimeTimesOut) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());
    auto body = Command(kDeferred, "never");
    body["timeout"] = 1;
    const auto id = Send(alice_, body);
    EXPECT_FALSE(sim_->WaitFor("deferred " + id).empty());
    const auto record = WaitStatus(alice_, id, "timed_out");
    EXPECT_FALSE(record.contains("device_status"));
    // The node's late answer changes nothing.
    sim_->Send("answer " + id + " 0 {}");
    EXPECT_FALSE(sim_->WaitFor("answered " + id).empty());
    std::this_thread::sleep_for(500ms);
    WaitStatus(alice_, id, "timed_out");
}

TEST_F(CommandResponseTest, OverrideReplacesThePendingRequestOfTheSameCommand) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());
    auto body = Command(kDeferred, "first");
    body["timeout"] = 600;
    const auto first = Send(alice_, body);
    EXPECT_FALSE(sim_->WaitFor("deferred " + first).empty());
    body["data"] = "second";
    body["override"] = true;
    const auto second = Send(alice_, body);
    auto record = WaitStatus(alice_, first, "failure");
    EXPECT_EQ(record.at("status_description"), ("overridden by request " + second).c_str());
    WaitStatus(alice_, second, "in_progress");
    EXPECT_FALSE(sim_->WaitFor("deferred " + second).empty());
    // The node answering the replaced request changes nothing; the new one ends normally.
    sim_->Send("answer " + first + " 0 {}");
    EXPECT_FALSE(sim_->WaitFor("answered " + first).empty());
    sim_->Send("answer " + second + " 0 {}");
    WaitStatus(alice_, second, "success");
    EXPECT_EQ(
        WaitStatus(alice_, first, "failure").at("status_description"),
        record.at("status_description")
    );
}

TEST_F(CommandResponseTest, NodesThatCannotTakeARequestAreAnsweredOneByOneWith207) {
    ASSERT_NO_FATAL_FAILURE(SetUpNode());
    // A second node of the server whose config does not declare command-response.
    const auto plain = Claim(alice_, "n2");
    MqttCredentials creds;
    creds.port = server_.mqtt_port();
    creds.ca_file = server_.ca_file();
    creds.cert_file = plain.dir / "node.crt";
    creds.key_file = plain.dir / "node.key";
    const auto published = MosquittoPub(
        creds,
        plain.node_id,
        "node/" + plain.node_id + "/config",
        R"({"node_id":")" + plain.node_id +
            R"(","info":{"name":"old","type":"Light"},"devices":[]})"
    );
    ASSERT_EQ(published.exit_code, 0) << published.output;

    const auto r = Post(alice_, Command(kEcho, "x", {node_.node_id, "nosuchnode"}));
    ASSERT_EQ(r.status, 207) << r.body;
    const auto id = r.Str("request_id");
    const auto& responses = r.json.at("responses");
    ASSERT_EQ(responses.as_array().size(), 2u) << r.body;
    EXPECT_EQ(responses.at(0).at("node_ids"), JsonStrings({node_.node_id}));
    EXPECT_EQ(responses.at(0).at("response").at("status"), "success");
    EXPECT_EQ(responses.at(1).at("node_ids"), JsonStrings({"nosuchnode"}));
    EXPECT_EQ(responses.at(1).at("response").at("status"), "failure");
    EXPECT_EQ(responses.at(1).at("response").at("error_code"), 100010);
    EXPECT_EQ(Received(id), "command " + id + " 4096 2 x");
    WaitStatus(alice_, id, "success");
    EXPECT_EQ(Total(alice_, "request_id=" + id), 1);  // only the node that took it

    // The admin route: the node without cmd-resp (131113) and an unknown one (100015).
    const auto admin =
        Post(ops_, Command(kEcho, "y", {plain.node_id, node_.node_id, "nosuchnode"}), true);
    ASSERT_EQ(admin.status, 207) << admin.body;
    const auto& parts = admin.json.at("responses");
    ASSERT_EQ(parts.as_array().size(), 3u) << admin.body;
    EXPECT_EQ(parts.at(0).at("node_ids"), JsonStrings({node_.node_id}));
    EXPECT_EQ(parts.at(1).at("node_ids"), JsonStrings({plain.node_id}));
    EXPECT_EQ(parts.at(1).at("response").at("error_code"), 131113);
    EXPECT_EQ(parts.at(2).at("node_ids"), JsonStrings({"nosuchnode"}));
    EXPECT_EQ(parts.at(2).at("response").at("error_code"), 100015);
    // A node without cmd-resp alone: the plain error.
    EXPECT_TRUE(IsFailure(Post(ops_, Command(kEcho, "z", {plain.node_id}), true), 400, 131113));
}

// `rainmaker-sim run ... &` from an interactive shell: the terminal is its stdin but it is not
// in the foreground. It must never read the terminal (SIGTTIN would stop it before it
// connects); in the foreground it reads its commands from it.
TEST_F(CommandResponseTest, TheSimulatorRunsInTheBackgroundOfATerminalAndReadsItInTheForeground) {
    const auto d = Claim(alice_, "n1");
    const std::vector<std::string> args = {
        "run",
        "--node-dir",
        d.dir.string(),
        "--mqtt-host",
        "127.0.0.1",
        "--mqtt-port",
        std::to_string(server_.mqtt_port()),
        "--ca",
        server_.ca_file().string()};
    {
        SimProcess background(args, SimProcess::Stdin::kTerminalBackground);
        background.Send("set Light.Brightness 12");  // typed at the shell meanwhile
        EXPECT_FALSE(background.WaitFor("ready").empty()) << "stopped: " << background.IsStopped();
        std::this_thread::sleep_for(300ms);
        EXPECT_FALSE(background.IsStopped());
        EXPECT_TRUE(background.Collect("reported", 500ms).empty());  // the input was not read
    }
    SimProcess foreground(args, SimProcess::Stdin::kTerminalForeground);
    EXPECT_FALSE(foreground.WaitFor("ready").empty());
    foreground.Send("set Light.Brightness 12");
    EXPECT_EQ(foreground.WaitFor("reported"), R"(reported {"Light":{"Brightness":12}})");
}

}  // namespace
}  // namespace rainmaker::testing

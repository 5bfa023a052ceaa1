// Devices end to end: the real server, its Mosquitto and the simulator. Claim, map (both
// flows and their failures), node listed online with config and params, params set and
// reported back, presence, and what another user cannot do.
#include <filesystem>
#include <fstream>
#include <memory>
#include <signal.h>
#include <thread>

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

using boost::json::object;
using namespace std::chrono_literals;

class DevicesTest : public ::testing::Test, protected DeviceLab {
protected:
    DevicesTest()
        : DeviceLab(server_, client_, dir_),
          config_("[mapping]\ntimeout_seconds = 3\n"),
          server_(config_.Options()),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens bob_;
};

bool Connected(const HttpResult& r) {
    return r.status == 200 && r.json.at("connectivity").at("connected") == true;
}

TEST_F(DevicesTest, ClaimedNodeMappedBySecretIsListedOnlineWithConfigAndParams) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto list =
        Eventually("/v1/user/nodes?node_details=true", alice_, [](const HttpResult& r) {
            const auto& details = r.json.at("node_details").as_array();
            return !details.empty() &&
                   details[0].at("status").at("connectivity").at("connected") == true &&
                   !details[0].at("params").as_object().empty();
        });
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json.at("nodes").as_array().at(0), boost::json::value(d.node_id));
    EXPECT_EQ(list.json.at("total"), 1);
    const auto& node = list.json.at("node_details").as_array().at(0);
    EXPECT_EQ(node.at("id"), boost::json::value(d.node_id));
    EXPECT_EQ(node.at("node_id"), boost::json::value(d.node_id));
    EXPECT_EQ(node.at("primary"), true);
    EXPECT_EQ(node.at("config").at("info").at("type"), "Lightbulb");
    EXPECT_EQ(node.at("params").at("Light").at("Brightness"), 50);
    EXPECT_TRUE(node.at("status").at("connectivity").at("timestamp").as_int64() > 0);
    // Without node_details but with node_id: the node_details shape anyway (client-compat).
    const auto one = client_.Get("/v1/user/nodes?nodeid=" + d.node_id, alice_.accesstoken);
    EXPECT_EQ(one.json.at("node_details").as_array().size(), 1u) << one.body;
    const auto config =
        client_.Get("/v1/user/nodes/config?node_id=" + d.node_id, alice_.accesstoken);
    EXPECT_EQ(config.json.at("node_id"), boost::json::value(d.node_id));
    EXPECT_TRUE(
        Connected(client_.Get("/v1/user/nodes/status?node_id=" + d.node_id, alice_.accesstoken))
    );
}

TEST_F(DevicesTest, SetParamsReachesTheNodeExactlyAndTheReportUpdatesTheState) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto r = client_.Put(
        "/v1/user/nodes/params?node_id=" + d.node_id,
        object{{"Light", object{{"Power", true}, {"Brightness", 77}}}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(
        sim->WaitFor("params/remote"), R"(params/remote {"Light":{"Power":true,"Brightness":77}})"
    );
    EXPECT_FALSE(sim->WaitFor("applied").empty());
    const auto params =
        Eventually("/v1/user/nodes/params?node_id=" + d.node_id, alice_, [](const HttpResult& p) {
            return p.json.at("Light").at("Power") == true;
        });
    EXPECT_EQ(params.json.at("Light").at("Brightness"), 77);
    EXPECT_EQ(params.json.at("Light").at("Temperature"), 21.5);
    // A change made on the device itself is merged in.
    sim->Send("set Light.Brightness 12");
    const auto after =
        Eventually("/v1/user/nodes/params?node_id=" + d.node_id, alice_, [](const HttpResult& p) {
            return p.json.at("Light").at("Brightness") == 12;
        });
    EXPECT_EQ(after.json.at("Light").at("Power"), true);
}

TEST_F(DevicesTest, InvalidParamsAreRefusedAndNothingReachesTheNode) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto target = "/v1/user/nodes/params?node_id=" + d.node_id;
    for (const auto* body :
         {R"({"Fan":{"Power":true}})",
          R"({"Light":{"Speed":1}})",
          R"({"Light":{"Power":"on"}})",
          R"({"Light":{"Brightness":101}})",
          R"({"Light":{"Temperature":5}})",
          R"({"Light":{"Brightness":1.5}})",
          R"({})",
          R"([1])"}) {
        const auto r =
            client_.Request("PUT", target, body, {{"Authorization", alice_.accesstoken}});
        EXPECT_EQ(r.status, 400) << body;
        EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    }
    EXPECT_TRUE(sim->Collect("params/remote", 500ms).empty());
    const auto params = client_.Get(target, alice_.accesstoken);
    EXPECT_EQ(params.json.at("Light").at("Brightness"), 50);
}

TEST_F(DevicesTest, BatchParamsAnswerPerNodeWith207WhenMixed) {
    const auto d1 = Claim(alice_, "n1");
    const auto d2 = Claim(alice_, "n2");
    auto sim1 = RunMapped(alice_, d1);
    auto sim2 = RunMapped(alice_, d2);
    boost::json::array all_ok{
        object{{"node_id", d1.node_id}, {"payload", object{{"Light", object{{"Power", true}}}}}},
        object{{"node_id", d2.node_id}, {"payload", object{{"Light", object{{"Power", true}}}}}}};
    const auto ok = client_.Put("/v1/user/nodes/params", all_ok, alice_.accesstoken);
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_FALSE(sim1->WaitFor("params/remote").empty());
    EXPECT_FALSE(sim2->WaitFor("params/remote").empty());
    boost::json::array mixed{
        object{{"node_id", d1.node_id}, {"payload", object{{"Light", object{{"Brightness", 5}}}}}},
        object{
            {"node_id", d2.node_id}, {"payload", object{{"Light", object{{"Brightness", 500}}}}}},
        object{
            {"node_id", "NotMyNode123456789"},
            {"payload", object{{"Light", object{{"Power", true}}}}}}};
    const auto r = client_.Put("/v1/user/nodes/params", mixed, alice_.accesstoken);
    ASSERT_EQ(r.status, 207) << r.body;
    const auto& results = r.json.as_array();
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].at("status"), "success");
    EXPECT_EQ(results[1].at("status"), "failure");
    EXPECT_EQ(results[1].at("error_code"), 100006);
    EXPECT_EQ(results[2].at("error_code"), 100010);
    EXPECT_EQ(sim1->WaitFor("params/remote"), R"(params/remote {"Light":{"Brightness":5}})");
    EXPECT_TRUE(sim2->Collect("params/remote", 300ms).empty());
}

TEST_F(DevicesTest, MappingRequestBeforeTheNodeReportsIsConfirmedWhenItDoes) {
    const auto d = Claim(alice_, "n1");
    const auto r = client_.Put(
        "/v1/user/nodes/mapping",
        object{{"node_id", d.node_id}, {"secret_key", "k1"}, {"operation", "add"}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Status(alice_, r.Str("request_id")), "requested");
    auto sim = Run(d, {"--map-user", UserId(alice_), "--map-secret", "k1", "--plain-topics"});
    ASSERT_FALSE(sim->WaitFor("ready").empty());
    const auto status = Eventually(
        "/v1/user/nodes/mapping?request_id=" + r.Str("request_id"),
        alice_,
        [](const HttpResult& s) { return s.Str("request_status") == "confirmed"; }
    );
    EXPECT_EQ(status.Str("request_status"), "confirmed");
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 1);
}

TEST_F(DevicesTest, WrongSecretTimesOutAndMapsNothing) {
    const auto d = Claim(alice_, "n1");
    auto sim = Run(d, {"--map-user", UserId(alice_), "--map-secret", "right"});
    ASSERT_FALSE(sim->WaitFor("ready").empty());
    const auto r = client_.Put(
        "/v1/user/nodes/mapping",
        object{{"node_id", d.node_id}, {"secret_key", "wrong"}, {"operation", "add"}},
        alice_.accesstoken
    );
    EXPECT_EQ(Status(alice_, r.Str("request_id")), "requested");
    std::this_thread::sleep_for(4500ms);  // the configured 3 s timeout, in whole seconds
    EXPECT_EQ(Status(alice_, r.Str("request_id")), "timedout");
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 0);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/params?node_id=" + d.node_id, alice_.accesstoken), 400, 100010
    ));
}

TEST_F(DevicesTest, AnotherUsersSecretDoesNotMapTheNodeToTheCaller) {
    const auto d = Claim(alice_, "n1");
    auto sim = Run(d, {"--map-user", UserId(alice_), "--map-secret", "k1"});
    ASSERT_FALSE(sim->WaitFor("ready").empty());
    // Bob knows the secret but the node reported Alice.
    const auto r = client_.Put(
        "/v1/user/nodes/mapping",
        object{{"node_id", d.node_id}, {"secret_key", "k1"}, {"operation", "add"}},
        bob_.accesstoken
    );
    EXPECT_EQ(Status(bob_, r.Str("request_id")), "requested");
    EXPECT_EQ(client_.Get("/v1/user/nodes", bob_.accesstoken).json.at("total"), 0);
    // Nor can Alice read Bob's request.
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/mapping?request_id=" + r.Str("request_id"), alice_.accesstoken),
        400,
        103018
    ));
}

TEST_F(DevicesTest, MappingRequestBadInputsAreRefused) {
    const auto put = [&](object body) {
        return client_.Put("/v1/user/nodes/mapping", body, alice_.accesstoken);
    };
    EXPECT_TRUE(IsFailure(put({{"secret_key", "k"}, {"operation", "add"}}), 400, 100009));
    EXPECT_TRUE(IsFailure(put({{"node_id", "abcdefghijkl"}, {"operation", "add"}}), 400, 103004));
    EXPECT_TRUE(
        IsFailure(put({{"node_id", std::string(37, 'a')}, {"secret_key", "k"}}), 400, 103005)
    );
    EXPECT_TRUE(IsFailure(
        put({{"node_id", "abcdefghijkl"}, {"secret_key", std::string(65, 'k')}}), 400, 103006
    ));
    EXPECT_TRUE(IsFailure(
        put({{"node_id", "abcdefghijkl"}, {"secret_key", "k"}, {"operation", "move"}}), 400, 103003
    ));
    EXPECT_TRUE(IsFailure(put({{"node_id", "abcdefghijkl"}, {"operation", "remove"}}), 400, 103013)
    );
    EXPECT_TRUE(IsFailure(
        put(
            {{"node_id", "abcdefghijkl"},
             {"secret_key", "k"},
             {"tags", boost::json::array{"notag"}}}
        ),
        400,
        105046
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes/mapping", alice_.accesstoken), 400, 103016));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/mapping?request_id=nope", alice_.accesstoken), 400, 103018
    ));
}

TEST_F(DevicesTest, ChallengeResponseMapsWithTheNodeSignatureAndRefusesAWrongOne) {
    const auto d = Claim(alice_, "n1");
    auto sim = Run(d);
    ASSERT_FALSE(sim->WaitFor("ready").empty());
    const auto init = client_.Post(
        "/v1/user/nodes/mapping/initiate", object{{"timeout", 360}}, alice_.accesstoken
    );
    ASSERT_EQ(init.status, 200) << init.body;
    const std::string challenge = init.Str("challenge");
    ASSERT_FALSE(challenge.empty());
    int status = 0;
    std::string signature =
        SimProcess::Run({"sign", "--node-dir", d.dir.string(), "--challenge", challenge}, &status);
    signature = signature.substr(0, signature.find('\n'));
    ASSERT_EQ(status, 0);
    // Another node's key signs the wrong thing.
    const auto other = Claim(alice_, "n2");
    std::string forged = SimProcess::Run(
        {"sign", "--node-dir", other.dir.string(), "--challenge", challenge}, &status
    );
    forged = forged.substr(0, forged.find('\n'));
    const auto verify = [&](const std::string& sig, const Tokens& t) {
        return client_.Post(
            "/v1/user/nodes/mapping/verify",
            object{
                {"request_id", init.Str("request_id")},
                {"node_id", d.node_id},
                {"challenge_response", sig}},
            t.accesstoken
        );
    };
    EXPECT_TRUE(IsFailure(verify(forged, alice_), 400, 103031));
    EXPECT_TRUE(IsFailure(verify("zz", alice_), 400, 103031));
    EXPECT_TRUE(IsFailure(verify(signature, bob_), 400, 103018));  // Bob does not own the request
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 0);
    const auto ok = verify(signature, alice_);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_TRUE(IsFailure(verify(signature, alice_), 400, 103033));
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 1);
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/user/nodes/mapping/initiate", object{{"timeout", -1}}, alice_.accesstoken
        ),
        400,
        103029
    ));
}

TEST_F(DevicesTest, AnotherUserCannotSeeOrControlTheNode) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto& t = bob_.accesstoken;
    const auto q = "?node_id=" + d.node_id;
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes" + q, t), 400, 100010));
    EXPECT_EQ(client_.Get("/v1/user/nodes?node_details=true", t).json.at("total"), 0);
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes/config" + q, t), 400, 100010));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes/status" + q, t), 400, 103020));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes/params" + q, t), 400, 100010));
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/user/nodes/params" + q, object{{"Light", object{{"Power", true}}}}, t),
        400,
        100010
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/user/nodes" + q, object{{"tags", boost::json::array{"room:bob"}}}, t),
        400,
        103020
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/mapping", object{{"node_id", d.node_id}, {"operation", "remove"}}, t
        ),
        400,
        103013
    ));
    EXPECT_TRUE(sim->Collect("params/remote", 300ms).empty());
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 1);
    EXPECT_TRUE(client_.Get("/v1/user/nodes" + q, alice_.accesstoken)
                    .json.at("node_details")
                    .at(0)
                    .at("tags")
                    .as_array()
                    .empty());
}

TEST_F(DevicesTest, TagsAndMetadataFollowTheirMergeRulesAndFilterTheList) {
    const auto d1 = Claim(alice_, "n1");
    const auto d2 = Claim(alice_, "n2");
    auto s1 = RunMapped(alice_, d1);
    auto s2 = RunMapped(alice_, d2);
    const auto put = [&](const Device& d, object body) {
        return client_.Put("/v1/user/nodes?node_id=" + d.node_id, body, alice_.accesstoken);
    };
    ASSERT_EQ(
        put(d1,
            {{"tags", boost::json::array{"room:kitchen", "floor:1"}},
             {"metadata", object{{"a", 1}, {"b", object{{"c", 2}}}}}}
        ).status,
        200
    );
    ASSERT_EQ(put(d2, {{"tags", boost::json::array{"room:hall", "floor:1"}}}).status, 200);
    ASSERT_EQ(
        put(d1, {{"metadata", object{{"b", object{{"c", nullptr}, {"d", 3}}}, {"a", nullptr}}}}
        ).status,
        200
    );
    const auto one = client_.Get("/v1/user/nodes?node_id=" + d1.node_id, alice_.accesstoken);
    EXPECT_EQ(
        boost::json::serialize(one.json.at("node_details").at(0).at("metadata")), R"({"b":{"d":3}})"
    );
    const auto ids = [&](const std::string& query) {
        return client_.Get("/v1/user/nodes?tags=" + query, alice_.accesstoken)
            .json.at("nodes")
            .as_array()
            .size();
    };
    EXPECT_EQ(ids("room:kitchen"), 1u);
    EXPECT_EQ(ids("floor:1"), 2u);
    EXPECT_EQ(ids("room:kitchen%20OR%20room:hall"), 2u);
    EXPECT_EQ(ids("room:kitchen%20AND%20floor:1"), 1u);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes?tags=a:b%20AND%20c:d%20OR%20e:f", alice_.accesstoken),
        400,
        105042
    ));
    EXPECT_TRUE(IsFailure(put(d1, {{"tags", boost::json::array{"bad"}}}), 400, 105046));
    // DELETE with {tags} removes them (client-compat.md).
    ASSERT_EQ(
        client_
            .Request(
                "DELETE",
                "/v1/user/nodes?node_id=" + d1.node_id,
                R"({"tags":["floor:1"]})",
                {{"Authorization", alice_.accesstoken}}
            )
            .status,
        200
    );
    EXPECT_EQ(ids("floor:1"), 1u);
    // Pagination: one per page.
    const auto page1 = client_.Get("/v1/user/nodes?num_records=1", alice_.accesstoken);
    ASSERT_TRUE(page1.json.as_object().contains("next_id")) << page1.body;
    EXPECT_EQ(page1.json.at("total"), 2);
    const auto page2 = client_.Get(
        "/v1/user/nodes?num_records=1&start_id=" + page1.Str("next_id"), alice_.accesstoken
    );
    EXPECT_NE(page2.json.at("nodes").at(0), page1.json.at("nodes").at(0));
    EXPECT_FALSE(page2.json.as_object().contains("next_id"));
}

TEST_F(DevicesTest, KilledNodeGoesOfflineAndAFastReconnectStaysOnline) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto status = "/v1/user/nodes/status?node_id=" + d.node_id;
    ASSERT_TRUE(Connected(Eventually(status, alice_, Connected)));
    sim->Send("reconnect");
    ASSERT_FALSE(sim->WaitFor("connected").empty());
    ASSERT_FALSE(sim->WaitFor("subscribed node/" + d.node_id + "/params/remote").empty());
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(Connected(client_.Get(status, alice_.accesstoken)));
    sim->Kill();
    const auto off = Eventually(status, alice_, [](const HttpResult& r) { return !Connected(r); });
    EXPECT_FALSE(Connected(off)) << off.body;
}

TEST_F(DevicesTest, FactoryResetReportRemovesEveryUser) {
    const auto d = Claim(alice_, "n1");
    { auto sim = RunMapped(alice_, d); }
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 1);
    auto reset = Run(d, {"--reset-mapping"});
    ASSERT_FALSE(reset->WaitFor("ready").empty());
    const auto list = Eventually("/v1/user/nodes", alice_, [](const HttpResult& r) {
        return r.json.at("total") == 0;
    });
    EXPECT_EQ(list.json.at("total"), 0);
}

TEST_F(DevicesTest, ClaimRefusesBadInputAndForeignCsrs) {
    const auto post = [&](const char* path, object body, const Tokens& t) {
        return client_.Post(path, body, t.accesstoken);
    };
    EXPECT_TRUE(IsFailure(
        post("/claim/initiate", {{"mac_addr", "nothex"}, {"platform", "esp32"}}, alice_),
        400,
        100006
    ));
    EXPECT_TRUE(
        IsFailure(post("/claim/initiate", {{"mac_addr", "AABBCCDDEEFF"}}, alice_), 400, 100006)
    );
    EXPECT_TRUE(IsFailure(post("/claim/verify", {{"csr", "garbage"}}, alice_), 400, 100006));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/claim/initiate", object{{"mac_addr", "AABBCCDDEEFF"}, {"platform", "esp32"}}
        ),
        401,
        100004
    ));
    // Bob cannot get a certificate for Alice's node.
    const auto d = Claim(alice_, "n1");
    int status = 0;
    const auto out = SimProcess::Run(
        {"claim",
         "--api",
         "http://127.0.0.1:" + std::to_string(server_.port()),
         "--token",
         bob_.accesstoken,
         "--out",
         (dir_.path() / "bob").string(),
         "--mac",
         "112233445566"},
        &status
    );
    EXPECT_EQ(status, 0) << out;  // a different device: fine
    const auto mqtt = client_.Get("/mqtt_host");
    EXPECT_EQ(mqtt.Str("mqtt_host"), "localhost");
    EXPECT_EQ(mqtt.Str("mqtt_cred_host"), "localhost");  // the CLI prints it
}

}  // namespace
}  // namespace rainmaker::testing

namespace rainmaker::testing {
namespace {

// The pid of the server's mosquitto (its command line names the data directory).
TEST_F(DevicesTest, BrokerKilledIsRestartedAndNodesComeBack) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const pid_t first = server_.BrokerPid();
    ASSERT_GT(first, 0);
    ASSERT_EQ(kill(first, SIGKILL), 0);
    ASSERT_FALSE(sim->WaitFor("disconnected").empty());
    // The supervisor restarts it within a second or two; the node reconnects by itself.
    ASSERT_FALSE(sim->WaitFor("connected", 60s).empty());
    // CONNACK comes before the broker has the node's subscriptions again.
    ASSERT_FALSE(sim->WaitFor("subscribed node/" + d.node_id + "/params/remote").empty());
    const pid_t second = server_.BrokerPid();
    EXPECT_GT(second, 0);
    EXPECT_NE(second, first);
    // The server's link is back too: a param set reaches the node.
    HttpResult r;
    for (int i = 0; i < 100; ++i) {
        r = client_.Put(
            "/v1/user/nodes/params?node_id=" + d.node_id,
            object{{"Light", object{{"Power", true}}}},
            alice_.accesstoken
        );
        if (r.status == 200) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sim->WaitFor("params/remote"), R"(params/remote {"Light":{"Power":true}})");
}

// A broker killed never publishes the disconnects of its nodes. The new run's retained start
// (the presence plugin) takes the nodes the store last saw in an earlier run offline; a node
// that connects to the new run is online.
TEST_F(DevicesTest, ABrokerRestartTakesTheNodesOfItsLastRunOffline) {
    const auto d1 = Claim(alice_, "n1");
    const auto d2 = Claim(alice_, "n2", "aabbccddeeff");
    auto first_node = RunMapped(alice_, d1);
    auto second_node = RunMapped(alice_, d2);
    const auto status = [&](const Device& d) {
        return "/v1/user/nodes/status?node_id=" + d.node_id;
    };
    ASSERT_TRUE(Connected(Eventually(status(d1), alice_, Connected)));
    ASSERT_TRUE(Connected(Eventually(status(d2), alice_, Connected)));
    const pid_t broker = server_.BrokerPid();
    ASSERT_GT(broker, 0);
    // Both nodes freeze (neither sees the broker go), then lose power.
    first_node->Freeze();
    second_node->Freeze();
    ASSERT_EQ(kill(broker, SIGKILL), 0);
    first_node->Kill();
    second_node->Kill();
    // The server's link reconnects in its own time (it backs off while the broker is down).
    const auto within = [&](const Device& d, bool connected) {
        HttpResult r;
        for (int i = 0; i < 4; ++i) {
            r = Eventually(status(d), alice_, [&](const HttpResult& s) {
                return s.status == 200 && Connected(s) == connected;
            });
            if (r.status == 200 && Connected(r) == connected) {
                break;
            }
        }
        return r;
    };
    const auto offline = within(d1, false);
    EXPECT_FALSE(Connected(offline)) << offline.body;
    EXPECT_FALSE(Connected(within(d2, false)));
    // n2 powers up again: online in the new run (the run's start, applied before, does not
    // touch it again at the link's next subscription: covered by the store test).
    auto again = Run(d2);
    ASSERT_FALSE(again->WaitFor("connected", 60s).empty());
    const auto online = within(d2, true);
    EXPECT_TRUE(Connected(online)) << online.body;
    EXPECT_FALSE(Connected(client_.Get(status(d1), alice_.accesstoken)));
}

}  // namespace
}  // namespace rainmaker::testing

namespace rainmaker::testing {
namespace {

// ---- user node groups (#56-#59)

class GroupsTest : public DevicesTest {
protected:
    HttpResult Create(const Tokens& t, object body) {
        return client_.Post("/v1/user/node_group", body, t.accesstoken);
    }

    HttpResult Update(const Tokens& t, const std::string& id, object body) {
        return client_.Put("/v1/user/node_group?group_id=" + id, body, t.accesstoken);
    }

    HttpResult Get(const Tokens& t, const std::string& query) {
        return client_.Get("/v1/user/node_group" + query, t.accesstoken);
    }
};

TEST_F(GroupsTest, HomeWithRoomsHoldsMappedNodesInThreeLevels) {
    const auto d1 = Claim(alice_, "n1");
    const auto d2 = Claim(alice_, "n2");
    auto s1 = RunMapped(alice_, d1);
    auto s2 = RunMapped(alice_, d2);
    const auto home = Create(
        alice_,
        {{"group_name", "Home"},
         {"type", "home"},
         {"nodes", JsonStrings({d1.node_id, d2.node_id})},
         {"custom_data", object{{"a", 1}}},
         {"description", "Our flat"}}
    );
    ASSERT_EQ(home.status, 200) << home.body;
    const std::string home_id = home.Str("group_id");
    const auto kitchen = Create(
        alice_,
        {{"group_name", "Kitchen"},
         {"type", "room"},
         {"parent_group_id", home_id},
         {"nodes", JsonStrings({d1.node_id})}}
    );
    ASSERT_EQ(kitchen.status, 200) << kitchen.body;
    const auto corner = Create(
        alice_,
        {{"group_name", "Corner"},
         {"parent_group_id", kitchen.Str("group_id")},
         {"nodes", JsonStrings({d1.node_id})}}
    );
    ASSERT_EQ(corner.status, 200) << corner.body;
    // A fourth level, a node outside the parent, an unmapped node, a duplicate name.
    EXPECT_TRUE(IsFailure(
        Create(alice_, {{"group_name", "Deep"}, {"parent_group_id", corner.Str("group_id")}}),
        400,
        108011
    ));
    EXPECT_TRUE(IsFailure(
        Create(
            alice_,
            {{"group_name", "Hall"},
             {"parent_group_id", home_id},
             {"nodes", JsonStrings({"NotInHome1234"})}}
        ),
        400,
        108013
    ));
    const auto d3 = Claim(alice_, "n3");
    auto s3 = RunMapped(alice_, d3);
    EXPECT_TRUE(IsFailure(
        Create(
            alice_,
            {{"group_name", "Hall"},
             {"parent_group_id", home_id},
             {"nodes", JsonStrings({d3.node_id})}}
        ),
        400,
        108015
    ));
    EXPECT_TRUE(IsFailure(
        Create(alice_, {{"group_name", "Kitchen"}, {"parent_group_id", home_id}}), 400, 108007
    ));
    EXPECT_TRUE(IsFailure(Create(alice_, {{"group_name", ""}}), 400, 108001));
    EXPECT_TRUE(IsFailure(Create(alice_, {{"group_name", "a|b"}}), 400, 108002));
    EXPECT_TRUE(
        IsFailure(Create(alice_, {{"group_name", "X"}, {"parent_group_id", "nope"}}), 400, 108009)
    );
    // A Matter fabric is a home, never a room (#9).
    EXPECT_TRUE(IsFailure(
        Create(alice_, {{"group_name", "F"}, {"is_matter", true}, {"parent_group_id", home_id}}),
        400,
        108080
    ));

    const auto all = Get(alice_, "?node_list=true&sub_groups=true");
    ASSERT_EQ(all.status, 200) << all.body;
    const auto& groups = all.json.at("groups").as_array();
    ASSERT_EQ(groups.size(), 1u);  // top level only; rooms nested
    EXPECT_EQ(groups[0].at("group_name"), "Home");
    EXPECT_EQ(groups[0].at("total"), 2);
    EXPECT_EQ(groups[0].at("custom_data").at("a"), 1);
    const auto& rooms = groups[0].at("sub_groups").as_array();
    ASSERT_EQ(rooms.size(), 1u);
    EXPECT_EQ(rooms[0].at("nodes").as_array().size(), 1u);
    EXPECT_EQ(rooms[0].at("sub_groups").as_array().size(), 1u);
    const auto details = Get(alice_, "?group_id=" + kitchen.Str("group_id") + "&node_details=true");
    EXPECT_EQ(
        details.json.at("groups").at(0).at("node_details").at(0).at("id"),
        boost::json::value(d1.node_id)
    );
    EXPECT_EQ(
        Get(alice_, "?group_name=Home").json.at("groups").at(0).at("group_id"),
        boost::json::value(home_id)
    );
    EXPECT_TRUE(IsFailure(Get(alice_, "?group_name=Nowhere"), 404, 108029));
    EXPECT_TRUE(IsFailure(Get(alice_, "?group_name=Home&group_id=" + home_id), 400, 108030));

    // Removing a node from the home takes it out of the rooms below too.
    ASSERT_EQ(
        Update(
            alice_, home_id, {{"operation", "remove"}, {"nodes", JsonStrings({d1.node_id})}}
        ).status,
        200
    );
    EXPECT_EQ(
        Get(alice_, "?group_id=" + corner.Str("group_id")).json.at("groups").at(0).at("total"), 0
    );
    // Deleting the home deletes the rooms.
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + home_id, alice_.accesstoken).status, 200
    );
    EXPECT_TRUE(IsFailure(Get(alice_, "?group_id=" + kitchen.Str("group_id")), 400, 108023));
}

TEST_F(GroupsTest, MutuallyExclusiveGroupsOfOneTypeAndParentShareNoNode) {
    const auto d1 = Claim(alice_, "n1");
    auto s1 = RunMapped(alice_, d1);
    const auto a = Create(
        alice_,
        {{"group_name", "A"},
         {"type", "room"},
         {"mutually_exclusive", true},
         {"nodes", JsonStrings({d1.node_id})}}
    );
    ASSERT_EQ(a.status, 200) << a.body;
    const auto b =
        Create(alice_, {{"group_name", "B"}, {"type", "room"}, {"mutually_exclusive", true}});
    ASSERT_EQ(b.status, 200);
    EXPECT_TRUE(IsFailure(
        Update(
            alice_, b.Str("group_id"), {{"operation", "add"}, {"nodes", JsonStrings({d1.node_id})}}
        ),
        400,
        100006
    ));
    EXPECT_EQ(Get(alice_, "?group_id=" + b.Str("group_id")).json.at("groups").at(0).at("total"), 0);
    // Another type, or a group that is not exclusive, may hold it.
    const auto c = Create(
        alice_,
        {{"group_name", "C"},
         {"type", "zone"},
         {"mutually_exclusive", true},
         {"nodes", JsonStrings({d1.node_id})}}
    );
    EXPECT_EQ(c.status, 200) << c.body;
    const auto d = Create(
        alice_, {{"group_name", "D"}, {"type", "room"}, {"nodes", JsonStrings({d1.node_id})}}
    );
    EXPECT_EQ(d.status, 200) << d.body;
}

TEST_F(GroupsTest, UpdatesFollowTheirRulesAndBadInputsChangeNothing) {
    const auto g = Create(
        alice_, {{"group_name", "G"}, {"custom_data", object{{"x", 1}, {"y", object{{"z", 2}}}}}}
    );
    const std::string id = g.Str("group_id");
    ASSERT_EQ(
        Update(
            alice_,
            id,
            {{"group_name", "G2"}, {"custom_data", object{{"x", nullptr}, {"y", object{{"w", 3}}}}}}
        ).status,
        200
    );
    const auto after = Get(alice_, "?group_id=" + id).json.at("groups").at(0);
    EXPECT_EQ(after.at("group_name"), "G2");
    EXPECT_EQ(boost::json::serialize(after.at("custom_data")), R"({"y":{"z":2,"w":3}})");
    EXPECT_TRUE(IsFailure(Update(alice_, id, object{}), 400, 108024));
    EXPECT_TRUE(IsFailure(
        Update(alice_, id, {{"operation", "move"}, {"nodes", JsonStrings({"x"})}}), 400, 108017
    ));
    EXPECT_TRUE(IsFailure(Update(alice_, id, {{"description", std::string(500, 'd')}}), 400, 108025)
    );
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/user/node_group", object{{"group_name", "x"}}, alice_.accesstoken),
        400,
        108016
    ));
    EXPECT_EQ(Get(alice_, "?group_id=" + id).json.at("groups").at(0).at("group_name"), "G2");
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_group?group_id=" + id + "&leave=true", alice_.accesstoken),
        400,
        108142
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group?group_id=" + id + "&leave=true&remove_sharing=true",
            alice_.accesstoken
        ),
        400,
        108140
    ));
}

TEST_F(GroupsTest, AnotherUserNeitherSeesNorChangesTheGroups) {
    const auto d1 = Claim(alice_, "n1");
    auto s1 = RunMapped(alice_, d1);
    const auto g = Create(alice_, {{"group_name", "Home"}, {"nodes", JsonStrings({d1.node_id})}});
    const std::string id = g.Str("group_id");
    EXPECT_TRUE(Get(bob_, "").json.at("groups").as_array().empty());
    EXPECT_TRUE(IsFailure(Get(bob_, "?group_id=" + id), 400, 108023));
    EXPECT_TRUE(IsFailure(Update(bob_, id, {{"group_name", "Mine"}}), 400, 108023));
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_group?group_id=" + id, bob_.accesstoken), 400, 108023
    ));
    EXPECT_TRUE(
        IsFailure(Create(bob_, {{"group_name", "Sub"}, {"parent_group_id", id}}), 400, 108009)
    );
    EXPECT_TRUE(IsFailure(
        Create(bob_, {{"group_name", "Steal"}, {"nodes", JsonStrings({d1.node_id})}}), 400, 108013
    ));
    EXPECT_EQ(Get(alice_, "?group_id=" + id).json.at("groups").at(0).at("group_name"), "Home");
}

TEST_F(GroupsTest, MappingWithAGroupIdAddsTheNodeAndUnmappingTakesItOut) {
    const auto g = Create(alice_, {{"group_name", "Home"}});
    const std::string id = g.Str("group_id");
    const auto d = Claim(alice_, "n1");
    auto sim = Run(d);
    ASSERT_FALSE(sim->WaitFor("ready").empty());
    const auto init = client_.Post("/v1/user/nodes/mapping/initiate", object{}, alice_.accesstoken);
    int status = 0;
    std::string signature = SimProcess::Run(
        {"sign", "--node-dir", d.dir.string(), "--challenge", init.Str("challenge")}, &status
    );
    signature = signature.substr(0, signature.find('\n'));
    const auto ok = client_.Post(
        "/v1/user/nodes/mapping/verify",
        object{
            {"request_id", init.Str("request_id")},
            {"node_id", d.node_id},
            {"challenge_response", signature},
            {"group_id", id}},
        alice_.accesstoken
    );
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(Get(alice_, "?group_id=" + id).json.at("groups").at(0).at("total"), 1);
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
    EXPECT_EQ(Get(alice_, "?group_id=" + id).json.at("groups").at(0).at("total"), 0);
}

TEST_F(GroupsTest, GroupListPagesWithNextId) {
    for (const auto* name : {"A", "B", "C"}) {
        ASSERT_EQ(Create(alice_, {{"group_name", name}}).status, 200);
    }
    const auto first = Get(alice_, "?num_records=2");
    ASSERT_EQ(first.json.at("groups").as_array().size(), 2u);
    EXPECT_EQ(first.json.at("total"), 3);
    const auto second = Get(alice_, "?num_records=2&start_id=" + first.Str("next_id"));
    EXPECT_EQ(second.json.at("groups").as_array().size(), 1u);
    EXPECT_FALSE(second.json.as_object().contains("next_id"));
}

}  // namespace
}  // namespace rainmaker::testing

namespace rainmaker::testing {
namespace {

// ---- node sharing (#16-#21) and what a secondary user may do

class SharingTest : public DevicesTest {
protected:
    SharingTest() : carol_(SignUpAndLogin(client_, server_, "carol@example.com")) {}

    HttpResult Share(const Tokens& t, object body) {
        return client_.Put("/v1/user/nodes/sharing/requests", body, t.accesstoken);
    }

    HttpResult Respond(const Tokens& t, const std::string& id, bool accept) {
        return client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", id}, {"accept", accept}},
            t.accesstoken
        );
    }

    int Total(const Tokens& t) {
        return static_cast<int>(
            client_.Get("/v1/user/nodes", t.accesstoken).json.at("total").as_int64()
        );
    }

    Tokens carol_;
};

TEST_F(SharingTest, SecondaryControlsButCannotShareRetagOrRemoveAndLosesAccessWhenRemoved) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto nodes = boost::json::array{boost::json::value(d.node_id)};
    const auto shared = Share(
        alice_,
        {{"nodes", nodes}, {"user_name", "bob@example.com"}, {"metadata", object{{"note", "hi"}}}}
    );
    ASSERT_EQ(shared.status, 200) << shared.body;
    const std::string id = shared.Str("request_id");
    EXPECT_EQ(Total(bob_), 0);  // pending: no access yet
    const auto received = client_.Get("/v1/user/nodes/sharing/requests", bob_.accesstoken);
    ASSERT_EQ(received.json.at("sharing_requests").as_array().size(), 1u) << received.body;
    EXPECT_EQ(received.json.at("sharing_requests").at(0).at("request_status"), "pending");
    EXPECT_EQ(
        received.json.at("sharing_requests").at(0).at("primary_user_name"), "alice@example.com"
    );
    EXPECT_TRUE(IsFailure(Respond(carol_, id, true), 400, 107023));  // not Carol's to accept
    ASSERT_EQ(Respond(bob_, id, true).status, 200);
    EXPECT_TRUE(IsFailure(Respond(bob_, id, true), 400, 107023));

    const auto mine = client_.Get("/v1/user/nodes?node_id=" + d.node_id, bob_.accesstoken);
    EXPECT_EQ(mine.json.at("node_details").at(0).at("primary"), false) << mine.body;
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/params?node_id=" + d.node_id,
                object{{"Light", object{{"Power", true}}}},
                bob_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(sim->WaitFor("params/remote"), R"(params/remote {"Light":{"Power":true}})");
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes?node_id=" + d.node_id,
            object{{"tags", boost::json::array{"a:b"}}},
            bob_.accesstoken
        ),
        400,
        100004
    ));
    EXPECT_TRUE(
        IsFailure(Share(bob_, {{"nodes", nodes}, {"user_name", "carol@example.com"}}), 400, 107027)
    );
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/nodes/sharing?nodes=" + d.node_id + "&user_name=alice@example.com",
            bob_.accesstoken
        ),
        400,
        107027
    ));

    const auto as_alice =
        client_.Get("/v1/user/nodes/sharing?node_id=" + d.node_id, alice_.accesstoken);
    EXPECT_EQ(
        as_alice.json.at("node_sharing").at(0).at("users").at("secondary").at(0), "bob@example.com"
    ) << as_alice.body;
    const auto as_bob =
        client_.Get("/v1/user/nodes/sharing?node_id=" + d.node_id, bob_.accesstoken);
    EXPECT_FALSE(as_bob.json.at("node_sharing").at(0).at("users").as_object().contains("secondary"))
        << as_bob.body;
    EXPECT_EQ(as_bob.json.at("node_sharing").at(0).at("sources").at(0), "NODE");
    // The accepted sharing is in the event log (for webhooks and push later).
    const auto events = RunProgram(server_.QueryCommand(
        "SELECT COUNT(*) FROM events WHERE event_type = 'user_node_sharing_add'"
    ));
    EXPECT_EQ(events.output, "1\n");

    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/nodes/sharing?nodes=" + d.node_id + "&user_name=bob@example.com",
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/params?node_id=" + d.node_id, bob_.accesstoken), 400, 100010
    ));
    EXPECT_EQ(Total(alice_), 1);
}

TEST_F(SharingTest, DeclinedAndCancelledRequestsGiveNothing) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto nodes = boost::json::array{boost::json::value(d.node_id)};
    const auto declined = Share(alice_, {{"nodes", nodes}, {"user_name", "bob@example.com"}});
    ASSERT_EQ(Respond(bob_, declined.Str("request_id"), false).status, 200);
    EXPECT_EQ(Total(bob_), 0);
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/nodes/sharing/requests?request_id=" + declined.Str("request_id"),
            alice_.accesstoken
        ),
        400,
        107025
    ));
    const auto pending = Share(alice_, {{"nodes", nodes}, {"user_name", "carol@example.com"}});
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/nodes/sharing/requests?request_id=" + pending.Str("request_id"),
            bob_.accesstoken
        ),
        404,
        107026
    ));
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/nodes/sharing/requests?request_id=" + pending.Str("request_id"),
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(Respond(carol_, pending.Str("request_id"), true), 400, 107023));
    EXPECT_EQ(Total(carol_), 0);
}

TEST_F(SharingTest, TransferHandsOverPrimaryAndKeepsTheSenderAsSecondary) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto nodes = boost::json::array{boost::json::value(d.node_id)};
    const auto t = Share(
        alice_,
        {{"nodes", nodes},
         {"user_name", "bob@example.com"},
         {"transfer", true},
         {"new_role", "secondary"}}
    );
    ASSERT_EQ(t.status, 200) << t.body;
    ASSERT_EQ(Respond(bob_, t.Str("request_id"), true).status, 200);
    EXPECT_EQ(
        client_.Get("/v1/user/nodes?node_id=" + d.node_id, bob_.accesstoken)
            .json.at("node_details")
            .at(0)
            .at("primary"),
        true
    );
    EXPECT_EQ(
        client_.Get("/v1/user/nodes?node_id=" + d.node_id, alice_.accesstoken)
            .json.at("node_details")
            .at(0)
            .at("primary"),
        false
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes?node_id=" + d.node_id,
            object{{"tags", boost::json::array{"a:b"}}},
            alice_.accesstoken
        ),
        400,
        100004
    ));
    // Bob, now primary, gives Alice primary back: she has the node, so it applies at once.
    const auto back =
        Share(bob_, {{"nodes", nodes}, {"user_name", "alice@example.com"}, {"primary", true}});
    ASSERT_EQ(back.status, 200);
    const auto request = client_.Get(
        "/v1/user/nodes/sharing/requests?request_id=" + back.Str("request_id"), bob_.accesstoken
    );
    EXPECT_EQ(request.json.at("sharing_requests").at(0).at("request_status"), "accepted");
    EXPECT_EQ(
        client_.Get("/v1/user/nodes?node_id=" + d.node_id, alice_.accesstoken)
            .json.at("node_details")
            .at(0)
            .at("primary"),
        true
    );
}

TEST_F(SharingTest, BadSharingInputsAreRefused) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const auto nodes = boost::json::array{boost::json::value(d.node_id)};
    EXPECT_TRUE(IsFailure(
        Share(alice_, {{"nodes", nodes}, {"user_name", "alice@example.com"}}), 400, 107003
    ));
    EXPECT_TRUE(IsFailure(
        Share(alice_, {{"nodes", nodes}, {"user_name", "nobody@example.com"}}), 400, 107007
    ));
    EXPECT_TRUE(IsFailure(
        Share(alice_, {{"nodes", boost::json::array{}}, {"user_name", "bob@example.com"}}),
        400,
        107001
    ));
    EXPECT_TRUE(IsFailure(Share(alice_, {{"nodes", nodes}}), 400, 107002));
    EXPECT_TRUE(IsFailure(
        Share(
            alice_,
            {{"nodes", boost::json::array{"NotMine1234567"}}, {"user_name", "bob@example.com"}}
        ),
        400,
        107027
    ));
    EXPECT_TRUE(IsFailure(
        Share(
            alice_, {{"nodes", nodes}, {"user_name", "bob@example.com"}, {"new_role", "secondary"}}
        ),
        400,
        107035
    ));
    EXPECT_TRUE(IsFailure(
        Share(
            alice_,
            {{"nodes", nodes},
             {"user_name", "bob@example.com"},
             {"transfer", true},
             {"new_role", "owner"}}
        ),
        400,
        107033
    ));
    // A role, but not one a sender may keep; and any new_role, known or not, needs transfer.
    EXPECT_TRUE(IsFailure(
        Share(
            alice_,
            {{"nodes", nodes},
             {"user_name", "bob@example.com"},
             {"transfer", true},
             {"new_role", "primary"}}
        ),
        400,
        107033
    ));
    EXPECT_TRUE(IsFailure(
        Share(alice_, {{"nodes", nodes}, {"user_name", "bob@example.com"}, {"new_role", "owner"}}),
        400,
        107035
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", "x"}, {"accept", "yes"}},
            bob_.accesstoken
        ),
        400,
        107017
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/sharing/requests?primary_user=maybe", alice_.accesstoken),
        400,
        107019
    ));
    // The CLI sends Python's spelling of booleans.
    EXPECT_EQ(
        client_.Get("/v1/user/nodes/sharing/requests?primary_user=True", alice_.accesstoken).status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/nodes/sharing?nodes=" + d.node_id + "&user_name=bob@example.com",
            alice_.accesstoken
        ),
        400,
        107011
    ));
    EXPECT_TRUE(client_.Get("/v1/user/nodes/sharing/requests?primary_user=true", alice_.accesstoken)
                    .json.at("sharing_requests")
                    .as_array()
                    .empty());
    // Sent requests page by ten, with the two cursors. Twelve distinct requests: to six users,
    // as secondary and as primary (the same offer twice would be one request).
    for (int i = 0; i < 6; ++i) {
        const std::string user = "user" + std::to_string(i) + "@example.com";
        SignUpAndLogin(client_, server_, user);
        for (const bool primary : {false, true}) {
            ASSERT_EQ(
                Share(alice_, {{"nodes", nodes}, {"user_name", user}, {"primary", primary}}).status,
                200
            );
        }
    }
    const auto page = client_.Get(
        "/v1/user/nodes/sharing/requests?primary_user=true&num_records=50", alice_.accesstoken
    );
    EXPECT_EQ(page.json.at("sharing_requests").as_array().size(), 10u);
    EXPECT_TRUE(page.Str("next_user_name").starts_with("user")) << page.body;
    const auto rest = client_.Get(
        "/v1/user/nodes/sharing/requests?primary_user=true&start_request_id=" +
            page.Str("next_request_id") + "&start_user_name=" + page.Str("next_user_name"),
        alice_.accesstoken
    );
    EXPECT_EQ(rest.json.at("sharing_requests").as_array().size(), 2u);
}

}  // namespace
}  // namespace rainmaker::testing

namespace rainmaker::testing {
namespace {

std::string ReadMac(const Device& d) {
    std::ifstream in(d.dir / "mac");
    std::string mac;
    std::getline(in, mac);
    return mac;
}

TEST_F(DevicesTest, KnowingAMacDoesNotHandOverAMappedDevice) {
    const auto d = Claim(alice_, "n1");
    auto sim = RunMapped(alice_, d);
    const std::string mac = ReadMac(d);
    ASSERT_EQ(mac.size(), 12u);
    const object body{{"mac_addr", mac}, {"platform", "esp32c3"}};
    // Alice claiming again gets the same identity; Bob is refused while Alice is mapped.
    EXPECT_EQ(client_.Post("/claim/initiate", body, alice_.accesstoken).Str("node_id"), d.node_id);
    EXPECT_TRUE(IsFailure(client_.Post("/claim/initiate", body, bob_.accesstoken), 400, 100010));
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 1);
    // Once Alice lets the device go, Bob gets a new identity for it, never Alice's node.
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
    const auto bobs = client_.Post("/claim/initiate", body, bob_.accesstoken);
    ASSERT_EQ(bobs.status, 200) << bobs.body;
    EXPECT_NE(bobs.Str("node_id"), d.node_id);
}

// Hardening finding 1: the device's first owner transferred it and kept its MAC; claiming it
// again must not give them a certificate for it, and the new owner's re-claim must cut off
// every earlier certificate at once (the CRL rewritten, the broker reloaded, the live
// connection closed), not at the next broker restart.
TEST_F(DevicesTest, AReclaimByThePrimaryCutsOffTheOldCertificateAtOnceAndNobodyElseCanReclaim) {
    const auto d = Claim(alice_, "n1");
    auto old_device = RunMapped(alice_, d);
    const std::string mac = ReadMac(d);
    const auto offer = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{
            {"nodes", boost::json::array{boost::json::value(d.node_id)}},
            {"user_name", "bob@example.com"},
            {"transfer", true}},
        alice_.accesstoken
    );
    ASSERT_EQ(offer.status, 200) << offer.body;
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/sharing/requests",
                object{{"request_id", offer.Str("request_id")}, {"accept", true}},
                bob_.accesstoken
            )
            .status,
        200
    );
    const object claim{{"mac_addr", mac}, {"platform", "esp32c3"}};
    EXPECT_TRUE(IsFailure(client_.Post("/claim/initiate", claim, alice_.accesstoken), 400, 100010));
    // Alice kept the device's key (host claiming made it on her computer): signing a mapping
    // challenge with it does not make her an owner again while Bob owns the device.
    const auto init = client_.Post("/v1/user/nodes/mapping/initiate", object{}, alice_.accesstoken);
    ASSERT_EQ(init.status, 200) << init.body;
    int status = 0;
    std::string signature = SimProcess::Run(
        {"sign", "--node-dir", d.dir.string(), "--challenge", init.Str("challenge")}, &status
    );
    ASSERT_EQ(status, 0);
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/user/nodes/mapping/verify",
            object{
                {"request_id", init.Str("request_id")},
                {"node_id", d.node_id},
                {"challenge_response", signature.substr(0, signature.find('\n'))}},
            alice_.accesstoken
        ),
        400,
        103008
    ));
    EXPECT_EQ(client_.Get("/v1/user/nodes", alice_.accesstoken).json.at("total"), 0);

    const auto reflashed = Claim(bob_, "n1-bob", mac);
    ASSERT_EQ(reflashed.node_id, d.node_id);
    // The device with the old certificate is closed at once and cannot come back.
    EXPECT_FALSE(old_device->WaitFor("disconnected", 5s).empty());
    EXPECT_TRUE(old_device->Collect("ready", 3s).empty());
    // The new certificate connects and the node is Bob's, online.
    auto new_device = Run(reflashed);
    EXPECT_FALSE(new_device->WaitFor("ready").empty());
    const auto r = Eventually("/v1/user/nodes/status?node_id=" + d.node_id, bob_, Connected);
    EXPECT_TRUE(Connected(r)) << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

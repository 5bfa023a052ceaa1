// Homes as Matter fabrics end to end (#9) with the real server: a home created with the exact
// body of `esp-rainmaker-cli group add`, a group converted, user, device and controller NOCs
// checked with the openssl command line (attributes, chain), a shared secondary's operate CAT,
// the commissioning of a pure-Matter device and of a RainMaker+Matter node from the simulator
// (challenge signed with its key), deletion, and the documented errors with nothing changed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;
namespace fs = std::filesystem;

// Runs a shell command; its stdout and stderr.
std::string Shell(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    std::string out;
    char buffer[512];
    while (pipe && fgets(buffer, sizeof buffer, pipe.get()) != nullptr) {
        out += buffer;
    }
    return out;
}

std::string ReadFile(const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
}

bool IsHex(const std::string& s, std::size_t size) {
    return s.size() == size && std::regex_match(s, std::regex("[0-9A-F]+"));
}

class MatterFabricsTest : public ::testing::Test, protected DeviceLab {
protected:
    MatterFabricsTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    using DeviceLab::Run;

    // What `esp-rainmaker-cli group add --name <name>` sends.
    HttpResult CliGroupAdd(const Tokens& t, const std::string& name) {
        return client_.Post(
            "/v1/user/node_group",
            object{
                {"group_name", name},
                {"is_matter", true},
                {"description", ""},
                {"mutually_exclusive", false},
                {"custom_data", object{{"source", "cli"}}},
                {"type", "home"}},
            t.accesstoken
        );
    }

    // A new P-256 key and its CSR made by the openssl command line; the CSR PEM.
    std::string Csr(const std::string& name) {
        const auto key = dir_.path() / (name + ".key");
        const auto csr = dir_.path() / (name + ".csr");
        Shell(
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" +
            name + " -keyout " + key.string() + " -out " + csr.string()
        );
        return ReadFile(csr);
    }

    HttpResult Nocs(const Tokens& t, const std::string& type, array requests, object extra = {}) {
        object body{{"operation", "add"}, {"csr_type", type}, {"csr_requests", requests}};
        for (auto& [k, v] : extra) {
            body[k] = v;
        }
        return client_.Put("/v1/user/node_group", body, t.accesstoken);
    }

    object Group(const Tokens& t, const std::string& id, const std::string& flags = "") {
        const auto r = client_.Get("/v1/user/node_group?group_id=" + id + flags, t.accesstoken);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json.as_object().at("groups").as_array().at(0).as_object();
    }

    // `openssl x509 -text` of a PEM certificate.
    std::string Text(const std::string& pem) {
        const auto file = dir_.path() / "x.pem";
        WriteFile(file, pem);
        return Shell("openssl x509 -noout -text -in " + file.string());
    }

    // Whether `openssl verify` accepts `pem` under the root `root_pem`.
    bool Verifies(const std::string& root_pem, const std::string& pem) {
        WriteFile(dir_.path() / "root.pem", root_pem);
        WriteFile(dir_.path() / "leaf.pem", pem);
        const auto out = Shell(
            "openssl verify -CAfile " + (dir_.path() / "root.pem").string() + " " +
            (dir_.path() / "leaf.pem").string()
        );
        return out.find(": OK") != std::string::npos;
    }

    static std::string Str(const object& o, const char* key) {
        const auto* v = o.if_contains(key);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
    }

    TempDir dir_;
    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Tokens bob_;
};

TEST_F(MatterFabricsTest, TheCliBodyCreatesAHomeThatIsAFabric) {
    const auto r = CliGroupAdd(alice_, "Home");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto id = r.Str("group_id");
    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(IsHex(r.Str("fabric_id"), 16)) << r.body;
    const auto& created = r.json.as_object().at("fabric_details").as_object();
    EXPECT_NE(Str(created, "root_ca").find("BEGIN CERTIFICATE"), std::string::npos);

    const auto home = Group(alice_, id, "&fabric_details=true");
    EXPECT_EQ(home.at("is_matter"), true);
    EXPECT_EQ(Str(home, "fabric_id"), r.Str("fabric_id"));
    EXPECT_EQ(Str(home, "type"), "home");
    EXPECT_EQ(home.at("custom_data").at("source"), "cli");
    const auto& details = home.at("fabric_details").as_object();
    EXPECT_TRUE(IsHex(Str(details, "ipk"), 32)) << boost::json::serialize(details);
    const auto admin = Str(details, "group_cat_id_admin");
    const auto operate = Str(details, "group_cat_id_operate");
    ASSERT_TRUE(IsHex(admin, 8));
    ASSERT_TRUE(IsHex(operate, 8));
    // Disjoint ranges, version 1.
    EXPECT_GE(std::stoul(admin, nullptr, 16) >> 16, 0x0100U);
    EXPECT_LT(std::stoul(admin, nullptr, 16) >> 16, 0x0400U);
    EXPECT_GE(std::stoul(operate, nullptr, 16) >> 16, 0x0600U);
    EXPECT_LT(std::stoul(operate, nullptr, 16) >> 16, 0x0900U);
    EXPECT_EQ(admin.substr(4), "0001");
    EXPECT_TRUE(IsHex(Str(details, "matter_user_id"), 16));
    EXPECT_TRUE(IsHex(Str(details, "user_cat_id"), 8));
    EXPECT_EQ(home.if_contains("root_ca_priv_key"), nullptr);

    // The RCAC as the Matter specification wants it.
    const auto text = Text(Str(details, "root_ca"));
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.5 = " + r.Str("fabric_id")), std::string::npos)
        << text;
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.4 = "), std::string::npos);
    EXPECT_NE(text.find("CA:TRUE"), std::string::npos);
    EXPECT_NE(text.find("Certificate Sign, CRL Sign"), std::string::npos);
    EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos);

    // Without fabric_details the details stay out; a plain group says is_matter false; the
    // is_matter listing holds only fabrics.
    EXPECT_EQ(Group(alice_, id).if_contains("fabric_details"), nullptr);
    const auto plain =
        client_.Post("/v1/user/node_group", object{{"group_name", "Office"}}, alice_.accesstoken);
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(Group(alice_, plain.Str("group_id")).at("is_matter"), false);
    const auto fabrics = client_.Get("/v1/user/node_group?is_matter=true", alice_.accesstoken);
    ASSERT_EQ(fabrics.status, 200);
    const auto& list = fabrics.json.as_object().at("groups").as_array();
    ASSERT_EQ(list.size(), 1U) << fabrics.body;
    EXPECT_EQ(Str(list[0].as_object(), "group_id"), id);
    EXPECT_EQ(fabrics.json.as_object().at("total"), 1);

    // A second home has its own fabric and root.
    const auto second = CliGroupAdd(alice_, "Cottage");
    ASSERT_EQ(second.status, 200);
    EXPECT_NE(second.Str("fabric_id"), r.Str("fabric_id"));
    // The same name at the same level is refused as for any group.
    EXPECT_EQ(CliGroupAdd(alice_, "Home").ErrorCode(), 108007);
}

TEST_F(MatterFabricsTest, ConvertingAndTheDocumentedRefusals) {
    const auto home =
        client_.Post("/v1/user/node_group", object{{"group_name", "Home"}}, alice_.accesstoken);
    const auto id = home.Str("group_id");
    const auto room = client_.Post(
        "/v1/user/node_group",
        object{{"group_name", "Room"}, {"parent_group_id", id}},
        alice_.accesstoken
    );
    const auto room_id = room.Str("group_id");
    // A fabric cannot have a parent: nothing is created.
    auto r = client_.Post(
        "/v1/user/node_group",
        object{{"group_name", "Sub"}, {"is_matter", true}, {"parent_group_id", id}},
        alice_.accesstoken
    );
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.ErrorCode(), 108080);
    EXPECT_TRUE(Group(alice_, id, "&sub_groups=true").at("sub_groups").as_array().size() == 1);
    const auto put = [&](const Tokens& t, const std::string& group, object body) {
        return client_.Put("/v1/user/node_group?group_id=" + group, body, t.accesstoken);
    };
    EXPECT_EQ(put(alice_, room_id, {{"is_matter", true}}).ErrorCode(), 108091);
    EXPECT_EQ(put(alice_, id, {{"is_matter", true}, {"group_name", "X"}}).ErrorCode(), 108090);
    EXPECT_EQ(Group(alice_, id).at("is_matter"), false);
    EXPECT_EQ(Str(Group(alice_, id), "group_name"), "Home");
    // Another user's group does not exist for them.
    EXPECT_EQ(put(bob_, id, {{"is_matter", true}}).ErrorCode(), 108023);
    // The room offered to Bob alone before the home becomes a fabric: once it is one, accepting
    // that request is refused (it would hand him the fabric's details), and the request stays.
    const auto offer = client_.Put(
        "/v1/user/node_group/sharing",
        object{{"groups", JsonStrings({room_id})}, {"user_name", "bob@example.com"}},
        alice_.accesstoken
    );
    ASSERT_EQ(offer.status, 200) << offer.body;
    const auto accept = [&] {
        return client_.Put(
            "/v1/user/node_group/sharing/requests",
            object{{"request_id", offer.Str("request_id")}, {"accept", true}},
            bob_.accesstoken
        );
    };
    // Converting works once.
    r = put(alice_, id, {{"is_matter", true}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto group = Group(alice_, id, "&fabric_details=true");
    EXPECT_EQ(group.at("is_matter"), true);
    EXPECT_TRUE(IsHex(Str(group, "fabric_id"), 16));
    // Its room belongs to the fabric.
    EXPECT_EQ(Group(alice_, room_id).at("is_matter"), true);
    EXPECT_EQ(Str(Group(alice_, room_id), "fabric_id"), Str(group, "fabric_id"));
    r = put(alice_, id, {{"is_matter", true}});
    EXPECT_EQ(r.ErrorCode(), 108092);
    EXPECT_EQ(Str(Group(alice_, id), "fabric_id"), Str(group, "fabric_id"));
    // Admin groups are never fabrics.
    EXPECT_EQ(
        client_.Post("/v1/user/node_group", object{{"group_name", "A"}}, alice_.accesstoken).status,
        200
    );
    EXPECT_EQ(accept().ErrorCode(), 108129);
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_id=" + room_id, bob_.accesstoken).ErrorCode(), 108023
    );
    // A room of a fabric is not shared on its own.
    r = client_.Put(
        "/v1/user/node_group/sharing",
        object{{"groups", JsonStrings({room_id})}, {"user_name", "bob@example.com"}},
        alice_.accesstoken
    );
    EXPECT_EQ(r.ErrorCode(), 108129) << r.body;
}

TEST_F(MatterFabricsTest, UserNocsCarryTheRoleCatAndVerifyAgainstTheRoot) {
    const auto home = CliGroupAdd(alice_, "Home");
    const auto id = home.Str("group_id");
    const auto fabric_id = home.Str("fabric_id");
    const auto details = Group(alice_, id, "&fabric_details=true").at("fabric_details").as_object();
    const auto root = Str(details, "root_ca");

    auto r = Nocs(alice_, "user", array{object{{"csr", Csr("alice")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& cert = r.json.as_object().at("certificates").as_array().at(0).as_object();
    const auto noc = Str(cert, "user_noc");
    EXPECT_EQ(Str(cert, "matter_user_id"), Str(details, "matter_user_id"));
    EXPECT_TRUE(Verifies(root, noc));
    const auto text = Text(noc);
    EXPECT_NE(
        text.find("1.3.6.1.4.1.37244.1.1 = " + Str(details, "matter_user_id")), std::string::npos
    ) << text;
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.5 = " + fabric_id), std::string::npos);
    EXPECT_NE(
        text.find("1.3.6.1.4.1.37244.1.6 = " + Str(details, "group_cat_id_admin")),
        std::string::npos
    );
    EXPECT_NE(
        text.find("1.3.6.1.4.1.37244.1.6 = " + Str(details, "user_cat_id")), std::string::npos
    );
    EXPECT_NE(text.find("CA:FALSE"), std::string::npos);
    EXPECT_NE(
        text.find("TLS Web Client Authentication, TLS Web Server Authentication"), std::string::npos
    );
    // Not under another fabric's root.
    const auto other = CliGroupAdd(alice_, "Other");
    EXPECT_FALSE(Verifies(
        Str(Group(alice_, other.Str("group_id"), "&fabric_details=true")
                .at("fabric_details")
                .as_object(),
            "root_ca"),
        noc
    ));

    // Bob, a secondary, gets his own identity and the operate CAT.
    r = client_.Put(
        "/v1/user/node_group/sharing",
        object{{"groups", JsonStrings({id})}, {"user_name", "bob@example.com"}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto accepted = client_.Put(
        "/v1/user/node_group/sharing/requests",
        object{{"request_id", r.Str("request_id")}, {"accept", true}},
        bob_.accesstoken
    );
    ASSERT_EQ(accepted.status, 200) << accepted.body;
    const auto bobs = Group(bob_, id, "&fabric_details=true").at("fabric_details").as_object();
    // Accepting answers the fabric as the apps need it to set up their controller.
    const auto& given = accepted.json.at("groups").at(0).as_object();
    EXPECT_EQ(Str(given, "group_id"), id);
    EXPECT_EQ(Str(given, "fabric_id"), fabric_id);
    EXPECT_EQ(Str(given, "root_ca"), root);
    EXPECT_EQ(Str(given, "group_cat_id_admin"), Str(details, "group_cat_id_admin"));
    EXPECT_EQ(Str(given, "matter_user_id"), Str(bobs, "matter_user_id"));
    EXPECT_TRUE(IsHex(Str(bobs, "matter_user_id"), 16));
    EXPECT_NE(Str(bobs, "matter_user_id"), Str(details, "matter_user_id"));
    r = Nocs(bob_, "user", array{object{{"csr", Csr("bob")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto bob_text =
        Text(Str(r.json.as_object().at("certificates").as_array().at(0).as_object(), "user_noc"));
    EXPECT_NE(
        bob_text.find("1.3.6.1.4.1.37244.1.6 = " + Str(details, "group_cat_id_operate")),
        std::string::npos
    ) << bob_text;
    EXPECT_EQ(bob_text.find(Str(details, "group_cat_id_admin")), std::string::npos);
    // A secondary commissions no device.
    EXPECT_EQ(
        Nocs(bob_, "node", array{object{{"csr", Csr("dev")}, {"group_id", id}}}).ErrorCode(), 108056
    );
    // Bob leaves: his identity in the fabric goes, and no NOC is issued to him any more.
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + id + "&leave=true", bob_.accesstoken)
            .status,
        200
    );
    EXPECT_EQ(
        Nocs(bob_, "user", array{object{{"csr", Csr("bob2")}, {"group_id", id}}}).ErrorCode(),
        108111
    );
}

TEST_F(MatterFabricsTest, BadNocRequestsAreRefusedWithTheirCodes) {
    const auto id = CliGroupAdd(alice_, "Home").Str("group_id");
    const auto plain =
        client_.Post("/v1/user/node_group", object{{"group_name", "Plain"}}, alice_.accesstoken)
            .Str("group_id");
    const auto csr = Csr("a");
    const auto one = [&](const std::string& group) {
        return array{object{{"csr", csr}, {"group_id", group}}};
    };
    EXPECT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + id,
                object{{"operation", "add"}, {"csr_type", "user"}, {"csr_requests", one(id)}},
                alice_.accesstoken
            )
            .ErrorCode(),
        108109
    );
    EXPECT_EQ(Nocs(alice_, "robot", one(id)).ErrorCode(), 108107);
    EXPECT_EQ(Nocs(alice_, "user", array{}).ErrorCode(), 108108);
    EXPECT_EQ(Nocs(alice_, "user", array{object{{"csr", csr}}}).ErrorCode(), 108110);
    EXPECT_EQ(Nocs(alice_, "user", one(plain)).ErrorCode(), 108088);
    EXPECT_EQ(Nocs(alice_, "user", one("nosuchgroup")).ErrorCode(), 108111);
    EXPECT_EQ(Nocs(bob_, "user", one(id)).ErrorCode(), 108111);
    EXPECT_EQ(Nocs(alice_, "user", array{one(id)[0], one(id)[0]}).ErrorCode(), 108112);
    const auto other = CliGroupAdd(alice_, "Other").Str("group_id");
    EXPECT_EQ(Nocs(alice_, "node", array{one(id)[0], one(other)[0]}).ErrorCode(), 108113);
    EXPECT_EQ(
        client_
            .Put(
                "/v1/user/node_group",
                object{{"csr_type", "user"}, {"csr_requests", one(id)}},
                alice_.accesstoken
            )
            .ErrorCode(),
        108116
    );
    EXPECT_EQ(Nocs(alice_, "user", one(id), object{{"tags", array{"x"}}}).ErrorCode(), 108123);
    EXPECT_EQ(Nocs(alice_, "user", one(id), object{{"group_name", "x"}}).ErrorCode(), 108081);
    EXPECT_EQ(
        Nocs(alice_, "user", array{object{{"csr", "garbage"}, {"group_id", id}}}).ErrorCode(),
        108085
    );
    // An RSA key is not a Matter key.
    const auto rsa_csr = dir_.path() / "rsa.csr";
    Shell(
        "openssl req -new -newkey rsa:2048 -nodes -subj /CN=r -keyout " +
        (dir_.path() / "rsa.key").string() + " -out " + rsa_csr.string()
    );
    EXPECT_EQ(
        Nocs(
            alice_, "user", array{object{{"csr", ReadFile(rsa_csr)}, {"group_id", id}}}
        ).ErrorCode(),
        108085
    );
    // A controller CSR needs its node id and role; an unknown node id is refused.
    EXPECT_EQ(Nocs(alice_, "controller", one(id)).ErrorCode(), 108137);
    EXPECT_EQ(
        Nocs(
            alice_,
            "controller",
            array{object{{"csr", csr}, {"group_id", id}, {"role", "boss"}, {"matter_node_id", "1"}}}
        ).ErrorCode(),
        108134
    );
    EXPECT_EQ(
        Nocs(
            alice_,
            "controller",
            array{object{
                {"csr", csr}, {"group_id", id}, {"role", "primary"}, {"matter_node_id", "AB"}}}
        ).ErrorCode(),
        108101
    );
    // Nothing was commissioned by any of these.
    EXPECT_TRUE(
        Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array().empty()
    );
}

TEST_F(MatterFabricsTest, CommissioningAPureMatterDeviceAndARainmakerNode) {
    const auto home = CliGroupAdd(alice_, "Home");
    const auto id = home.Str("group_id");
    const auto root =
        Str(Group(alice_, id, "&fabric_details=true").at("fabric_details").as_object(), "root_ca");

    // A pure-Matter device.
    auto r = Nocs(alice_, "node", array{object{{"csr", Csr("bulb")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto cert = r.json.as_object().at("certificates").as_array().at(0).as_object();
    const auto bulb_id = Str(cert, "matter_node_id");
    const auto bulb_request = Str(cert, "request_id");
    EXPECT_TRUE(IsHex(bulb_id, 16));
    EXPECT_TRUE(Verifies(root, Str(cert, "node_noc")));
    EXPECT_NE(
        Text(Str(cert, "node_noc")).find("1.3.6.1.4.1.37244.1.1 = " + bulb_id), std::string::npos
    );
    // Not listed before it is confirmed.
    EXPECT_TRUE(
        Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array().empty()
    );
    const auto confirm = [&](const Tokens& t, object body) {
        return client_.Put("/v1/user/node_group", body, t.accesstoken);
    };
    EXPECT_EQ(confirm(alice_, {{"request_id", bulb_request}}).ErrorCode(), 108105);
    EXPECT_EQ(
        confirm(alice_, {{"request_id", bulb_request}, {"status", "maybe"}}).ErrorCode(), 108102
    );
    EXPECT_EQ(confirm(alice_, {{"request_id", "nope"}, {"status", "success"}}).ErrorCode(), 108103);
    EXPECT_EQ(
        confirm(bob_, {{"request_id", bulb_request}, {"status", "success"}}).ErrorCode(), 108103
    );
    r = confirm(alice_, {{"request_id", bulb_request}, {"status", "success"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(
        confirm(alice_, {{"request_id", bulb_request}, {"status", "success"}}).ErrorCode(), 108099
    );
    auto list = Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(Str(list[0].as_object(), "matter_node_id"), bulb_id);
    EXPECT_EQ(list[0].at("is_rainmaker_node"), false);

    // A RainMaker+Matter node: the simulator's claimed node signs the request id (the challenge
    // the server issued with the NOC) with its key.
    const auto device = Claim(alice_, "rmm");
    r = Nocs(alice_, "node", array{object{{"csr", Csr("rmm")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    cert = r.json.as_object().at("certificates").as_array().at(0).as_object();
    const auto request = Str(cert, "request_id");
    const auto sign = [&](const fs::path& key, const std::string& text) {
        WriteFile(dir_.path() / "challenge.txt", text);
        return Shell(
            "openssl dgst -sha256 -sign " + key.string() + " " +
            (dir_.path() / "challenge.txt").string() + " | xxd -p | tr -d '\\n'"
        );
    };
    const std::string challenge = request;
    const auto good = sign(device.dir / "node.key", challenge);
    // A challenge the client chose, even signed by the node (an old signature replayed), is
    // refused.
    const std::string chosen = "challenge-" + request;
    EXPECT_EQ(
        confirm(
            alice_,
            {{"request_id", request},
             {"status", "success"},
             {"rainmaker_node_id", device.node_id},
             {"challenge", chosen},
             {"challenge_response", sign(device.dir / "node.key", chosen)}}
        ).ErrorCode(),
        108096
    );
    // Signed by another key: refused, nothing changed.
    Shell(
        "openssl ecparam -name prime256v1 -genkey -noout -out " +
        (dir_.path() / "other.key").string()
    );
    const auto bad = sign(dir_.path() / "other.key", challenge);
    object body{
        {"request_id", request},
        {"status", "success"},
        {"rainmaker_node_id", device.node_id},
        {"challenge", challenge},
        {"challenge_response", bad}};
    EXPECT_EQ(confirm(alice_, body).ErrorCode(), 108096);
    EXPECT_EQ(
        confirm(
            alice_,
            {{"request_id", request}, {"status", "success"}, {"rainmaker_node_id", device.node_id}}
        ).ErrorCode(),
        108095
    );
    body["challenge_response"] = good;
    r = confirm(alice_, body);
    ASSERT_EQ(r.status, 200) << r.body;
    // The node joined the home and the fabric.
    const auto group = Group(alice_, id, "&node_list=true&matter_node_list=true");
    const auto& nodes = group.at("nodes").as_array();
    EXPECT_NE(
        std::find(nodes.begin(), nodes.end(), boost::json::value(device.node_id)), nodes.end()
    ) << boost::json::serialize(group);
    list = group.at("matter_node_list").as_array();
    ASSERT_EQ(list.size(), 2U);
    bool found = false;
    for (const auto& item : list) {
        if (Str(item.as_object(), "node_id") == device.node_id) {
            found = true;
            EXPECT_EQ(item.at("is_rainmaker_node"), true);
            EXPECT_EQ(Str(item.as_object(), "matter_node_id"), Str(cert, "matter_node_id"));
        }
    }
    EXPECT_TRUE(found);

    // GET /user/nodes?is_matter=true lists the RainMaker+Matter node with its Matter id.
    r = client_.Get("/v1/user/nodes?is_matter=true&node_details=true", alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json.at("node_details").as_array().size(), 1U) << r.body;
    const auto& detail = r.json.at("node_details").at(0).as_object();
    EXPECT_EQ(Str(detail, "node_id"), device.node_id);
    EXPECT_EQ(detail.at("is_matter"), true);
    EXPECT_EQ(Str(detail, "matter_node_id"), Str(cert, "matter_node_id"));

    // #65: the node ACLs of the fabric's devices.
    r = client_.Get("/v1/user/node_group/node_acl?group_id=" + id, alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& acl = r.json.at("fabric_node_acl").as_array();
    EXPECT_EQ(acl.size(), 4U) << r.body;  // two devices, admin and operate each
    const auto admin_entity = "NODE_ACL_ADMIN_" + bulb_id;
    r = client_.Get(
        "/v1/user/node_group/node_acl?group_id=" + id + "&type_entity=" + admin_entity,
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json.at("fabric_node_acl").as_array().size(), 1U);
    const auto& entry = r.json.at("fabric_node_acl").at(0).as_object();
    EXPECT_EQ(Str(entry, "type_entity"), admin_entity);
    EXPECT_EQ(Str(entry, "fabric_id"), home.Str("fabric_id"));
    const auto admin_details = Group(alice_, id, "&fabric_details=true").at("fabric_details");
    EXPECT_EQ(entry.at("value").at(0), admin_details.at("group_cat_id_admin"));
    EXPECT_EQ(entry.at("value").at(1), admin_details.at("matter_user_id"));
    EXPECT_EQ(
        client_.Get("/v1/user/node_group/node_acl?type_entity=" + admin_entity, alice_.accesstoken)
            .ErrorCode(),
        108119
    );
    EXPECT_EQ(client_.Get("/v1/user/node_group/node_acl", bob_.accesstoken).ErrorCode(), 108117);
    EXPECT_EQ(
        client_.Get("/v1/user/node_group/node_acl?group_id=" + id, bob_.accesstoken).ErrorCode(),
        108118
    );

    // A controller: the RainMaker node asks for a Matter node id, then a NOC for it.
    r = client_.Put(
        "/v1/user/node_group?matter_controller=true",
        object{{"node_id", device.node_id}, {"group_id", id}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto controller_id = r.Str("matter_node_id");
    EXPECT_TRUE(IsHex(controller_id, 16));
    EXPECT_EQ(
        client_
            .Put(
                "/v1/user/node_group?matter_controller=true",
                object{{"node_id", device.node_id}},
                alice_.accesstoken
            )
            .ErrorCode(),
        108138
    );
    r = Nocs(
        alice_,
        "controller",
        array{object{
            {"csr", Csr("ctl")},
            {"group_id", id},
            {"role", "secondary"},
            {"matter_node_id", controller_id}}}
    );
    ASSERT_EQ(r.status, 200) << r.body;
    cert = r.json.as_object().at("certificates").as_array().at(0).as_object();
    EXPECT_TRUE(Verifies(root, Str(cert, "user_noc")));
    EXPECT_NE(
        Text(Str(cert, "user_noc")).find("1.3.6.1.4.1.37244.1.1 = " + controller_id),
        std::string::npos
    );

    // Removing the pure-Matter device from the home deletes it from the fabric.
    r = client_.Put(
        "/v1/user/node_group?group_id=" + id,
        object{{"operation", "remove"}, {"nodes", JsonStrings({bulb_id})}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    list = Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(Str(list[0].as_object(), "node_id"), device.node_id);

    // Deleting the fabric: the pure-Matter device goes; the RainMaker node stays the user's.
    ASSERT_EQ(client_.Delete("/v1/user/node_group?group_id=" + id, alice_.accesstoken).status, 200);
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_id=" + id, alice_.accesstoken).ErrorCode(), 108023
    );
    r = client_.Get("/v1/user/nodes", alice_.accesstoken);
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(device.node_id), std::string::npos) << r.body;
    // ... no longer a Matter node.
    r = client_.Get("/v1/user/nodes?is_matter=true", alice_.accesstoken);
    EXPECT_EQ(r.json.at("total"), 0) << r.body;
    // The node can join another fabric now.
    const auto next = CliGroupAdd(alice_, "Next").Str("group_id");
    r = Nocs(alice_, "node", array{object{{"csr", Csr("rmm2")}, {"group_id", next}}});
    ASSERT_EQ(r.status, 200);
    const auto next_request =
        Str(r.json.as_object().at("certificates").as_array().at(0).as_object(), "request_id");
    body["request_id"] = next_request;
    // The first signature replayed for the new request is refused; the node signs the new one.
    EXPECT_EQ(confirm(alice_, body).ErrorCode(), 108096);
    body["challenge"] = next_request;
    body["challenge_response"] = sign(device.dir / "node.key", next_request);
    EXPECT_EQ(confirm(alice_, body).status, 200);
}

TEST_F(MatterFabricsTest, AMemberLeavingRaisesTheCatVersionTheNodeAclsAnswer) {
    const auto id = CliGroupAdd(alice_, "Home").Str("group_id");
    // A commissioned device: the node ACLs have its entries.
    auto r = Nocs(alice_, "node", array{object{{"csr", Csr("bulb")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto request =
        Str(r.json.as_object().at("certificates").as_array().at(0).as_object(), "request_id");
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group",
                object{{"request_id", request}, {"status", "success"}},
                alice_.accesstoken
            )
            .status,
        200
    );
    r = client_.Put(
        "/v1/user/node_group/sharing",
        object{{"groups", JsonStrings({id})}, {"user_name", "bob@example.com"}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group/sharing/requests",
                object{{"request_id", r.Str("request_id")}, {"accept", true}},
                bob_.accesstoken
            )
            .status,
        200
    );
    r = Nocs(bob_, "user", array{object{{"csr", Csr("bob")}, {"group_id", id}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto bob_noc = Text(Str(r.json.at("certificates").at(0).as_object(), "user_noc"));
    const auto bob_id = Str(r.json.at("certificates").at(0).as_object(), "matter_user_id");
    const auto operate_entry = [&] {
        const auto acl =
            client_.Get("/v1/user/node_group/node_acl?group_id=" + id, alice_.accesstoken);
        EXPECT_EQ(acl.status, 200) << acl.body;
        for (const auto& e : acl.json.at("fabric_node_acl").as_array()) {
            if (Str(e.as_object(), "type_entity").rfind("NODE_ACL_OPERATE_", 0) == 0) {
                return e.as_object();
            }
        }
        ADD_FAILURE() << acl.body;
        return object{};
    };
    const auto before = operate_entry();
    const auto cat_before = std::string(before.at("value").at(0).as_string());
    EXPECT_NE(bob_noc.find("1.3.6.1.4.1.37244.1.6 = " + cat_before), std::string::npos) << bob_noc;
    EXPECT_NE(boost::json::serialize(before.at("value")).find(bob_id), std::string::npos);

    // Bob leaves: the operate CAT has the next version, the ACL a higher sequence.
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + id + "&leave=true", bob_.accesstoken)
            .status,
        200
    );
    const auto after = operate_entry();
    const auto cat_after = std::string(after.at("value").at(0).as_string());
    EXPECT_GT(after.at("sequence").as_int64(), before.at("sequence").as_int64());
    EXPECT_EQ(cat_after.substr(0, 4), cat_before.substr(0, 4));
    EXPECT_EQ(
        std::stoul(cat_after.substr(4), nullptr, 16),
        std::stoul(cat_before.substr(4), nullptr, 16) + 1
    );
    EXPECT_EQ(boost::json::serialize(after.at("value")).find(bob_id), std::string::npos);
    const auto details = Group(alice_, id, "&fabric_details=true").at("fabric_details").as_object();
    EXPECT_EQ(Str(details, "group_cat_id_operate"), cat_after);
}

TEST_F(MatterFabricsTest, ANodeLeavingRainmakerLeavesItsFabricAndItsNextOwnerCommissionsIt) {
    const auto id = CliGroupAdd(alice_, "Home").Str("group_id");
    const auto device = Claim(alice_, "rmm");
    const auto sign = [&](const std::string& text) {
        WriteFile(dir_.path() / "challenge.txt", text);
        return Shell(
            "openssl dgst -sha256 -sign " + (device.dir / "node.key").string() + " " +
            (dir_.path() / "challenge.txt").string() + " | xxd -p | tr -d '\\n'"
        );
    };
    const auto commission = [&](const Tokens& t, const std::string& group) {
        const auto r = Nocs(t, "node", array{object{{"csr", Csr("rmm")}, {"group_id", group}}});
        EXPECT_EQ(r.status, 200) << r.body;
        const auto request = Str(r.json.at("certificates").at(0).as_object(), "request_id");
        return client_.Put(
            "/v1/user/node_group",
            object{
                {"request_id", request},
                {"status", "success"},
                {"rainmaker_node_id", device.node_id},
                {"challenge", request},
                {"challenge_response", sign(request)}},
            t.accesstoken
        );
    };
    auto r = commission(alice_, id);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(
        Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array().size(), 1U
    );
    const auto bobs = CliGroupAdd(bob_, "Bob's").Str("group_id");
    // Alice holds it: Bob cannot commission it.
    EXPECT_EQ(commission(bob_, bobs).ErrorCode(), 108099);

    // Alice, its last user, lets it go: it leaves her fabric.
    r = client_.Put(
        "/v1/user/nodes/mapping",
        object{{"node_id", device.node_id}, {"operation", "remove"}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(
        Group(alice_, id, "&matter_node_list=true").at("matter_node_list").as_array().empty()
    );
    // Its next owner commissions it into their home.
    r = commission(bob_, bobs);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto list = Group(bob_, bobs, "&matter_node_list=true").at("matter_node_list").as_array();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(Str(list[0].as_object(), "node_id"), device.node_id);
    r = client_.Get("/v1/user/nodes?is_matter=true", bob_.accesstoken);
    EXPECT_EQ(r.json.at("total"), 1) << r.body;

    // A factory reset (the node's user/mapping report with reset) takes it out of Bob's fabric.
    auto reset = Run(device, {"--reset-mapping"});
    ASSERT_FALSE(reset->WaitFor("ready").empty());
    const auto gone = Eventually(
        "/v1/user/node_group?group_id=" + bobs + "&matter_node_list=true",
        bob_,
        [](const HttpResult& h) {
            return h.status == 200 &&
                   h.json.at("groups").at(0).at("matter_node_list").as_array().empty();
        }
    );
    EXPECT_TRUE(gone.json.at("groups").at(0).at("matter_node_list").as_array().empty())
        << gone.body;
    EXPECT_EQ(client_.Get("/v1/user/nodes?is_matter=true", bob_.accesstoken).json.at("total"), 0);
}

TEST_F(MatterFabricsTest, QuotaAndTheCommissioningRefusalsChangeNothing) {
    const auto home = CliGroupAdd(alice_, "Home").Str("group_id");
    const auto device = Claim(alice_, "rmm");
    const auto sign = [&](const std::string& text) {
        WriteFile(dir_.path() / "challenge.txt", text);
        return Shell(
            "openssl dgst -sha256 -sign " + (device.dir / "node.key").string() + " " +
            (dir_.path() / "challenge.txt").string() + " | xxd -p | tr -d '\\n'"
        );
    };
    const auto request_in = [&](const Tokens& t, const std::string& group) {
        const auto r = Nocs(t, "node", array{object{{"csr", Csr("rmm")}, {"group_id", group}}});
        EXPECT_EQ(r.status, 200) << r.body;
        return Str(r.json.at("certificates").at(0).as_object(), "request_id");
    };
    const auto confirm = [&](const Tokens& t, const std::string& request, const std::string& q) {
        return client_.Put(
            "/v1/user/node_group" + q,
            object{
                {"request_id", request},
                {"status", "success"},
                {"rainmaker_node_id", device.node_id},
                {"challenge", request},
                {"challenge_response", sign(request)}},
            t.accesstoken
        );
    };
    const auto cottage = CliGroupAdd(alice_, "Cottage").Str("group_id");
    // 108100: the apps name the fabric in ?group_id=; another one is refused.
    auto request = request_in(alice_, home);
    EXPECT_EQ(confirm(alice_, request, "?group_id=" + cottage).ErrorCode(), 108100);
    EXPECT_TRUE(
        Group(alice_, home, "&matter_node_list=true").at("matter_node_list").as_array().empty()
    );
    ASSERT_EQ(confirm(alice_, request, "?group_id=" + home).status, 200);

    // 108122: a node commissioned into Home joins Cottage only by commissioning.
    auto r = client_.Put(
        "/v1/user/node_group?group_id=" + cottage,
        object{{"operation", "add"}, {"nodes", JsonStrings({device.node_id})}},
        alice_.accesstoken
    );
    EXPECT_EQ(r.ErrorCode(), 108122) << r.body;
    EXPECT_TRUE(Group(alice_, cottage, "&node_list=true").at("nodes").as_array().empty());

    // 108098: out of Home's fabric again but still Alice's: Bob cannot commission it.
    r = client_.Put(
        "/v1/user/node_group?group_id=" + home,
        object{{"operation", "remove"}, {"nodes", JsonStrings({device.node_id})}},
        alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto bobs = CliGroupAdd(bob_, "Bob's").Str("group_id");
    request = request_in(bob_, bobs);
    EXPECT_EQ(confirm(bob_, request, "").ErrorCode(), 108098);
    EXPECT_TRUE(
        Group(bob_, bobs, "&matter_node_list=true").at("matter_node_list").as_array().empty()
    );
    EXPECT_EQ(client_.Get("/v1/user/nodes", bob_.accesstoken).json.at("total"), 0);

    // 108132: a user owns at most groups.max_matter_fabrics_per_user (20) fabrics.
    for (int i = 2; i < 20; ++i) {
        ASSERT_EQ(CliGroupAdd(alice_, "Home " + std::to_string(i)).status, 200);
    }
    EXPECT_EQ(CliGroupAdd(alice_, "One too many").ErrorCode(), 108132);
    const auto plain =
        client_.Post("/v1/user/node_group", object{{"group_name", "Plain"}}, alice_.accesstoken)
            .Str("group_id");
    EXPECT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + plain,
                object{{"is_matter", true}},
                alice_.accesstoken
            )
            .ErrorCode(),
        108132
    );
    EXPECT_EQ(Group(alice_, plain).at("is_matter"), false);
    r = client_.Get("/v1/user/node_group?is_matter=true", alice_.accesstoken);
    EXPECT_EQ(r.json.at("total"), 20) << r.body;
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_name=One%20too%20many", alice_.accesstoken)
            .ErrorCode(),
        108029
    );
}

TEST_F(MatterFabricsTest, TheServerRefusesToStartWithoutTheKeyThatSealedItsFabrics) {
    const auto key_file = server_.data_dir() / "keys" / "fabric-sealing.key";
    // No fabric yet: a missing key is simply made again.
    ASSERT_EQ(server_.Stop(), 0);
    fs::remove(key_file);
    server_.Restart();
    ASSERT_TRUE(fs::exists(key_file));
    HttpClient client(server_.port());
    const auto tokens = Login(client, "alice@example.com");
    ASSERT_EQ(
        client
            .Post(
                "/v1/user/node_group",
                object{{"group_name", "Home"}, {"is_matter", true}},
                tokens.accesstoken
            )
            .status,
        200
    );
    const auto key = ReadFile(key_file);
    const auto start = [&](std::string* out) {
        return server_.RunCommand(
            {"--http-port", "0", "--mqtt-port", "0", "--mqtt-address", "127.0.0.1"}, out, true
        );
    };
    ASSERT_EQ(server_.Stop(), 0);

    // Missing: refused, and no new key is made.
    fs::remove(key_file);
    std::string out;
    EXPECT_NE(start(&out), 0);
    EXPECT_NE(out.find("fabric sealing key"), std::string::npos) << out;
    EXPECT_NE(out.find("is missing"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(key_file));

    // Not checkable (a symbolic link to itself): said so, not reported as missing.
    fs::create_symlink(key_file.filename(), key_file);
    out.clear();
    EXPECT_NE(start(&out), 0);
    EXPECT_NE(out.find("cannot check the fabric sealing key"), std::string::npos) << out;
    fs::remove(key_file);

    // Another key: refused, the file left as it is.
    const std::string other(64, 'a');
    WriteFile(key_file, other + "\n");
    fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
    out.clear();
    EXPECT_NE(start(&out), 0);
    EXPECT_NE(out.find("does not open the root key"), std::string::npos) << out;
    EXPECT_EQ(ReadFile(key_file), other + "\n");

    // The right key back: the server starts and the fabric issues NOCs again.
    WriteFile(key_file, key);
    server_.Restart();
    HttpClient again(server_.port());
    const auto back = Login(again, "alice@example.com");
    const auto fabrics = again.Get("/v1/user/node_group?is_matter=true", back.accesstoken);
    ASSERT_EQ(fabrics.status, 200) << fabrics.body;
    const auto id = Str(fabrics.json.at("groups").at(0).as_object(), "group_id");
    const auto r = again.Put(
        "/v1/user/node_group",
        object{
            {"operation", "add"},
            {"csr_type", "user"},
            {"csr_requests", array{object{{"csr", Csr("alice")}, {"group_id", id}}}}},
        back.accesstoken
    );
    EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

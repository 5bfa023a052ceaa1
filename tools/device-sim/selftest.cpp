// `rainmaker-sim selftest`: checks the node logic (params/remote rules, boot order, topics, keys)
// without a broker, so the simulator can be trusted before it is used to test the server.
#include "selftest.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "keys.hpp"
#include "ota_download.hpp"
#include "simulated_node.hpp"
#include "tlv8.hpp"

namespace rainmaker::sim {

namespace {

using TimePoint = SimulatedNode::TimePoint;

struct Checker {
    int checks = 0;
    int failures = 0;

    void Expect(bool ok, const std::string& what) {
        ++checks;
        if (!ok) {
            ++failures;
            std::printf("FAIL %s\n", what.c_str());
        }
    }

    void Equal(const std::string& got, const std::string& want, const std::string& what) {
        Expect(got == want, what + "\n  got:  " + got + "\n  want: " + want);
    }
};

SimulatedNode MakeNode(TopicForm form = TopicForm::kBasicIngest) {
    NodeSettings settings;
    settings.node_id = "N1";
    settings.topic_form = form;
    return {settings, DefaultLightModel()};
}

// Sends params/remote and returns the params/local payload published ("" if none).
std::string Remote(SimulatedNode& node, const std::string& payload) {
    const Actions a = node.OnMessage("node/N1/params/remote", payload);
    for (const auto& out : a.out) {
        if (out.kind == Outgoing::Kind::kPublish &&
            out.topic == node.NodeToCloudTopic("params/local", "esp_set_params")) {
            return out.payload;
        }
    }
    return "";
}

std::string HexOf(std::string_view bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string hex;
    for (const char c : bytes) {
        hex += kDigits[static_cast<unsigned char>(c) >> 4];
        hex += kDigits[static_cast<unsigned char>(c) & 0x0F];
    }
    return hex;
}

std::string Le16(int v) {
    return std::string{static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)};
}

// A to-node request as the cloud sends it.
std::string Request(const std::string& id, int role, int cmd, const std::string& data) {
    std::vector<Tlv8Item> items = {
        {1, id}, {2, std::string(1, static_cast<char>(role))}, {5, Le16(cmd)}};
    if (!data.empty()) {
        items.push_back({6, data});
    }
    return EncodeTlv8(items);
}

// The answer the node published for a request: "<id> <status> <cmd> <data>", or "" if none.
std::string AnswerOf(const SimulatedNode& node, const Actions& a) {
    for (const auto& out : a.out) {
        if (out.topic != node.NodeToCloudTopic("from-node", "esp_cmd_resp")) {
            continue;
        }
        const auto items = DecodeTlv8(out.payload);
        if (!items) {
            return "<not TLV>";
        }
        const auto* id = FindTlv8(*items, 1);
        const auto* status = FindTlv8(*items, 3);
        const auto* cmd = FindTlv8(*items, 5);
        const auto* data = FindTlv8(*items, 6);
        if (id == nullptr || status == nullptr || status->size() != 1 || cmd == nullptr ||
            cmd->size() != 2) {
            return "<incomplete>";
        }
        return *id + " " + std::to_string(static_cast<unsigned char>((*status)[0])) + " " +
               std::to_string(
                   static_cast<unsigned char>((*cmd)[0]) |
                   (static_cast<unsigned char>((*cmd)[1]) << 8)
               ) +
               " " + (data != nullptr ? *data : std::string{});
    }
    return "";
}

std::string Steps(const Actions& a) {
    std::string s;
    for (const auto& out : a.out) {
        s += out.kind == Outgoing::Kind::kSubscribe ? "SUB " : "PUB ";
        s += out.topic;
        s += '\n';
    }
    return s;
}

std::string Value(const SimulatedNode& node, const char* device, const char* param) {
    const ParamModel* p = node.FindParam(device, param);
    return p == nullptr ? "<missing>" : ToCompactJson(p->value);
}

void CheckParamsRemote(Checker& t) {
    SimulatedNode node = MakeNode();
    t.Equal(
        Remote(node, R"({"Light":{"Power":true}})"), R"({"Light":{"Power":true}})", "bool applied"
    );
    t.Equal(Value(node, "Light", "Power"), "true", "bool stored");
    t.Equal(Remote(node, R"({"Light":{"Power":"on"}})"), "", "string for bool ignored");
    t.Equal(Remote(node, R"({"Light":{"Power":1}})"), "", "number for bool ignored");
    t.Equal(
        Remote(node, R"({"Light":{"Brightness":70}})"),
        R"({"Light":{"Brightness":70}})",
        "int applied"
    );
    t.Equal(Remote(node, R"({"Light":{"Brightness":5.5}})"), "", "fraction for int ignored");
    t.Equal(
        Remote(node, R"({"Light":{"Brightness":5.0}})"),
        "",
        "5.0 for int ignored (not an integer token)"
    );
    t.Equal(Remote(node, R"({"Light":{"Brightness":"5"}})"), "", "string for int ignored");
    t.Equal(Remote(node, R"({"Light":{"Brightness":4294967296}})"), "", "int beyond int32 ignored");
    t.Equal(Value(node, "Light", "Brightness"), "70", "int unchanged by ignored writes");
    t.Equal(Remote(node, R"({"Light":{"Temperature":30}})"), "", "read-only param ignored");
    t.Equal(Value(node, "Light", "Temperature"), "21.5", "read-only value kept");
    t.Equal(Remote(node, R"({"Lamp":{"Power":false}})"), "", "unknown device ignored");
    t.Equal(Remote(node, R"({"Light":{"Colour":1}})"), "", "unknown param ignored");
    t.Equal(Remote(node, R"({"Light":5})"), "", "device value not an object ignored");
    t.Equal(Remote(node, R"([1,2])"), "", "non-object payload ignored");
    t.Equal(Remote(node, "not json"), "", "invalid JSON ignored");
    t.Equal(
        Remote(
            node,
            R"({"Time":{"TZ":"Asia/Kolkata"},"Light":{"Colour":1,"Name":"Desk","Power":"x","Brightness":0}})"
        ),
        R"({"Light":{"Name":"Desk","Brightness":0},"Time":{"TZ":"Asia/Kolkata"}})",
        "mixed: only applied params reported, in node order"
    );
    t.Equal(
        Remote(node, R"({"Schedule":{"Schedules":[{"id":"a","triggers":[{"m":60}]}]}})"),
        R"({"Schedule":{"Schedules":[]}})",
        "a Schedules entry without an operation changes no schedule (the list is reported)"
    );
    t.Equal(
        Remote(node, R"({"Schedule":{"Schedules":{"id":"a"}}})"), "", "object for array ignored"
    );
    t.Equal(
        Remote(node, R"({"Light":{"Power":true}})"),
        R"({"Light":{"Power":true}})",
        "same value re-reported"
    );

    const Actions ignored = node.OnMessage("node/N1/params/remote", R"({"Light":{"Power":"on"}})");
    t.Expect(ignored.out.empty(), "nothing published when nothing applied");
    t.Expect(
        ignored.events.size() == 2 &&
            FormatEvent(ignored.events[0]) == R"(params/remote {"Light":{"Power":"on"}})" &&
            FormatEvent(ignored.events[1]) == "applied {}",
        "events for an ignored write: params/remote then applied {}"
    );

    // A writable float param (not in the default model) takes any JSON number.
    NodeModel model = DefaultLightModel();
    model.devices[0].params[3].writable = true;
    NodeSettings settings;
    settings.node_id = "N1";
    SimulatedNode floats(settings, model);
    t.Equal(
        Remote(floats, R"({"Light":{"Temperature":22}})"),
        R"({"Light":{"Temperature":22.00000}})",
        "int for float applied as float"
    );
    t.Equal(
        Remote(floats, R"({"Light":{"Temperature":-3.25}})"),
        R"({"Light":{"Temperature":-3.25000}})",
        "float applied"
    );
    t.Equal(Remote(floats, R"({"Light":{"Temperature":true}})"), "", "bool for float ignored");
}

void CheckLocalChange(Checker& t) {
    SimulatedNode node = MakeNode(TopicForm::kPlain);
    const Actions a = node.SetLocal("Light", "Temperature", boost::json::value(23));
    t.Expect(
        a.out.size() == 1 && a.out[0].topic == "node/N1/params/local",
        "local change on plain params/local"
    );
    t.Equal(
        a.out.empty() ? "" : a.out[0].payload,
        R"({"Light":{"Temperature":23.00000}})",
        "read-only param changes locally"
    );
    t.Expect(
        node.SetLocal("Light", "Power", boost::json::value("x")).out.empty(),
        "mistyped local change refused"
    );
    t.Expect(
        node.SetLocal("Light", "Nope", boost::json::value(1)).out.empty(),
        "unknown local param refused"
    );
}

void CheckBootSequence(Checker& t) {
    const TimePoint t0{};
    SimulatedNode plain = MakeNode();
    const Actions first = plain.OnConnected(t0);
    t.Equal(
        Steps(first),
        "SUB node/N1/to-node\n"
        "PUB $aws/rules/esp_cmd_resp/node/N1/from-node\n"
        "PUB $aws/rules/esp_node_config/node/N1/config\n"
        "SUB node/N1/params/remote\n"
        "PUB $aws/rules/esp_init_params/node/N1/params/local/init\n"
        "SUB node/N1/otaurl\n",
        "first connect without mapping"
    );
    t.Equal(HexOf(first.out[1].payload), "010003010005020000", "the cmd-resp poll: empty id, 0, 0");
    t.Equal(
        first.out[4].payload,
        R"({"Light":{"Name":"Light","Power":false,"Brightness":50,"Temperature":21.50000},"Time":{"TZ":""},"Schedule":{"Schedules":[]}})",
        "params/local/init has every param"
    );
    t.Expect(!plain.IsReady(), "not ready before init PUBACK");
    const Actions acked = plain.OnPublishAcked(PublishTag::kInitParams, t0);
    t.Expect(
        plain.IsReady() && acked.events.size() == 1 && acked.events[0].kind == EventKind::kReady,
        "ready after init PUBACK"
    );
    t.Expect(
        plain.OnTimer(t0 + std::chrono::milliseconds(4999)).out.empty(), "no otafetch before 5 s"
    );
    const Actions fetch = plain.OnTimer(t0 + std::chrono::seconds(5));
    t.Expect(
        fetch.out.size() == 1 &&
            fetch.out[0].topic == "$aws/rules/esp_node_otafetch/node/N1/otafetch" &&
            fetch.out[0].payload == R"({"node_id":"N1","fw_version":"1.0.0"})",
        "otafetch 5 s after start"
    );
    t.Expect(plain.OnTimer(t0 + std::chrono::seconds(60)).out.empty(), "otafetch once");
    plain.OnDisconnected();
    t.Equal(
        Steps(plain.OnConnected(t0 + std::chrono::seconds(70))),
        "SUB node/N1/to-node\nSUB node/N1/params/remote\nSUB node/N1/otaurl\n"
        "PUB $aws/rules/esp_cmd_resp/node/N1/from-node\n",
        "reconnect re-subscribes and polls"
    );

    NodeSettings settings;
    settings.node_id = "N2";
    settings.topic_form = TopicForm::kPlain;
    settings.mapping = MappingMessage{"u1", "s3cr3t", false};
    SimulatedNode mapped(settings, DefaultLightModel());
    const Actions boot = mapped.OnConnected(t0);
    t.Equal(
        Steps(boot),
        "SUB node/N2/to-node\nPUB node/N2/from-node\nPUB node/N2/config\n"
        "PUB node/N2/user/mapping\n",
        "mapping published after config, then the node waits"
    );
    t.Equal(
        boot.out[3].payload,
        R"({"node_id":"N2","user_id":"u1","secret_key":"s3cr3t"})",
        "mapping payload"
    );
    mapped.OnDisconnected();
    t.Equal(
        Steps(mapped.OnConnected(t0)),
        "SUB node/N2/to-node\nPUB node/N2/from-node\n",
        "reconnect while waiting: mapping not re-sent by the node"
    );
    const Actions after = mapped.OnPublishAcked(PublishTag::kMapping, t0);
    t.Equal(
        Steps(after),
        "SUB node/N2/params/remote\nPUB node/N2/params/local/init\nSUB node/N2/otaurl\n",
        "mapping PUBACK continues the boot"
    );
    t.Expect(
        !after.events.empty() && after.events[0].kind == EventKind::kMappingAcked,
        "mapping-acked event"
    );

    settings.mapping = FactoryResetMapping();
    SimulatedNode reset(settings, DefaultLightModel());
    const Actions r = reset.OnConnected(t0);
    t.Equal(
        r.out.size() > 3 ? r.out[3].payload : "",
        R"({"node_id":"N2","user_id":"esp-rmaker","secret_key":"failed","reset":true})",
        "factory-reset dummy mapping"
    );
}

void CheckConfig(Checker& t) {
    const SimulatedNode node = MakeNode();
    t.Equal(
        node.ConfigJson(),
        R"({"node_id":"N1","config_version":"2020-03-20",)"
        R"("info":{"name":"Sim Light","fw_version":"1.0.0","type":"Lightbulb","model":"rainmaker-sim","project_name":"led_light","platform":"esp32c3"},)"
        R"("attributes":[{"name":"cmd-resp","value":"1"}],)"
        R"("devices":[{"name":"Light","type":"esp.device.lightbulb","primary":"Power","params":[)"
        R"({"name":"Name","type":"esp.param.name","data_type":"string","properties":["read","write"]},)"
        R"({"name":"Power","type":"esp.param.power","data_type":"bool","properties":["read","write"],"ui_type":"esp.ui.toggle"},)"
        R"({"name":"Brightness","type":"esp.param.brightness","data_type":"int","properties":["read","write"],"bounds":{"min":0,"max":100,"step":1},"ui_type":"esp.ui.slider"},)"
        R"({"name":"Temperature","type":"esp.param.temperature","data_type":"float","properties":["read"]}]}],)"
        R"("services":[{"name":"Time","type":"esp.service.time","params":[{"name":"TZ","type":"esp.param.tz","data_type":"string","properties":["read","write"]}]},)"
        R"({"name":"Schedule","type":"esp.service.schedule","params":[{"name":"Schedules","type":"esp.param.schedules","data_type":"array","properties":["read","write"],"bounds":{"max":10}}]}]})",
        "config JSON"
    );
    t.Equal(
        ToCompactJson(boost::json::value("a\"b\\c/d\n\x01\xc3\xa9")),
        "\"a\\\"b\\\\c/d\\n\\u0001\xc3\xa9\"",
        "string escaping"
    );
    t.Equal(ToCompactJson(boost::json::value(0.1)), "0.1", "shortest double");
}

void CheckOtherTopics(Checker& t) {
    SimulatedNode node = MakeNode();
    const Actions ota =
        node.OnMessage("node/N1/otaurl", R"({"ota_job_id":"j1","url":"https://x/fw.bin"})");
    t.Expect(
        ota.out.size() == 1 && ota.events.size() == 2 && ota.events[0].kind == EventKind::kOtaUrl &&
            ota.events[1].kind == EventKind::kOtaStatus,
        "otaurl is reported and answered on otastatus"
    );
    const Actions cmd = node.OnMessage("node/N1/to-node", std::string("\x01\x00\x03\x01\x00", 5));
    t.Expect(
        cmd.out.empty() && cmd.events.size() == 2 &&
            FormatEvent(cmd.events[0]) == "to-node 0100030100" &&
            cmd.events[1].kind == EventKind::kError,
        "a to-node message without a command is reported as hex, not answered"
    );
}

void CheckCommands(Checker& t) {
    SimulatedNode node = MakeNode();
    const auto to_node = [&](const std::string& payload) {
        return node.OnMessage("node/N1/to-node", payload);
    };
    auto a = to_node(Request("R1", 2, 0x1000, R"({"x":1})"));
    t.Equal(AnswerOf(node, a), R"(R1 0 4096 {"x":1})", "echo answers its data");
    t.Equal(FormatEvent(a.events.at(0)), R"(command R1 4096 2 {"x":1})", "command event");

    // Set params: applied and answered with what changed, not reported on params/local.
    a = to_node(Request("R2", 4, 1, R"({"params":{"Light":{"Power":true,"Nope":1}}})"));
    t.Equal(
        AnswerOf(node, a),
        R"(R2 0 1 {"status":"success","params":{"Light":{"Power":true}}})",
        "set params answers the changed params"
    );
    t.Equal(Value(node, "Light", "Power"), "true", "set params applied");
    t.Expect(a.out.size() == 1, "set params publishes only the answer");
    t.Equal(
        AnswerOf(node, to_node(Request("R3", 2, 1, "not json"))),
        R"(R3 1 1 {"status":"fail"})",
        "set params of bad data fails"
    );

    // Deferred: nothing until answered, then any status.
    a = to_node(Request("R4", 2, 0x1001, "later"));
    t.Expect(
        a.out.empty() && a.events.size() == 2 && a.events[1].kind == EventKind::kDeferred,
        "deferred is held"
    );
    t.Equal(
        AnswerOf(node, node.Answer("R4", 3, "no")),
        "R4 3 4097 no",
        "deferred answered with status 3"
    );
    t.Expect(node.Answer("R4", 0, "").events.at(0).kind == EventKind::kError, "answered once only");

    t.Equal(
        AnswerOf(node, to_node(Request("R5", 2, 0x1002, ""))),
        R"(R5 1 4098 {"status":"fail"})",
        "fail command"
    );
    t.Equal(
        AnswerOf(node, to_node(Request("R6", 4, 0x1003, "p"))),
        "R6 3 4099 ",
        "primary-only refuses a secondary"
    );
    t.Equal(
        AnswerOf(node, to_node(Request("R7", 1, 0x1003, "p"))),
        "R7 0 4099 p",
        "primary-only takes an admin"
    );
    t.Equal(
        AnswerOf(node, to_node(Request("R8", 2, 0x2000, ""))),
        "R8 4 8192 ",
        "unknown command: not found"
    );
    t.Equal(
        AnswerOf(node, to_node(Request("R9", 0, 0x1000, ""))), "R9 2 4096 ", "no role: invalid"
    );
    t.Equal(AnswerOf(node, to_node(Request("R10", 2, 0, ""))), "R10 2 0 ", "command 0: invalid");
    // A long value comes split in 255-byte items and goes back the same way.
    const std::string big(700, 'b');
    a = to_node(Request("R11", 2, 0x1000, big));
    t.Equal(AnswerOf(node, a), "R11 0 4096 " + big, "a 700-byte echo");
    t.Expect(
        !a.out.empty() && a.out[0].payload.size() == 700 + 6 + 5 + 3 + 4, "700 bytes as three items"
    );
}

void CheckSchedules(Checker& t) {
    SimulatedNode node = MakeNode();
    const std::string add =
        R"({"Schedule":{"Schedules":[{"id":"S1","operation":"add","name":"Morning",)"
        R"("triggers":[{"m":420,"d":31}],"action":{"Light":{"Power":true}}}]}})";
    t.Equal(
        Remote(node, add),
        R"({"Schedule":{"Schedules":[{"name":"Morning","id":"S1","enabled":true,"triggers":[{"m":420,"d":31}],"action":{"Light":{"Power":true}}}]}})",
        "an added schedule is kept enabled, without its operation"
    );
    t.Equal(
        Remote(node, R"({"Schedule":{"Schedules":[{"id":"S1","operation":"disable"}]}})"),
        R"({"Schedule":{"Schedules":[{"name":"Morning","id":"S1","enabled":false,"triggers":[{"m":420,"d":31}],"action":{"Light":{"Power":true}}}]}})",
        "disable"
    );
    t.Equal(
        Remote(
            node,
            R"({"Schedule":{"Schedules":[{"id":"S1","operation":"edit","name":"Early","triggers":[{"m":360,"d":127}]},{"id":"S1","operation":"enable"}]}})"
        ),
        R"({"Schedule":{"Schedules":[{"name":"Early","id":"S1","enabled":true,"triggers":[{"m":360,"d":127}],"action":{"Light":{"Power":true}}}]}})",
        "edit then enable"
    );
    // An existing id is not added twice; an unknown id is not edited; operations without an
    // id are ignored.
    Remote(node, add);
    Remote(
        node, R"({"Schedule":{"Schedules":[{"id":"S9","operation":"remove"},{"operation":"add"}]}})"
    );
    t.Equal(
        Value(node, "Schedule", "Schedules").substr(0, 26),
        R"([{"name":"Early","id":"S1")",
        "one schedule kept"
    );
    t.Equal(
        Remote(node, R"({"Schedule":{"Schedules":[{"id":"S1","operation":"remove"}]}})"),
        R"({"Schedule":{"Schedules":[]}})",
        "remove"
    );
    boost::json::array ops;
    for (int i = 0; i < 12; ++i) {
        ops.push_back(boost::json::object{{"id", "X" + std::to_string(i)}, {"operation", "add"}});
    }
    t.Expect(
        ApplyScheduleOperations({}, ops, 10).size() == 10, "at most the param's max schedules"
    );
}

void CheckSensor(Checker& t) {
    NodeSettings settings;
    settings.node_id = "S1";
    settings.topic_form = TopicForm::kPlain;
    settings.tsdata_rate = 2;
    settings.wall_seconds = [] { return std::int64_t{1800000000}; };
    NodeModel model = DefaultLightModel();
    AddSensorDevice(model);
    SimulatedNode node(settings, model);
    const TimePoint t0{};
    node.OnConnected(t0);
    t.Expect(
        node.ConfigJson().find(
            R"({"name":"Temperature","type":"esp.param.temperature","data_type":"float","properties":["read","time_series"]})"
        ) != std::string::npos &&
            node.ConfigJson().find(R"("properties":["read","simple_ts"])") != std::string::npos,
        "sensor params declare time_series and simple_ts"
    );
    const Actions first = node.OnTimer(t0);
    t.Equal(
        Steps(first),
        "PUB node/S1/params/local\nPUB node/S1/tsdata\nPUB node/S1/simple_tsdata\n",
        "a sample: params/local, tsdata, simple_tsdata"
    );
    if (first.out.size() == 3) {
        const auto local = boost::json::parse(first.out[0].payload);
        const auto ts = boost::json::parse(first.out[1].payload);
        const auto simple = boost::json::parse(first.out[2].payload);
        t.Expect(ts.at("ts_data_version") == "2021-09-13", "ts_data_version");
        const auto& entry = ts.at("ts_data").at(0);
        t.Expect(
            entry.at("name") == "Sensor.Temperature" && entry.at("dt") == "float", "tsdata entry"
        );
        t.Expect(entry.at("records").at(0).at("t") == 1800000000, "tsdata time");
        t.Expect(
            entry.at("records").at(0).at("v").to_number<double>() ==
                local.at("Sensor").at("Temperature").to_number<double>(),
            "tsdata value is the reported one"
        );
        t.Expect(
            simple.at("name") == "Sensor.Humidity" && simple.at("dt") == "int" &&
                simple.at("t") == 1800000000 && simple.at("v") == local.at("Sensor").at("Humidity"),
            "simple_tsdata record"
        );
    }
    t.Expect(
        node.OnTimer(t0 + std::chrono::milliseconds(400)).out.empty(),
        "2 per second: none at 400 ms"
    );
    t.Expect(
        node.OnTimer(t0 + std::chrono::milliseconds(500)).out.size() == 3, "the next at 500 ms"
    );
    t.Expect(
        node.OnTimer(t0 + std::chrono::milliseconds(1600)).out.size() == 6,
        "missed samples caught up"
    );
}

void CheckKeys(Checker& t) {
    EvpPkeyPtr key = GenerateP256Key();
    const std::string sig = SignChallengeHex(key.get(), "challenge-123");
    // A DER SEQUENCE of two INTEGERs: 30 <length of the rest> ...; r and s have up to 33
    // bytes each but may be shorter (leading zeros are dropped), so the total varies (at most
    // 72 bytes) — a fixed lower bound failed about once in 200 runs.
    const bool der = sig.size() >= 16 && sig.size() <= 144 && sig.size() % 2 == 0 &&
                     sig.rfind("30", 0) == 0 &&
                     std::stoul(sig.substr(2, 2), nullptr, 16) == sig.size() / 2 - 2;
    t.Expect(der, "DER ECDSA signature, hex");
    t.Expect(
        sig.find_first_not_of("0123456789abcdef") == std::string::npos, "signature hex is lowercase"
    );
    t.Expect(VerifyChallengeHex(key.get(), "challenge-123", sig), "signature verifies");
    t.Expect(
        !VerifyChallengeHex(key.get(), "challenge-124", sig), "signature bound to the challenge"
    );
    const std::string csr = MakeCsrPem(key.get(), "N1");
    t.Expect(csr.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0) == 0, "CSR PEM");
    t.Expect(PrivateKeyToPem(key.get()).rfind("-----BEGIN PRIVATE KEY-----", 0) == 0, "key PEM");
}

}  // namespace

// §6 as stock firmware does it: in-progress, the new version's config and success after the
// OTA, a fresh otafetch reporting it; the running version rejected; new URLs ignored meanwhile.
void CheckOta(Checker& t) {
    const TimePoint t0{};
    SimulatedNode node = MakeNode();
    node.OnConnected(t0);
    const std::string url = R"({"ota_job_id":"J1","url":"https://x/fw.bin","fw_version":"2.0.0"})";
    const Actions start = node.OnMessage("node/N1/otaurl", url, t0);
    t.Equal(Steps(start), "PUB $aws/rules/esp_node_otastatus/node/N1/otastatus\n", "otastatus");
    t.Expect(
        start.out.size() == 1 &&
            start.out[0].payload.starts_with(
                R"({"ota_job_id":"J1","status":"in-progress","additional_info":"Starting OTA Upgrade","ts":)"
            ),
        "in-progress first"
    );
    t.Expect(
        node.OnMessage("node/N1/otaurl", url, t0).out.empty(), "a URL during an OTA is ignored"
    );
    t.Expect(
        node.OnTimer(t0 + std::chrono::milliseconds(499)).out.empty(), "not done before 500 ms"
    );
    const Actions done = node.OnTimer(t0 + std::chrono::milliseconds(500));
    t.Equal(
        Steps(done),
        "PUB $aws/rules/esp_node_config/node/N1/config\n"
        "PUB $aws/rules/esp_node_otastatus/node/N1/otastatus\n",
        "config, then success"
    );
    t.Expect(
        done.out.size() == 2 &&
            done.out[0].payload.find(R"("fw_version":"2.0.0")") != std::string::npos &&
            done.out[1].payload.find(R"("status":"success")") != std::string::npos,
        "the new version runs"
    );
    const Actions fetch = node.OnTimer(t0 + std::chrono::milliseconds(5500));
    t.Expect(
        fetch.out.size() == 1 && fetch.out[0].payload == R"({"node_id":"N1","fw_version":"2.0.0"})",
        "a fresh otafetch with the new version"
    );
    const Actions same = node.OnMessage("node/N1/otaurl", url, t0);
    t.Expect(
        same.out.size() == 1 &&
            same.out[0].payload.find(
                R"("status":"rejected","additional_info":"Same version received")"
            ) != std::string::npos,
        "the running version is rejected"
    );

    NodeSettings rejecting;
    rejecting.node_id = "N1";
    rejecting.ota = OtaBehaviour::kReject;
    SimulatedNode stubborn(rejecting, DefaultLightModel());
    stubborn.OnConnected(t0);
    const Actions refused = stubborn.OnMessage("node/N1/otaurl", url, t0);
    t.Expect(
        refused.out.size() == 1 && refused.out[0].payload.find("rejected") != std::string::npos,
        "--ota reject rejects"
    );
    NodeSettings off;
    off.node_id = "N1";
    off.ota = OtaBehaviour::kOff;
    SimulatedNode plain(off, DefaultLightModel());
    t.Expect(
        Steps(plain.OnConnected(t0)).find("otaurl") == std::string::npos && !plain.NextTimer(),
        "--ota off: no otaurl subscription, no otafetch"
    );
}

// §6 with the download (--ota download): in-progress and a download asked for; then the
// outcome decides: the image's size, MD5 and project checked (failed, failed, rejected), or
// in-progress until the reboot into it; outside the download window: delayed, no download.
void CheckOtaDownload(Checker& t) {
    const TimePoint t0{};
    NodeSettings settings;
    settings.node_id = "N1";
    settings.ota = OtaBehaviour::kDownload;
    settings.wall_seconds = [] { return std::int64_t{86400 * 100 + 600 * 60}; };  // 10:00 UTC
    const auto status_of = [](const Actions& a, std::size_t i) {
        return i < a.out.size() ? a.out[i].payload : std::string();
    };
    const auto url = [](const std::string& extra) {
        return R"({"ota_job_id":"J1","url":"https://x/fw.bin","fw_version":"2.0.0","file_size":1000,"file_md5":"ABCDEF0123456789abcdef0123456789")" +
               extra + "}";
    };
    DownloadOutcome good{
        "J1", std::nullopt, true, "", 1000, "abcdef0123456789abcdef0123456789", "led_light"};
    // The whole path: download, checks, reboot, success.
    SimulatedNode node(settings, DefaultLightModel());
    node.OnConnected(t0);
    const Actions start = node.OnMessage("node/N1/otaurl", url(""), t0);
    t.Expect(
        start.download && start.download->url == "https://x/fw.bin", "a download is asked for"
    );
    t.Expect(
        status_of(start, 0).find(R"("status":"in-progress")") != std::string::npos,
        "in-progress first"
    );
    t.Expect(
        node.OnTimer(t0 + std::chrono::seconds(1)).out.empty(),
        "no reboot while downloading (ota_duration is 500 ms)"
    );
    auto stale = good;
    stale.job_id = "J0";
    t.Expect(node.OnDownloaded(stale, t0).out.empty(), "another OTA's download is ignored");
    DownloadOutcome halfway;
    halfway.job_id = "J1";
    halfway.progress_percent = 50;
    t.Expect(
        status_of(node.OnDownloaded(halfway, t0), 0).find("Downloaded 50% Firmware Image") !=
            std::string::npos,
        "progress is reported while downloading"
    );
    const Actions downloaded = node.OnDownloaded(good, t0);
    t.Expect(
        downloaded.out.size() == 2 &&
            status_of(downloaded, 0).find("Downloaded 100%") != std::string::npos,
        "downloaded, then rebooting"
    );
    const Actions done = node.OnTimer(t0 + std::chrono::milliseconds(500));
    t.Expect(
        done.out.size() == 2 &&
            status_of(done, 1).find(R"("status":"success")") != std::string::npos,
        "success after the reboot"
    );
    // Each check of the image.
    const auto outcome_of = [&](DownloadOutcome outcome) {
        SimulatedNode n(settings, DefaultLightModel());
        n.OnConnected(t0);
        n.OnMessage("node/N1/otaurl", url(""), t0);
        return status_of(n.OnDownloaded(outcome, t0), 0);
    };
    auto bad = good;
    bad.ok = false;
    bad.error = "SSL peer certificate was not OK";
    {
        // A failed download is tried again, three attempts in all, then the OTA fails.
        SimulatedNode n(settings, DefaultLightModel());
        n.OnConnected(t0);
        n.OnMessage("node/N1/otaurl", url(""), t0);
        const Actions second = n.OnDownloaded(bad, t0);
        t.Expect(
            second.download && status_of(second, 0).find("HTTPS attempt 2/3") != std::string::npos,
            "a second attempt"
        );
        const Actions third = n.OnDownloaded(bad, t0);
        t.Expect(
            third.download && status_of(third, 0).find("HTTPS attempt 3/3") != std::string::npos,
            "a third attempt"
        );
        const Actions failed = n.OnDownloaded(bad, t0);
        t.Expect(
            !failed.download &&
                status_of(failed, 0).find(R"("status":"failed")") != std::string::npos,
            "failed after the third"
        );
    }
    const auto failed_after_attempts = [&](const DownloadOutcome& outcome) {
        SimulatedNode n(settings, DefaultLightModel());
        n.OnConnected(t0);
        n.OnMessage("node/N1/otaurl", url(""), t0);
        n.OnDownloaded(outcome, t0);
        n.OnDownloaded(outcome, t0);
        return status_of(n.OnDownloaded(outcome, t0), 0);
    };
    t.Expect(
        failed_after_attempts(bad).find(
            R"("status":"failed","additional_info":"Download failed: SSL)"
        ) != std::string::npos,
        "download failed"
    );
    bad = good;
    bad.md5 = "00000000000000000000000000000000";
    t.Expect(
        outcome_of(bad).find(R"("status":"failed","additional_info":"MD5 mismatch")") !=
            std::string::npos,
        "MD5 mismatch"
    );
    bad = good;
    bad.size = 999;
    t.Expect(
        outcome_of(bad).find(R"("status":"failed","additional_info":"Image size mismatch)") !=
            std::string::npos,
        "size mismatch"
    );
    bad = good;
    bad.project_name = "other_project";
    t.Expect(
        outcome_of(bad).find(R"("status":"rejected","additional_info":"Project Name mismatch")") !=
            std::string::npos,
        "another project"
    );
    // The download window: 10:00 is inside 09:00-11:00 and 23:00-10:30, outside 11:00-12:00.
    const auto windowed = [&](int from, int to) {
        SimulatedNode n(settings, DefaultLightModel());
        n.OnConnected(t0);
        return n.OnMessage(
            "node/N1/otaurl",
            url(R"(,"metadata":{"download_window":{"start":)" + std::to_string(from) +
                R"(,"end":)" + std::to_string(to) + "}}"),
            t0
        );
    };
    t.Expect(windowed(540, 660).download.has_value(), "inside the window");
    t.Expect(windowed(1380, 630).download.has_value(), "inside a window over midnight");
    t.Expect(!windowed(1380, 300).download.has_value(), "outside a window over midnight");
    const Actions outside = windowed(660, 720);
    t.Expect(
        !outside.download &&
            status_of(outside, 0).find(R"("status":"delayed")") != std::string::npos,
        "outside the window: delayed"
    );
    t.Expect(AppProjectName(std::string(32, '\0')).empty(), "no app description, no project");
}

int RunSelfTest() {
    Checker t;
    CheckParamsRemote(t);
    CheckLocalChange(t);
    CheckBootSequence(t);
    CheckConfig(t);
    CheckOtherTopics(t);
    CheckCommands(t);
    CheckSchedules(t);
    CheckSensor(t);
    CheckKeys(t);
    CheckOta(t);
    CheckOtaDownload(t);
    if (t.failures == 0) {
        std::printf("selftest ok checks=%d\n", t.checks);
        return 0;
    }
    std::printf("selftest FAILED failures=%d checks=%d\n", t.failures, t.checks);
    return 1;
}

}  // namespace rainmaker::sim

// One simulated RainMaker node (config, params, topics, boot sequence) as pure logic with no I/O,
// so the firmware behaviour of device-protocol §2-§4 can be checked without a broker.
#include "simulated_node.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <utility>

#include "tlv8.hpp"

namespace rainmaker::sim {

namespace {

constexpr std::string_view kConfigVersion = "2020-03-20";  // ESP_RMAKER_CONFIG_VERSION

// Basic-ingest rule names (device-protocol §2.1).
constexpr std::string_view kRuleConfig = "esp_node_config";
constexpr std::string_view kRuleMapping = "esp_user_node_mapping";
constexpr std::string_view kRuleInitParams = "esp_init_params";
constexpr std::string_view kRuleSetParams = "esp_set_params";
constexpr std::string_view kRuleOtaFetch = "esp_node_otafetch";
constexpr std::string_view kRuleOtaStatus = "esp_node_otastatus";
constexpr std::string_view kRuleCmdResp = "esp_cmd_resp";
constexpr std::string_view kRuleTsData = "esp_ts_ingest";
constexpr std::string_view kRuleSimpleTs = "esp_simple_ts_ingest";

// Command-response TLV8 item types and statuses (§2.4).
constexpr std::uint8_t kTlvRequestId = 1;
constexpr std::uint8_t kTlvRole = 2;
constexpr std::uint8_t kTlvStatus = 3;
constexpr std::uint8_t kTlvCommand = 5;
constexpr std::uint8_t kTlvData = 6;
constexpr int kStatusSuccess = 0;
constexpr int kStatusFailed = 1;
constexpr int kStatusInvalid = 2;
constexpr int kStatusAuthFailed = 3;
constexpr int kStatusNotFound = 4;

void AppendDouble(std::string& out, double d) {
    if (!std::isfinite(d)) {
        out += "null";  // JSON has no NaN/Inf
        return;
    }
    std::array<char, 32> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    out.append(buf.data(), ec == std::errc{} ? end : buf.data());
}

void AppendJson(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            out += "null";
            break;
        case boost::json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::int64:
            out += std::to_string(v.get_int64());
            break;
        case boost::json::kind::uint64:
            out += std::to_string(v.get_uint64());
            break;
        case boost::json::kind::double_:
            AppendDouble(out, v.get_double());
            break;
        case boost::json::kind::string:
            AppendJsonString(out, v.get_string());
            break;
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& element : v.get_array()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                AppendJson(out, element);
            }
            out += ']';
            break;
        }
        case boost::json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& member : v.get_object()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                AppendJsonString(out, member.key());
                out += ':';
                AppendJson(out, member.value());
            }
            out += '}';
            break;
        }
    }
}

// The firmware's json_generator prints floats with "%.5f"; reports carry that exact form.
void AppendParamValue(std::string& out, const ParamModel& param) {
    if (param.data_type == DataType::kFloat && param.value.is_double() &&
        std::isfinite(param.value.get_double())) {
        std::array<char, 64> buf{};
        const int n = std::snprintf(buf.data(), buf.size(), "%.5f", param.value.get_double());
        if (n > 0 && static_cast<std::size_t>(n) < buf.size()) {
            out.append(buf.data(), static_cast<std::size_t>(n));
            return;
        }
    }
    AppendJson(out, param.value);
}

std::string HexOf(std::string_view bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        hex += kDigits[b >> 4];
        hex += kDigits[b & 0x0F];
    }
    return hex;
}

// Data for an event line: as is when it is text without control characters, else hex.
std::string Printable(std::string_view bytes) {
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7F) {
            return "hex:" + HexOf(bytes);
        }
    }
    return std::string(bytes);
}

std::string LittleEndian16(int value) {
    return std::string{static_cast<char>(value & 0xFF), static_cast<char>((value >> 8) & 0xFF)};
}

boost::json::object ParamConfig(const ParamModel& p) {
    boost::json::object o;
    o["name"] = p.name;
    if (!p.type.empty()) {
        o["type"] = p.type;
    }
    o["data_type"] = DataTypeName(p.data_type);
    boost::json::array properties{"read"};
    if (p.writable) {
        properties.emplace_back("write");
    }
    if (!p.ts_property.empty()) {
        properties.emplace_back(p.ts_property);
    }
    o["properties"] = std::move(properties);
    if (p.bounds) {
        o["bounds"] = *p.bounds;
    }
    if (!p.ui_type.empty()) {
        o["ui_type"] = p.ui_type;
    }
    return o;
}

boost::json::array DevicesConfig(const std::vector<DeviceModel>& devices) {
    boost::json::array out;
    for (const auto& d : devices) {
        boost::json::object o;
        o["name"] = d.name;
        o["type"] = d.type;
        if (!d.primary.empty()) {
            o["primary"] = d.primary;
        }
        boost::json::array params;
        for (const auto& p : d.params) {
            params.emplace_back(ParamConfig(p));
        }
        o["params"] = std::move(params);
        out.emplace_back(std::move(o));
    }
    return out;
}

ParamModel MakeParam(
    std::string name, std::string type, DataType data_type, bool writable, boost::json::value value
) {
    ParamModel p;
    p.name = std::move(name);
    p.type = std::move(type);
    p.data_type = data_type;
    p.writable = writable;
    p.value = std::move(value);
    return p;
}

}  // namespace

std::string_view DataTypeName(DataType type) {
    switch (type) {
        case DataType::kBool:
            return "bool";
        case DataType::kInt:
            return "int";
        case DataType::kFloat:
            return "float";
        case DataType::kString:
            return "string";
        case DataType::kObject:
            return "object";
        case DataType::kArray:
            return "array";
    }
    return "string";
}

NodeModel DefaultLightModel() {
    NodeModel m;
    m.info["name"] = "Sim Light";
    m.info["fw_version"] = "1.0.0";
    m.info["type"] = "Lightbulb";
    m.info["model"] = "rainmaker-sim";
    m.info["project_name"] = "led_light";
    m.info["platform"] = "esp32c3";
    m.attributes.emplace_back(boost::json::object{{"name", "cmd-resp"}, {"value", "1"}});

    DeviceModel light{"Light", "esp.device.lightbulb", "Power", {}};
    light.params.push_back(MakeParam("Name", "esp.param.name", DataType::kString, true, "Light"));
    auto power = MakeParam("Power", "esp.param.power", DataType::kBool, true, false);
    power.ui_type = "esp.ui.toggle";
    light.params.push_back(std::move(power));
    auto brightness = MakeParam("Brightness", "esp.param.brightness", DataType::kInt, true, 50);
    brightness.bounds = boost::json::object{{"min", 0}, {"max", 100}, {"step", 1}};
    brightness.ui_type = "esp.ui.slider";
    light.params.push_back(std::move(brightness));
    light.params.push_back(
        MakeParam("Temperature", "esp.param.temperature", DataType::kFloat, false, 21.5)
    );
    m.devices.push_back(std::move(light));

    DeviceModel time{"Time", "esp.service.time", "", {}};
    time.params.push_back(MakeParam("TZ", "esp.param.tz", DataType::kString, true, ""));
    m.services.push_back(std::move(time));

    DeviceModel schedule{"Schedule", "esp.service.schedule", "", {}};
    auto schedules =
        MakeParam("Schedules", "esp.param.schedules", DataType::kArray, true, boost::json::array{});
    schedules.bounds = boost::json::object{{"max", 10}};
    schedule.params.push_back(std::move(schedules));
    m.services.push_back(std::move(schedule));
    return m;
}

void AddSensorDevice(NodeModel& model) {
    DeviceModel sensor{"Sensor", "esp.device.temperature-sensor", "Temperature", {}};
    sensor.params.push_back(MakeParam("Name", "esp.param.name", DataType::kString, true, "Sensor"));
    auto temperature =
        MakeParam("Temperature", "esp.param.temperature", DataType::kFloat, false, 21.5);
    temperature.ts_property = "time_series";
    sensor.params.push_back(std::move(temperature));
    auto humidity = MakeParam("Humidity", "esp.param.humidity", DataType::kInt, false, 45);
    humidity.bounds = boost::json::object{{"min", 0}, {"max", 100}};
    humidity.ts_property = "simple_ts";
    sensor.params.push_back(std::move(humidity));
    model.devices.push_back(std::move(sensor));
}

boost::json::array ApplyScheduleOperations(
    const boost::json::array& schedules, const boost::json::array& operations, std::size_t max
) {
    boost::json::array list = schedules;
    const auto find = [&list](std::string_view id) -> boost::json::object* {
        for (auto& entry : list) {
            if (entry.is_object()) {
                const auto* v = entry.get_object().if_contains("id");
                if (v != nullptr && v->is_string() && v->get_string() == id) {
                    return &entry.get_object();
                }
            }
        }
        return nullptr;
    };
    // The members a schedule keeps besides name, id and enabled, in the firmware's order.
    static constexpr std::array<std::string_view, 5> kBody = {
        "triggers", "action", "info", "flags", "validity"};
    for (const auto& op_value : operations) {
        if (!op_value.is_object()) {
            continue;
        }
        const auto& op = op_value.get_object();
        const auto* id = op.if_contains("id");
        const auto* operation = op.if_contains("operation");
        if (id == nullptr || !id->is_string() || operation == nullptr || !operation->is_string()) {
            continue;
        }
        const std::string_view kind = operation->get_string();
        boost::json::object* existing = find(id->get_string());
        if (kind == "add") {
            if (existing != nullptr || list.size() >= max) {
                continue;
            }
            boost::json::object schedule;
            const auto* name = op.if_contains("name");
            schedule["name"] =
                name != nullptr && name->is_string() ? *name : boost::json::value("");
            schedule["id"] = *id;
            const auto* enabled = op.if_contains("enabled");
            schedule["enabled"] = enabled == nullptr || !enabled->is_bool() || enabled->get_bool();
            for (const auto key : kBody) {
                if (const auto* v = op.if_contains(key)) {
                    schedule[key] = *v;
                } else if (key == "triggers") {
                    schedule[key] = boost::json::array{};
                } else if (key == "action") {
                    schedule[key] = boost::json::object{};
                }
            }
            list.emplace_back(std::move(schedule));
        } else if (existing == nullptr) {
            continue;
        } else if (kind == "edit") {
            if (const auto* name = op.if_contains("name"); name != nullptr && name->is_string()) {
                (*existing)["name"] = *name;
            }
            for (const auto key : kBody) {
                if (const auto* v = op.if_contains(key)) {
                    (*existing)[key] = *v;
                }
            }
        } else if (kind == "enable" || kind == "disable") {
            (*existing)["enabled"] = kind == "enable";
        } else if (kind == "remove") {
            for (auto it = list.begin(); it != list.end(); ++it) {
                if (it->is_object() && &it->get_object() == existing) {
                    list.erase(it);
                    break;
                }
            }
        }
    }
    return list;
}

MappingMessage FactoryResetMapping() {
    return MappingMessage{"esp-rmaker", "failed", true};
}

std::string FormatEvent(const Event& event) {
    std::string_view name;
    switch (event.kind) {
        case EventKind::kConnected:
            name = "connected";
            break;
        case EventKind::kSubscribed:
            name = "subscribed";
            break;
        case EventKind::kReady:
            name = "ready";
            break;
        case EventKind::kMappingAcked:
            name = "mapping-acked";
            break;
        case EventKind::kParamsRemote:
            name = "params/remote";
            break;
        case EventKind::kApplied:
            name = "applied";
            break;
        case EventKind::kReported:
            name = "reported";
            break;
        case EventKind::kOtaUrl:
            name = "otaurl";
            break;
        case EventKind::kOtaStatus:
            name = "otastatus";
            break;
        case EventKind::kToNode:
            name = "to-node";
            break;
        case EventKind::kCommand:
            name = "command";
            break;
        case EventKind::kDeferred:
            name = "deferred";
            break;
        case EventKind::kAnswered:
            name = "answered";
            break;
        case EventKind::kSample:
            name = "sample";
            break;
        case EventKind::kDisconnected:
            name = "disconnected";
            break;
        case EventKind::kError:
            name = "error";
            break;
    }
    std::string line(name);
    if (!event.detail.empty()) {
        line += ' ';
        // One event per line: a stray newline in a detail must not forge a second event.
        for (const char c : event.detail) {
            line += (c == '\n' || c == '\r') ? ' ' : c;
        }
    }
    return line;
}

std::string ToCompactJson(const boost::json::value& value) {
    std::string out;
    AppendJson(out, value);
    return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHex[static_cast<unsigned char>(c) >> 4];
                    out += kHex[static_cast<unsigned char>(c) & 0x0F];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

std::optional<boost::json::value> CoerceParamValue(DataType type, const boost::json::value& v) {
    switch (type) {
        case DataType::kBool:
            if (v.is_bool()) {
                return v;
            }
            break;
        case DataType::kInt:
            // The firmware parses int params with strtol-like code into an int: "5.0" or 1e3
            // are not integers to it, and anything beyond int32 does not fit.
            if (v.is_int64() && v.get_int64() >= std::numeric_limits<std::int32_t>::min() &&
                v.get_int64() <= std::numeric_limits<std::int32_t>::max()) {
                return v;
            }
            break;
        case DataType::kFloat:
            if (v.is_number()) {
                return boost::json::value(v.to_number<double>());
            }
            break;
        case DataType::kString:
            if (v.is_string()) {
                return v;
            }
            break;
        case DataType::kObject:
            if (v.is_object()) {
                return v;
            }
            break;
        case DataType::kArray:
            if (v.is_array()) {
                return v;
            }
            break;
    }
    return std::nullopt;
}

SimulatedNode::SimulatedNode(NodeSettings settings, NodeModel model)
    : settings_(std::move(settings)),
      model_(std::move(model)),
      rng_(static_cast<std::mt19937::result_type>(std::hash<std::string>{}(settings_.node_id))) {}

std::string SimulatedNode::NodeToCloudTopic(std::string_view suffix, std::string_view rule) const {
    std::string topic;
    if (settings_.topic_form == TopicForm::kBasicIngest) {
        topic += "$aws/rules/";
        topic += rule;
        topic += '/';
    }
    topic += "node/";
    topic += settings_.node_id;
    topic += '/';
    topic += suffix;
    return topic;
}

std::string SimulatedNode::CloudToNodeTopic(std::string_view suffix) const {
    std::string topic = "node/" + settings_.node_id + "/";
    topic += suffix;
    return topic;
}

std::string SimulatedNode::ConfigJson() const {
    boost::json::object config;
    config["node_id"] = settings_.node_id;
    config["config_version"] = kConfigVersion;
    config["info"] = model_.info;
    if (!model_.attributes.empty()) {
        config["attributes"] = model_.attributes;
    }
    config["devices"] = DevicesConfig(model_.devices);
    config["services"] = DevicesConfig(model_.services);
    return ToCompactJson(config);
}

std::string SimulatedNode::ParamsJson(const boost::json::object& selection) const {
    // Firmware walks its own devices in order, so reports follow the model's order, not the
    // order of the request that caused them.
    std::string out = "{";
    bool first_device = true;
    for (const auto* list : {&model_.devices, &model_.services}) {
        for (const auto& device : *list) {
            const auto* wanted = selection.if_contains(device.name);
            if (wanted == nullptr || !wanted->is_object()) {
                continue;
            }
            std::string body;
            for (const auto& param : device.params) {
                if (!wanted->get_object().contains(param.name)) {
                    continue;
                }
                if (!body.empty()) {
                    body += ',';
                }
                AppendJsonString(body, param.name);
                body += ':';
                AppendParamValue(body, param);
            }
            if (body.empty()) {
                continue;
            }
            if (!first_device) {
                out += ',';
            }
            first_device = false;
            AppendJsonString(out, device.name);
            out += ":{";
            out += body;
            out += '}';
        }
    }
    out += '}';
    return out;
}

std::string SimulatedNode::AllParamsJson() const {
    boost::json::object all;
    for (const auto* list : {&model_.devices, &model_.services}) {
        for (const auto& device : *list) {
            boost::json::object names;
            for (const auto& param : device.params) {
                names[param.name] = nullptr;
            }
            all[device.name] = std::move(names);
        }
    }
    return ParamsJson(all);
}

void SimulatedNode::Subscribe(Actions& actions, std::string topic) {
    subscriptions_.push_back(topic);
    actions.out.push_back({Outgoing::Kind::kSubscribe, std::move(topic), {}, PublishTag::kOther});
}

Actions SimulatedNode::OnConnected(TimePoint now) {
    Actions actions;
    connected_ = true;
    actions.events.push_back({EventKind::kConnected, {}});
    if (stage_ != BootStage::kNotStarted) {
        // §1.2: after a reconnect the node only re-subscribes (config and init are once per
        // boot), and the cmd-resp module polls for the requests made while it was away.
        for (const auto& topic : subscriptions_) {
            actions.out.push_back({Outgoing::Kind::kSubscribe, topic, {}, PublishTag::kOther});
        }
        actions.out.push_back(Poll());
        return actions;
    }
    // §2.3, first connect of the boot: the cmd-resp module subscribes and polls first.
    Subscribe(actions, CloudToNodeTopic("to-node"));
    actions.out.push_back(Poll());
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("config", kRuleConfig),
         ConfigJson(),
         PublishTag::kConfig}
    );
    if (settings_.mapping) {
        boost::json::object mapping;
        mapping["node_id"] = settings_.node_id;
        mapping["user_id"] = settings_.mapping->user_id;
        mapping["secret_key"] = settings_.mapping->secret_key;
        if (settings_.mapping->reset) {
            mapping["reset"] = true;
        }
        actions.out.push_back(
            {Outgoing::Kind::kPublish,
             NodeToCloudTopic("user/mapping", kRuleMapping),
             ToCompactJson(mapping),
             PublishTag::kMapping}
        );
        // The PUBACK, not any cloud reply, completes mapping on the node (§2.3 b).
        stage_ = BootStage::kAwaitingMappingAck;
        return actions;
    }
    ContinueBoot(actions, now);
    return actions;
}

void SimulatedNode::ContinueBoot(Actions& actions, TimePoint now) {
    stage_ = BootStage::kStarted;
    Subscribe(actions, CloudToNodeTopic("params/remote"));
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("params/local/init", kRuleInitParams),
         AllParamsJson(),
         PublishTag::kInitParams}
    );
    if (settings_.ota != OtaBehaviour::kOff) {
        Subscribe(actions, CloudToNodeTopic("otaurl"));
        otafetch_due_ = now + settings_.otafetch_delay;
    }
    if (settings_.tsdata_rate > 0 && FindParam("Sensor", "Temperature") != nullptr) {
        sample_due_ = now;
    }
}

Actions SimulatedNode::OnDisconnected() {
    Actions actions;
    if (connected_) {
        actions.events.push_back({EventKind::kDisconnected, {}});
    }
    connected_ = false;
    return actions;
}

Actions SimulatedNode::OnPublishAcked(PublishTag tag, TimePoint now) {
    Actions actions;
    if (tag == PublishTag::kMapping) {
        actions.events.push_back({EventKind::kMappingAcked, {}});
        if (stage_ == BootStage::kAwaitingMappingAck) {
            ContinueBoot(actions, now);
        }
    } else if (tag == PublishTag::kInitParams && !ready_) {
        ready_ = true;
        actions.events.push_back({EventKind::kReady, {}});
    }
    return actions;
}

Actions SimulatedNode::OnMessage(std::string_view topic, std::string_view payload, TimePoint now) {
    Actions actions;
    if (topic == CloudToNodeTopic("to-node")) {
        OnCommand(actions, payload);
        return actions;
    }
    const bool is_remote = topic == CloudToNodeTopic("params/remote");
    const bool is_ota = topic == CloudToNodeTopic("otaurl");
    if (!is_remote && !is_ota) {
        actions.events.push_back(
            {EventKind::kError, "message on unexpected topic " + std::string(topic)}
        );
        return actions;
    }
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(payload, ec);
    if (ec) {
        actions.events.push_back(
            {EventKind::kError, std::string(topic.substr(topic.rfind('/') + 1)) + ": invalid JSON"}
        );
        return actions;
    }
    if (is_ota) {
        actions.events.push_back({EventKind::kOtaUrl, ToCompactJson(parsed)});
        OnOtaUrl(actions, parsed, now);
        return actions;
    }
    actions.events.push_back({EventKind::kParamsRemote, ToCompactJson(parsed)});
    const boost::json::object applied = ApplyRemote(parsed);
    if (applied.empty()) {
        actions.events.push_back({EventKind::kApplied, "{}"});  // nothing published
        return actions;
    }
    Outgoing report = ParamsLocal(applied);
    actions.events.push_back({EventKind::kApplied, report.payload});
    actions.out.push_back(std::move(report));
    return actions;
}

void SimulatedNode::OnOtaUrl(Actions& actions, const boost::json::value& message, TimePoint now) {
    const auto* object = message.if_object();
    const auto text = [&](const char* key) -> std::string {
        const auto* v = object != nullptr ? object->if_contains(key) : nullptr;
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
    };
    const std::string job_id = text("ota_job_id");
    const std::string url = text("url");
    if (job_id.empty() || url.empty()) {
        actions.events.push_back({EventKind::kError, "otaurl without ota_job_id or url"});
        return;
    }
    if (ota_) {
        return;  // §6.1: a node doing an OTA ignores new URLs
    }
    const auto* running = model_.info.if_contains("fw_version");
    const std::string current =
        running != nullptr && running->is_string() ? std::string(running->as_string()) : "";
    const std::string target = text("fw_version");
    if (settings_.ota == OtaBehaviour::kReject || target == current) {
        ReportOta(actions, job_id, "rejected", "Same version received");
        return;
    }
    if (settings_.ota != OtaBehaviour::kDownload) {
        ReportOta(actions, job_id, "in-progress", "Starting OTA Upgrade");
        OtaInProgress started;
        started.job_id = job_id;
        started.fw_version = target;
        started.due = now + settings_.ota_duration;
        ota_ = std::move(started);
        return;
    }
    // §6.1 metadata: the download window, minutes of the day (UTC here).
    if (const auto* window = object->if_contains("metadata");
        window != nullptr && window->is_object()) {
        if (const auto* w = window->as_object().if_contains("download_window");
            w != nullptr && w->is_object()) {
            const auto minute = [&](const char* key) -> std::optional<std::int64_t> {
                const auto* v = w->as_object().if_contains(key);
                return v != nullptr && v->is_int64() ? std::optional(v->as_int64()) : std::nullopt;
            };
            const auto start = minute("start");
            const auto end = minute("end");
            const std::int64_t m = (WallSeconds() % 86400) / 60;
            const bool inside =
                !start || !end ||
                (*start <= *end ? *start <= m && m <= *end : m >= *start || m <= *end);
            if (!inside) {
                ReportOta(actions, job_id, "delayed", "Outside the download window");
                return;
            }
        }
    }
    OtaInProgress started;
    started.job_id = job_id;
    started.fw_version = target;
    started.due = TimePoint::max();
    started.downloading = true;
    if (const auto* size = object->if_contains("file_size");
        size != nullptr && size->is_int64() && size->as_int64() >= 0) {
        started.file_size = static_cast<std::uint64_t>(size->as_int64());
    }
    started.file_md5 = text("file_md5");
    started.url = url;
    ota_ = std::move(started);
    ReportOta(
        actions,
        job_id,
        "in-progress",
        "Starting OTA Upgrade (HTTPS attempt 1/" + std::to_string(kOtaAttempts) + ")"
    );
    actions.download = DownloadRequest{job_id, url};
}

Actions SimulatedNode::OnDownloaded(const DownloadOutcome& outcome, TimePoint now) {
    Actions actions;
    if (!ota_ || !ota_->downloading || ota_->job_id != outcome.job_id) {
        return actions;
    }
    const std::string job_id = ota_->job_id;
    if (outcome.progress_percent) {
        ReportOta(
            actions,
            job_id,
            "in-progress",
            "Downloaded " + std::to_string(*outcome.progress_percent) + "% Firmware Image"
        );
        return actions;
    }
    const auto lower = [](std::string s) {
        for (auto& c : s) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return s;
    };
    const auto* project = model_.info.if_contains("project_name");
    const std::string own =
        project != nullptr && project->is_string() ? std::string(project->as_string()) : "";
    std::string refusal;
    std::string status = "failed";
    if (!outcome.ok && ota_->attempt < kOtaAttempts) {
        // CONFIG_ESP_RMAKER_OTA_MAX_RETRIES: the download is tried again.
        ++ota_->attempt;
        ReportOta(
            actions,
            job_id,
            "in-progress",
            "Starting OTA Upgrade (HTTPS attempt " + std::to_string(ota_->attempt) + "/" +
                std::to_string(kOtaAttempts) + ")"
        );
        actions.download = DownloadRequest{job_id, ota_->url};
        return actions;
    }
    if (!outcome.ok) {
        refusal = "Download failed: " + outcome.error;
    } else if (ota_->file_size && outcome.size != *ota_->file_size) {
        refusal = "Image size mismatch: " + std::to_string(outcome.size) + " bytes received";
    } else if (!ota_->file_md5.empty() && lower(outcome.md5) != lower(ota_->file_md5)) {
        refusal = "MD5 mismatch";
    } else if (!own.empty() && outcome.project_name != own) {
        status = "rejected";
        refusal = "Project Name mismatch";
    }
    if (!refusal.empty()) {
        ota_.reset();
        ReportOta(actions, job_id, status, refusal);
        return actions;
    }
    ReportOta(actions, job_id, "in-progress", "Downloaded 100% Firmware Image");
    ReportOta(actions, job_id, "in-progress", "Rebooting into new firmware");
    ota_->downloading = false;
    ota_->due = now + settings_.ota_duration;
    return actions;
}

void SimulatedNode::ReportOta(
    Actions& actions, const std::string& job_id, std::string_view status, std::string_view info
) const {
    boost::json::object report;
    report["ota_job_id"] = job_id;
    report["status"] = status;
    report["additional_info"] = info;
    report["ts"] = WallSeconds();
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("otastatus", kRuleOtaStatus),
         ToCompactJson(report),
         PublishTag::kOther}
    );
    actions.events.push_back(
        {EventKind::kOtaStatus, job_id + " " + std::string(status) + " " + std::string(info)}
    );
}

void SimulatedNode::FinishOta(Actions& actions, TimePoint now) {
    const OtaInProgress done = *ota_;
    ota_.reset();
    // The new image boots and connects (a rollback-enabled build: config first, then the
    // success it kept in NVS), and asks for more 5 s later.
    model_.info["fw_version"] = done.fw_version;
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("config", kRuleConfig),
         ConfigJson(),
         PublishTag::kConfig}
    );
    ReportOta(actions, done.job_id, "success", "OTA Upgrade finished and verified successfully");
    otafetch_due_ = now + settings_.otafetch_delay;
}

std::optional<SimulatedNode::TimePoint> SimulatedNode::NextTimer() const {
    std::optional<TimePoint> next = otafetch_due_;
    const auto reboot = ota_ && !ota_->downloading ? std::optional(ota_->due) : std::nullopt;
    for (const auto& due : {sample_due_, reboot}) {
        if (due && (!next || *due < *next)) {
            next = due;
        }
    }
    return next;
}

Actions SimulatedNode::OnTimer(TimePoint now) {
    Actions actions;
    if (!connected_) {
        return actions;
    }
    if (sample_due_ && settings_.tsdata_rate > 0) {
        const auto period = std::chrono::duration_cast<TimePoint::duration>(
            std::chrono::duration<double>(1.0 / settings_.tsdata_rate)
        );
        // Due samples are caught up, but never more than a second of them at once.
        for (int n = 0; *sample_due_ <= now && n < 1 + static_cast<int>(settings_.tsdata_rate);
             ++n) {
            Sample(actions);
            *sample_due_ += period;
        }
        if (*sample_due_ <= now) {
            sample_due_ = now + period;
        }
    }
    if (ota_ && now >= ota_->due) {
        FinishOta(actions, now);
    }
    if (!otafetch_due_ || now < *otafetch_due_) {
        return actions;
    }
    otafetch_due_.reset();
    boost::json::object fetch;
    fetch["node_id"] = settings_.node_id;
    const auto* fw = model_.info.if_contains("fw_version");
    fetch["fw_version"] = fw != nullptr ? *fw : boost::json::value("");
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("otafetch", kRuleOtaFetch),
         ToCompactJson(fetch),
         PublishTag::kOtaFetch}
    );
    return actions;
}

Actions SimulatedNode::SetLocal(
    std::string_view device, std::string_view param, const boost::json::value& v
) {
    Actions actions;
    ParamModel* target = FindParamMutable(device, param);
    if (target == nullptr) {
        actions.events.push_back(
            {EventKind::kError, "no param " + std::string(device) + "." + std::string(param)}
        );
        return actions;
    }
    auto coerced = CoerceParamValue(target->data_type, v);
    if (!coerced) {
        actions.events.push_back(
            {EventKind::kError,
             std::string(device) + "." + std::string(param) + " needs a " +
                 std::string(DataTypeName(target->data_type)) + " value"}
        );
        return actions;
    }
    target->value = std::move(*coerced);
    boost::json::object changed;
    changed[device].emplace_object()[param] = nullptr;
    Outgoing report = ParamsLocal(changed);
    actions.events.push_back({EventKind::kReported, report.payload});
    actions.out.push_back(std::move(report));
    return actions;
}

boost::json::object SimulatedNode::ApplyRemote(const boost::json::value& params) {
    boost::json::object applied;
    if (!params.is_object()) {
        return applied;
    }
    for (const auto& [device_name, device_params] : params.get_object()) {
        if (!device_params.is_object()) {
            continue;
        }
        for (const auto& [param_name, value] : device_params.get_object()) {
            ParamModel* param = FindParamMutable(device_name, param_name);
            if (param == nullptr || !param->writable) {
                continue;  // unknown or read-only: silently ignored, like the firmware
            }
            auto coerced = CoerceParamValue(param->data_type, value);
            if (!coerced) {
                continue;
            }
            if (param->type == "esp.param.schedules" && param->value.is_array()) {
                // The schedule service takes operations and reports the list it keeps.
                std::size_t max = 10;
                if (param->bounds) {
                    if (const auto* m = param->bounds->if_contains("max");
                        m != nullptr && m->is_int64()) {
                        max = static_cast<std::size_t>(std::max<std::int64_t>(0, m->get_int64()));
                    }
                }
                coerced =
                    ApplyScheduleOperations(param->value.get_array(), coerced->get_array(), max);
            }
            // The app callback accepts every write and reports it, even an unchanged value:
            // esp_rmaker_param_update() flags the param as changed unconditionally.
            param->value = std::move(*coerced);
            auto& entry = applied[device_name];
            if (!entry.is_object()) {
                entry.emplace_object();
            }
            entry.get_object()[param_name] = param->value;
        }
    }
    return applied;
}

Outgoing SimulatedNode::ParamsLocal(const boost::json::object& changed) {
    return {
        Outgoing::Kind::kPublish,
        NodeToCloudTopic("params/local", kRuleSetParams),
        ParamsJson(changed),
        PublishTag::kParamsLocal};
}

Outgoing SimulatedNode::Poll() const {
    // An empty request id, status success, command 0 (get pending): the cloud answers with
    // every request still pending for this node.
    return {
        Outgoing::Kind::kPublish,
        NodeToCloudTopic("from-node", kRuleCmdResp),
        EncodeTlv8(
            {{kTlvRequestId, ""},
             {kTlvStatus, std::string(1, '\0')},
             {kTlvCommand, LittleEndian16(0)}}
        ),
        PublishTag::kOther};
}

void SimulatedNode::Respond(
    Actions& actions, std::string_view request_id, int status, int cmd, std::string_view data
) const {
    std::vector<Tlv8Item> items = {
        {kTlvRequestId, std::string(request_id)},
        {kTlvStatus, std::string(1, static_cast<char>(status))},
        {kTlvCommand, LittleEndian16(cmd)}};
    if (!data.empty()) {
        items.push_back({kTlvData, std::string(data)});
    }
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("from-node", kRuleCmdResp),
         EncodeTlv8(items),
         PublishTag::kOther}
    );
    actions.events.push_back(
        {EventKind::kAnswered,
         std::string(request_id) + " " + std::to_string(status) + " " + Printable(data)}
    );
}

void SimulatedNode::OnCommand(Actions& actions, std::string_view payload) {
    const auto items = DecodeTlv8(payload);
    const std::string* id = items ? FindTlv8(*items, kTlvRequestId) : nullptr;
    const std::string* role_item = items ? FindTlv8(*items, kTlvRole) : nullptr;
    const std::string* cmd_item = items ? FindTlv8(*items, kTlvCommand) : nullptr;
    if (!items || cmd_item == nullptr || cmd_item->size() != 2) {
        actions.events.push_back({EventKind::kToNode, HexOf(payload)});
        actions.events.push_back({EventKind::kError, "to-node: not a command request"});
        return;
    }
    const std::string request_id = id != nullptr ? *id : std::string{};
    const int role = role_item != nullptr && role_item->size() == 1
                         ? static_cast<unsigned char>((*role_item)[0])
                         : 0;
    const int cmd = static_cast<unsigned char>((*cmd_item)[0]) |
                    (static_cast<unsigned char>((*cmd_item)[1]) << 8);
    const std::string* data_item = FindTlv8(*items, kTlvData);
    const std::string data = data_item != nullptr ? *data_item : std::string{};
    actions.events.push_back(
        {EventKind::kCommand,
         (request_id.empty() ? std::string("-") : request_id) + " " + std::to_string(cmd) + " " +
             std::to_string(role) + " " + Printable(data)}
    );
    const auto answer = [&](int status, std::string_view response) {
        Respond(actions, request_id, status, cmd, response);
    };
    // esp_rmaker_cmd_resp: an empty request id, no role or command 0 is an invalid request.
    if (request_id.empty() || (role & 0x0F) == 0 || cmd == 0) {
        answer(kStatusInvalid, "");
        return;
    }
    switch (cmd) {
        case kCmdSetParams: {
            // The core applies the params and answers with what changed; it does not report
            // them on params/local (§2.4).
            boost::system::error_code ec;
            const boost::json::value parsed = boost::json::parse(data, ec);
            const auto* params =
                !ec && parsed.is_object() ? parsed.get_object().if_contains("params") : nullptr;
            if (params == nullptr || !params->is_object()) {
                answer(kStatusFailed, R"({"status":"fail"})");
                return;
            }
            const boost::json::object applied = ApplyRemote(*params);
            actions.events.push_back(
                {EventKind::kApplied, applied.empty() ? "{}" : ParamsJson(applied)}
            );
            answer(
                kStatusSuccess,
                R"({"status":"success","params":)" +
                    (applied.empty() ? "{}" : ParamsJson(applied)) + "}"
            );
            return;
        }
        case kCmdEcho:
            answer(kStatusSuccess, data);
            return;
        case kCmdDeferred:
            deferred_[request_id] = static_cast<std::uint16_t>(cmd);
            actions.events.push_back({EventKind::kDeferred, request_id});
            return;
        case kCmdFail:
            answer(kStatusFailed, R"({"status":"fail"})");
            return;
        case kCmdPrimaryOnly:
            if ((role & 0x03) == 0) {  // neither super admin (1) nor primary (2)
                answer(kStatusAuthFailed, "");
            } else {
                answer(kStatusSuccess, data);
            }
            return;
        default:
            answer(kStatusNotFound, "");
            return;
    }
}

Actions SimulatedNode::Answer(std::string_view request_id, int status, std::string_view data) {
    Actions actions;
    const auto it = deferred_.find(request_id);
    if (it == deferred_.end()) {
        actions.events.push_back(
            {EventKind::kError, "answer: no deferred request " + std::string(request_id)}
        );
        return actions;
    }
    Respond(actions, request_id, status, it->second, data);
    deferred_.erase(it);
    return actions;
}

std::int64_t SimulatedNode::WallSeconds() const {
    if (settings_.wall_seconds) {
        return settings_.wall_seconds();
    }
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

void SimulatedNode::Sample(Actions& actions) {
    ParamModel* temperature = FindParamMutable("Sensor", "Temperature");
    ParamModel* humidity = FindParamMutable("Sensor", "Humidity");
    if (temperature == nullptr || humidity == nullptr) {
        return;
    }
    // A slow random walk, rounded as a sensor driver would.
    std::uniform_int_distribution<int> step(-2, 2);
    const double t = temperature->value.is_double() ? temperature->value.get_double() : 21.5;
    temperature->value = std::round((std::clamp(t + step(rng_) * 0.1, -20.0, 60.0)) * 10) / 10;
    const std::int64_t h = humidity->value.is_int64() ? humidity->value.get_int64() : 45;
    humidity->value = std::clamp<std::int64_t>(h + step(rng_), 0, 100);
    const std::int64_t now = WallSeconds();

    boost::json::object changed;
    changed["Sensor"] = boost::json::object{{"Temperature", nullptr}, {"Humidity", nullptr}};
    Outgoing report = ParamsLocal(changed);
    actions.events.push_back({EventKind::kSample, report.payload});
    actions.out.push_back(std::move(report));
    // §7: tsdata for the time_series param, simple_tsdata for the simple_ts one, besides the
    // params/local report of the same change.
    std::string value;
    AppendParamValue(value, *temperature);
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("tsdata", kRuleTsData),
         R"({"ts_data_version":"2021-09-13","ts_data":[{"name":"Sensor.Temperature",)"
         R"("type":"esp.param.temperature","dt":"float","records":[{"t":)" +
             std::to_string(now) + R"(,"v":)" + value + "}]}]}",
         PublishTag::kOther}
    );
    actions.out.push_back(
        {Outgoing::Kind::kPublish,
         NodeToCloudTopic("simple_tsdata", kRuleSimpleTs),
         R"({"name":"Sensor.Humidity","type":"esp.param.humidity","dt":"int","t":)" +
             std::to_string(now) + R"(,"v":)" + ToCompactJson(humidity->value) + "}",
         PublishTag::kOther}
    );
}

const ParamModel* SimulatedNode::FindParam(std::string_view device, std::string_view param) const {
    return const_cast<SimulatedNode*>(this)->FindParamMutable(device, param);
}

ParamModel* SimulatedNode::FindParamMutable(std::string_view device, std::string_view param) {
    for (auto* list : {&model_.devices, &model_.services}) {
        for (auto& d : *list) {
            if (d.name != device) {
                continue;
            }
            for (auto& p : d.params) {
                if (p.name == param) {
                    return &p;
                }
            }
            return nullptr;
        }
    }
    return nullptr;
}

}  // namespace rainmaker::sim

// One simulated RainMaker node (config, params, topics, boot sequence) as pure logic with no I/O,
// so the firmware behaviour of device-protocol §2-§4 can be checked without a broker.
#include "simulated_node.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace rainmaker::sim {

namespace {

constexpr std::string_view kConfigVersion = "2020-03-20";  // ESP_RMAKER_CONFIG_VERSION

// Basic-ingest rule names (device-protocol §2.1).
constexpr std::string_view kRuleConfig = "esp_node_config";
constexpr std::string_view kRuleMapping = "esp_user_node_mapping";
constexpr std::string_view kRuleInitParams = "esp_init_params";
constexpr std::string_view kRuleSetParams = "esp_set_params";
constexpr std::string_view kRuleOtaFetch = "esp_node_otafetch";

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
        case EventKind::kToNode:
            name = "to-node";
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
    : settings_(std::move(settings)), model_(std::move(model)) {}

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
        // §1.2: after a reconnect the node only re-subscribes; config and init are once per boot.
        // The cmd-resp "poll" publish is optional here and deliberately not sent.
        for (const auto& topic : subscriptions_) {
            actions.out.push_back({Outgoing::Kind::kSubscribe, topic, {}, PublishTag::kOther});
        }
        return actions;
    }
    // §2.3, first connect of the boot.
    Subscribe(actions, CloudToNodeTopic("to-node"));
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
    Subscribe(actions, CloudToNodeTopic("otaurl"));
    otafetch_due_ = now + settings_.otafetch_delay;
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

Actions SimulatedNode::OnMessage(std::string_view topic, std::string_view payload) {
    Actions actions;
    if (topic == CloudToNodeTopic("to-node")) {
        actions.events.push_back({EventKind::kToNode, HexOf(payload)});
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

Actions SimulatedNode::OnTimer(TimePoint now) {
    Actions actions;
    if (!connected_ || !otafetch_due_ || now < *otafetch_due_) {
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

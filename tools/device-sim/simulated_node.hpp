// One simulated RainMaker node (config, params, topics, boot sequence) as pure logic with no I/O,
// so the firmware behaviour of device-protocol §2-§4 can be checked without a broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace rainmaker::sim {

// ---- Node model (device-protocol §3.1) -------------------------------------------------------

enum class DataType { kBool, kInt, kFloat, kString, kObject, kArray };

std::string_view DataTypeName(DataType type);

struct ParamModel {
    std::string name;
    std::string type;  // e.g. "esp.param.power"; empty = not sent
    DataType data_type = DataType::kString;
    bool writable = true;                       // "read" is always present
    std::optional<boost::json::object> bounds;  // {"min","max"[,"step"]} or {"max"} for arrays
    std::string ui_type;                        // empty = not sent
    boost::json::value value;                   // current value, already of data_type
};

// Devices and services share one schema; services only differ in where they are listed.
struct DeviceModel {
    std::string name;
    std::string type;
    std::string primary;  // empty = not sent
    std::vector<ParamModel> params;
};

struct NodeModel {
    boost::json::object info;  // insertion order is the wire order
    boost::json::array attributes;
    std::vector<DeviceModel> devices;
    std::vector<DeviceModel> services;
};

// The "Sim Light" node of the simulator brief: Light (Name, Power, Brightness, read-only
// Temperature), services Time (TZ) and Schedule (Schedules).
NodeModel DefaultLightModel();

// ---- What the node does ----------------------------------------------------------------------

enum class TopicForm {
    kBasicIngest,
    kPlain
};  // §2.1: $aws/rules/<rule>/node/<id>/... or node/<id>/...

struct MappingMessage {
    std::string user_id;
    std::string secret_key;
    bool reset = false;
};

struct NodeSettings {
    std::string node_id;
    TopicForm topic_form = TopicForm::kBasicIngest;
    std::optional<MappingMessage> mapping;  // published once per boot, PUBACK awaited (§4.1)
    std::chrono::milliseconds otafetch_delay{5000};  // §2.3 d: 5 s after "RainMaker started"
};

// The factory-reset dummy of §4.1: removes every mapping of the node, creates none.
MappingMessage FactoryResetMapping();

// Lets the transport tell the node which of its publishes a PUBACK completed.
enum class PublishTag : std::uint8_t {
    kOther,
    kConfig,
    kMapping,
    kInitParams,
    kParamsLocal,
    kOtaFetch,
};

struct Outgoing {
    enum class Kind { kSubscribe, kPublish };
    Kind kind = Kind::kPublish;
    std::string topic;
    std::string payload;
    PublishTag tag = PublishTag::kOther;
};

enum class EventKind {
    kConnected,
    kSubscribed,
    kReady,
    kMappingAcked,
    kParamsRemote,
    kApplied,
    kReported,
    kOtaUrl,
    kToNode,
    kDisconnected,
    kError,
};

struct Event {
    EventKind kind = EventKind::kError;
    std::string detail;
};

// The stdout line for an event, e.g. "applied {\"Light\":{\"Power\":true}}".
std::string FormatEvent(const Event& event);

// What the transport must do, in order: subscriptions/publishes (QoS 1, not retained), events.
struct Actions {
    std::vector<Outgoing> out;
    std::vector<Event> events;
};

class SimulatedNode {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    SimulatedNode(NodeSettings settings, NodeModel model);

    const std::string& NodeId() const { return settings_.node_id; }

    // node→cloud topic in the configured form, e.g. ("params/local", "esp_set_params").
    std::string NodeToCloudTopic(std::string_view suffix, std::string_view rule) const;
    // cloud→node topics are always plain: node/<id>/<suffix>.
    std::string CloudToNodeTopic(std::string_view suffix) const;

    std::string ConfigJson() const;     // §3.1, keys in firmware order
    std::string AllParamsJson() const;  // params/local/init payload

    // Every CONNACK: (re)subscribe; the first one of the boot also runs §2.3 a-d.
    Actions OnConnected(TimePoint now);
    Actions OnDisconnected();
    Actions OnPublishAcked(PublishTag tag, TimePoint now);
    Actions OnMessage(std::string_view topic, std::string_view payload);
    // Fires the otafetch once it is due; only call while connected.
    Actions OnTimer(TimePoint now);

    std::optional<TimePoint> NextTimer() const { return otafetch_due_; }

    // A change made on the device itself (button, sensor): written regardless of the "write"
    // property, still type-checked; reported on params/local. Error event if it cannot apply.
    Actions SetLocal(std::string_view device, std::string_view param, const boost::json::value& v);

    // The params/remote rule of §3.2: returns what was applied ({} if nothing).
    boost::json::object ApplyRemote(const boost::json::value& params);

    const ParamModel* FindParam(std::string_view device, std::string_view param) const;

    bool IsConnected() const { return connected_; }

    bool IsReady() const { return ready_; }

private:
    enum class BootStage { kNotStarted, kAwaitingMappingAck, kStarted };

    ParamModel* FindParamMutable(std::string_view device, std::string_view param);
    void Subscribe(Actions& actions, std::string topic);
    void ContinueBoot(Actions& actions, TimePoint now);
    Outgoing ParamsLocal(const boost::json::object& changed);
    std::string ParamsJson(const boost::json::object& selection) const;

    NodeSettings settings_;
    NodeModel model_;
    BootStage stage_ = BootStage::kNotStarted;
    bool connected_ = false;
    bool ready_ = false;
    std::vector<std::string> subscriptions_;  // re-subscribed on every CONNACK, in this order
    std::optional<TimePoint> otafetch_due_;
};

// Compact JSON as the firmware's generator writes it: no spaces, no "\/", non-ASCII kept as
// UTF-8, doubles in shortest round-trip form.
std::string ToCompactJson(const boost::json::value& value);
void AppendJsonString(std::string& out, std::string_view text);

// The value converted to `type` if params/remote may write it, std::nullopt otherwise:
// bool←bool, int←integral JSON number within int32, float←any number, string←string,
// object←object, array←array.
std::optional<boost::json::value> CoerceParamValue(DataType type, const boost::json::value& v);

}  // namespace rainmaker::sim

// One simulated RainMaker node (config, params, topics, boot sequence) as pure logic with no I/O,
// so the firmware behaviour of device-protocol §2-§4 can be checked without a broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
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
    std::string ts_property;   // "time_series" or "simple_ts" (device-protocol §7), or empty
    boost::json::value value;  // current value, already of data_type
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

// Adds the "Sensor" device of a sensor node: read-only Temperature (float, time_series) and
// Humidity (int, simple_ts), sampled by SimulatedNode at NodeSettings::tsdata_rate.
void AddSensorDevice(NodeModel& model);

// Custom commands the simulated node handles (§2.4: custom ids start at 0x1000), besides the
// standard set-params (1).
inline constexpr std::uint16_t kCmdSetParams = 1;
inline constexpr std::uint16_t kCmdEcho = 0x1000;         // answers success with the data
inline constexpr std::uint16_t kCmdDeferred = 0x1001;     // held until Answer()
inline constexpr std::uint16_t kCmdFail = 0x1002;         // answers status 1 (failed)
inline constexpr std::uint16_t kCmdPrimaryOnly = 0x1003;  // echo for roles 1 and 2, else status 3

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

// What the node does with an otaurl (device-protocol §6), as stock firmware built with
// OTA-using-topics: kUpdate reports in-progress, then (after ota_duration, the "download and
// reboot") runs the new fw_version: config again, success, a fresh otafetch; an otaurl of the
// version it runs is rejected ("Same version received"). kReject rejects every otaurl that way.
// kOff: firmware without OTA (no otaurl subscription, no otafetch). kDownload: stock firmware
// with esp_https_ota: outside the metadata's download_window it reports delayed; else it
// downloads the image (the fleet does it: Actions::download, then OnDownloaded) and checks its
// size, MD5 and project name (failed, failed, rejected "Project Name mismatch") before it
// reboots into it as kUpdate does; a download that fails is tried again, kOtaAttempts in all.
enum class OtaBehaviour { kUpdate, kReject, kOff, kDownload };

// Download attempts of an OTA before it fails (CONFIG_ESP_RMAKER_OTA_MAX_RETRIES).
inline constexpr int kOtaAttempts = 3;

struct NodeSettings {
    std::string node_id;
    TopicForm topic_form = TopicForm::kBasicIngest;
    std::optional<MappingMessage> mapping;  // published once per boot, PUBACK awaited (§4.1)
    std::chrono::milliseconds otafetch_delay{5000};  // §2.3 d: 5 s after "RainMaker started"
    OtaBehaviour ota = OtaBehaviour::kUpdate;
    std::chrono::milliseconds ota_duration{500};  // otaurl → success
    // Sensor samples per second (the model needs AddSensorDevice); 0: none.
    double tsdata_rate = 0;
    // Unix seconds for the records of time series; empty: the system clock.
    std::function<std::int64_t()> wall_seconds;
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
    kOtaStatus,  // "otastatus <job id> <status> <additional_info>": reported to the cloud
    kToNode,     // a request that is not TLV8 (hex)
    kCommand,    // "command <request id> <cmd> <role> <data>"
    kDeferred,   // "deferred <request id>": held until answered
    kAnswered,   // "answered <request id> <status> <data>"
    kSample,     // "sample {params}": a sensor reading, reported with its time series
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
// An OTA image to download (OtaBehaviour::kDownload).
struct DownloadRequest {
    std::string job_id;
    std::string url;
};

// What a download brought (the fleet hands it to SimulatedNode::OnDownloaded); with
// `progress_percent` set, only how far it got (OnDownloaded reports it).
struct DownloadOutcome {
    std::string job_id;  // the request's: an outcome for another OTA is ignored
    std::optional<int> progress_percent;
    bool ok = false;
    std::string error;
    std::uint64_t size = 0;
    std::string md5;  // hex
    std::string project_name;
};

struct Actions {
    std::vector<Outgoing> out;
    std::vector<Event> events;
    std::optional<DownloadRequest> download;
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
    Actions OnMessage(
        std::string_view topic, std::string_view payload, TimePoint now = TimePoint{}
    );
    // Fires the otafetch, the end of an OTA and the sensor samples that are due; only call
    // while connected.
    Actions OnTimer(TimePoint now);

    std::optional<TimePoint> NextTimer() const;

    // The end of the download an otaurl asked for (OtaBehaviour::kDownload): failed (the
    // download, its size or its MD5), rejected (another project), or in-progress and the reboot
    // into it after ota_duration.
    Actions OnDownloaded(const DownloadOutcome& outcome, TimePoint now);

    // Answers a deferred request (kCmdDeferred) with `status` and `data`; an error event when
    // no request of that id is held.
    Actions Answer(std::string_view request_id, int status, std::string_view data);

    // A change made on the device itself (button, sensor): written regardless of the "write"
    // property, still type-checked; reported on params/local. Error event if it cannot apply.
    Actions SetLocal(std::string_view device, std::string_view param, const boost::json::value& v);

    // The params/remote rule of §3.2: returns what was applied ({} if nothing). The schedule
    // service's Schedules param takes operations (add, edit, remove, enable, disable) and
    // keeps the schedule list, as the firmware's schedule service does.
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
    // §2.4: a to-node request, answered at once unless deferred.
    void OnCommand(Actions& actions, std::string_view payload);
    // Publishes the answer to request `request_id` on from-node and reports it (answered).
    void Respond(
        Actions& actions, std::string_view request_id, int status, int cmd, std::string_view data
    ) const;
    Outgoing Poll() const;
    void Sample(Actions& actions);
    // §6.1/6.2: an otaurl (started, or rejected).
    void OnOtaUrl(Actions& actions, const boost::json::value& message, TimePoint now);
    void ReportOta(
        Actions& actions, const std::string& job_id, std::string_view status, std::string_view info
    ) const;
    // The OTA is done: the node runs the new version (config again, success, otafetch later).
    void FinishOta(Actions& actions, TimePoint now);
    std::int64_t WallSeconds() const;

    NodeSettings settings_;
    NodeModel model_;
    BootStage stage_ = BootStage::kNotStarted;
    bool connected_ = false;
    bool ready_ = false;
    std::vector<std::string> subscriptions_;  // re-subscribed on every CONNACK, in this order
    std::optional<TimePoint> otafetch_due_;

    struct OtaInProgress {
        std::string job_id;
        std::string fw_version;
        TimePoint due;  // the reboot into the new image (TimePoint::max() while downloading)
        bool downloading = false;
        std::optional<std::uint64_t> file_size;  // as the otaurl gave them
        std::string file_md5;
        std::string url;  // downloaded again after a failed attempt
        int attempt = 1;  // of kOtaAttempts
    };

    std::optional<OtaInProgress> ota_;  // new otaurls are ignored meanwhile
    std::optional<TimePoint> sample_due_;
    std::map<std::string, std::uint16_t, std::less<>> deferred_;  // request id → command
    std::mt19937 rng_;
};

// Compact JSON as the firmware's generator writes it: no spaces, no "\/", non-ASCII kept as
// UTF-8, doubles in shortest round-trip form.
std::string ToCompactJson(const boost::json::value& value);
void AppendJsonString(std::string& out, std::string_view text);

// The firmware schedule service (esp_rmaker_schedule): applies the operations of a Schedules
// write to the kept list, at most `max` schedules; returns the new list. Operations without an
// id or of an unknown kind are ignored, as are an add of an existing id and an edit, remove,
// enable or disable of a missing one.
boost::json::array ApplyScheduleOperations(
    const boost::json::array& schedules, const boost::json::array& operations, std::size_t max
);

// The value converted to `type` if params/remote may write it, std::nullopt otherwise:
// bool←bool, int←integral JSON number within int32, float←any number, string←string,
// object←object, array←array.
std::optional<boost::json::value> CoerceParamValue(DataType type, const boost::json::value& v);

}  // namespace rainmaker::sim

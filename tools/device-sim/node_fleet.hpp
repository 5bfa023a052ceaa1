// Many simulated nodes over libmosquitto in one thread: one poll() loop drives every node's socket
// (mosquitto_loop_read/write/misc), so 10,000 nodes need no thread per node.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <poll.h>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "claim.hpp"
#include "simulated_node.hpp"

struct mosquitto;
struct mosquitto_message;

namespace rainmaker::sim {

struct BrokerOptions {
    std::string host;
    int port = 8883;
    std::string ca_file;  // server verified against it; hostname checked unless `insecure`
    bool insecure = false;
    std::string alpn;  // e.g. "x-amzn-mqtt-ca" like firmware on port 443; empty = none
    int keepalive_s = 120;
    double connect_rate = 200;  // connect attempts per second, first connects and reconnects
    std::chrono::milliseconds reconnect_min{1000};  // back-off doubles up to reconnect_max
    std::chrono::milliseconds reconnect_max{10000};
};

struct FleetStats {
    std::size_t nodes = 0;
    std::size_t connected = 0;  // right now
    std::size_t ready = 0;      // nodes whose params/local/init was acked this boot
    std::uint64_t connect_attempts = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t disconnects = 0;  // losses of an established connection
    std::uint64_t published = 0;    // QoS 1 publishes handed to libmosquitto
    std::uint64_t acked = 0;        // PUBACKs received
    std::uint64_t received = 0;     // messages received from the broker
    std::uint64_t applied = 0;      // params/remote messages that changed something
    std::uint64_t errors = 0;
    // Publish → PUBACK time of params/local reports, in microseconds (first 1,000,000 only).
    std::vector<std::uint32_t> params_local_ack_us;
};

// The PPI-style username the firmware sends (device-protocol §1.1).
std::string PpiUsername(const std::string& mac);

class NodeFleet {
public:
    using EventHandler = std::function<void(std::size_t node, const Event& event)>;

    NodeFleet(BrokerOptions options, EventHandler on_event);
    ~NodeFleet();
    NodeFleet(const NodeFleet&) = delete;
    NodeFleet& operator=(const NodeFleet&) = delete;

    // Creates the node's libmosquitto client (not connected yet). Throws std::runtime_error.
    std::size_t Add(const NodeFiles& files, NodeSettings settings);

    // Queues every node that never connected; the connects are spread by connect_rate.
    void ConnectAll();

    // One poll() round over all sockets plus `extra_fd` (POLLIN), waiting at most max_wait.
    // Returns the revents of extra_fd (0 if none or not given).
    short PollOnce(std::chrono::milliseconds max_wait, int extra_fd = -1);

    // Drops the TCP connection without an MQTT DISCONNECT, like a power cut; the node stays
    // offline until Reconnect().
    void PowerCut(std::size_t node);
    // Power-cuts the node if it is online, then connects it again at once.
    void Reconnect(std::size_t node);

    // A local param change (see SimulatedNode::SetLocal), published on params/local.
    void SetLocal(
        std::size_t node,
        std::string_view device,
        std::string_view param,
        const boost::json::value& value
    );

    // Answers a deferred command request (see SimulatedNode::Answer).
    void Answer(std::size_t node, std::string_view request_id, int status, std::string_view data);

    // Sends MQTT DISCONNECT on every live connection and waits up to `flush` for them to go.
    void DisconnectAll(std::chrono::milliseconds flush);

    std::size_t Size() const { return connections_.size(); }

    const SimulatedNode& Node(std::size_t node) const;
    bool IsReady(std::size_t node) const;

    const FleetStats& Stats() const { return stats_; }

private:
    struct Connection;

    static void OnConnectCallback(mosquitto* mosq, void* user, int rc);
    static void OnDisconnectCallback(mosquitto* mosq, void* user, int rc);
    static void OnPublishCallback(mosquitto* mosq, void* user, int mid);
    static void OnMessageCallback(mosquitto* mosq, void* user, const mosquitto_message* message);
    static void OnSubscribeCallback(
        mosquitto* mosq, void* user, int mid, int count, const int* qos
    );
    static void OnLogCallback(mosquitto* mosq, void* user, int level, const char* text);

    void StartDueConnects(std::chrono::steady_clock::time_point now);
    void StartConnect(Connection& c);
    void Maintain(std::chrono::steady_clock::time_point now);
    void HandleDown(Connection& c, const std::string& reason);
    void Execute(Connection& c, Actions actions);
    void Emit(Connection& c, const Event& event);
    // An OTA download (OtaBehaviour::kDownload) on a thread of its own; its outcome goes to
    // the node from the loop (FinishDownloads).
    void StartDownload(Connection& c, const DownloadRequest& request);
    void FinishDownloads();

    BrokerOptions options_;
    EventHandler on_event_;
    std::vector<std::unique_ptr<Connection>> connections_;
    FleetStats stats_;
    std::size_t waiting_ = 0;  // nodes with a connect attempt scheduled
    double connect_tokens_ = 1;
    std::chrono::steady_clock::time_point tokens_at_;
    std::chrono::steady_clock::time_point next_maintenance_;
    std::vector<pollfd> poll_fds_;
    std::vector<Connection*> poll_owners_;

    // OTA downloads: at most kMaxDownloads at once, each on its thread (joined once done, or
    // cancelled and joined when the fleet goes); the others wait their turn.
    struct Download {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };

    std::vector<Download> downloads_;
    std::deque<std::pair<Connection*, DownloadRequest>> waiting_downloads_;
    std::atomic<bool> stopping_{false};
    std::mutex downloaded_mutex_;
    std::vector<std::pair<Connection*, DownloadOutcome>> downloaded_;  // for the loop to hand on
};

}  // namespace rainmaker::sim

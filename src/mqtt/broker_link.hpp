// rainmaker-server's own MQTT connection (libmosquitto): receives what nodes publish and the
// presence events, hands them to the domain in batches on one ingest thread, and publishes to
// nodes (the NodePublisher of the domain). One network thread owns the libmosquitto client
// and drives it with poll(): libmosquitto's own loop uses select(), which fails for good on a
// socket numbered 1024 or more (a busy server with a raised open-file limit).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "mqtt/embedded_broker.hpp"
#include "mqtt/outbox.hpp"
#include "storage/database.hpp"

struct mosquitto;
struct mosquitto_message;

namespace rainmaker::mqtt {

struct LinkCounters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> ingested{0};
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> dropped{0};  // ingest queue full
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> publish_failures{0};
};

class BrokerLink final : public domain::nodes::NodePublisher {
public:
    BrokerLink(
        domain::nodes::NodeIngest& ingest, storage::Database& db, OutboxLimits outbox_limits = {}
    );
    ~BrokerLink() override;
    BrokerLink(const BrokerLink&) = delete;
    BrokerLink& operator=(const BrokerLink&) = delete;

    // Connects (retrying in the background) and starts the ingest thread; waits up to 10 s
    // for the first connection and throws std::runtime_error if it does not come.
    void Start(LinkEndpoint endpoint);
    void Stop();

    // domain::nodes::NodePublisher
    bool Publish(std::string_view node_id, std::string_view suffix, std::string_view payload)
        override;

    bool connected() const { return connected_; }

    const LinkCounters& counters() const { return counters_; }

    // Prometheus lines for /metrics.
    std::string RenderMetrics() const;

private:
    struct Message {
        std::string topic;
        std::string payload;
    };

    static void OnConnect(mosquitto* client, void* self, int rc);
    static void OnDisconnect(mosquitto* client, void* self, int rc);
    static void OnMessage(mosquitto* client, void* self, const mosquitto_message* message);
    void IngestLoop();
    void Apply(const Message& message);
    // The network thread: connects and reconnects, sends what Publish queued, reads.
    void NetworkLoop();
    // Hands the queued publishes to libmosquitto (network thread only) once it has written
    // what it was given before, so that the bounded outbox, not libmosquitto's unbounded
    // queue, holds what the broker does not take yet; `all`: whatever it still holds (stop).
    void SendQueued(bool all = false);
    // Waits up to `timeout` for the wake descriptor (a publish, Stop).
    void Sleep(std::chrono::milliseconds timeout);
    void Wake();

    LinkEndpoint endpoint_;
    domain::nodes::NodeIngest& ingest_;
    storage::Database& db_;
    mosquitto* client_ = nullptr;
    std::atomic<bool> connected_{false};
    std::atomic<bool> stopping_{false};
    LinkCounters counters_;

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Message> queue_;
    std::thread ingest_thread_;

    std::thread network_thread_;
    int wake_fd_ = -1;  // eventfd: Publish and Stop wake the network thread
    Outbox outbox_;     // publishes waiting for the network thread
};

}  // namespace rainmaker::mqtt

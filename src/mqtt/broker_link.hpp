// rainmaker-server's own MQTT connections: one receives what nodes publish and the presence
// events (IngestConnection: a persistent session, shared subscriptions so that several server
// instances each take a part, a message acknowledged only once the store committed it) and
// hands them to the domain in batches on one ingest thread; the other publishes to nodes (the
// NodePublisher of the domain) through libmosquitto. One network thread owns the libmosquitto
// client and drives it with poll(): libmosquitto's own loop uses select(), which fails for good
// on a socket numbered 1024 or more (a busy server with a raised open-file limit).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>

#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "mqtt/embedded_broker.hpp"
#include "mqtt/ingest_connection.hpp"
#include "mqtt/outbox.hpp"
#include "mqtt/wake_fd.hpp"
#include "storage/database.hpp"

struct mosquitto;

namespace rainmaker::mqtt {

struct LinkCounters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> ingested{0};
    std::atomic<std::uint64_t> node_messages{0};  // received on a node topic (not presence)
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> duplicates{0};  // sent again by the broker after we stored them
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
    // for the first connections (subscribed, able to publish) and throws std::runtime_error if
    // they do not come. The ingest session is the endpoint's client id, the publisher that id
    // with "-out".
    void Start(LinkEndpoint endpoint);
    void Stop();

    // domain::nodes::NodePublisher
    bool Publish(std::string_view node_id, std::string_view suffix, std::string_view payload)
        override;

    bool connected() const { return connected_ && ingest_conn_ && ingest_conn_->subscribed(); }

    const LinkCounters& counters() const { return counters_; }

    // Prometheus lines for /metrics.
    std::string RenderMetrics() const;

private:
    // An empty topic: presence is reset (the broker lost what it knew of us).
    using Message = IngestMessage;

    static void OnConnect(mosquitto* client, void* self, int rc);
    static void OnDisconnect(mosquitto* client, void* self, int rc);
    void IngestLoop();

    // What one transaction found of a packet id: stored on a closed connection (its digest), or
    // a redelivery of one stored (duplicate).
    struct Seen {
        std::optional<std::uint64_t> digest;
        bool duplicate = false;
    };

    // Applies `messages` in one transaction, skipping redeliveries of stored ones; true when it
    // committed (then `unacknowledged_` learns what `seen` holds).
    bool ApplyInTransaction(
        std::span<const Message> messages, std::unordered_map<std::uint16_t, Seen>& seen
    );
    // Applies a batch; returns how many of its messages, from the first, are done (committed,
    // or refused by a store that works): all, unless stopping while the store does not work.
    std::size_t ApplyBatch(const std::vector<Message>& batch);
    // Acknowledges the first `done` messages of `batch`.
    void Acknowledge(const std::vector<Message>& batch, std::size_t done);
    bool StoreWorks();
    void Apply(const Message& message);
    void OnSession(bool session_present);
    void Enqueue(Message message);
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
    std::size_t queued_bytes_ = 0;
    std::thread ingest_thread_;
    std::unique_ptr<IngestConnection> ingest_conn_;
    // Ingest thread: messages stored whose acknowledgement could not go out (their connection
    // had closed), by packet id: the broker sends them again marked dup, and the copy is
    // acknowledged without being applied twice. The digest tells them from a new message that
    // reuses the id.
    std::unordered_map<std::uint16_t, std::uint64_t> unacknowledged_;

    std::thread network_thread_;
    WakeFd wake_;    // Publish and Stop wake the network thread
    Outbox outbox_;  // publishes waiting for the network thread
};

}  // namespace rainmaker::mqtt

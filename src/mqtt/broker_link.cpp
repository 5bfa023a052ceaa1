// libmosquitto callbacks, the ingest queue and batching.
#include "mqtt/broker_link.hpp"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include <mosquitto.h>

#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "mqtt/topics.hpp"

namespace rainmaker::mqtt {

namespace {

// Node→cloud suffixes in the plain form, listed one by one so the link never receives its own
// params/remote. Subscribed shared: each message goes to one instance of those subscribed.
constexpr const char* kNodeSubscriptions[] = {
    "node/+/config",
    "node/+/params/local",
    "node/+/params/local/+",
    "node/+/user/mapping",
    "node/+/alert",
    "node/+/otafetch",
    "node/+/otastatus",
    "node/+/tsdata",
    "node/+/simple_tsdata",
    "node/+/from-node",
};

// The firmware's default "basic ingest" spelling. Mosquitto 2.0 never matches a '$' topic
// against a shared subscription, so this one is each instance's own: our plugin passes such
// messages on in the plain form (rewrite_basic_ingest) and nothing arrives here; a broker that
// does not would have every instance apply them (docs/deployment.md).
constexpr const char* kBasicIngest = "$aws/rules/+/node/+/#";

// The presence events of one source only: the other source's topics are not the broker's own,
// so any client the broker's ACL lets publish there could forge them. '$' topics too, so each
// instance reads them all: applying one is idempotent (the stored version decides), so the
// second instance changes nothing. EMQX publishes its client events with QoS 0, so they arrive
// with QoS 0 whatever the link asks: those sent while the link is down are lost, and every
// connection resets presence (OnSession).
constexpr const char* kPluginPresence[] = {"$aws/events/presence/#"};
constexpr const char* kEmqxPresence[] = {
    "$SYS/brokers/+/clients/+/connected",
    "$SYS/brokers/+/clients/+/disconnected",
};

// How many queued messages one store transaction takes: group commit keeps ingest fast.
constexpr std::size_t kBatch = 512;
// The ingest connection stops reading while the queue holds this much (TCP holds the rest).
constexpr std::size_t kMaxQueue = 200000;
constexpr std::size_t kMaxQueueBytes = 64 * 1024 * 1024;

// The share group of every instance's ingest subscriptions: the broker hands each message to
// one of them.
constexpr const char* kShareGroup = "$share/rainmaker/";

// Tells a message from another that reuses its packet id.
std::uint64_t Digest(const IngestMessage& m) {
    return std::hash<std::string>{}(m.topic) * 31 + std::hash<std::string>{}(m.payload);
}

struct LibInit {
    LibInit() { mosquitto_lib_init(); }
};

}  // namespace

BrokerLink::BrokerLink(
    domain::nodes::NodeIngest& ingest, storage::Database& db, OutboxLimits outbox_limits
)
    : ingest_(ingest), db_(db), outbox_(outbox_limits) {
    static const LibInit kInit;
}

BrokerLink::~BrokerLink() {
    Stop();
}

void BrokerLink::Start(LinkEndpoint endpoint) {
    endpoint_ = std::move(endpoint);
    client_ = mosquitto_new((endpoint_.client_id + "-out").c_str(), true, this);
    if (client_ == nullptr) {
        throw std::runtime_error("mosquitto_new failed");
    }
    wake_.Open();
    mosquitto_username_pw_set(client_, endpoint_.user.c_str(), endpoint_.password.c_str());
    mosquitto_connect_callback_set(client_, &BrokerLink::OnConnect);
    mosquitto_disconnect_callback_set(client_, &BrokerLink::OnDisconnect);
    mosquitto_max_inflight_messages_set(client_, 0);  // no limit on QoS 1 in flight
    // No Nagle: a publish right after the PUBACK of a received message (a command sent while
    // answers come in) would otherwise wait for the broker's delayed ACK, up to 40 ms.
    if (const int rc = mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
        rc != MOSQ_ERR_SUCCESS) {
        core::log::Warn(
            std::string("MQTT link: TCP_NODELAY not set (") + mosquitto_strerror(rc) +
            "): publishes may wait for the broker's delayed ACK"
        );
    }
    IngestOptions options;
    options.host = endpoint_.host;
    options.port = endpoint_.port;
    options.user = endpoint_.user;
    options.password = endpoint_.password;
    options.client_id = endpoint_.client_id;
    for (const char* topic : kNodeSubscriptions) {
        options.filters.push_back(std::string(kShareGroup) + topic);
    }
    if (endpoint_.leave_on_stop) {
        options.leave_on_stop = options.filters;
    }
    options.filters.emplace_back(kBasicIngest);
    if (endpoint_.presence == PresenceSource::kEmqxSys) {
        options.filters.insert(
            options.filters.end(), std::begin(kEmqxPresence), std::end(kEmqxPresence)
        );
    } else {
        options.filters.insert(
            options.filters.end(), std::begin(kPluginPresence), std::end(kPluginPresence)
        );
    }
    ingest_conn_ = std::make_unique<IngestConnection>(
        std::move(options),
        IngestConnection::Handlers{
            [this](bool present, std::uint64_t) { OnSession(present); },
            [this](IngestMessage m) { Enqueue(std::move(m)); },
            [this] {
                std::lock_guard lock(mutex_);
                return queue_.size() < kMaxQueue && queued_bytes_ < kMaxQueueBytes;
            }}
    );
    ingest_thread_ = std::thread([this] { IngestLoop(); });
    network_thread_ = std::thread([this] { NetworkLoop(); });
    ingest_conn_->Start();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::unique_lock lock(mutex_);
    while (!connected() && std::chrono::steady_clock::now() < until) {
        ready_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (!connected()) {
        throw std::runtime_error(
            "the MQTT link did not connect to " + endpoint_.host + ":" +
            std::to_string(endpoint_.port)
        );
    }
}

void BrokerLink::Stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    if (ingest_conn_) {
        ingest_conn_->StopReading();  // what was read is stored and acknowledged below
    }
    Wake();
    if (network_thread_.joinable()) {
        network_thread_.join();
    }
    ready_.notify_all();
    if (ingest_thread_.joinable()) {
        ingest_thread_.join();
    }
    if (ingest_conn_) {
        ingest_conn_->Stop();
    }
    if (client_ != nullptr) {
        mosquitto_destroy(client_);
        client_ = nullptr;
    }
    wake_.Close();
}

void BrokerLink::Wake() {
    wake_.Notify();
}

void BrokerLink::Sleep(std::chrono::milliseconds timeout) {
    pollfd wake{wake_.fd(), POLLIN, 0};
    if (::poll(&wake, 1, static_cast<int>(timeout.count())) > 0) {
        wake_.Drain();
    }
}

void BrokerLink::SendQueued(bool all) {
    if (!all && mosquitto_want_write(client_)) {
        return;  // libmosquitto still holds unwritten bytes: the rest waits in the outbox
    }
    const auto sending = outbox_.TakeAll();
    for (const auto& m : sending) {
        // Not threaded: libmosquitto writes at once what the socket takes and keeps the rest
        // until the socket is writable (mosquitto_want_write).
        const int rc = mosquitto_publish(
            client_,
            nullptr,
            m.topic.c_str(),
            static_cast<int>(m.payload.size()),
            m.payload.data(),
            1,
            false
        );
        if (rc != MOSQ_ERR_SUCCESS) {
            ++counters_.publish_failures;
        } else {
            ++counters_.published;
        }
    }
}

void BrokerLink::NetworkLoop() {
    core::NameThisThread("rm-broker-link");
    auto backoff = std::chrono::milliseconds(500);
    bool ever_connected = false;
    bool down_logged = false;
    while (!stopping_) {
        if (mosquitto_socket(client_) < 0) {
            // Asynchronous: the TCP connect completes in the poll loop, so Stop never waits on
            // an unreachable broker.
            const int rc =
                ever_connected
                    ? mosquitto_reconnect_async(client_)
                    : mosquitto_connect_async(client_, endpoint_.host.c_str(), endpoint_.port, 30);
            if (rc != MOSQ_ERR_SUCCESS) {
                if (!down_logged) {
                    core::log::Warn(
                        "MQTT link cannot reach " + endpoint_.host + ":" +
                        std::to_string(endpoint_.port) + " (" + mosquitto_strerror(rc) +
                        "), retrying"
                    );
                    down_logged = true;
                }
                Sleep(backoff);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
                continue;
            }
            ever_connected = true;
            down_logged = false;
            backoff = std::chrono::milliseconds(500);
        }
        SendQueued();
        const int socket = mosquitto_socket(client_);
        pollfd fds[2] = {
            {socket,
             static_cast<short>(mosquitto_want_write(client_) ? POLLIN | POLLOUT : POLLIN),
             0},
            {wake_.fd(), POLLIN, 0}};
        // A second at most, for keep-alive pings and retries (mosquitto_loop_misc).
        if (::poll(fds, 2, 1000) < 0 && errno != EINTR) {
            core::log::Error("MQTT link poll failed");
        }
        if ((fds[1].revents & POLLIN) != 0) {
            wake_.Drain();
        }
        int rc = MOSQ_ERR_SUCCESS;
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            rc = mosquitto_loop_read(client_, 1);
        }
        if (rc == MOSQ_ERR_SUCCESS && (fds[0].revents & POLLOUT) != 0 &&
            mosquitto_socket(client_) >= 0) {
            rc = mosquitto_loop_write(client_, 1);
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_loop_misc(client_);
        }
        if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(client_) < 0) {
            // Lost: libmosquitto closed the socket (and called OnDisconnect when it was up).
            connected_ = false;
            if (mosquitto_socket(client_) >= 0) {
                mosquitto_disconnect(client_);
            }
            Sleep(backoff);
        }
    }
    if (mosquitto_socket(client_) >= 0) {
        SendQueued(true);
        mosquitto_disconnect(client_);
    }
}

void BrokerLink::OnConnect(mosquitto* /*client*/, void* self_ptr, int rc) {
    auto* self = static_cast<BrokerLink*>(self_ptr);
    if (rc != 0) {
        core::log::Error("MQTT link refused: " + std::string(mosquitto_connack_string(rc)));
        return;
    }
    self->connected_ = true;
    core::log::Info(
        "MQTT link connected to " + self->endpoint_.host + ":" +
        std::to_string(self->endpoint_.port)
    );
    std::lock_guard lock(self->mutex_);
    self->ready_.notify_all();
}

void BrokerLink::OnSession(bool session_present) {
    // Our plugin's events are QoS 1, kept for us in the session while we are away, and its
    // retained run message (Apply) says when the broker restarted, whatever instance reads it.
    // EMQX sends its events with QoS 0, which it keeps for a session it holds (its
    // mqueue_store_qos0, on by default) but not across its own restart: without our session,
    // presence is reset (every node offline until it connects again), ahead of any message.
    if (endpoint_.presence == PresenceSource::kEmqxSys && !session_present) {
        Enqueue(Message{});
    }
}

void BrokerLink::OnDisconnect(mosquitto* /*client*/, void* self_ptr, int rc) {
    auto* self = static_cast<BrokerLink*>(self_ptr);
    self->connected_ = false;
    if (!self->stopping_) {
        core::log::Warn("MQTT link lost (" + std::to_string(rc) + "), reconnecting");
    }
}

void BrokerLink::Enqueue(Message message) {
    if (!message.topic.empty()) {
        ++counters_.received;
    }
    std::lock_guard lock(mutex_);
    queued_bytes_ += message.topic.size() + message.payload.size();
    queue_.push_back(std::move(message));
    ready_.notify_one();
}

void BrokerLink::Apply(const Message& message) {
    if (message.topic.empty()) {
        ingest_.ResetPresence();
        return;
    }
    const bool emqx = endpoint_.presence == PresenceSource::kEmqxSys;
    if (!emqx && message.topic == kPresenceRunTopic) {
        // The broker's run: nodes reported by earlier runs are gone (their disconnects were
        // never published); those of this run, whichever instance applied them, stay.
        if (const auto run_order = ParsePresenceRun(message.payload)) {
            ingest_.EndEarlierRuns(*run_order);
            ++counters_.ingested;
        } else {
            ++counters_.malformed;
        }
        return;
    }
    if (const auto presence =
            emqx ? ParseEmqxPresenceTopic(message.topic) : ParsePresenceTopic(message.topic)) {
        const auto event = emqx ? ParseEmqxPresencePayload(message.payload, *presence)
                                : ParsePresencePayload(message.payload);
        if (!event) {
            ++counters_.malformed;
            return;
        }
        ingest_.HandlePresence(
            presence->client_id, presence->connected, event->at_ms, event->order
        );
        ++counters_.ingested;
        return;
    }
    const auto topic = ParseNodeTopic(message.topic);
    if (!topic) {
        ++counters_.malformed;
        return;
    }
    ++counters_.node_messages;
    switch (ingest_.Handle(topic->node_id, topic->suffix, message.payload)) {
        case domain::nodes::IngestOutcome::kApplied:
            ++counters_.ingested;
            break;
        case domain::nodes::IngestOutcome::kMalformed:
            ++counters_.malformed;
            break;
        case domain::nodes::IngestOutcome::kTooLarge:
        case domain::nodes::IngestOutcome::kUnhandled:
            break;  // counted by the ingest
    }
}

bool BrokerLink::ApplyInTransaction(
    std::span<const Message> messages, std::unordered_map<std::uint16_t, Seen>& seen
) {
    seen.clear();
    try {
        db_.Transaction([&] {
            for (const auto& m : messages) {
                if (m.packet_id != 0 && m.dup) {
                    const auto in_batch = seen.find(m.packet_id);
                    const auto stored = unacknowledged_.find(m.packet_id);
                    const std::optional<std::uint64_t> known =
                        in_batch != seen.end()
                            ? in_batch->second.digest
                            : (stored != unacknowledged_.end() ? std::optional(stored->second)
                                                               : std::nullopt);
                    if (known == Digest(m)) {
                        // Stored already: acknowledged, not applied again. Kept while this copy
                        // too came on a connection that is gone (it comes once more).
                        const bool gone = m.connection != ingest_conn_->connections();
                        seen.insert_or_assign(m.packet_id, Seen{gone ? known : std::nullopt, true});
                        continue;
                    }
                }
                Apply(m);
                if (m.packet_id != 0 && m.connection != ingest_conn_->connections()) {
                    // Its connection is gone: no acknowledgement reaches the broker, which
                    // sends it again marked dup.
                    seen.insert_or_assign(m.packet_id, Seen{Digest(m), false});
                }
            }
        });
    } catch (const std::exception& e) {
        core::log::Error(std::string("MQTT ingest: the store refused a batch: ") + e.what());
        return false;
    }
    // Committed: what the batch learnt about redeliveries holds now.
    for (const auto& [id, s] : seen) {
        if (s.digest) {
            unacknowledged_.insert_or_assign(id, *s.digest);
        } else {
            unacknowledged_.erase(id);
        }
        counters_.duplicates += s.duplicate ? 1 : 0;
    }
    return true;
}

bool BrokerLink::StoreWorks() {
    try {
        db_.Transaction([] {});
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::size_t BrokerLink::ApplyBatch(const std::vector<Message>& batch) {
    std::unordered_map<std::uint16_t, Seen> seen;
    if (ApplyInTransaction(batch, seen)) {
        return batch.size();
    }
    // One message broke the batch, or the store is unavailable: one by one, so that the others
    // are kept. A message refused three times by a store that works is dropped (and
    // acknowledged); while the store does not work, nothing is acknowledged: the broker keeps
    // the rest for us.
    auto wait = std::chrono::milliseconds(100);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        for (int refused = 0; !ApplyInTransaction(std::span(&batch[i], 1), seen);) {
            const bool works = StoreWorks();
            if (works && ++refused == 3) {
                ++counters_.malformed;
                core::log::Error(
                    "MQTT ingest of " + batch[i].topic + " dropped: the store refuses it"
                );
                break;
            }
            if (stopping_) {
                return i;
            }
            if (!works) {
                core::log::Error("MQTT ingest: the store does not work; retrying");
            }
            std::this_thread::sleep_for(wait);
            wait = std::min(wait * 2, std::chrono::milliseconds(5000));
        }
    }
    return batch.size();
}

void BrokerLink::Acknowledge(const std::vector<Message>& batch, std::size_t done) {
    // In the order received, per connection. One whose connection closed is sent again by the
    // broker, marked dup, and known as stored (ApplyInTransaction).
    std::vector<std::uint16_t> ids;
    for (std::size_t i = 0; i < done; ++i) {
        if (batch[i].packet_id != 0) {
            ids.push_back(batch[i].packet_id);
        }
        const bool run_ends = i + 1 == done || batch[i + 1].connection != batch[i].connection;
        if (run_ends && !ids.empty()) {
            if (!ingest_conn_->Acknowledge(batch[i].connection, ids)) {
                for (std::size_t j = i + 1;
                     j-- > 0 && batch[j].connection == batch[i].connection;) {
                    if (batch[j].packet_id != 0) {
                        unacknowledged_.insert_or_assign(batch[j].packet_id, Digest(batch[j]));
                    }
                }
            }
            ids.clear();
        }
    }
}

void BrokerLink::IngestLoop() {
    core::NameThisThread("rm-ingest");
    std::vector<Message> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) {
                return;
            }
            while (!queue_.empty() && batch.size() < kBatch) {
                queued_bytes_ -= queue_.front().topic.size() + queue_.front().payload.size();
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        Acknowledge(batch, ApplyBatch(batch));
        batch.clear();
        ingest_conn_->Wake();  // room again in the queue
    }
}

bool BrokerLink::Publish(
    std::string_view node_id, std::string_view suffix, std::string_view payload
) {
    if (!connected_ || client_ == nullptr) {
        ++counters_.publish_failures;
        return false;
    }
    if (!outbox_.Push(
            {"node/" + std::string(node_id) + "/" + std::string(suffix), std::string(payload)}
        )) {
        ++counters_.publish_failures;  // the outbox is full (count or bytes)
        return false;
    }
    Wake();  // the network thread sends it
    return true;
}

std::string BrokerLink::RenderMetrics() const {
    std::string out;
    const auto line = [&](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    line(
        "rainmaker_mqtt_received_total",
        "MQTT messages received from the broker.",
        counters_.received
    );
    line(
        "rainmaker_mqtt_ingested_total",
        "Node messages and presence events applied.",
        counters_.ingested
    );
    line(
        "rainmaker_mqtt_node_messages_total",
        "Messages received on a node topic (of those, each goes to one instance of several).",
        counters_.node_messages
    );
    line(
        "rainmaker_mqtt_malformed_total",
        "Messages refused as malformed or unknown.",
        counters_.malformed
    );
    line(
        "rainmaker_mqtt_duplicates_total",
        "Messages the broker sent again after they were stored (acknowledged, not applied twice).",
        counters_.duplicates
    );
    const auto& ingest = ingest_.counters();
    line(
        "rainmaker_mqtt_too_large_total",
        "Node messages refused for their size (or the size they would make a stored document).",
        ingest.too_large
    );
    line(
        "rainmaker_mqtt_unhandled_total",
        "Node messages on topics no area handles (yet).",
        ingest.unhandled
    );
    line(
        "rainmaker_mqtt_params_dropped_total",
        "Reported params dropped because the node's config does not declare them (or their type).",
        ingest.params_dropped
    );
    line("rainmaker_mqtt_published_total", "Messages published to nodes.", counters_.published);
    line(
        "rainmaker_mqtt_publish_failures_total",
        "Publishes refused (link down, or its outbox full: 200,000 messages or 64 MiB).",
        counters_.publish_failures
    );
    out += std::string("# HELP rainmaker_mqtt_link_up 1 when the broker link is connected.\n") +
           "# TYPE rainmaker_mqtt_link_up gauge\nrainmaker_mqtt_link_up " +
           (connected_ ? "1" : "0") + "\n";
    return out;
}

}  // namespace rainmaker::mqtt

// Many simulated nodes over libmosquitto in one thread: one poll() loop drives every node's socket
// (mosquitto_loop_read/write/misc), so 10,000 nodes need no thread per node.
#include "node_fleet.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>
#include <unordered_map>

#include <mosquitto.h>

#include "ota_download.hpp"

namespace rainmaker::sim {

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Keepalive pings, QoS retries and node timers need no finer resolution than this.
constexpr auto kMaintenancePeriod = std::chrono::milliseconds(100);
constexpr std::size_t kMaxLatencySamples = 1'000'000;

TimePoint Now() {
    return Clock::now();
}

struct MosquittoDeleter {
    void operator()(mosquitto* m) const { mosquitto_destroy(m); }
};

std::string ErrorText(int rc, const std::string& last_log) {
    std::string text = mosquitto_strerror(rc);
    if (rc == MOSQ_ERR_ERRNO) {
        text = std::generic_category().message(errno);
    }
    if (!last_log.empty()) {
        text += " (" + last_log + ")";
    }
    return text;
}

// libmosquitto 2.0 opens a socket pair per client (in mosquitto_new and again in
// mosquitto_connect_async) only to wake mosquitto_loop()'s select() from other threads. This loop
// never uses it, and it would triple the descriptors per node: 10,000 nodes would need 30,000
// against a usual hard limit of 20,000. A failed socketpair() is tolerated by libmosquitto (it
// logs a warning and skips the wake-ups), so the override below refuses it inside this scope.
thread_local bool t_refuse_socketpair = false;

class RefuseSocketPairScope {
public:
    RefuseSocketPairScope() { t_refuse_socketpair = true; }

    ~RefuseSocketPairScope() { t_refuse_socketpair = false; }

    RefuseSocketPairScope(const RefuseSocketPairScope&) = delete;
    RefuseSocketPairScope& operator=(const RefuseSocketPairScope&) = delete;
};

std::string SocketErrorText(int fd) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error != 0) {
        return std::generic_category().message(error);
    }
    return "connection refused or closed before the TLS handshake finished";
}

}  // namespace

}  // namespace rainmaker::sim

// Interposes libc's socketpair() for libmosquitto; everyone else gets the real system call.
extern "C" int socketpair(int domain, int type, int protocol, int fds[2]) noexcept {
    if (rainmaker::sim::t_refuse_socketpair) {
        errno = EMFILE;
        return -1;
    }
    return static_cast<int>(::syscall(SYS_socketpair, domain, type, protocol, fds));
}

namespace rainmaker::sim {

std::string PpiUsername(const std::string& mac) {
    // ?Platform=APN3|A0|RM|<SKU>|<ProductName>|<ProductVersion>|<MAC>, Kconfig defaults.
    return "?Platform=APN3|A0|RM|EX00|RMDev|1x0|" + mac;
}

struct NodeFleet::Connection {
    enum class State { kIdle, kWaiting, kConnecting, kConnected, kHeld };

    struct Inflight {
        PublishTag tag = PublishTag::kOther;
        TimePoint sent{};
    };

    Connection(NodeFleet& owner, std::size_t i, SimulatedNode n)
        : fleet(owner), index(i), node(std::move(n)) {}

    NodeFleet& fleet;
    std::size_t index;
    SimulatedNode node;
    std::unique_ptr<mosquitto, MosquittoDeleter> mosq;
    State state = State::kIdle;
    bool started = false;  // mosquitto_connect_async done once; later attempts reconnect
    bool hold = false;     // power-cut by command: no automatic reconnect
    bool counted_ready = false;
    int failures = 0;
    TimePoint next_attempt{};
    std::string last_log;  // last libmosquitto error line, for error events
    std::unordered_map<int, Inflight> inflight;
    std::unordered_map<int, std::string> pending_subscriptions;
};

NodeFleet::NodeFleet(BrokerOptions options, EventHandler on_event)
    : options_(std::move(options)), on_event_(std::move(on_event)), tokens_at_(Now()) {
    mosquitto_lib_init();
}

NodeFleet::~NodeFleet() {
    stopping_ = true;
    for (auto& download : downloads_) {
        download.thread.join();
    }
    connections_.clear();  // destroys every client before the library goes
    mosquitto_lib_cleanup();
}

std::size_t NodeFleet::Add(const NodeFiles& files, NodeSettings settings) {
    const std::size_t index = connections_.size();
    settings.node_id = files.node_id;
    NodeModel model = DefaultLightModel();
    if (settings.tsdata_rate > 0) {
        AddSensorDevice(model);
    }
    auto c = std::make_unique<Connection>(
        *this, index, SimulatedNode(std::move(settings), std::move(model))
    );
    // Clean session, client id = node_id (device-protocol §1.1).
    {
        RefuseSocketPairScope no_socket_pair;
        c->mosq.reset(mosquitto_new(files.node_id.c_str(), true, c.get()));
    }
    if (!c->mosq) {
        throw std::runtime_error("mosquitto_new failed for " + files.node_id);
    }
    mosquitto* m = c->mosq.get();
    const std::string username = PpiUsername(files.mac);
    auto check = [&](int rc, const char* what) {
        if (rc != MOSQ_ERR_SUCCESS) {
            throw std::runtime_error(files.node_id + ": " + what + ": " + mosquitto_strerror(rc));
        }
    };
    check(mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311), "MQTT 3.1.1");
    check(mosquitto_username_pw_set(m, username.c_str(), nullptr), "username");  // never a password
    check(
        mosquitto_tls_set(
            m,
            options_.ca_file.c_str(),
            nullptr,
            files.cert_file.c_str(),
            files.key_file.c_str(),
            nullptr
        ),
        "TLS files"
    );
    check(mosquitto_tls_opts_set(m, 1 /* SSL_VERIFY_PEER */, nullptr, nullptr), "TLS options");
    check(mosquitto_tls_insecure_set(m, options_.insecure), "TLS hostname check");
    if (!options_.alpn.empty()) {
        check(mosquitto_string_option(m, MOSQ_OPT_TLS_ALPN, options_.alpn.c_str()), "ALPN");
    }
    mosquitto_connect_callback_set(m, &NodeFleet::OnConnectCallback);
    mosquitto_disconnect_callback_set(m, &NodeFleet::OnDisconnectCallback);
    mosquitto_publish_callback_set(m, &NodeFleet::OnPublishCallback);
    mosquitto_message_callback_set(m, &NodeFleet::OnMessageCallback);
    mosquitto_subscribe_callback_set(m, &NodeFleet::OnSubscribeCallback);
    mosquitto_log_callback_set(m, &NodeFleet::OnLogCallback);
    connections_.push_back(std::move(c));
    stats_.nodes = connections_.size();
    return index;
}

const SimulatedNode& NodeFleet::Node(std::size_t node) const {
    return connections_.at(node)->node;
}

bool NodeFleet::IsReady(std::size_t node) const {
    const Connection& c = *connections_.at(node);
    return c.state == Connection::State::kConnected && c.node.IsReady();
}

void NodeFleet::ConnectAll() {
    const TimePoint now = Now();
    for (auto& c : connections_) {
        if (c->state == Connection::State::kIdle) {
            c->state = Connection::State::kWaiting;
            c->next_attempt = now;
            ++waiting_;
        }
    }
}

void NodeFleet::StartDueConnects(TimePoint now) {
    const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    tokens_at_ = now;
    // A burst of a tenth of a second at most, so a broker restart is not answered by a
    // thundering herd.
    const double burst = std::max(1.0, options_.connect_rate / 10);
    connect_tokens_ = std::min(burst, connect_tokens_ + elapsed * options_.connect_rate);
    if (waiting_ == 0 || connect_tokens_ < 1) {
        return;
    }
    for (auto& c : connections_) {
        if (connect_tokens_ < 1) {
            break;
        }
        if (c->state == Connection::State::kWaiting && c->next_attempt <= now) {
            connect_tokens_ -= 1;
            --waiting_;
            StartConnect(*c);
        }
    }
}

void NodeFleet::StartConnect(Connection& c) {
    c.state = Connection::State::kConnecting;
    c.last_log.clear();
    ++stats_.connect_attempts;
    int rc = MOSQ_ERR_SUCCESS;
    RefuseSocketPairScope no_socket_pair;
    if (!c.started) {
        c.started = true;
        rc = mosquitto_connect_async(
            c.mosq.get(), options_.host.c_str(), options_.port, options_.keepalive_s
        );
    } else {
        rc = mosquitto_reconnect_async(c.mosq.get());
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        HandleDown(c, ErrorText(rc, c.last_log));
    }
}

void NodeFleet::HandleDown(Connection& c, const std::string& reason) {
    using State = Connection::State;
    if (c.state == State::kConnected) {
        --stats_.connected;
        ++stats_.disconnects;
        Execute(c, c.node.OnDisconnected());
    } else if (c.state == State::kConnecting) {
        ++stats_.connect_failures;
        Emit(c, {EventKind::kError, "connect failed: " + reason});
    } else {
        return;  // already down: on_disconnect and a failed loop call can both report it
    }
    c.pending_subscriptions.clear();
    // In-flight QoS 1 publishes stay: libmosquitto resends them after the next CONNACK.
    if (c.hold) {
        c.state = State::kHeld;
        return;
    }
    // Exponential back-off with ±20% jitter (the firmware's esp-mqtt waits ~10 s).
    static std::mt19937 jitter_rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const int shift = std::min(c.failures, 10);
    auto delay = std::min(options_.reconnect_max, options_.reconnect_min * (1 << shift));
    ++c.failures;
    c.state = State::kWaiting;
    c.next_attempt =
        Now() + std::chrono::duration_cast<std::chrono::milliseconds>(delay * jitter(jitter_rng));
    ++waiting_;
}

void NodeFleet::Execute(Connection& c, Actions actions) {
    mosquitto* m = c.mosq.get();
    const TimePoint now = Now();
    for (auto& out : actions.out) {
        int mid = 0;
        if (out.kind == Outgoing::Kind::kSubscribe) {
            const int rc = mosquitto_subscribe(m, &mid, out.topic.c_str(), 1);
            if (rc == MOSQ_ERR_SUCCESS) {
                c.pending_subscriptions[mid] = out.topic;
            } else {
                Emit(
                    c, {EventKind::kError, "subscribe " + out.topic + ": " + mosquitto_strerror(rc)}
                );
            }
            continue;
        }
        const int rc = mosquitto_publish(
            m,
            &mid,
            out.topic.c_str(),
            static_cast<int>(out.payload.size()),
            out.payload.data(),
            1,
            false
        );
        if (rc == MOSQ_ERR_SUCCESS) {
            c.inflight[mid] = {out.tag, now};
            ++stats_.published;
        } else {
            Emit(c, {EventKind::kError, "publish " + out.topic + ": " + mosquitto_strerror(rc)});
        }
    }
    for (const auto& event : actions.events) {
        Emit(c, event);
    }
    if (actions.download) {
        StartDownload(c, *actions.download);
    }
}

void NodeFleet::StartDownload(Connection& c, const DownloadRequest& request) {
    waiting_downloads_.emplace_back(&c, request);
}

void NodeFleet::FinishDownloads() {
    constexpr std::size_t kMaxDownloads = 8;
    constexpr std::uint64_t kOtaPartitionBytes = std::uint64_t{16} * 1024 * 1024;
    std::erase_if(downloads_, [](Download& d) {
        if (!d.done->load()) {
            return false;
        }
        d.thread.join();
        return true;
    });
    while (!waiting_downloads_.empty() && downloads_.size() < kMaxDownloads) {
        auto [connection, request] = std::move(waiting_downloads_.front());
        waiting_downloads_.pop_front();
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::thread thread([this, connection, request, done] {
            const auto progress = [&](int percent) {
                DownloadOutcome step;
                step.job_id = request.job_id;
                step.progress_percent = percent;
                const std::lock_guard lock(downloaded_mutex_);
                downloaded_.emplace_back(connection, std::move(step));
            };
            const auto got = DownloadFirmware(
                request.url,
                options_.ca_file,
                options_.insecure,
                kOtaPartitionBytes,
                stopping_,
                progress
            );
            DownloadOutcome outcome{
                request.job_id,
                std::nullopt,
                got.ok,
                got.error,
                got.size,
                got.md5,
                got.project_name};
            {
                const std::lock_guard lock(downloaded_mutex_);
                downloaded_.emplace_back(connection, std::move(outcome));
            }
            *done = true;
        });
        downloads_.push_back(Download{std::move(thread), std::move(done)});
    }
    // Outcomes reach their node while it is connected (its reports go out then); the others
    // wait for its next connection.
    std::vector<std::pair<Connection*, DownloadOutcome>> ready;
    {
        const std::lock_guard lock(downloaded_mutex_);
        std::vector<std::pair<Connection*, DownloadOutcome>> later;
        for (auto& item : downloaded_) {
            (item.first->state == Connection::State::kConnected ? ready : later)
                .push_back(std::move(item));
        }
        downloaded_.swap(later);
    }
    for (auto& [connection, outcome] : ready) {
        Execute(*connection, connection->node.OnDownloaded(outcome, Now()));
    }
}

void NodeFleet::Emit(Connection& c, const Event& event) {
    switch (event.kind) {
        case EventKind::kReady:
            if (!c.counted_ready) {
                c.counted_ready = true;
                ++stats_.ready;
            }
            break;
        case EventKind::kApplied:
            if (event.detail != "{}") {
                ++stats_.applied;
            }
            break;
        case EventKind::kError:
            ++stats_.errors;
            break;
        default:
            break;
    }
    if (on_event_) {
        on_event_(c.index, event);
    }
}

// ---- libmosquitto callbacks (run inside mosquitto_loop_read/write) ---------------------------

void NodeFleet::OnConnectCallback(mosquitto* /*mosq*/, void* user, int rc) {
    auto& c = *static_cast<Connection*>(user);
    if (rc != 0) {
        // The broker closes the socket next; HandleDown() then schedules the retry.
        c.last_log = std::string("CONNACK refused: ") + mosquitto_connack_string(rc);
        return;
    }
    c.state = Connection::State::kConnected;
    c.failures = 0;
    ++c.fleet.stats_.connected;
    c.fleet.Execute(c, c.node.OnConnected(Now()));
}

void NodeFleet::OnDisconnectCallback(mosquitto* /*mosq*/, void* user, int rc) {
    auto& c = *static_cast<Connection*>(user);
    c.fleet.HandleDown(c, ErrorText(rc, c.last_log));
}

void NodeFleet::OnPublishCallback(mosquitto* /*mosq*/, void* user, int mid) {
    auto& c = *static_cast<Connection*>(user);
    const auto it = c.inflight.find(mid);
    if (it == c.inflight.end()) {
        return;
    }
    const Connection::Inflight sent = it->second;
    c.inflight.erase(it);
    const TimePoint now = Now();
    FleetStats& stats = c.fleet.stats_;
    ++stats.acked;
    if (sent.tag == PublishTag::kParamsLocal &&
        stats.params_local_ack_us.size() < kMaxLatencySamples) {
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent.sent).count();
        stats.params_local_ack_us.push_back(
            static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX))
        );
    }
    c.fleet.Execute(c, c.node.OnPublishAcked(sent.tag, now));
}

void NodeFleet::OnMessageCallback(
    mosquitto* /*mosq*/, void* user, const mosquitto_message* message
) {
    auto& c = *static_cast<Connection*>(user);
    ++c.fleet.stats_.received;
    const std::string_view payload(
        static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen)
    );
    c.fleet.Execute(c, c.node.OnMessage(message->topic, payload, Now()));
}

void NodeFleet::OnSubscribeCallback(
    mosquitto* /*mosq*/, void* user, int mid, int count, const int* qos
) {
    auto& c = *static_cast<Connection*>(user);
    const auto it = c.pending_subscriptions.find(mid);
    if (it == c.pending_subscriptions.end()) {
        return;
    }
    const std::string topic = std::move(it->second);
    c.pending_subscriptions.erase(it);
    if (count < 1 || qos[0] == 0x80) {  // 0x80: the broker refused the subscription
        c.fleet.Emit(c, {EventKind::kError, "subscribe refused " + topic});
    } else {
        c.fleet.Emit(c, {EventKind::kSubscribed, topic});
    }
}

void NodeFleet::OnLogCallback(mosquitto* /*mosq*/, void* user, int level, const char* text) {
    if ((level & MOSQ_LOG_ERR) != 0 && text != nullptr) {
        static_cast<Connection*>(user)->last_log = text;
    }
}

// ---- the loop --------------------------------------------------------------------------------

void NodeFleet::Maintain(TimePoint now) {
    using State = Connection::State;
    for (auto& cp : connections_) {
        Connection& c = *cp;
        if (c.state != State::kConnected && c.state != State::kConnecting) {
            continue;
        }
        mosquitto* m = c.mosq.get();
        // Keepalive PINGREQ, and a dead connection after an unanswered ping.
        const int rc = mosquitto_loop_misc(m);
        if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m) < 0) {
            HandleDown(c, ErrorText(rc == MOSQ_ERR_SUCCESS ? MOSQ_ERR_CONN_LOST : rc, c.last_log));
            continue;
        }
        if (c.state == State::kConnected) {
            const auto due = c.node.NextTimer();
            if (due && *due <= now) {
                Execute(c, c.node.OnTimer(now));
            }
        }
    }
}

short NodeFleet::PollOnce(std::chrono::milliseconds max_wait, int extra_fd) {
    FinishDownloads();
    TimePoint now = Now();
    StartDueConnects(now);
    if (now >= next_maintenance_) {
        Maintain(now);
        next_maintenance_ = now + kMaintenancePeriod;
    }

    // Reused between rounds: rebuilding 10,000 entries is cheap, allocating them is not.
    std::vector<pollfd>& fds = poll_fds_;
    std::vector<Connection*>& owners = poll_owners_;  // owners[i] belongs to fds[i + offset]
    fds.clear();
    owners.clear();
    const std::size_t offset = extra_fd >= 0 ? 1 : 0;
    if (extra_fd >= 0) {
        fds.push_back({extra_fd, POLLIN, 0});
    }
    for (auto& cp : connections_) {
        const int fd = mosquitto_socket(cp->mosq.get());
        // A socket left behind by a failed connect (see below) is not polled; the next
        // mosquitto_reconnect_async() closes it.
        if (fd < 0 || (cp->state != Connection::State::kConnecting &&
                       cp->state != Connection::State::kConnected)) {
            continue;
        }
        const auto events =
            static_cast<short>(mosquitto_want_write(cp->mosq.get()) ? POLLIN | POLLOUT : POLLIN);
        fds.push_back({fd, events, 0});
        owners.push_back(cp.get());
    }

    auto wait = std::min<std::chrono::milliseconds>(
        max_wait,
        std::chrono::duration_cast<std::chrono::milliseconds>(next_maintenance_ - now) +
            std::chrono::milliseconds(1)
    );
    if (waiting_ > 0) {
        wait = std::min(wait, std::chrono::milliseconds(5));  // the connect pacer needs ticks
    }
    const int ready =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait.count())));
    if (ready <= 0) {
        return 0;
    }
    for (std::size_t i = 0; i < owners.size(); ++i) {
        const short revents = fds[i + offset].revents;
        if (revents == 0) {
            continue;
        }
        Connection& c = *owners[i];
        mosquitto* m = c.mosq.get();
        int rc = MOSQ_ERR_SUCCESS;
        if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            rc = mosquitto_loop_read(m, 1);
        }
        if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) != 0 && mosquitto_socket(m) >= 0) {
            rc = mosquitto_loop_write(m, 1);
        }
        if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m) < 0) {
            HandleDown(c, ErrorText(rc == MOSQ_ERR_SUCCESS ? MOSQ_ERR_CONN_LOST : rc, c.last_log));
        } else if (c.state == Connection::State::kConnecting && (revents & (POLLERR | POLLHUP)) != 0) {
            // libmosquitto 2.0 treats SSL_ERROR_SYSCALL during the TLS handshake as "try again",
            // so a refused TCP connect would spin until the keepalive ran out.
            HandleDown(c, SocketErrorText(mosquitto_socket(m)));
        }
    }
    return offset != 0 ? fds[0].revents : short{0};
}

void NodeFleet::PowerCut(std::size_t node) {
    Connection& c = *connections_.at(node);
    c.hold = true;
    if (c.state == Connection::State::kWaiting) {
        --waiting_;
        c.state = Connection::State::kHeld;
        return;
    }
    mosquitto* m = c.mosq.get();
    const int fd = mosquitto_socket(m);
    if (fd >= 0) {
        // shutdown(), not mosquitto_disconnect(): no DISCONNECT packet, no TLS close_notify,
        // so the broker sees an unclean loss (LWT, presence "disconnected").
        ::shutdown(fd, SHUT_RDWR);
        mosquitto_loop_read(m, 1);  // libmosquitto notices EOF and closes its side
    }
    HandleDown(c, "power cut");
    if (c.state == Connection::State::kIdle) {
        c.state = Connection::State::kHeld;
    }
}

void NodeFleet::Reconnect(std::size_t node) {
    Connection& c = *connections_.at(node);
    if (c.state == Connection::State::kConnected || c.state == Connection::State::kConnecting) {
        PowerCut(node);
    }
    if (c.state == Connection::State::kWaiting) {
        --waiting_;
    }
    c.hold = false;
    c.failures = 0;
    c.state = Connection::State::kWaiting;
    c.next_attempt = Now();
    ++waiting_;
}

void NodeFleet::SetLocal(
    std::size_t node,
    std::string_view device,
    std::string_view param,
    const boost::json::value& value
) {
    Connection& c = *connections_.at(node);
    if (c.state != Connection::State::kConnected) {
        // The firmware cannot report offline either; refusing keeps "reported" truthful.
        Emit(c, {EventKind::kError, "set: not connected"});
        return;
    }
    Execute(c, c.node.SetLocal(device, param, value));
}

void NodeFleet::Answer(
    std::size_t node, std::string_view request_id, int status, std::string_view data
) {
    Connection& c = *connections_.at(node);
    if (c.state != Connection::State::kConnected) {
        Emit(c, {EventKind::kError, "answer: not connected"});
        return;
    }
    Execute(c, c.node.Answer(request_id, status, data));
}

void NodeFleet::DisconnectAll(std::chrono::milliseconds flush) {
    for (auto& c : connections_) {
        c->hold = true;
        if (c->state == Connection::State::kConnecting) {
            c->state = Connection::State::kHeld;  // abandoned on purpose: not a connect failure
            mosquitto_disconnect(c->mosq.get());
        } else if (c->state == Connection::State::kConnected) {
            mosquitto_disconnect(c->mosq.get());
        } else if (c->state == Connection::State::kWaiting) {
            --waiting_;
            c->state = Connection::State::kHeld;
        }
    }
    const TimePoint until = Now() + flush;
    while (Now() < until && stats_.connected > 0) {
        PollOnce(std::chrono::milliseconds(20));
    }
}

}  // namespace rainmaker::sim

// What the bench clients (params_latency, automation_latency, cmd_latency) share: signal
// handling and main()'s error handling, the node directories of `admin issue-node-certs`, a
// node's libmosquitto TLS client, a client on the server's link listener, the open-loop
// schedule, latency samples and their percentiles, and a blocking keep-alive HTTP client.
// The argument parser is tools/cli_support.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mosquitto.h>

#include "cli_support.hpp"

namespace rainmaker::bench {

using Clock = std::chrono::steady_clock;

constexpr int kKeepAlive = 60;  // MQTT keepalive of the nodes and of the link clients

// ---- process ----------------------------------------------------------------------------------

// Set by SIGINT and SIGTERM: the clients stop at their next check.
inline std::atomic<bool> g_stop{false};

inline void OnStopSignal(int /*signal*/) {
    g_stop = true;
}

// main() of a client: signals, then `run`, with a usage error answered by exit 2 and the usage
// text, any other exception by exit 1; every message starts with `program`.
inline int RunMain(
    const char* program, std::string_view usage, int (*run)(int, char**), int argc, char** argv
) {
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, &OnStopSignal);
    std::signal(SIGTERM, &OnStopSignal);
    try {
        return run(argc, argv);
    } catch (const tools::UsageError& e) {
        std::cerr << program << ": " << e.what() << "\n" << usage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return 1;
    }
}

inline std::int64_t NanosSince(Clock::time_point start, Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start).count();
}

// The payload of a message as text.
inline std::string_view Payload(const mosquitto_message& message) {
    return {
        static_cast<const char*>(message.payload),
        static_cast<std::size_t>(std::max(0, message.payloadlen))};
}

// ---- nodes ------------------------------------------------------------------------------------

struct NodeFiles {
    std::string node_id;
    std::filesystem::path key_file;
    std::filesystem::path cert_file;
};

// The first `count` node directories of `dir` by name (<node_id>/{node_id,node.key,node.crt},
// as `rainmaker-server admin issue-node-certs` writes them).
inline std::vector<NodeFiles> ReadNodes(const std::filesystem::path& dir, int count) {
    std::vector<std::filesystem::path> dirs;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::error_code ec;
        if (entry.is_directory() &&
            std::filesystem::is_regular_file(entry.path() / "node_id", ec)) {
            dirs.push_back(entry.path());
        }
    }
    std::sort(dirs.begin(), dirs.end());
    if (dirs.size() < static_cast<std::size_t>(count)) {
        throw std::runtime_error(
            dir.string() + " has " + std::to_string(dirs.size()) + " node directories, " +
            std::to_string(count) + " wanted"
        );
    }
    std::vector<NodeFiles> nodes;
    for (int i = 0; i < count; ++i) {
        const auto& d = dirs[static_cast<std::size_t>(i)];
        nodes.push_back({tools::ReadTrimmed(d / "node_id"), d / "node.key", d / "node.crt"});
    }
    return nodes;
}

// A node's MQTT client: TLS with the node's certificate, MQTT 3.1.1; once connected it
// subscribes to one topic and publishes its config at QoS 1, and it is ready when both were
// acknowledged. The handlers run on its libmosquitto thread. Declare it as the last member of
// whatever owns it, so that it stops before what the handlers use goes away.
class NodeClient {
public:
    struct Options {
        std::string subscribe;            // the topic, e.g. node/<id>/params/remote
        std::string config;               // published on node/<id>/config
        bool tcp_nodelay = false;         // MOSQ_OPT_TCP_NODELAY
        bool unlimited_inflight = false;  // no cap on QoS 1 messages in flight (default 20)
    };

    // A message on the subscribed topic.
    std::function<void(mosquitto*, const mosquitto_message&)> on_message;
    // The PUBACK of a publish other than the config.
    std::function<void(int mid)> on_publish;

    NodeClient(const char* program, NodeFiles files, Options options)
        : program_(program), files_(std::move(files)), options_(std::move(options)) {
        mosq_ = mosquitto_new(files_.node_id.c_str(), true, this);
        if (mosq_ == nullptr) {
            throw std::runtime_error("mosquitto_new failed for " + files_.node_id);
        }
    }

    NodeClient(const NodeClient&) = delete;
    NodeClient& operator=(const NodeClient&) = delete;

    ~NodeClient() {
        if (started_) {
            mosquitto_disconnect(mosq_);
            mosquitto_loop_stop(mosq_, false);
        }
        mosquitto_destroy(mosq_);
    }

    void Connect(const std::string& host, int port, const std::string& ca_file) {
        Check(
            mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311), "MQTT 3.1.1"
        );
        if (options_.tcp_nodelay) {
            Check(mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY");
        }
        Check(
            mosquitto_tls_set(
                mosq_,
                ca_file.c_str(),
                nullptr,
                files_.cert_file.c_str(),
                files_.key_file.c_str(),
                nullptr
            ),
            "TLS files"
        );
        Check(
            mosquitto_tls_opts_set(mosq_, 1 /* SSL_VERIFY_PEER */, nullptr, nullptr), "TLS options"
        );
        if (options_.unlimited_inflight) {
            mosquitto_max_inflight_messages_set(mosq_, 0);
        }
        mosquitto_connect_callback_set(mosq_, &NodeClient::OnConnect);
        mosquitto_subscribe_callback_set(mosq_, &NodeClient::OnSubscribe);
        mosquitto_publish_callback_set(mosq_, &NodeClient::OnPublish);
        mosquitto_message_callback_set(mosq_, &NodeClient::OnMessage);
        Check(mosquitto_connect_async(mosq_, host.c_str(), port, kKeepAlive), "connect");
        Check(mosquitto_loop_start(mosq_), "loop_start");
        started_ = true;
    }

    // Subscribed and the config acknowledged by the broker.
    bool Ready() const { return subscribed_ && config_acked_; }

    // The broker refused the connection or the subscription.
    bool Refused() const { return refused_; }

    const std::string& Id() const { return files_.node_id; }

    mosquitto* Handle() const { return mosq_; }

private:
    void Check(int rc, const char* what) const {
        if (rc != MOSQ_ERR_SUCCESS) {
            throw std::runtime_error(files_.node_id + ": " + what + ": " + mosquitto_strerror(rc));
        }
    }

    static void OnConnect(mosquitto* m, void* user, int rc) {
        auto& self = *static_cast<NodeClient*>(user);
        if (rc != 0) {
            self.refused_ = true;
            std::cerr << self.program_ << ": " << self.files_.node_id
                      << " refused: " << mosquitto_connack_string(rc) << "\n";
            return;
        }
        mosquitto_subscribe(m, &self.subscribe_mid_, self.options_.subscribe.c_str(), 1);
        const std::string config_topic = "node/" + self.files_.node_id + "/config";
        mosquitto_publish(
            m,
            &self.config_mid_,
            config_topic.c_str(),
            static_cast<int>(self.options_.config.size()),
            self.options_.config.data(),
            1,
            false
        );
    }

    static void OnSubscribe(mosquitto* /*m*/, void* user, int mid, int count, const int* granted) {
        auto& self = *static_cast<NodeClient*>(user);
        if (mid == self.subscribe_mid_) {
            if (count >= 1 && granted[0] != 0x80) {
                self.subscribed_ = true;
            } else {
                self.refused_ = true;
                std::cerr << self.program_ << ": " << self.files_.node_id
                          << ": subscription refused\n";
            }
        }
    }

    static void OnPublish(mosquitto* /*m*/, void* user, int mid) {
        auto& self = *static_cast<NodeClient*>(user);
        if (mid == self.config_mid_) {
            self.config_acked_ = true;
        } else if (self.on_publish) {
            self.on_publish(mid);
        }
    }

    static void OnMessage(mosquitto* m, void* user, const mosquitto_message* message) {
        auto& self = *static_cast<NodeClient*>(user);
        if (self.on_message) {
            self.on_message(m, *message);
        }
    }

    const char* program_;
    NodeFiles files_;
    Options options_;
    mosquitto* mosq_ = nullptr;
    bool started_ = false;
    int subscribe_mid_ = -1;
    int config_mid_ = -1;
    std::atomic<bool> subscribed_{false};
    std::atomic<bool> config_acked_{false};
    std::atomic<bool> refused_{false};
};

// Waits until every node (anything with Ready() and Refused(), held by pointer) is ready, and
// `also()` holds, polling every `poll`. False when stopped by a signal; throws when a node was
// refused or `deadline` passed.
template <class Nodes>
bool WaitForNodes(
    const Nodes& nodes,
    Clock::time_point deadline,
    std::chrono::milliseconds poll,
    const std::function<bool()>& also = {}
) {
    while (!g_stop) {
        std::size_t ready = 0;
        bool refused = false;
        for (const auto& n : nodes) {
            ready += n->Ready() ? 1 : 0;
            refused = refused || n->Refused();
        }
        if (ready == nodes.size() && (!also || also())) {
            return true;
        }
        if (Clock::now() > deadline || refused) {
            throw std::runtime_error(
                "only " + std::to_string(ready) + " of " + std::to_string(nodes.size()) +
                " nodes connected, subscribed and reported their config"
            );
        }
        std::this_thread::sleep_for(poll);
    }
    return false;
}

// ---- the server's link listener (the raw baselines) -------------------------------------------

// A plain MQTT client with the server's own user and password on the link listener. The
// constructor connects and waits for the CONNACK (10 s at most). Declare it as the last member
// of whatever owns it, so that it stops before what the handlers use goes away.
class LinkClient {
public:
    struct Options {
        bool tcp_nodelay = false;         // MOSQ_OPT_TCP_NODELAY
        bool unlimited_inflight = false;  // no cap on QoS 1 messages in flight (default 20)
    };

    // The handlers run on the libmosquitto thread; all are optional.
    struct Handlers {
        std::function<void(mosquitto*)> on_connect{};  // accepted: subscribe here
        std::function<void(int mid)> on_subscribe{};
        std::function<void(int mid)> on_publish{};
        std::function<void(mosquitto*, const mosquitto_message&)> on_message{};
    };

    LinkClient(
        const char* client_id,
        const std::string& host,
        int port,
        const std::string& user,
        const std::string& password,
        Options options,
        Handlers handlers
    )
        : handlers_(std::move(handlers)) {
        mosq_ = mosquitto_new(client_id, true, this);
        if (mosq_ == nullptr) {
            throw std::runtime_error("mosquitto_new failed");
        }
        mosquitto_username_pw_set(mosq_, user.c_str(), password.c_str());
        if (options.tcp_nodelay) {
            mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
        }
        if (options.unlimited_inflight) {
            mosquitto_max_inflight_messages_set(mosq_, 0);  // as the server's link
        }
        mosquitto_connect_callback_set(mosq_, &LinkClient::OnConnect);
        mosquitto_subscribe_callback_set(mosq_, &LinkClient::OnSubscribe);
        mosquitto_publish_callback_set(mosq_, &LinkClient::OnPublish);
        mosquitto_message_callback_set(mosq_, &LinkClient::OnMessage);
        if (mosquitto_connect_async(mosq_, host.c_str(), port, kKeepAlive) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(mosq_);
            throw std::runtime_error(
                "cannot connect to the link listener " + host + ":" + std::to_string(port)
            );
        }
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (connack_ == 0 && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (connack_ != 1) {
            mosquitto_disconnect(mosq_);
            mosquitto_loop_stop(mosq_, true);
            mosquitto_destroy(mosq_);
            throw std::runtime_error(
                "the link listener refused " + user + " (wrong password file?)"
            );
        }
    }

    LinkClient(const LinkClient&) = delete;
    LinkClient& operator=(const LinkClient&) = delete;

    ~LinkClient() {
        mosquitto_disconnect(mosq_);
        mosquitto_loop_stop(mosq_, false);
        mosquitto_destroy(mosq_);
    }

    // A QoS 1 publish (thread-safe in libmosquitto); the libmosquitto result.
    int Publish(const std::string& topic, std::string_view payload) {
        return mosquitto_publish(
            mosq_,
            nullptr,
            topic.c_str(),
            static_cast<int>(payload.size()),
            payload.data(),
            1,
            false
        );
    }

private:
    static void OnConnect(mosquitto* m, void* user, int rc) {
        auto& self = *static_cast<LinkClient*>(user);
        if (rc == 0 && self.handlers_.on_connect) {
            self.handlers_.on_connect(m);
        }
        self.connack_ = rc == 0 ? 1 : 2;
    }

    static void OnSubscribe(mosquitto* /*m*/, void* user, int mid, int /*count*/, const int*) {
        auto& self = *static_cast<LinkClient*>(user);
        if (self.handlers_.on_subscribe) {
            self.handlers_.on_subscribe(mid);
        }
    }

    static void OnPublish(mosquitto* /*m*/, void* user, int mid) {
        auto& self = *static_cast<LinkClient*>(user);
        if (self.handlers_.on_publish) {
            self.handlers_.on_publish(mid);
        }
    }

    static void OnMessage(mosquitto* m, void* user, const mosquitto_message* message) {
        auto& self = *static_cast<LinkClient*>(user);
        if (self.handlers_.on_message) {
            self.handlers_.on_message(m, *message);
        }
    }

    Handlers handlers_;
    mosquitto* mosq_ = nullptr;
    std::atomic<int> connack_{0};  // 0 waiting, 1 accepted, 2 refused
};

// ---- the open-loop schedule and the figures ---------------------------------------------------

// Item n is due at t0 + n / rate whatever happened before, and its latency counts from that due
// time, so a stalled server shows up as queueing instead of slowing the client down (no
// coordinated omission). Times are ns since `origin`.
struct Schedule {
    Clock::time_point origin;
    std::int64_t t0_ns = 0;
    double rate = 1;

    Schedule(Clock::time_point origin_at, Clock::time_point t0, double per_second)
        : origin(origin_at), t0_ns(NanosSince(origin_at, t0)), rate(per_second) {}

    std::int64_t DueNs(std::uint64_t n) const {
        return t0_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(n) * 1e9 / rate));
    }

    Clock::time_point Due(std::uint64_t n) const {
        return origin + std::chrono::nanoseconds(DueNs(n));
    }
};

// Items in `seconds` at `rate` per second, rounded.
inline std::uint64_t Count(double rate, double seconds) {
    return static_cast<std::uint64_t>(std::llround(rate * seconds));
}

// The sorted latencies (ns, at least 0) of items [from, at_ns.size()) from their arrival times
// (ns since the schedule's origin; 0 = never arrived).
template <class Ns>
std::vector<std::int64_t> Latencies(
    const std::vector<Ns>& at_ns, std::uint64_t from, const Schedule& schedule
) {
    std::vector<std::int64_t> latency;
    latency.reserve(at_ns.size() - std::min<std::size_t>(at_ns.size(), from));
    for (std::uint64_t n = from; n < at_ns.size(); ++n) {
        const std::int64_t at = at_ns[n];
        if (at != 0) {
            latency.push_back(std::max<std::int64_t>(0, at - schedule.DueNs(n)));
        }
    }
    std::sort(latency.begin(), latency.end());
    return latency;
}

// Nearest-rank percentile of sorted samples (ns), in ms.
inline double PercentileMs(const std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    const std::size_t index = std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1);
    return static_cast<double>(sorted[index]) / 1e6;
}

// ms with three decimals.
inline std::string Ms(double ms) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.3f", ms);
    return buf.data();
}

// The rate as "%g" prints it.
inline std::string RateText(double rate) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%g", rate);
    return buf.data();
}

// " p50_ms=… p90_ms=… p99_ms=… max_ms=…" of sorted samples, for a `result` line.
inline std::string LatencyFields(const std::vector<std::int64_t>& sorted) {
    return " p50_ms=" + Ms(PercentileMs(sorted, 0.50)) +
           " p90_ms=" + Ms(PercentileMs(sorted, 0.90)) +
           " p99_ms=" + Ms(PercentileMs(sorted, 0.99)) + " max_ms=" + Ms(PercentileMs(sorted, 1.0));
}

// ---- HTTP -------------------------------------------------------------------------------------

// --api http://HOST:PORT split up.
struct ApiAddress {
    std::string host;
    std::string port;
    std::string host_header;  // HOST:PORT
};

inline ApiAddress ParseApi(const std::string& api) {
    std::string rest = api;
    if (rest.rfind("http://", 0) != 0) {
        throw tools::UsageError("--api must look like http://127.0.0.1:PORT");
    }
    rest.erase(0, 7);
    while (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    const auto colon = rest.rfind(':');
    return {
        colon == std::string::npos ? rest : rest.substr(0, colon),
        colon == std::string::npos ? "80" : rest.substr(colon + 1),
        rest};
}

// One blocking keep-alive connection with the token in Authorization (raw, as the apps send
// it), reconnecting when the server closed it.
class HttpClient {
public:
    HttpClient(ApiAddress address, std::string token)
        : address_(std::move(address)), token_(std::move(token)) {}

    // Status and body of one request.
    std::pair<unsigned, std::string> Send(
        boost::beast::http::verb verb, const std::string& target, const std::string& body = {}
    ) {
        namespace http = boost::beast::http;
        using tcp = boost::asio::ip::tcp;
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                if (!socket_) {
                    socket_ = std::make_unique<tcp::socket>(io_);
                    tcp::resolver resolver(io_);
                    boost::asio::connect(*socket_, resolver.resolve(address_.host, address_.port));
                    socket_->set_option(tcp::no_delay(true));
                }
                http::request<http::string_body> request{verb, target, 11};
                request.set(http::field::host, address_.host_header);
                request.set(http::field::authorization, token_);
                if (!body.empty()) {
                    request.set(http::field::content_type, "application/json");
                    request.body() = body;
                    request.prepare_payload();
                }
                http::write(*socket_, request);
                http::response<http::string_body> response;
                http::read(*socket_, buffer_, response);
                if (!response.keep_alive()) {
                    socket_.reset();
                }
                return {response.result_int(), response.body()};
            } catch (const std::exception&) {
                socket_.reset();
                buffer_.clear();
                if (attempt == 1) {
                    throw;
                }
            }
        }
        return {0, {}};
    }

private:
    ApiAddress address_;
    std::string token_;
    boost::asio::io_context io_;
    std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace rainmaker::bench

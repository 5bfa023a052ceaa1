// `bench/commands.sh`: the round trip of a command-response request, REST → node → answer
// readable over REST. It acts as N nodes (TLS client certificates, a config declaring cmd-resp,
// subscribed to node/<id>/to-node, answering every request at once on from-node), sends
// `POST /v1/user/nodes/cmd` at a fixed total rate from K worker threads (one keep-alive
// connection each), and times each request from its scheduled send until a
// `GET /v1/user/nodes/cmd?request_id=` answers "success" (asked once the node's answer was
// acknowledged by the broker, and again every 200 µs until it shows).
//
// The schedule is open-loop: request n is due at t0 + n / rate and its latency counts from
// that due time, so a stalled server shows as queueing (no coordinated omission).
//
// --raw is the broker baseline: the same schedule, the same TLV request published directly on
// node/<id>/to-node by a client on the server's loopback link listener, timed until the node's
// answer arrives back on from-node: the two broker hops of the round trip without the server.
//
// Prints one `result key=value ...` line (commands.sh parses it) and a summary on stderr.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <mosquitto.h>

#include "cli_support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using rainmaker::tools::Args;
using rainmaker::tools::ReadTrimmed;
using rainmaker::tools::UsageError;

constexpr std::string_view kUsage = R"(usage:
  cmd_latency --nodes-dir DIR --mqtt-port P --ca CA.pem [--mqtt-host 127.0.0.1] [--nodes 10]
              --api http://127.0.0.1:PORT --token TOKEN [--workers 8]
              [--rate 200] [--duration 10] [--warmup 1]
  cmd_latency --raw --link-port P --link-password-file F [--link-user rainmaker-server]
              --nodes-dir DIR --mqtt-port P --ca CA.pem [same load options]
DIR holds <node_id>/{node_id,node.key,node.crt}; the first N by name are used. The REST mode
needs them mapped to the token's user.
)";

constexpr int kKeepAlive = 60;
constexpr int kCommand = 0x1000;
std::atomic<bool> g_stop{false};

void OnStopSignal(int /*signal*/) {
    g_stop = true;
}

// ---- TLV8 (device-protocol §2.4), the little this benchmark needs ---------------------------

std::string Tlv(const std::vector<std::pair<int, std::string>>& items) {
    std::string out;
    for (const auto& [type, value] : items) {
        std::size_t at = 0;
        do {
            const std::size_t n = std::min<std::size_t>(255, value.size() - at);
            out += static_cast<char>(type);
            out += static_cast<char>(n);
            out.append(value, at, n);
            at += n;
        } while (at < value.size());
    }
    return out;
}

std::map<int, std::string> Untlv(std::string_view bytes) {
    std::map<int, std::string> items;
    std::size_t at = 0;
    int last = -1;
    std::size_t last_len = 0;
    while (at + 2 <= bytes.size()) {
        const int type = static_cast<unsigned char>(bytes[at]);
        const std::size_t len = static_cast<unsigned char>(bytes[at + 1]);
        if (at + 2 + len > bytes.size()) {
            break;
        }
        if (type == last && last_len == 255) {
            items[type].append(bytes.substr(at + 2, len));
        } else {
            items[type] = std::string(bytes.substr(at + 2, len));
        }
        last = type;
        last_len = len;
        at += 2 + len;
    }
    return items;
}

std::string Le16(int v) {
    return std::string{static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)};
}

// ---- the schedule and the results ------------------------------------------------------------

struct Run {
    Clock::time_point t0;
    double rate = 200;
    std::uint64_t total = 0;
    std::uint64_t warmup = 0;
    std::vector<std::int64_t> latency_ns;  // per request, -1 = not completed
    std::atomic<std::uint64_t> errors{0};

    Clock::time_point Due(std::uint64_t n) const {
        return t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(n) / rate)
                    );
    }
};

// Answers the node published (their PUBACK) and answers that came back (raw), by request id.
class Signals {
public:
    void Set(const std::string& id) {
        {
            std::lock_guard lock(mutex_);
            done_.insert_or_assign(id, Clock::now());
        }
        cv_.notify_all();
    }

    // Waits up to `timeout` for `id`; its time, or nullopt.
    std::optional<Clock::time_point> Wait(
        const std::string& id, std::chrono::milliseconds timeout
    ) {
        std::unique_lock lock(mutex_);
        std::optional<Clock::time_point> at;
        cv_.wait_for(lock, timeout, [&] {
            const auto it = done_.find(id);
            if (it != done_.end()) {
                at = it->second;
                done_.erase(it);
                return true;
            }
            return g_stop.load();
        });
        return at;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::string, Clock::time_point> done_;
};

// ---- the nodes -----------------------------------------------------------------------------

struct NodeFiles {
    std::string node_id;
    std::filesystem::path key_file;
    std::filesystem::path cert_file;
};

std::vector<NodeFiles> ReadNodes(const std::filesystem::path& dir, int count) {
    std::vector<std::filesystem::path> dirs;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(entry.path() / "node_id", ec)) {
            dirs.push_back(entry.path());
        }
    }
    std::sort(dirs.begin(), dirs.end());
    if (dirs.size() < static_cast<std::size_t>(count)) {
        throw std::runtime_error(dir.string() + " has too few node directories");
    }
    std::vector<NodeFiles> nodes;
    for (int i = 0; i < count; ++i) {
        const auto& d = dirs[static_cast<std::size_t>(i)];
        nodes.push_back({ReadTrimmed(d / "node_id"), d / "node.key", d / "node.crt"});
    }
    return nodes;
}

void Check(int rc, const std::string& what) {
    if (rc != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error(what + ": " + mosquitto_strerror(rc));
    }
}

// A node that declares cmd-resp and answers every request at once with its data.
class BenchNode {
public:
    BenchNode(NodeFiles files, Signals& published)
        : files_(std::move(files)), published_(published) {
        mosq_ = mosquitto_new(files_.node_id.c_str(), true, this);
        if (mosq_ == nullptr) {
            throw std::runtime_error("mosquitto_new failed");
        }
    }

    BenchNode(const BenchNode&) = delete;
    BenchNode& operator=(const BenchNode&) = delete;

    ~BenchNode() {
        mosquitto_disconnect(mosq_);
        mosquitto_loop_stop(mosq_, false);
        mosquitto_destroy(mosq_);
    }

    void Connect(const std::string& host, int port, const std::string& ca) {
        Check(mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311), "v311");
        // The node answers right after its PUBACK: with Nagle the answer would wait for the
        // broker's delayed ACK (40 ms).
        Check(mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY");
        Check(
            mosquitto_tls_set(
                mosq_,
                ca.c_str(),
                nullptr,
                files_.cert_file.c_str(),
                files_.key_file.c_str(),
                nullptr
            ),
            files_.node_id + " TLS"
        );
        mosquitto_connect_callback_set(mosq_, &BenchNode::OnConnect);
        mosquitto_subscribe_callback_set(mosq_, &BenchNode::OnSubscribe);
        mosquitto_publish_callback_set(mosq_, &BenchNode::OnPublish);
        mosquitto_message_callback_set(mosq_, &BenchNode::OnMessage);
        Check(mosquitto_connect_async(mosq_, host.c_str(), port, kKeepAlive), files_.node_id);
        Check(mosquitto_loop_start(mosq_), "loop_start");
    }

    bool Ready() const { return subscribed_ && config_acked_; }

    const std::string& Id() const { return files_.node_id; }

private:
    static void OnConnect(mosquitto* m, void* user, int rc) {
        auto& self = *static_cast<BenchNode*>(user);
        if (rc != 0) {
            std::cerr << "cmd_latency: " << self.Id() << " refused\n";
            return;
        }
        const std::string to_node = "node/" + self.Id() + "/to-node";
        mosquitto_subscribe(m, &self.subscribe_mid_, to_node.c_str(), 1);
        const std::string config =
            R"({"node_id":")" + self.Id() +
            R"(","config_version":"2020-03-20","info":{"name":"Bench","fw_version":"1.0.0",)"
            R"("type":"Lightbulb","model":"cmd_latency"},"attributes":[{"name":"cmd-resp",)"
            R"("value":"1"}],"devices":[],"services":[]})";
        const std::string topic = "node/" + self.Id() + "/config";
        mosquitto_publish(
            m,
            &self.config_mid_,
            topic.c_str(),
            static_cast<int>(config.size()),
            config.data(),
            1,
            false
        );
    }

    static void OnSubscribe(mosquitto*, void* user, int mid, int, const int*) {
        auto& self = *static_cast<BenchNode*>(user);
        if (mid == self.subscribe_mid_) {
            self.subscribed_ = true;
        }
    }

    static void OnPublish(mosquitto*, void* user, int mid) {
        auto& self = *static_cast<BenchNode*>(user);
        if (mid == self.config_mid_) {
            self.config_acked_ = true;
            return;
        }
        std::string id;
        {
            std::lock_guard lock(self.mutex_);
            const auto it = self.answers_.find(mid);
            if (it == self.answers_.end()) {
                return;
            }
            id = std::move(it->second);
            self.answers_.erase(it);
        }
        self.published_.Set(id);
    }

    static void OnMessage(mosquitto* m, void* user, const mosquitto_message* message) {
        auto& self = *static_cast<BenchNode*>(user);
        auto items = Untlv(std::string_view(
            static_cast<const char*>(message->payload),
            static_cast<std::size_t>(std::max(0, message->payloadlen))
        ));
        const std::string id = items[1];
        const std::string answer =
            Tlv({{1, id}, {3, std::string(1, '\0')}, {5, items[5]}, {6, items[6]}});
        const std::string topic = "node/" + self.Id() + "/from-node";
        std::lock_guard lock(self.mutex_);
        int mid = 0;
        if (mosquitto_publish(
                m, &mid, topic.c_str(), static_cast<int>(answer.size()), answer.data(), 1, false
            ) == MOSQ_ERR_SUCCESS) {
            self.answers_[mid] = id;
        }
    }

    NodeFiles files_;
    Signals& published_;
    mosquitto* mosq_ = nullptr;
    int subscribe_mid_ = -1;
    int config_mid_ = -1;
    std::atomic<bool> subscribed_{false};
    std::atomic<bool> config_acked_{false};
    std::mutex mutex_;
    std::map<int, std::string> answers_;  // mid of an answer → request id
};

// ---- REST: one blocking keep-alive connection per worker ----------------------------------

class HttpSession {
public:
    HttpSession(const std::string& host, const std::string& port, std::string token)
        : socket_(io_), token_(std::move(token)), host_(host) {
        tcp::resolver resolver(io_);
        asio::connect(socket_, resolver.resolve(host, port));
        socket_.set_option(tcp::no_delay(true));
    }

    http::response<http::string_body> Request(
        http::verb verb, const std::string& target, const std::string& body = {}
    ) {
        http::request<http::string_body> request{verb, target, 11};
        request.set(http::field::host, host_);
        request.set(http::field::authorization, token_);
        if (!body.empty()) {
            request.set(http::field::content_type, "application/json");
            request.body() = body;
        }
        request.prepare_payload();
        http::write(socket_, request);
        http::response<http::string_body> response;
        http::read(socket_, buffer_, response);
        return response;
    }

private:
    asio::io_context io_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
    std::string token_;
    std::string host_;
};

// Hands the due request numbers to the workers.
class Dispatcher {
public:
    explicit Dispatcher(Run& run) : run_(run) {}

    // The next request number once it is due; nullopt at the end.
    std::optional<std::uint64_t> Next() {
        std::unique_lock lock(mutex_);
        if (next_ >= run_.total || g_stop) {
            return std::nullopt;
        }
        const std::uint64_t n = next_++;
        lock.unlock();
        std::this_thread::sleep_until(run_.Due(n));
        return n;
    }

private:
    Run& run_;
    std::mutex mutex_;
    std::uint64_t next_ = 0;
};

void RestWorker(
    Run& run,
    Dispatcher& dispatcher,
    Signals& published,
    const std::vector<std::string>& nodes,
    const std::string& host,
    const std::string& port,
    const std::string& token
) {
    HttpSession session(host, port, token);
    while (const auto n = dispatcher.Next()) {
        const auto& node = nodes[*n % nodes.size()];
        const std::string body = R"({"node_ids":[")" + node + R"("],"cmd":)" +
                                 std::to_string(kCommand) + R"(,"data":{"seq":)" +
                                 std::to_string(*n) + "}}";
        const auto posted = session.Request(http::verb::post, "/v1/user/nodes/cmd", body);
        boost::system::error_code ec;
        const auto json = boost::json::parse(posted.body(), ec);
        const auto* id =
            !ec && json.is_object() ? json.as_object().if_contains("request_id") : nullptr;
        if (posted.result_int() != 200 || id == nullptr || !id->is_string()) {
            if (++run.errors <= 3) {
                std::cerr << "cmd_latency: POST answered " << posted.result_int() << " "
                          << posted.body() << "\n";
            }
            continue;
        }
        const std::string request_id(id->as_string());
        published.Wait(request_id, std::chrono::milliseconds(5000));
        const std::string target = "/v1/user/nodes/cmd?request_id=" + request_id;
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        bool done = false;
        while (!done && Clock::now() < deadline && !g_stop) {
            const auto got = session.Request(http::verb::get, target);
            done = got.body().find(R"("status":"success")") != std::string::npos;
            if (!done) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
        if (!done) {
            ++run.errors;
            continue;
        }
        run.latency_ns[*n] =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - run.Due(*n))
                .count();
    }
}

// ---- raw: the broker alone -------------------------------------------------------------------

class RawClient {
public:
    RawClient(Signals& answered) : answered_(answered) {
        mosq_ = mosquitto_new("cmd-latency-raw", true, this);
        mosquitto_message_callback_set(mosq_, &RawClient::OnMessage);
        mosquitto_connect_callback_set(mosq_, &RawClient::OnConnect);
        mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* user, int, int, const int*) {
            static_cast<RawClient*>(user)->subscribed_ = true;
        });
    }

    ~RawClient() {
        mosquitto_disconnect(mosq_);
        mosquitto_loop_stop(mosq_, false);
        mosquitto_destroy(mosq_);
    }

    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void Connect(
        const std::string& host, int port, const std::string& user, const std::string& password
    ) {
        Check(mosquitto_username_pw_set(mosq_, user.c_str(), password.c_str()), "link credentials");
        Check(mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY");
        Check(mosquitto_connect_async(mosq_, host.c_str(), port, kKeepAlive), "link connect");
        Check(mosquitto_loop_start(mosq_), "link loop");
    }

    bool Ready() const { return subscribed_; }

    void Publish(const std::string& node, const std::string& payload) {
        const std::string topic = "node/" + node + "/to-node";
        mosquitto_publish(
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
    static void OnConnect(mosquitto* m, void*, int rc) {
        if (rc == 0) {
            mosquitto_subscribe(m, nullptr, "node/+/from-node", 1);
        }
    }

    static void OnMessage(mosquitto*, void* user, const mosquitto_message* message) {
        auto items = Untlv(std::string_view(
            static_cast<const char*>(message->payload),
            static_cast<std::size_t>(std::max(0, message->payloadlen))
        ));
        static_cast<RawClient*>(user)->answered_.Set(items[1]);
    }

    Signals& answered_;
    mosquitto* mosq_ = nullptr;
    std::atomic<bool> subscribed_{false};
};

void RawWorker(
    Run& run,
    Dispatcher& dispatcher,
    Signals& answered,
    RawClient& client,
    const std::vector<std::string>& nodes
) {
    while (const auto n = dispatcher.Next()) {
        // An id the server never issued (it also receives the answers, and ignores them).
        const std::string id = "raw-" + std::to_string(*n);
        client.Publish(
            nodes[*n % nodes.size()],
            Tlv(
                {{1, id},
                 {2, std::string(1, '\x02')},
                 {5, Le16(kCommand)},
                 {6, R"({"seq":)" + std::to_string(*n) + "}"}}
            )
        );
        if (!answered.Wait(id, std::chrono::milliseconds(5000))) {
            ++run.errors;
            continue;
        }
        run.latency_ns[*n] =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - run.Due(*n))
                .count();
    }
}

// ---- main -------------------------------------------------------------------------------------

std::string Ms(std::int64_t ns) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", static_cast<double>(ns) / 1e6);
    return buffer;
}

int Main(int argc, char** argv) {
    const Args args(
        argc,
        argv,
        1,
        {"--nodes-dir",
         "--mqtt-port",
         "--mqtt-host",
         "--ca",
         "--nodes",
         "--api",
         "--token",
         "--workers",
         "--rate",
         "--duration",
         "--warmup",
         "--link-port",
         "--link-password-file",
         "--link-user"},
        {"--raw"}
    );
    const bool raw = args.Has("--raw");
    const int node_count = static_cast<int>(args.Number("--nodes", 10, 1, 256));
    const int workers = static_cast<int>(args.Number("--workers", 8, 1, 64));
    Run run;
    run.rate = args.Number("--rate", 200, 1, 20000);
    const double duration = args.Number("--duration", 10, 1, 600);
    const double warmup = args.Number("--warmup", 1, 0, 60);
    run.warmup = static_cast<std::uint64_t>(warmup * run.rate);
    run.total = run.warmup + static_cast<std::uint64_t>(duration * run.rate);
    run.latency_ns.assign(run.total, -1);

    mosquitto_lib_init();
    Signals signals;
    std::vector<std::unique_ptr<BenchNode>> nodes;
    std::vector<std::string> ids;
    const std::string mqtt_host = args.Get("--mqtt-host", "127.0.0.1");
    const int mqtt_port = static_cast<int>(args.Number("--mqtt-port", 8883, 1, 65535));
    for (auto& files : ReadNodes(args.Required("--nodes-dir"), node_count)) {
        ids.push_back(files.node_id);
        // In the raw mode the nodes' answers are timed where they come back, not at PUBACK.
        static Signals unused;
        nodes.push_back(std::make_unique<BenchNode>(std::move(files), raw ? unused : signals));
        nodes.back()->Connect(mqtt_host, mqtt_port, args.Required("--ca"));
    }
    std::unique_ptr<RawClient> link;
    if (raw) {
        link = std::make_unique<RawClient>(signals);
        link->Connect(
            "127.0.0.1",
            static_cast<int>(args.Number("--link-port", 1883, 1, 65535)),
            args.Get("--link-user", "rainmaker-server"),
            ReadTrimmed(args.Required("--link-password-file"))
        );
    }
    const auto ready_by = Clock::now() + std::chrono::seconds(20);
    for (;;) {
        const bool ready =
            std::all_of(nodes.begin(), nodes.end(), [](const auto& n) { return n->Ready(); }) &&
            (!link || link->Ready());
        if (ready) {
            break;
        }
        if (Clock::now() > ready_by || g_stop) {
            throw std::runtime_error("the nodes did not get ready within 20 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The server stores each config through its ingest thread: let it catch up.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    std::string host = "127.0.0.1";
    std::string port;
    if (!raw) {
        const std::string api = args.Required("--api");
        const auto colon = api.rfind(':');
        const auto slashes = api.find("//");
        if (colon == std::string::npos || slashes == std::string::npos || colon < slashes) {
            throw UsageError("--api must be http://HOST:PORT");
        }
        host = api.substr(slashes + 2, colon - slashes - 2);
        port = api.substr(colon + 1);
    }
    run.t0 = Clock::now() + std::chrono::milliseconds(100);
    Dispatcher dispatcher(run);
    std::vector<std::thread> threads;
    const std::string token = raw ? std::string{} : args.Required("--token");
    for (int i = 0; i < workers; ++i) {
        if (raw) {
            threads.emplace_back([&] { RawWorker(run, dispatcher, signals, *link, ids); });
        } else {
            threads.emplace_back([&] {
                try {
                    RestWorker(run, dispatcher, signals, ids, host, port, token);
                } catch (const std::exception& e) {
                    ++run.errors;
                    std::cerr << "cmd_latency: worker: " << e.what() << "\n";
                }
            });
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - run.t0).count();

    std::vector<std::int64_t> measured;
    std::uint64_t missing = 0;
    for (std::uint64_t n = run.warmup; n < run.total; ++n) {
        if (run.latency_ns[n] >= 0) {
            measured.push_back(run.latency_ns[n]);
        } else {
            ++missing;
        }
    }
    std::sort(measured.begin(), measured.end());
    const auto at = [&](double p) {
        return measured.empty() ? std::int64_t{0}
                                : measured[static_cast<std::size_t>(
                                      p * static_cast<double>(measured.size() - 1)
                                  )];
    };
    const double achieved = static_cast<double>(run.total) / elapsed;
    std::printf(
        "result mode=%s nodes=%d rate=%.0f achieved=%.1f measured=%zu missing=%llu errors=%llu "
        "p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s\n",
        raw ? "raw" : "rest",
        node_count,
        run.rate,
        achieved,
        measured.size(),
        static_cast<unsigned long long>(missing),
        static_cast<unsigned long long>(run.errors.load()),
        Ms(at(0.5)).c_str(),
        Ms(at(0.9)).c_str(),
        Ms(at(0.99)).c_str(),
        Ms(at(1.0)).c_str()
    );
    std::fflush(stdout);
    nodes.clear();
    link.reset();
    mosquitto_lib_cleanup();
    return missing == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, &OnStopSignal);
    std::signal(SIGTERM, &OnStopSignal);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return Main(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "cmd_latency: " << e.what() << "\n" << kUsage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "cmd_latency: " << e.what() << "\n";
        return 1;
    }
}

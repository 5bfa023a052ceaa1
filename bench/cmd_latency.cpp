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
#include <cstdint>
#include <cstdio>
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

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <mosquitto.h>

#include "bench_support.hpp"
#include "cli_support.hpp"

namespace {

namespace http = boost::beast::http;
using namespace rainmaker::bench;
using rainmaker::tools::Args;
using rainmaker::tools::ReadTrimmed;

constexpr std::string_view kUsage = R"(usage:
  cmd_latency --nodes-dir DIR --mqtt-port P --ca CA.pem [--mqtt-host 127.0.0.1] [--nodes 10]
              --api http://127.0.0.1:PORT --token TOKEN [--workers 8]
              [--rate 200] [--duration 10] [--warmup 1]
  cmd_latency --raw --link-port P --link-password-file F [--link-user rainmaker-server]
              --nodes-dir DIR --mqtt-port P --ca CA.pem [same load options]
DIR holds <node_id>/{node_id,node.key,node.crt}; the first N by name are used. The REST mode
needs them mapped to the token's user.
)";

constexpr const char* kProgram = "cmd_latency";
constexpr int kCommand = 0x1000;

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
    Schedule schedule{Clock::now(), Clock::now(), 200};  // set just before the run
    std::uint64_t total = 0;
    std::uint64_t warmup = 0;
    std::vector<std::int64_t> latency_ns;  // per request, -1 = not completed
    std::atomic<std::uint64_t> errors{0};

    Clock::time_point Due(std::uint64_t n) const { return schedule.Due(n); }
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

// A node that declares cmd-resp and answers every request at once with its data.
class BenchNode {
public:
    BenchNode(const NodeFiles& files, Signals& published)
        : published_(published),
          from_node_("node/" + files.node_id + "/from-node"),
          client_(
              kProgram,
              files,
              // The node answers right after its PUBACK: with Nagle the answer would wait for
              // the broker's delayed ACK (40 ms).
              {.subscribe = "node/" + files.node_id + "/to-node",
               .config = ConfigJson(files.node_id),
               .tcp_nodelay = true}
          ) {
        client_.on_publish = [this](int mid) { OnPublish(mid); };
        client_.on_message = [this](mosquitto* m, const mosquitto_message& message) {
            OnMessage(m, message);
        };
    }

    void Connect(const std::string& host, int port, const std::string& ca) {
        client_.Connect(host, port, ca);
    }

    bool Ready() const { return client_.Ready(); }

    bool Refused() const { return client_.Refused(); }

private:
    static std::string ConfigJson(const std::string& node_id) {
        return R"({"node_id":")" + node_id +
               R"(","config_version":"2020-03-20","info":{"name":"Bench","fw_version":"1.0.0",)"
               R"("type":"Lightbulb","model":"cmd_latency"},"attributes":[{"name":"cmd-resp",)"
               R"("value":"1"}],"devices":[],"services":[]})";
    }

    void OnPublish(int mid) {
        std::string id;
        {
            std::lock_guard lock(mutex_);
            const auto it = answers_.find(mid);
            if (it == answers_.end()) {
                return;
            }
            id = std::move(it->second);
            answers_.erase(it);
        }
        published_.Set(id);
    }

    void OnMessage(mosquitto* m, const mosquitto_message& message) {
        auto items = Untlv(Payload(message));
        const std::string id = items[1];
        const std::string answer =
            Tlv({{1, id}, {3, std::string(1, '\0')}, {5, items[5]}, {6, items[6]}});
        std::lock_guard lock(mutex_);
        int mid = 0;
        if (mosquitto_publish(
                m,
                &mid,
                from_node_.c_str(),
                static_cast<int>(answer.size()),
                answer.data(),
                1,
                false
            ) == MOSQ_ERR_SUCCESS) {
            answers_[mid] = id;
        }
    }

    Signals& published_;
    std::string from_node_;
    std::mutex mutex_;
    std::map<int, std::string> answers_;  // mid of an answer → request id
    NodeClient client_;                   // last: stops before the rest goes away
};

// ---- REST: one blocking keep-alive connection per worker ----------------------------------

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
    const ApiAddress& api,
    const std::string& token
) {
    HttpClient session(api, token);
    while (const auto n = dispatcher.Next()) {
        const auto& node = nodes[*n % nodes.size()];
        const std::string body = R"({"node_ids":[")" + node + R"("],"cmd":)" +
                                 std::to_string(kCommand) + R"(,"data":{"seq":)" +
                                 std::to_string(*n) + "}}";
        const auto [status, answer] = session.Send(http::verb::post, "/v1/user/nodes/cmd", body);
        boost::system::error_code ec;
        const auto json = boost::json::parse(answer, ec);
        const auto* id =
            !ec && json.is_object() ? json.as_object().if_contains("request_id") : nullptr;
        if (status != 200 || id == nullptr || !id->is_string()) {
            if (++run.errors <= 3) {
                std::cerr << "cmd_latency: POST answered " << status << " " << answer << "\n";
            }
            continue;
        }
        const std::string request_id(id->as_string());
        published.Wait(request_id, std::chrono::milliseconds(5000));
        const std::string target = "/v1/user/nodes/cmd?request_id=" + request_id;
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        bool done = false;
        while (!done && Clock::now() < deadline && !g_stop) {
            done = session.Send(http::verb::get, target).second.find(R"("status":"success")") !=
                   std::string::npos;
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
    RawClient(
        Signals& answered,
        const std::string& host,
        int port,
        const std::string& user,
        const std::string& password
    )
        : answered_(answered),
          link_(
              "cmd-latency-raw",
              host,
              port,
              user,
              password,
              {.tcp_nodelay = true},
              {.on_connect = [](mosquitto* m
                             ) { mosquitto_subscribe(m, nullptr, "node/+/from-node", 1); },
               .on_subscribe = [this](int /*mid*/) { subscribed_ = true; },
               .on_message = [this](
                                 mosquitto* /*m*/, const mosquitto_message& message
                             ) { answered_.Set(Untlv(Payload(message))[1]); }}
          ) {}

    bool Ready() const { return subscribed_; }

    void Publish(const std::string& node, const std::string& payload) {
        link_.Publish("node/" + node + "/to-node", payload);
    }

private:
    Signals& answered_;
    std::atomic<bool> subscribed_{false};
    LinkClient link_;  // last: stops before the rest goes away
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
    const double rate = args.Number("--rate", 200, 1, 20000);
    const double duration = args.Number("--duration", 10, 1, 600);
    const double warmup = args.Number("--warmup", 1, 0, 60);
    run.warmup = static_cast<std::uint64_t>(warmup * rate);
    run.total = run.warmup + static_cast<std::uint64_t>(duration * rate);
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
        nodes.push_back(std::make_unique<BenchNode>(files, raw ? unused : signals));
        nodes.back()->Connect(mqtt_host, mqtt_port, args.Required("--ca"));
    }
    std::unique_ptr<RawClient> link;
    if (raw) {
        link = std::make_unique<RawClient>(
            signals,
            "127.0.0.1",
            static_cast<int>(args.Number("--link-port", 1883, 1, 65535)),
            args.Get("--link-user", "rainmaker-server"),
            ReadTrimmed(args.Required("--link-password-file"))
        );
    }
    const auto ready_by = Clock::now() + std::chrono::seconds(20);
    if (!WaitForNodes(nodes, ready_by, std::chrono::milliseconds(20), [&] {
            return !link || link->Ready();
        })) {
        throw std::runtime_error("interrupted before the nodes got ready");
    }
    // The server stores each config through its ingest thread: let it catch up.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    const ApiAddress api = raw ? ApiAddress{} : ParseApi(args.Required("--api"));
    const auto t0 = Clock::now() + std::chrono::milliseconds(100);
    run.schedule = Schedule(t0, t0, rate);
    Dispatcher dispatcher(run);
    std::vector<std::thread> threads;
    const std::string token = raw ? std::string{} : args.Required("--token");
    for (int i = 0; i < workers; ++i) {
        if (raw) {
            threads.emplace_back([&] { RawWorker(run, dispatcher, signals, *link, ids); });
        } else {
            threads.emplace_back([&] {
                try {
                    RestWorker(run, dispatcher, signals, ids, api, token);
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
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

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
    // The sample at index floor(p * (n - 1)), in ms (not the nearest rank of the others).
    const auto at = [&](double p) {
        return measured.empty() ? 0.0
                                : static_cast<double>(measured[static_cast<std::size_t>(
                                      p * static_cast<double>(measured.size() - 1)
                                  )]) /
                                      1e6;
    };
    const double achieved = static_cast<double>(run.total) / elapsed;
    std::printf(
        "result mode=%s nodes=%d rate=%.0f achieved=%.1f measured=%zu missing=%llu errors=%llu "
        "p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s\n",
        raw ? "raw" : "rest",
        node_count,
        rate,
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
    return RunMain(kProgram, kUsage, &Main, argc, argv);
}

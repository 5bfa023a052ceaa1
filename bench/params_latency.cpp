// `make bench-devices` (bench/devices.sh): the latency of a param change from the REST API to
// the node. It acts as N nodes (TLS client certificates, as a device connects), each reporting
// its config and subscribing to node/<id>/params/remote, then sends
// `PUT /v1/user/nodes/params?node_id=<id>` at a fixed total rate over K keep-alive connections
// and times each set from its scheduled send to its arrival on params/remote.
//
// The schedule is open-loop: set n is due at t0 + n / rate whatever happened before, and its
// latency is counted from that due time, so a stalled server shows up as queueing in the
// figures instead of slowing the client down (no coordinated omission).
//
// --raw is the broker baseline: the same schedule and the same payload, published directly to
// node/<id>/params/remote by a libmosquitto client on the server's loopback link listener.
//
// Prints one `result key=value ...` line (devices.sh parses it) and a readable summary on stderr.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <mosquitto.h>

#include "bench_support.hpp"
#include "cli_support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace rainmaker::bench;
using rainmaker::tools::Args;
using rainmaker::tools::ReadTrimmed;
using rainmaker::tools::UsageError;

constexpr const char* kProgram = "params_latency";

constexpr std::string_view kUsage = R"(usage:
  params_latency --nodes-dir DIR --mqtt-port P --ca CA.pem [--mqtt-host 127.0.0.1] [--nodes 10]
                 --api http://127.0.0.1:PORT --token TOKEN [--connections 8]
                 [--rate 1000] [--duration 10] [--warmup 1] [--drain 5]
  params_latency --raw --link-port P --link-password-file F [--link-user rainmaker-server]
                 [--link-host 127.0.0.1]
                 --nodes-dir DIR --mqtt-port P --ca CA.pem [same load options]
DIR holds <node_id>/{node_id,node.key,node.crt} (rainmaker-server admin issue-node-certs); the
first N by name are used. The REST mode needs them mapped to the token's user.
)";

constexpr int kMaxNodes = 256;  // one libmosquitto thread each
constexpr auto kReadyTimeout = std::chrono::seconds(20);

// The simulator's config shape (tools/device-sim/simulated_node.cpp), cut down to the one
// param this benchmark sets: device "Light" with the read/write string param "Name".
std::string ConfigJson(const std::string& node_id) {
    boost::json::object info{
        {"name", "Bench Light"},
        {"fw_version", "1.0.0"},
        {"type", "Lightbulb"},
        {"model", "params_latency"},
        {"project_name", "led_light"},
        {"platform", "esp32c3"}};
    boost::json::object name{
        {"name", "Name"},
        {"type", "esp.param.name"},
        {"data_type", "string"},
        {"properties", boost::json::array{"read", "write"}}};
    boost::json::object light{
        {"name", "Light"},
        {"type", "esp.device.lightbulb"},
        {"primary", "Name"},
        {"params", boost::json::array{name}}};
    boost::json::object config{
        {"node_id", node_id},
        {"config_version", "2020-03-20"},
        {"info", info},
        {"devices", boost::json::array{light}},
        {"services", boost::json::array{}}};
    return boost::json::serialize(config);
}

std::string SetBody(std::uint64_t seq) {
    return R"({"Light":{"Name":"seq-)" + std::to_string(seq) + R"("}})";
}

// "seq-<n>" anywhere in the payload; the server may re-serialise the JSON, the marker survives.
std::optional<std::uint64_t> ParseSeq(std::string_view payload) {
    const auto at = payload.find("seq-");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint64_t seq = 0;
    const char* begin = payload.data() + at + 4;
    const char* end = payload.data() + payload.size();
    const auto [ptr, ec] = std::from_chars(begin, end, seq);
    if (ec != std::errc{} || ptr == begin) {
        return std::nullopt;
    }
    return seq;
}

// ---- what both sides share ------------------------------------------------------------------

struct Run {
    Clock::time_point origin = Clock::now();  // every time below is ns since origin
    std::uint64_t total = 0;                  // sets scheduled, warm-up included
    std::uint64_t warmup = 0;                 // the first `warmup` sets are not counted
    // Arrival on params/remote, 0 = not yet. Written by the node threads, first arrival wins.
    std::vector<std::atomic<std::int64_t>> received_ns;
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> strays{0};  // params/remote without a sequence we sent
};

// ---- the nodes: libmosquitto clients with TLS client certificates ----------------------------

// Subscribed to its params/remote, where it records the arrival of each set.
class BenchNode {
public:
    BenchNode(NodeFiles files, Run& run)
        : run_(run),
          client_(
              kProgram,
              files,
              {"node/" + files.node_id + "/params/remote", ConfigJson(files.node_id)}
          ) {
        client_.on_message = [this](mosquitto* /*m*/, const mosquitto_message& message) {
            OnMessage(message);
        };
    }

    void Connect(const std::string& host, int port, const std::string& ca_file) {
        client_.Connect(host, port, ca_file);
    }

    bool Ready() const { return client_.Ready(); }

    bool Refused() const { return client_.Refused(); }

private:
    void OnMessage(const mosquitto_message& message) {
        const std::int64_t now = NanosSince(run_.origin, Clock::now());
        const auto seq = ParseSeq(Payload(message));
        if (!seq || *seq >= run_.total) {
            ++run_.strays;
            return;
        }
        std::int64_t expected = 0;
        if (run_.received_ns[*seq].compare_exchange_strong(
                expected, std::max<std::int64_t>(now, 1)
            )) {
            ++run_.received;
        } else {
            ++run_.duplicates;
        }
    }

    Run& run_;
    NodeClient client_;  // last: stops before the rest goes away
};

// ---- senders: one set = one PUT (REST) or one publish (--raw) --------------------------------

class Sender {
public:
    virtual ~Sender() = default;
    // Takes the due sets from `pending` as far as it can.
    virtual void Pump(std::deque<std::uint64_t>& pending) = 0;
    // Nothing in flight.
    virtual bool Idle() const = 0;
    virtual std::uint64_t Errors() const = 0;
};

struct RestStats {
    std::uint64_t errors = 0;
    int errors_shown = 0;
    std::vector<std::int64_t> response_ns;  // per set: HTTP answer received, 0 = none
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
public:
    HttpConnection(
        asio::io_context& io,
        tcp::endpoint endpoint,
        const std::string& host_header,
        const std::string& token,
        const std::vector<std::string>& node_ids,
        Run& run,
        RestStats& stats
    )
        : socket_(io),
          endpoint_(std::move(endpoint)),
          host_header_(host_header),
          token_(token),
          node_ids_(node_ids),
          run_(run),
          stats_(stats) {}

    bool Idle() const { return connected_ && !busy_; }

    bool Busy() const { return busy_ || connecting_; }

    void Connect(std::function<void()> on_idle) {
        on_idle_ = std::move(on_idle);
        connecting_ = true;
        socket_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
            self->connecting_ = false;
            if (ec) {
                std::cerr << "params_latency: HTTP connect: " << ec.message() << "\n";
                return;
            }
            self->socket_.set_option(tcp::no_delay(true));
            self->connected_ = true;
            self->on_idle_();
        });
    }

    void Send(std::uint64_t seq) {
        busy_ = true;
        seq_ = seq;
        const std::string body = SetBody(seq);
        const std::string& node_id = node_ids_[seq % node_ids_.size()];
        request_.clear();
        request_ += "PUT /v1/user/nodes/params?node_id=" + node_id + " HTTP/1.1\r\n";
        request_ += "Host: " + host_header_ + "\r\n";
        request_ += "Authorization: " + token_ + "\r\n";
        request_ += "Content-Type: application/json\r\n";
        request_ += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        request_ += body;
        asio::async_write(
            socket_,
            asio::buffer(request_),
            [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                if (ec) {
                    self->Fail("write", ec);
                    return;
                }
                self->response_.emplace();
                self->response_->body_limit(std::uint64_t{64} * 1024);
                http::async_read(
                    self->socket_,
                    self->buffer_,
                    *self->response_,
                    [self](beast::error_code read_ec, std::size_t /*bytes*/) {
                        self->OnRead(read_ec);
                    }
                );
            }
        );
    }

private:
    void OnRead(beast::error_code ec) {
        if (ec) {
            Fail("read", ec);
            return;
        }
        stats_.response_ns[seq_] = NanosSince(run_.origin, Clock::now());
        const auto& response = response_->get();
        if (response.result_int() != 200) {
            ++stats_.errors;
            if (stats_.errors_shown < 3) {
                ++stats_.errors_shown;
                std::cerr << "params_latency: PUT answered " << response.result_int() << ": "
                          << response.body() << "\n";
            }
        }
        const bool keep = response.keep_alive();
        busy_ = false;
        if (!keep) {
            Reconnect();
            return;
        }
        on_idle_();
    }

    void Fail(const char* what, beast::error_code ec) {
        ++stats_.errors;
        if (stats_.errors_shown < 3) {
            ++stats_.errors_shown;
            std::cerr << "params_latency: HTTP " << what << ": " << ec.message() << "\n";
        }
        busy_ = false;
        Reconnect();
    }

    void Reconnect() {
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        buffer_.clear();
        connected_ = false;
        if (!g_stop) {
            Connect(on_idle_);
        }
    }

    tcp::socket socket_;
    tcp::endpoint endpoint_;
    const std::string& host_header_;
    const std::string& token_;
    const std::vector<std::string>& node_ids_;
    Run& run_;
    RestStats& stats_;
    std::function<void()> on_idle_;
    std::string request_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> response_;
    std::uint64_t seq_ = 0;
    bool connected_ = false;
    bool connecting_ = false;
    bool busy_ = false;
};

class RestSender : public Sender {
public:
    RestSender(
        asio::io_context& io,
        const ApiAddress& api,
        std::string token,
        std::vector<std::string> node_ids,
        int connections,
        Run& run,
        const std::function<void()>& pump_again
    )
        : io_(io),
          token_(std::move(token)),
          node_ids_(std::move(node_ids)),
          run_(run),
          host_header_(api.host_header) {
        tcp::resolver resolver(io_);
        const auto results = resolver.resolve(api.host, api.port);
        if (results.empty()) {
            throw std::runtime_error("cannot resolve " + api.host);
        }
        endpoint_ = results.begin()->endpoint();
        stats_.response_ns.assign(run_.total, 0);
        for (int i = 0; i < connections; ++i) {
            connections_.push_back(std::make_shared<HttpConnection>(
                io_, endpoint_, host_header_, token_, node_ids_, run_, stats_
            ));
        }
        for (auto& c : connections_) {
            c->Connect(pump_again);
        }
    }

    ~RestSender() override {
        for (auto& c : connections_) {
            c.reset();
        }
    }

    void Pump(std::deque<std::uint64_t>& pending) override {
        for (auto& c : connections_) {
            if (pending.empty()) {
                return;
            }
            if (c->Idle()) {
                c->Send(pending.front());
                pending.pop_front();
            }
        }
    }

    bool Idle() const override {
        return std::none_of(connections_.begin(), connections_.end(), [](const auto& c) {
            return c->Busy();
        });
    }

    std::uint64_t Errors() const override { return stats_.errors; }

    const RestStats& Stats() const { return stats_; }

private:
    asio::io_context& io_;
    std::string token_;
    std::vector<std::string> node_ids_;
    Run& run_;
    std::string host_header_;
    tcp::endpoint endpoint_;
    RestStats stats_;
    std::vector<std::shared_ptr<HttpConnection>> connections_;
};

// The broker baseline: what the server's own link does for a PUT, minus the server.
class RawSender : public Sender {
public:
    RawSender(
        const std::string& host,
        int port,
        const std::string& user,
        const std::string& password,
        std::vector<std::string> node_ids
    )
        : node_ids_(std::move(node_ids)),
          link_(
              "params-latency-raw",
              host,
              port,
              user,
              password,
              {.unlimited_inflight = true},
              {.on_publish = [this](int /*mid*/) { ++acked_; }}
          ) {}

    void Pump(std::deque<std::uint64_t>& pending) override {
        while (!pending.empty()) {
            const std::uint64_t seq = pending.front();
            pending.pop_front();
            const std::string topic =
                "node/" + node_ids_[seq % node_ids_.size()] + "/params/remote";
            const int rc = link_.Publish(topic, SetBody(seq));
            if (rc == MOSQ_ERR_SUCCESS) {
                ++published_;
            } else {
                ++errors_;
                if (errors_ <= 3) {
                    std::cerr << "params_latency: publish: " << mosquitto_strerror(rc) << "\n";
                }
            }
        }
    }

    bool Idle() const override { return acked_.load() >= published_; }

    std::uint64_t Errors() const override { return errors_; }

private:
    std::vector<std::string> node_ids_;
    std::atomic<std::uint64_t> acked_{0};
    std::uint64_t published_ = 0;
    std::uint64_t errors_ = 0;
    LinkClient link_;  // last: stops before the rest goes away
};

// ---- the run ---------------------------------------------------------------------------------

int Main(int argc, char** argv) {
    const Args args(
        argc,
        argv,
        1,
        {"--nodes-dir",
         "--nodes",
         "--mqtt-host",
         "--mqtt-port",
         "--ca",
         "--api",
         "--token",
         "--connections",
         "--rate",
         "--duration",
         "--warmup",
         "--drain",
         "--link-host",
         "--link-port",
         "--link-user",
         "--link-password-file"},
        {"--raw", "--help"}
    );
    if (args.Has("--help")) {
        std::cout << kUsage;
        return 0;
    }
    const bool raw = args.Has("--raw");
    const int node_count = static_cast<int>(args.Number("--nodes", 10, 1, kMaxNodes));
    const double rate = args.Number("--rate", 1000, 1, 100000);
    const double duration_s = args.Number("--duration", 10, 1, 300);
    const double warmup_s = args.Number("--warmup", 1, 0, 60);
    const double drain_s = args.Number("--drain", 5, 0, 60);
    const int connections = static_cast<int>(args.Number("--connections", 8, 1, 1024));
    const std::string mqtt_host = args.Get("--mqtt-host", "127.0.0.1");
    const int mqtt_port = static_cast<int>(args.Number("--mqtt-port", 0, 1, 65535));
    if (!args.Has("--mqtt-port")) {
        throw UsageError("--mqtt-port is required");
    }
    const std::string ca_file = args.Required("--ca");
    const auto files = ReadNodes(args.Required("--nodes-dir"), node_count);

    Run run;
    run.warmup = Count(rate, warmup_s);
    run.total = run.warmup + Count(rate, duration_s);
    run.received_ns = std::vector<std::atomic<std::int64_t>>(run.total);  // all 0

    mosquitto_lib_init();
    std::vector<std::unique_ptr<BenchNode>> nodes;
    std::vector<std::string> node_ids;
    for (const auto& f : files) {
        nodes.push_back(std::make_unique<BenchNode>(f, run));
        node_ids.push_back(f.node_id);
        nodes.back()->Connect(mqtt_host, mqtt_port, ca_file);
    }
    const auto ready_deadline = Clock::now() + kReadyTimeout;
    WaitForNodes(nodes, ready_deadline, std::chrono::milliseconds(10));

    asio::io_context io;
    std::deque<std::uint64_t> pending;
    std::unique_ptr<Sender> sender;
    RestSender* rest = nullptr;
    std::function<void()> pump = [&] {
        if (sender) {
            sender->Pump(pending);
        }
    };
    if (raw) {
        std::string password = ReadTrimmed(args.Required("--link-password-file"));
        sender = std::make_unique<RawSender>(
            args.Get("--link-host", "127.0.0.1"),
            static_cast<int>(args.Number("--link-port", 0, 1, 65535)),
            args.Get("--link-user", "rainmaker-server"),
            password,
            node_ids
        );
    } else {
        const ApiAddress api = ParseApi(args.Required("--api"));
        auto owned = std::make_unique<RestSender>(
            io, api, args.Required("--token"), node_ids, connections, run, pump
        );
        rest = owned.get();
        // The server stores a config from the broker asynchronously: PUT params is refused until
        // it has, so wait for GET config to answer 200 for every node.
        HttpClient client(api, args.Required("--token"));
        for (const auto& id : node_ids) {
            unsigned status = 0;
            while (!g_stop &&
                   (status =
                        client.Send(http::verb::get, "/v1/user/nodes/config?node_id=" + id).first
                   ) != 200) {
                if (Clock::now() > ready_deadline) {
                    throw std::runtime_error(
                        "GET /v1/user/nodes/config?node_id=" + id + " answers " +
                        std::to_string(status) + " (is the node mapped to the token's user?)"
                    );
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        sender = std::move(owned);
    }

    // The schedule: set n is due at t0 + n / rate.
    const auto t0 = Clock::now() + std::chrono::milliseconds(50);
    const Schedule schedule(run.origin, t0, rate);
    std::uint64_t next = 0;
    bool draining = false;
    Clock::time_point drain_until{};
    asio::steady_timer timer(io);
    std::function<void()> tick = [&] {
        const auto now = Clock::now();
        if (g_stop) {
            io.stop();
            return;
        }
        if (!draining) {
            const std::int64_t now_ns = NanosSince(run.origin, now);
            while (next < run.total && schedule.DueNs(next) <= now_ns) {
                pending.push_back(next++);
            }
            sender->Pump(pending);
            if (next < run.total) {
                timer.expires_at(schedule.Due(next));
                timer.async_wait([&](beast::error_code ec) {
                    if (!ec) {
                        tick();
                    }
                });
                return;
            }
            if (!pending.empty() || !sender->Idle()) {
                timer.expires_after(std::chrono::milliseconds(1));
                timer.async_wait([&](beast::error_code ec) {
                    if (!ec) {
                        tick();
                    }
                });
                return;
            }
            draining = true;
            drain_until = now + std::chrono::milliseconds(static_cast<long>(drain_s * 1000));
        }
        // Everything sent and answered: wait for the stragglers on params/remote, bounded.
        if (run.received.load() + sender->Errors() >= run.total || now >= drain_until) {
            io.stop();
            return;
        }
        timer.expires_after(std::chrono::milliseconds(10));
        timer.async_wait([&](beast::error_code ec) {
            if (!ec) {
                tick();
            }
        });
    };
    timer.expires_at(t0);
    timer.async_wait([&](beast::error_code ec) {
        if (!ec) {
            tick();
        }
    });
    io.run();
    const auto finished = Clock::now();
    if (g_stop) {
        std::cerr << "params_latency: interrupted\n";
        return 130;
    }

    // ---- figures over the measured sets (after the warm-up) ----
    const auto latency = Latencies(run.received_ns, run.warmup, schedule);
    const std::uint64_t received = latency.size();
    const std::uint64_t measured = run.total - run.warmup;
    const std::uint64_t errors = sender->Errors();
    const std::uint64_t lost = measured - received;
    const std::string rate_text = RateText(rate);
    std::string line = "result mode=" + std::string(raw ? "raw" : "rest") +
                       " nodes=" + std::to_string(nodes.size()) + " rate=" + rate_text +
                       " connections=" + std::to_string(raw ? 1 : connections) +
                       " sent=" + std::to_string(measured) + " errors=" + std::to_string(errors) +
                       " received=" + std::to_string(received) + " lost=" + std::to_string(lost) +
                       " duplicates=" + std::to_string(run.duplicates.load()) +
                       " strays=" + std::to_string(run.strays.load()) + LatencyFields(latency);
    if (rest != nullptr) {
        const auto answered = Latencies(rest->Stats().response_ns, run.warmup, schedule);
        line += " http_p50_ms=" + Ms(PercentileMs(answered, 0.50)) +
                " http_p99_ms=" + Ms(PercentileMs(answered, 0.99));
    }
    std::cout << line << std::endl;
    std::cerr << "params_latency " << (raw ? "raw publish" : "REST PUT") << ": " << measured
              << " sets at " << rate_text << "/s over " << nodes.size() << " nodes, " << received
              << " received, " << lost << " lost, " << errors << " errors; latency p50 "
              << Ms(PercentileMs(latency, 0.50)) << " ms, p99 " << Ms(PercentileMs(latency, 0.99))
              << " ms, max " << Ms(PercentileMs(latency, 1.0)) << " ms ("
              << Ms(std::chrono::duration<double, std::milli>(finished - t0).count() / 1000)
              << " s)\n";
    sender.reset();
    nodes.clear();
    mosquitto_lib_cleanup();
    return lost == 0 && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return RunMain(kProgram, kUsage, &Main, argc, argv);
}

// `bench/automations.sh`: the latency of an automation, from a node's `params/local` to the
// action the server publishes on another node's `params/remote`, with many automations stored.
// It acts as 2P nodes (TLS client certificates, as devices connect): P trigger nodes A_i and P
// action nodes B_i, each reporting a config (Light: Temperature, Power) and subscribed to its
// params/remote. Node A_i reports its temperature alternately 30 and 20 at a fixed total rate;
// two automations per pair (A_i Temperature > 25 -> B_i Power true, < 25 -> Power false) make
// every report one action, and each is timed from its scheduled send to its arrival on B_i
// (open loop: a stalled server shows up as queueing, not as a slower client). Before the run it
// creates those automations and `--filler` more through the REST API: `--filler-per-trigger`
// on each A_i whose events never hold (evaluated on every report, as an automation of a busy
// node would be) and the rest spread over the nodes of `--filler-nodes-file`.
//
// --raw is the broker baseline: the same reports, relayed to B_i's params/remote by a
// libmosquitto client on the server's loopback link listener that does nothing else (two broker
// hops and a trivial relay, no store).
//
// Prints one `result key=value ...` line (automations.sh parses it) and a summary on stderr.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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
using rainmaker::tools::UsageError;

constexpr std::string_view kUsage = R"(usage:
  automation_latency --nodes-dir DIR --mqtt-port P --ca CA.pem [--mqtt-host 127.0.0.1]
                     [--pairs 10] [--rate 1000] [--duration 10] [--warmup 1] [--drain 5]
                     --api http://127.0.0.1:PORT --token TOKEN
                     [--filler 0] [--filler-per-trigger 8] [--filler-nodes-file FILE]
  automation_latency --raw --link-port P --link-password-file F [--link-user rainmaker-server]
                     --nodes-dir DIR --mqtt-port P --ca CA.pem [same load options]
DIR holds <node_id>/{node_id,node.key,node.crt} (rainmaker-server admin issue-node-certs); the
first 2 * pairs by name are used (A_i the first half). Automation mode needs them, and the
filler nodes, mapped to the token's user, and a server whose automations.max_per_user allows
2 * pairs + filler automations.
)";

constexpr const char* kProgram = "automation_latency";
constexpr int kMaxPairs = 128;  // two libmosquitto threads per pair
constexpr auto kReadyTimeout = std::chrono::seconds(30);

std::string ConfigJson(const std::string& node_id) {
    const boost::json::object temperature{
        {"name", "Temperature"},
        {"type", "esp.param.temperature"},
        {"data_type", "float"},
        {"properties", boost::json::array{"read"}}};
    const boost::json::object power{
        {"name", "Power"},
        {"type", "esp.param.power"},
        {"data_type", "bool"},
        {"properties", boost::json::array{"read", "write"}}};
    const boost::json::object light{
        {"name", "Light"},
        {"type", "esp.device.lightbulb"},
        {"primary", "Power"},
        {"params", boost::json::array{temperature, power}}};
    const boost::json::object config{
        {"node_id", node_id},
        {"config_version", "2020-03-20"},
        {"info",
         boost::json::object{
             {"name", "Bench Light"},
             {"fw_version", "1.0.0"},
             {"type", "Lightbulb"},
             {"model", "automation_latency"}}},
        {"devices", boost::json::array{light}},
        {"services", boost::json::array{}}};
    return boost::json::serialize(config);
}

// ---- what the senders and the nodes share ---------------------------------------------------

// One pair's reports in flight: B_i receives its actions in the order A_i reported (one broker,
// QoS 1, one ingest thread), so the k-th action answers the k-th report still expected.
struct Pair {
    std::mutex mutex;
    std::deque<std::pair<std::uint64_t, bool>> expected;  // (seq, Power the action must set)
    int reports = 0;                                      // A_i's reports so far (alternation)
};

struct Run {
    Clock::time_point origin = Clock::now();
    std::uint64_t total = 0;
    std::uint64_t warmup = 0;
    std::vector<std::atomic<std::int64_t>> received_ns;  // per report; 0 = no action yet
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> mismatched{0};  // an action that was not the next expected one
    std::atomic<std::uint64_t> strays{0};      // an action with nothing expected
    std::vector<std::unique_ptr<Pair>> pairs;
};

// The Power value of an action payload ({"Light":{"Power":true}}), if it holds one.
std::optional<bool> PowerOf(std::string_view payload) {
    if (payload.find("\"Power\":true") != std::string_view::npos) {
        return true;
    }
    if (payload.find("\"Power\":false") != std::string_view::npos) {
        return false;
    }
    return std::nullopt;
}

// A node: TLS client certificate, config reported, params/remote subscribed. An action node
// (pair >= 0 and action) matches what arrives against its pair's expected reports.
class BenchNode {
public:
    BenchNode(const NodeFiles& files, Run& run, int pair, bool action)
        : run_(run),
          pair_(pair),
          action_(action),
          local_topic_("node/" + files.node_id + "/params/local"),
          client_(
              kProgram,
              files,
              {.subscribe = "node/" + files.node_id + "/params/remote",
               .config = ConfigJson(files.node_id),
               .unlimited_inflight = true}
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

    // A temperature report on params/local (thread-safe in libmosquitto).
    bool Report(double temperature) {
        const std::string body = R"({"Light":{"Temperature":)" + std::to_string(temperature) + "}}";
        return mosquitto_publish(
                   client_.Handle(),
                   nullptr,
                   local_topic_.c_str(),
                   static_cast<int>(body.size()),
                   body.data(),
                   1,
                   false
               ) == MOSQ_ERR_SUCCESS;
    }

private:
    void OnMessage(const mosquitto_message& message) {
        const std::int64_t now = NanosSince(run_.origin, Clock::now());
        if (!action_ || pair_ < 0) {
            return;
        }
        const auto power = PowerOf(Payload(message));
        Pair& pair = *run_.pairs[static_cast<std::size_t>(pair_)];
        std::lock_guard lock(pair.mutex);
        if (!power || pair.expected.empty()) {
            ++run_.strays;
            return;
        }
        // A missing action shows as a value out of turn: drop the reports it skipped.
        while (!pair.expected.empty() && pair.expected.front().second != *power) {
            pair.expected.pop_front();
            ++run_.mismatched;
        }
        if (pair.expected.empty()) {
            return;
        }
        const auto seq = pair.expected.front().first;
        pair.expected.pop_front();
        run_.received_ns[seq] = std::max<std::int64_t>(now, 1);
        ++run_.received;
    }

    Run& run_;
    int pair_;
    bool action_;
    std::string local_topic_;
    NodeClient client_;  // last: stops before the rest goes away
};

std::string AutomationBody(
    const std::string& name,
    const std::string& node,
    const char* check,
    double value,
    const std::string& action_node,
    bool power
) {
    return boost::json::serialize(boost::json::object{
        {"name", name},
        {"node_id", node},
        {"event_type", "node_params"},
        {"events",
         boost::json::array{boost::json::object{
             {"params",
              boost::json::object{{"Light", boost::json::object{{"Temperature", value}}}}},
             {"check", check}}}},
        {"actions",
         boost::json::array{boost::json::object{
             {"node_id", action_node},
             {"params", boost::json::object{{"Light", boost::json::object{{"Power", power}}}}}}}}});
}

// ---- the raw baseline: a relay on the link listener ------------------------------------------

class Relay {
public:
    Relay(
        const std::string& host,
        int port,
        const std::string& user,
        const std::string& password,
        const std::vector<std::string>& triggers,
        const std::vector<std::string>& actions
    )
        : routes_(Routes(triggers, actions)),
          link_(
              "automation-latency-relay",
              host,
              port,
              user,
              password,
              {.unlimited_inflight = true},
              {.on_connect =
                   [this](mosquitto* m) {
                       for (const auto& [topic, target] : routes_) {
                           mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
                       }
                   },
               .on_message =
                   [this](mosquitto* m, const mosquitto_message& msg) { OnMessage(m, msg); }}
          ) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the SUBACKs
    }

private:
    // params/local of each trigger -> params/remote of its action node.
    static std::map<std::string, std::string> Routes(
        const std::vector<std::string>& triggers, const std::vector<std::string>& actions
    ) {
        std::map<std::string, std::string> routes;
        for (std::size_t i = 0; i < triggers.size(); ++i) {
            routes["node/" + triggers[i] + "/params/local"] =
                "node/" + actions[i] + "/params/remote";
        }
        return routes;
    }

    void OnMessage(mosquitto* m, const mosquitto_message& msg) {
        const auto route = routes_.find(msg.topic);
        if (route == routes_.end()) {
            return;
        }
        const std::string_view payload = Payload(msg);
        const auto at = payload.find("\"Temperature\":");
        const bool hot =
            at != std::string_view::npos &&
            std::strtod(std::string(payload.substr(at + 14, 24)).c_str(), nullptr) > 25;
        const std::string body =
            hot ? R"({"Light":{"Power":true}})" : R"({"Light":{"Power":false}})";
        mosquitto_publish(
            m, nullptr, route->second.c_str(), static_cast<int>(body.size()), body.data(), 1, false
        );
    }

    std::map<std::string, std::string> routes_;
    LinkClient link_;  // last: stops before the rest goes away
};

// ---- the run ---------------------------------------------------------------------------------

// Creates the pairs' automations and the filler; returns how many were made.
int CreateAutomations(
    HttpClient& api,
    const std::vector<std::string>& triggers,
    const std::vector<std::string>& actions,
    int filler,
    int filler_per_trigger,
    const std::vector<std::string>& filler_nodes
) {
    int made = 0;
    const auto post = [&](const std::string& body) {
        const auto [status, answer] = api.Send(http::verb::post, "/v1/user/node_automation", body);
        if (status != 200) {
            throw std::runtime_error(
                "POST /v1/user/node_automation answered " + std::to_string(status) + ": " + answer
            );
        }
        ++made;
    };
    for (std::size_t i = 0; i < triggers.size(); ++i) {
        const auto n = std::to_string(i);
        post(AutomationBody("hot-" + n, triggers[i], ">", 25, actions[i], true));
        post(AutomationBody("cold-" + n, triggers[i], "<", 25, actions[i], false));
    }
    int left = filler;
    for (std::size_t i = 0; i < triggers.size() && left > 0; ++i) {
        for (int k = 0; k < filler_per_trigger && left > 0; ++k, --left) {
            post(AutomationBody(
                "never-" + std::to_string(i) + "-" + std::to_string(k),
                triggers[i],
                ">",
                1000 + k,
                actions[i],
                false
            ));
        }
    }
    if (left > 0 && filler_nodes.empty()) {
        throw UsageError("--filler needs --filler-nodes-file for what the triggers do not hold");
    }
    for (int k = 0; left > 0; ++k, --left) {
        const auto& node = filler_nodes[static_cast<std::size_t>(k) % filler_nodes.size()];
        post(AutomationBody("filler-" + std::to_string(k), node, ">", 1000, actions[0], false));
        if (made % 1000 == 0) {
            std::cerr << "automation_latency: " << made << " automations\n";
        }
    }
    return made;
}

int Main(int argc, char** argv) {
    const Args args(
        argc,
        argv,
        1,
        {"--nodes-dir",
         "--pairs",
         "--mqtt-host",
         "--mqtt-port",
         "--ca",
         "--api",
         "--token",
         "--rate",
         "--duration",
         "--warmup",
         "--drain",
         "--filler",
         "--filler-per-trigger",
         "--filler-nodes-file",
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
    const int pairs = static_cast<int>(args.Number("--pairs", 10, 1, kMaxPairs));
    const double rate = args.Number("--rate", 1000, 1, 100000);
    const double duration_s = args.Number("--duration", 10, 1, 300);
    const double warmup_s = args.Number("--warmup", 1, 0, 60);
    const double drain_s = args.Number("--drain", 5, 0, 60);
    const int filler = static_cast<int>(args.Number("--filler", 0, 0, 1000000));
    const int filler_per_trigger =
        static_cast<int>(args.Number("--filler-per-trigger", 8, 0, 1000));
    const std::string mqtt_host = args.Get("--mqtt-host", "127.0.0.1");
    if (!args.Has("--mqtt-port")) {
        throw UsageError("--mqtt-port is required");
    }
    const int mqtt_port = static_cast<int>(args.Number("--mqtt-port", 0, 1, 65535));
    const std::string ca_file = args.Required("--ca");
    const auto files = ReadNodes(args.Required("--nodes-dir"), 2 * pairs);

    Run run;
    run.warmup = Count(rate, warmup_s);
    run.total = run.warmup + Count(rate, duration_s);
    run.received_ns = std::vector<std::atomic<std::int64_t>>(run.total);
    for (int i = 0; i < pairs; ++i) {
        run.pairs.push_back(std::make_unique<Pair>());
    }

    mosquitto_lib_init();
    std::vector<std::unique_ptr<BenchNode>> nodes;
    std::vector<std::string> triggers;
    std::vector<std::string> actions;
    for (int i = 0; i < 2 * pairs; ++i) {
        const bool action = i >= pairs;
        nodes.push_back(std::make_unique<BenchNode>(
            files[static_cast<std::size_t>(i)], run, action ? i - pairs : i, action
        ));
        (action ? actions : triggers).push_back(files[static_cast<std::size_t>(i)].node_id);
        nodes.back()->Connect(mqtt_host, mqtt_port, ca_file);
    }
    const auto ready_deadline = Clock::now() + kReadyTimeout;
    WaitForNodes(nodes, ready_deadline, std::chrono::milliseconds(10));

    std::unique_ptr<Relay> relay;
    int automations = 0;
    if (raw) {
        relay = std::make_unique<Relay>(
            args.Get("--link-host", "127.0.0.1"),
            static_cast<int>(args.Number("--link-port", 0, 1, 65535)),
            args.Get("--link-user", "rainmaker-server"),
            ReadTrimmed(args.Required("--link-password-file")),
            triggers,
            actions
        );
    } else {
        HttpClient api(ParseApi(args.Required("--api")), args.Required("--token"));
        // Actions are checked against the action node's stored config: wait for every config.
        for (const auto& id : actions) {
            while (!g_stop &&
                   api.Send(http::verb::get, "/v1/user/nodes/config?node_id=" + id).first != 200) {
                if (Clock::now() > ready_deadline) {
                    throw std::runtime_error(
                        "no config of " + id + " (is the node mapped to the token's user?)"
                    );
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        std::vector<std::string> filler_nodes;
        if (args.Has("--filler-nodes-file")) {
            std::ifstream in(args.Get("--filler-nodes-file"));
            for (std::string line; std::getline(in, line);) {
                if (!line.empty()) {
                    filler_nodes.push_back(line);
                }
            }
        }
        const auto t = Clock::now();
        automations =
            CreateAutomations(api, triggers, actions, filler, filler_per_trigger, filler_nodes);
        std::cerr << "automation_latency: " << automations << " automations created in "
                  << Ms(std::chrono::duration<double, std::milli>(Clock::now() - t).count() / 1000)
                  << " s\n";
    }

    // The schedule: report n is due at t0 + n / rate, from A_(n mod pairs).
    const Schedule schedule(run.origin, Clock::now() + std::chrono::milliseconds(100), rate);
    std::uint64_t publish_errors = 0;
    for (std::uint64_t seq = 0; seq < run.total && !g_stop; ++seq) {
        std::this_thread::sleep_until(schedule.Due(seq));
        const auto index = static_cast<std::size_t>(seq % static_cast<std::uint64_t>(pairs));
        Pair& pair = *run.pairs[index];
        bool hot = false;
        {
            std::lock_guard lock(pair.mutex);
            hot = pair.reports++ % 2 == 0;
            pair.expected.emplace_back(seq, hot);
        }
        if (!nodes[index]->Report(hot ? 30.0 : 20.0)) {
            ++publish_errors;
        }
    }
    const auto drain_until =
        Clock::now() + std::chrono::milliseconds(static_cast<long>(drain_s * 1000));
    while (!g_stop && run.received.load() + run.mismatched.load() < run.total &&
           Clock::now() < drain_until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (g_stop) {
        std::cerr << "automation_latency: interrupted\n";
        return 130;
    }

    const auto latency = Latencies(run.received_ns, run.warmup, schedule);
    const std::uint64_t received = latency.size();
    const std::uint64_t measured = run.total - run.warmup;
    const std::uint64_t lost = measured - received;
    const std::string rate_text = RateText(rate);
    const std::string line =
        "result mode=" + std::string(raw ? "raw" : "automation") +
        " pairs=" + std::to_string(pairs) + " rate=" + rate_text +
        " automations=" + std::to_string(automations) + " sent=" + std::to_string(measured) +
        " errors=" + std::to_string(publish_errors) + " received=" + std::to_string(received) +
        " lost=" + std::to_string(lost) + " mismatched=" + std::to_string(run.mismatched.load()) +
        " strays=" + std::to_string(run.strays.load()) + LatencyFields(latency);
    std::cout << line << std::endl;
    std::cerr << "automation_latency " << (raw ? "raw relay" : "automations") << ": " << measured
              << " reports at " << rate_text << "/s over " << pairs << " pairs, " << received
              << " actions received, " << lost << " lost; p50 " << Ms(PercentileMs(latency, 0.5))
              << " ms, p99 " << Ms(PercentileMs(latency, 0.99)) << " ms\n";
    relay.reset();
    nodes.clear();
    mosquitto_lib_cleanup();
    return lost == 0 && publish_errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return RunMain(kProgram, kUsage, &Main, argc, argv);
}

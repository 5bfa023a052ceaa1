// rainmaker-sim: the command line of the device simulator that tests and benchmarks drive
// (claim, sign, run one node, run a fleet, selftest).
#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <poll.h>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>

#include "claim.hpp"
#include "cli_support.hpp"
#include "keys.hpp"
#include "node_fleet.hpp"
#include "selftest.hpp"
#include "simulated_node.hpp"

namespace {

using namespace rainmaker::sim;
using rainmaker::tools::Args;
using rainmaker::tools::UsageError;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage = R"(usage:
  rainmaker-sim claim --api http://HOST:PORT --token TOKEN --out DIR [--mac AABBCCDDEEFF]
                      [--platform esp32c3]
  rainmaker-sim sign --node-dir DIR --challenge STR
  rainmaker-sim run --node-dir DIR --mqtt-host H --mqtt-port P --ca CA.pem [--plain-topics]
                    [--map-user UID --map-secret S] [--reset-mapping] [--keepalive 120]
                    [--insecure] [--alpn PROTO] [--sensor] [--tsdata-rate N] [--stdin | --no-stdin]
                    [--ota update|download|reject|off] [--ota-duration-ms 500] [--otafetch-delay-ms 5000]
  rainmaker-sim fleet --nodes-dir DIR --mqtt-host H --mqtt-port P --ca CA.pem [--rate MSGS_PER_S]
                      [--duration S] [--plain-topics] [--connect-rate 200] [--settle 30]
                      [--stats-interval 5] [--keepalive 120] [--insecure] [--alpn PROTO] [--seed N]
                      [--sensor] [--tsdata-rate N] [--ota update|download|reject|off]
                      [--ota-duration-ms 500] [--otafetch-delay-ms 5000]
  rainmaker-sim selftest
run reads commands on stdin when --stdin is given, or when stdin is a terminal and run is in the
foreground (so `run ... &` from an interactive shell is never stopped for tty input):
  set <Device>.<Param> <json> | answer <request id> <status 0-4> [data] | disconnect |
  reconnect | quit
--sensor adds a Sensor device (Temperature: time_series, Humidity: simple_ts) sampled
--tsdata-rate times a second (default 1), each sample reported on params/local, tsdata and
simple_tsdata. Commands (to-node): 1 set params, 0x1000 echo, 0x1001 deferred (answer it with
`answer`), 0x1002 fails, 0x1003 primary or admin only; any other: status 4 (not found).
--ota: what the node does with an otaurl, as stock firmware does (device-protocol §6): `update`
(the default) reports in-progress, then after --ota-duration-ms runs the new fw_version (config
again, success, a fresh otafetch) and rejects an otaurl of the version it runs ("Same version
received"); `download` is stock firmware with esp_https_ota: outside the otaurl's
download_window it reports delayed, else it downloads the image over HTTPS (the server checked
against --ca and its host name; progress at 25, 50, 75 and 100 %; three attempts), then checks its size, MD5 and project name (failed, failed,
rejected) before rebooting into it as `update` does; `reject` rejects every otaurl so; `off` is
firmware without OTA (no otaurl subscription, no otafetch). `update` does not download.
)";

std::atomic<bool> g_stop{false};

void OnStopSignal(int /*signal*/) {
    g_stop = true;
}

void PrintLine(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void InstallSignalHandlers() {
    // A TLS write on a socket the peer closed must be an error return, not a dead process.
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, &OnStopSignal);
    std::signal(SIGTERM, &OnStopSignal);
}

// Each node holds one TCP socket (its libmosquitto socket pair is suppressed, see node_fleet.cpp).
void RaiseFileLimit(rlim_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return;
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
        rlimit more{wanted, wanted};
        if (::setrlimit(RLIMIT_NOFILE, &more) == 0) {  // works as root (CAP_SYS_RESOURCE)
            return;
        }
    }
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        std::cerr << "warning: RLIMIT_NOFILE is " << limit.rlim_cur << ", " << wanted
                  << " descriptors wanted; some nodes will fail to connect\n";
    }
}

BrokerOptions ReadBrokerOptions(const Args& args) {
    BrokerOptions o;
    o.host = args.Required("--mqtt-host");
    o.port = static_cast<int>(args.Number("--mqtt-port", 8883, 1, 65535));
    o.ca_file = args.Required("--ca");
    o.insecure = args.Has("--insecure");
    o.alpn = args.Get("--alpn");
    o.keepalive_s = static_cast<int>(args.Number("--keepalive", 120, 5, 65535));
    return o;
}

int Claim(const Args& args) {
    ClaimOptions o;
    o.api = args.Required("--api");
    o.token = args.Required("--token");
    o.out_dir = args.Required("--out");
    o.mac = args.Get("--mac");
    o.platform = args.Get("--platform", "esp32c3");
    try {
        PrintLine(ClaimNode(o));
        return 0;
    } catch (const ClaimHttpError& e) {
        std::cerr << e.Body() << (e.Body().empty() || e.Body().back() != '\n' ? "\n" : "");
        return 1;
    }
}

int Sign(const Args& args) {
    const std::filesystem::path dir = args.Required("--node-dir");
    if (!args.Has("--challenge")) {
        throw UsageError("--challenge is required");
    }
    EvpPkeyPtr key = LoadPrivateKeyPem(dir / "node.key");
    PrintLine(SignChallengeHex(key.get(), args.Get("--challenge")));
    return 0;
}

// One stdin command of `run`. Returns false on quit.
bool HandleCommand(NodeFleet& fleet, const std::string& raw) {
    std::string line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
    }
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos) {
        return true;
    }
    line.erase(0, start);
    const auto space = line.find(' ');
    const std::string verb = line.substr(0, space);
    if (verb == "quit") {
        return false;
    }
    if (verb == "disconnect") {
        fleet.PowerCut(0);
        return true;
    }
    if (verb == "reconnect") {
        fleet.Reconnect(0);
        return true;
    }
    if (verb == "answer") {
        // answer <request id> <status> [data...]
        std::string rest = space == std::string::npos ? std::string{} : line.substr(space + 1);
        const auto id_end = rest.find(' ');
        const std::string id = rest.substr(0, id_end);
        std::string tail = id_end == std::string::npos ? std::string{} : rest.substr(id_end + 1);
        const auto status_end = tail.find(' ');
        const std::string status = tail.substr(0, status_end);
        const std::string data =
            status_end == std::string::npos ? std::string{} : tail.substr(status_end + 1);
        if (id.empty() || status.size() != 1 || status[0] < '0' || status[0] > '9') {
            PrintLine("error usage: answer <request id> <status 0-9> [data]");
            return true;
        }
        fleet.Answer(0, id, status[0] - '0', data);
        return true;
    }
    if (verb != "set" || space == std::string::npos) {
        PrintLine("error unknown command: " + line);
        return true;
    }
    std::string rest = line.substr(space + 1);
    rest.erase(0, rest.find_first_not_of(' '));
    const auto name_end = rest.find(' ');
    const std::string name = rest.substr(0, name_end);
    const auto dot = name.find('.');
    if (dot == std::string::npos || name_end == std::string::npos) {
        PrintLine("error usage: set <Device>.<Param> <json value>");
        return true;
    }
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(rest.substr(name_end + 1), ec);
    if (ec) {
        PrintLine("error set: value is not JSON: " + rest.substr(name_end + 1));
        return true;
    }
    fleet.SetLocal(0, name.substr(0, dot), name.substr(dot + 1), value);
    return true;
}

NodeSettings ReadNodeSettings(const Args& args) {
    NodeSettings settings;
    settings.topic_form = args.Has("--plain-topics") ? TopicForm::kPlain : TopicForm::kBasicIngest;
    if (args.Has("--sensor") || args.Has("--tsdata-rate")) {
        settings.tsdata_rate = args.Number("--tsdata-rate", 1, 0.001, 1000);
    }
    const std::string ota = args.Get("--ota", "update");
    if (ota == "update") {
        settings.ota = OtaBehaviour::kUpdate;
    } else if (ota == "download") {
        settings.ota = OtaBehaviour::kDownload;
    } else if (ota == "reject") {
        settings.ota = OtaBehaviour::kReject;
    } else if (ota == "off") {
        settings.ota = OtaBehaviour::kOff;
    } else {
        throw UsageError("--ota must be update, download, reject or off");
    }
    settings.ota_duration = std::chrono::milliseconds(
        static_cast<std::int64_t>(args.Number("--ota-duration-ms", 500, 0, 3'600'000))
    );
    settings.otafetch_delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(args.Number("--otafetch-delay-ms", 5000, 0, 3'600'000))
    );
    const bool map = args.Has("--map-user") || args.Has("--map-secret");
    if (map) {
        // A reset with a real user is how a user-id-check build reports a new owner (§4.1).
        settings.mapping = MappingMessage{
            args.Required("--map-user"),
            args.Required("--map-secret"),
            args.Has("--reset-mapping")};
    } else if (args.Has("--reset-mapping")) {
        settings.mapping = FactoryResetMapping();
    }
    return settings;
}

int Run(const Args& args) {
    const NodeFiles files = ReadNodeDir(args.Required("--node-dir"));
    BrokerOptions broker = ReadBrokerOptions(args);
    NodeFleet fleet(broker, [](std::size_t, const Event& e) { PrintLine(FormatEvent(e)); });
    fleet.Add(files, ReadNodeSettings(args));
    fleet.ConnectAll();

    if (args.Has("--stdin") && args.Has("--no-stdin")) {
        throw UsageError("--stdin and --no-stdin exclude each other");
    }
    const bool forced = args.Has("--stdin");
    const bool never = args.Has("--no-stdin");
    // Reading a terminal from a background process group stops the process (SIGTTIN,
    // "Stopped (tty input)"): stdin is read only when asked for, or when it is a terminal of
    // which this process is in the foreground, looked at again each round (fg/bg).
    const auto read_stdin = [&] {
        if (never) {
            return false;
        }
        return forced || (::isatty(STDIN_FILENO) == 1 && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp());
    };
    std::string pending;
    while (!g_stop) {
        const bool use_stdin = read_stdin();
        const short revents =
            fleet.PollOnce(std::chrono::milliseconds(200), use_stdin ? STDIN_FILENO : -1);
        if (!use_stdin || (revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        std::array<char, 4096> buf{};
        const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;  // EOF: the test closed our stdin
        }
        pending.append(buf.data(), static_cast<std::size_t>(n));
        bool quit = false;
        for (auto nl = pending.find('\n'); nl != std::string::npos && !quit;
             nl = pending.find('\n')) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            quit = !HandleCommand(fleet, line);
        }
        if (quit) {
            break;
        }
    }
    fleet.DisconnectAll(std::chrono::milliseconds(1000));
    return 0;
}

std::string FormatDouble(double value, const char* format = "%g") {
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), format, value);
    return buf.data();
}

std::string Percentile(std::vector<std::uint32_t> samples, double p) {
    if (samples.empty()) {
        return "-";
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
    std::nth_element(
        samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k), samples.end()
    );
    return FormatDouble(samples[k] / 1000.0, "%.3f");
}

std::string StatsLine(const FleetStats& s) {
    return "stats connected=" + std::to_string(s.connected) +
           " published=" + std::to_string(s.published) + " acked=" + std::to_string(s.acked) +
           " received=" + std::to_string(s.received) + " ready=" + std::to_string(s.ready) +
           " errors=" + std::to_string(s.errors);
}

int Fleet(const Args& args) {
    const std::filesystem::path nodes_dir = args.Required("--nodes-dir");
    BrokerOptions broker = ReadBrokerOptions(args);
    broker.connect_rate = args.Number("--connect-rate", 200, 0.1, 1e6);
    const double rate = args.Number("--rate", 10, 0, 1e7);
    const double duration_s = args.Number("--duration", 60, 0, 1e7);  // 0 = until SIGINT/SIGTERM
    const double settle_s = args.Number("--settle", 30, 0, 1e6);
    const double stats_s = args.Number("--stats-interval", 5, 0.1, 1e6);
    std::mt19937_64 rng(
        args.Has("--seed") ? static_cast<std::uint64_t>(args.Number("--seed", 0, 0, 1e18))
                           : std::random_device{}()
    );

    std::vector<std::filesystem::path> dirs;
    for (const auto& entry : std::filesystem::directory_iterator(nodes_dir)) {
        if (entry.is_directory() && IsNodeDir(entry.path())) {
            dirs.push_back(entry.path());
        }
    }
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
        throw std::runtime_error(
            "no node directories (node_id, node.key, node.crt) under " + nodes_dir.string()
        );
    }
    RaiseFileLimit(static_cast<rlim_t>(dirs.size() + 64));

    std::size_t errors_shown = 0;
    std::vector<std::string> ids;
    // OTA as the nodes saw it: otaurls received, otastatus reports sent, successes among them.
    std::uint64_t ota_urls = 0;
    std::uint64_t ota_statuses = 0;
    std::uint64_t ota_successes = 0;
    NodeFleet fleet(broker, [&](std::size_t node, const Event& e) {
        ota_urls += e.kind == EventKind::kOtaUrl ? 1 : 0;
        if (e.kind == EventKind::kOtaStatus) {
            ++ota_statuses;
            ota_successes += e.detail.find(" success ") != std::string::npos ? 1 : 0;
        }
        // Thousands of nodes: only errors are worth a line, and only the first few.
        if (e.kind == EventKind::kError && errors_shown < 20) {
            ++errors_shown;
            std::cerr << "error " << ids[node] << ": " << e.detail << "\n";
        }
    });
    const NodeSettings settings = ReadNodeSettings(args);
    for (const auto& dir : dirs) {
        const NodeFiles files = ReadNodeDir(dir);
        ids.push_back(files.node_id);
        fleet.Add(files, settings);
    }
    const std::size_t n = fleet.Size();
    PrintLine("fleet nodes=" + std::to_string(n));
    fleet.ConnectAll();

    const auto start = Clock::now();
    // Load starts when every node is ready, or `settle` after the last connect was due.
    const auto load_deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                    static_cast<double>(n) / broker.connect_rate + settle_s
                ));
    bool loading = false;
    Clock::time_point load_start{};
    Clock::time_point load_end{};
    Clock::time_point tokens_at{};
    double tokens = 0;
    std::uint64_t load_published = 0;
    auto next_stats =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stats_s));
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::uniform_int_distribution<int> brightness(0, 100);

    while (!g_stop) {
        fleet.PollOnce(std::chrono::milliseconds(loading && rate > 0 ? 5 : 50));
        const auto now = Clock::now();
        if (now >= next_stats) {
            PrintLine(StatsLine(fleet.Stats()));
            next_stats =
                now +
                std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stats_s));
        }
        if (!loading) {
            if (fleet.Stats().ready < n && now < load_deadline) {
                continue;
            }
            loading = true;
            load_start = tokens_at = now;
            load_end = now + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(duration_s)
                             );
            PrintLine(
                "load start ready=" + std::to_string(fleet.Stats().ready) +
                " rate=" + FormatDouble(rate)
            );
        }
        if (duration_s > 0 && now >= load_end) {
            break;
        }
        tokens = std::min(
            std::max(1.0, rate / 10),
            tokens + std::chrono::duration<double>(now - tokens_at).count() * rate
        );
        tokens_at = now;
        while (tokens >= 1) {
            // A few random picks find a ready node; if none is, the token is lost (bounded rate).
            tokens -= 1;
            for (int attempt = 0; attempt < 16; ++attempt) {
                const std::size_t node = pick(rng);
                if (!fleet.IsReady(node)) {
                    continue;
                }
                const auto* current = fleet.Node(node).FindParam("Light", "Brightness");
                int value = brightness(rng);
                if (current != nullptr && current->value.is_int64() &&
                    current->value.get_int64() == value) {
                    value = (value + 1) % 101;  // a change, not a repeat
                }
                fleet.SetLocal(node, "Light", "Brightness", value);
                ++load_published;
                break;
            }
        }
    }
    const auto stopped = Clock::now();
    const FleetStats& s = fleet.Stats();
    const std::size_t ready = s.ready;
    const double load_seconds =
        loading ? std::chrono::duration<double>(stopped - load_start).count() : 0;
    const std::string rate_text = FormatDouble(
        load_seconds > 0 ? static_cast<double>(load_published) / load_seconds : 0.0, "%.1f"
    );
    const std::string seconds_text = FormatDouble(load_seconds, "%.1f");
    PrintLine(StatsLine(s));
    PrintLine(
        "summary nodes=" + std::to_string(n) + " connected=" + std::to_string(s.connected) +
        " ready=" + std::to_string(ready) +
        " connect_attempts=" + std::to_string(s.connect_attempts) + " connect_failures=" +
        std::to_string(s.connect_failures) + " disconnects=" + std::to_string(s.disconnects) +
        " published=" + std::to_string(s.published) + " acked=" + std::to_string(s.acked) +
        " received=" + std::to_string(s.received) + " applied=" + std::to_string(s.applied) +
        " load_published=" + std::to_string(load_published) + " load_seconds=" + seconds_text +
        " load_rate=" + rate_text + " ack_p50_ms=" + Percentile(s.params_local_ack_us, 0.5) +
        " ack_p99_ms=" + Percentile(s.params_local_ack_us, 0.99) +
        " ack_max_ms=" + Percentile(s.params_local_ack_us, 1.0) +
        " ota_urls=" + std::to_string(ota_urls) + " ota_statuses=" + std::to_string(ota_statuses) +
        " ota_successes=" + std::to_string(ota_successes)
    );
    fleet.DisconnectAll(std::chrono::milliseconds(3000));
    return ready == n ? 0 : 1;
}

int Dispatch(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "claim") {
        return Claim(Args(argc, argv, 2, {"--api", "--token", "--out", "--mac", "--platform"}, {}));
    }
    if (command == "sign") {
        return Sign(Args(argc, argv, 2, {"--node-dir", "--challenge"}, {}));
    }
    const std::set<std::string> broker_valued = {
        "--mqtt-host",
        "--mqtt-port",
        "--ca",
        "--keepalive",
        "--alpn",
        "--ota",
        "--ota-duration-ms",
        "--otafetch-delay-ms"};
    const std::set<std::string> broker_flags = {"--plain-topics", "--insecure"};
    if (command == "run") {
        auto valued = broker_valued;
        valued.insert({"--node-dir", "--map-user", "--map-secret"});
        auto flags = broker_flags;
        valued.insert("--tsdata-rate");
        flags.insert({"--reset-mapping", "--no-stdin", "--stdin", "--sensor"});
        return Run(Args(argc, argv, 2, valued, flags));
    }
    if (command == "fleet") {
        auto valued = broker_valued;
        valued.insert(
            {"--nodes-dir",
             "--rate",
             "--duration",
             "--connect-rate",
             "--settle",
             "--stats-interval",
             "--seed",
             "--tsdata-rate"}
        );
        auto flags = broker_flags;
        flags.insert("--sensor");
        return Fleet(Args(argc, argv, 2, valued, flags));
    }
    if (command == "selftest") {
        return RunSelfTest();
    }
    if (command == "-h" || command == "--help" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    throw UsageError(command.empty() ? "no command" : "unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
    InstallSignalHandlers();
    try {
        return Dispatch(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "rainmaker-sim: " << e.what() << "\n" << kUsage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "rainmaker-sim: " << e.what() << "\n";
        return 1;
    }
}

// The HTTP server's defences against running out of descriptors and memory, on the real binary
// with small limits: the connection caps (in all and per client address), the budget for
// unfinished request bodies (in all and per client address, charged by the bytes received), the
// header and body deadlines, the open-file limit raised at start, and the accept back-off when
// the process has no descriptor left.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A server started with `toml` as its configuration file.
class ConfiguredServer {
public:
    // `max_open_files`: the server's soft open-file limit (0: inherited), and its hard limit
    // too with `hard_limit`.
    explicit ConfiguredServer(
        const std::string& toml, unsigned long max_open_files = 0, bool hard_limit = false
    ) {
        const auto file = dir_.path() / "server.toml";
        std::ofstream(file) << toml;
        ServerProcess::Options options;
        options.args = {"--config", file.string()};
        options.max_open_files = max_open_files;
        options.hard_open_file_limit = hard_limit;
        server_.emplace(std::move(options));
    }

    ServerProcess& operator*() { return *server_; }

    ServerProcess* operator->() { return &*server_; }

private:
    TempDir dir_;
    std::optional<ServerProcess> server_;
};

// GET `target` on a new connection; status 0 when nothing complete came back.
RawResponse GetOnce(std::uint16_t port, const std::string& target) {
    try {
        RawConnection connection(port);
        connection.Send(GetRequest(target));
        return connection.ReadResponse();
    } catch (const std::runtime_error&) {
        return {};  // refused: the server is not listening (any more)
    }
}

// The /metrics text, retried while the server is still freeing connection slots.
std::string Metrics(std::uint16_t port) {
    for (int i = 0; i < 50; ++i) {
        const auto r = GetOnce(port, "/metrics");
        if (r.status == 200) {
            return r.body;
        }
        std::this_thread::sleep_for(milliseconds(100));
    }
    return {};
}

// The value of the sample `name` (with its labels) in a /metrics text, or -1 when absent.
double MetricValue(const std::string& metrics, const std::string& name) {
    const auto at = metrics.find("\n" + name + " ");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stod(metrics.substr(at + name.size() + 2));
}

// Waits up to 5 s for the sample `name` to read `value`.
bool WaitForMetric(std::uint16_t port, const std::string& name, double value) {
    for (int i = 0; i < 50; ++i) {
        if (MetricValue(Metrics(port), name) == value) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
}

// Waits up to 5 s for the sample `name` to read at least `value`.
bool WaitForMetricAtLeast(std::uint16_t port, const std::string& name, double value) {
    for (int i = 0; i < 50; ++i) {
        if (MetricValue(Metrics(port), name) >= value) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
}

// The answer to a refused connection or request: 503, the RainMaker failure envelope with
// 100070, Retry-After, and the connection closed.
void ExpectBusyAnswer(const RawResponse& r) {
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.headers.contains("retry-after"));
    EXPECT_EQ(r.headers.count("connection") ? r.headers.at("connection") : "", "close");
    boost::system::error_code ec;
    const auto json = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << r.body;
    ASSERT_TRUE(json.is_object()) << r.body;
    const auto& o = json.as_object();
    EXPECT_EQ(o.size(), 3u) << r.body;
    const auto* status = o.if_contains("status");
    const auto* code = o.if_contains("error_code");
    const auto* description = o.if_contains("description");
    EXPECT_TRUE(status != nullptr && *status == "failure") << r.body;
    EXPECT_TRUE(code != nullptr && *code == 100070) << r.body;
    EXPECT_TRUE(description != nullptr && description->is_string()) << r.body;
}

// Opens `count` connections from 127.0.0.1, each answered 200 for a GET, and keeps them open.
void HoldAnsweredConnections(std::uint16_t port, int count, std::vector<RawConnection>& held) {
    for (int i = 0; i < count; ++i) {
        held.emplace_back(port);
        ASSERT_TRUE(held.back().Send(GetRequest("/healthz")));
        ASSERT_EQ(held.back().ReadResponse().status, 200) << "connection " << i;
    }
}

// The header of a login with a body of `content_length` bytes; `forwarded_for`, when given, is
// sent as X-Forwarded-For (the client, for a server that trusts 127.0.0.0/8 as its proxy).
std::string PostHeader(std::size_t content_length, const std::string& forwarded_for = {}) {
    return "POST /v1/login2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           (forwarded_for.empty() ? "" : "X-Forwarded-For: " + forwarded_for + "\r\n") +
           "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

constexpr const char* kPendingBodyBytes = "rainmaker_http_pending_body_bytes";

TEST(HttpLimits, RefusesConnectionsPastTheLimitWith503WhileEarlierOnesWork) {
    ConfiguredServer server("[http]\nmax_connections = 4\n");
    const auto port = server->port();
    std::vector<RawConnection> held;
    ASSERT_NO_FATAL_FAILURE(HoldAnsweredConnections(port, 4, held));

    RawConnection extra(port);
    extra.Send(GetRequest("/healthz"));
    ExpectBusyAnswer(extra.ReadResponse());
    EXPECT_TRUE(extra.WaitClosed(seconds(5)));

    // The connections already open are still served.
    for (auto& connection : held) {
        ASSERT_TRUE(connection.Send(GetRequest("/apiversions")));
        EXPECT_EQ(connection.ReadResponse().status, 200);
    }

    // A slot freed is a slot given again (the /metrics request is the fourth connection).
    held.pop_back();
    const std::string metrics = Metrics(port);
    EXPECT_GE(MetricValue(metrics, "rainmaker_http_refused_total{reason=\"max_connections\"}"), 1)
        << metrics;
    EXPECT_EQ(MetricValue(metrics, "rainmaker_http_connections_open"), 4) << metrics;
}

TEST(HttpLimits, RefusesBodiesPastThePendingBudgetAndStillAnswersOthers) {
    // Two bodies of 1,000,000 bytes, almost all sent and held open, fill most of a 2 MiB budget.
    ConfiguredServer server("[http]\nmax_pending_body_bytes = 2097152\n");
    const auto port = server->port();
    RawConnection first(port);
    RawConnection second(port);
    ASSERT_TRUE(first.Send(PostHeader(1000000) + std::string(990000, ' ')));
    ASSERT_TRUE(second.Send(PostHeader(1000000) + std::string(990000, ' ')));
    EXPECT_TRUE(WaitForMetricAtLeast(port, kPendingBodyBytes, 1980000));

    // The third body's bytes do not fit beside them.
    RawConnection third(port);
    ASSERT_TRUE(third.Send(PostHeader(200000) + std::string(190000, ' ')));
    ExpectBusyAnswer(third.ReadResponse());
    EXPECT_TRUE(third.WaitClosed(seconds(5)));

    // Requests without a body need no budget.
    EXPECT_EQ(GetOnce(port, "/healthz").status, 200);

    // Once a held body is gone, its share of the budget is given again.
    first.Close();
    EXPECT_TRUE(WaitForMetric(port, kPendingBodyBytes, 1000000));
    RawConnection fourth(port);
    ASSERT_TRUE(fourth.Send(PostHeader(200000) + std::string(200000, ' ')));
    const auto answered = fourth.ReadResponse();
    EXPECT_EQ(answered.status, 400) << answered.body;  // read and parsed: an empty JSON body

    EXPECT_EQ(
        MetricValue(Metrics(port), "rainmaker_http_refused_total{reason=\"body_budget\"}"), 1
    );
}

// #14 review: 64 connections declaring bodies of 1 MiB and sending one byte took the whole
// default budget, and every other client's request with a body got 503 for as long as they were
// renewed. Only the bytes received are charged now.
TEST(HttpLimits, BodiesDeclaredButNotSentHoldAlmostNoBudget) {
    ConfiguredServer server("[http]\nmax_connections = 200\n");  // defaults: 64 MiB, 8 MiB each
    const auto port = server->port();
    std::vector<RawConnection> held;
    for (int i = 0; i < 64; ++i) {
        held.emplace_back(port);
        ASSERT_TRUE(held.back().Send(PostHeader(1048576) + "{")) << "connection " << i;
    }
    EXPECT_TRUE(WaitForMetricAtLeast(port, kPendingBodyBytes, 64));
    const double pending = MetricValue(Metrics(port), kPendingBodyBytes);
    EXPECT_LT(pending, 64 * 16384) << "charged by the declared length";

    // Another request with a body, from the same address even, is answered normally.
    RawConnection other(port);
    ASSERT_TRUE(other.Send(PostHeader(2) + "{}"));
    const auto answered = other.ReadResponse();
    EXPECT_EQ(answered.status, 400) << answered.body;  // no user name: read and handled
    for (auto& connection : held) {
        EXPECT_FALSE(connection.WaitClosed(milliseconds(1))) << "a held body was refused";
    }
}

// One client cannot take more than its share of the body budget, however many connections it
// opens; other clients (behind the same trusted proxy here) are served meanwhile.
TEST(HttpLimits, RefusesAClientPastItsShareOfBodyBytesWhileOthersAreServed) {
    ConfiguredServer server(
        "[http]\nmax_pending_body_bytes = 16777216\n"
        "max_pending_body_bytes_per_address = 1572864\ntrusted_proxies = [\"127.0.0.0/8\"]\n"
    );
    const auto port = server->port();
    const std::string attacker = "203.0.113.1";
    RawConnection first(port);
    ASSERT_TRUE(first.Send(PostHeader(1000000, attacker) + std::string(990000, ' ')));
    EXPECT_TRUE(WaitForMetricAtLeast(port, kPendingBodyBytes, 990000));

    // The same client on a second connection: its bytes pass its share, not the budget.
    RawConnection second(port);
    second.Send(PostHeader(1000000, attacker) + std::string(990000, ' '));
    ExpectBusyAnswer(second.ReadResponse());
    EXPECT_TRUE(second.WaitClosed(seconds(5)));

    // Another client sends the same body and is answered.
    RawConnection other(port);
    ASSERT_TRUE(other.Send(PostHeader(1000000, "203.0.113.2") + std::string(1000000, ' ')));
    const auto answered = other.ReadResponse();
    EXPECT_EQ(answered.status, 400) << answered.body;

    // The attacker's first body is still held, its share still counted.
    EXPECT_FALSE(first.WaitClosed(milliseconds(1)));
    const std::string metrics = Metrics(port);
    EXPECT_EQ(
        MetricValue(metrics, "rainmaker_http_refused_total{reason=\"body_budget_per_address\"}"), 1
    ) << metrics;
    EXPECT_EQ(MetricValue(metrics, "rainmaker_http_refused_total{reason=\"body_budget\"}"), 0);
}

// A body sent a byte at a time is cut when read_timeout has passed since its header, however
// often bytes arrive. (Beast's composed read already kept one deadline; the step-by-step read
// that charges the budget must keep it too.)
TEST(HttpLimits, ABodyMustArriveWithinOneDeadlineFromItsHeader) {
    ConfiguredServer server("[http]\nread_timeout_seconds = 2\n");
    const auto port = server->port();
    RawConnection slow(port);
    ASSERT_TRUE(slow.Send(PostHeader(1000)));
    const auto started = std::chrono::steady_clock::now();
    bool closed = false;
    while (!closed && std::chrono::steady_clock::now() - started < seconds(6)) {
        std::this_thread::sleep_for(milliseconds(250));
        closed = !slow.Send(" ") || slow.WaitClosed(milliseconds(1));
    }
    EXPECT_TRUE(closed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(3500));
}

TEST(HttpLimits, GivesTheBodyBudgetBackAfterAnswersTimeoutsAndChunkedBodies) {
    ConfiguredServer server("[http]\nmax_pending_body_bytes = 2097152\nread_timeout_seconds = 2\n");
    const auto port = server->port();
    // Answered requests: ten bodies of 900,000 bytes in a row, far more than the budget holds.
    RawConnection keep_alive(port);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(keep_alive.Send(PostHeader(900000) + std::string(900000, ' ')));
        EXPECT_EQ(keep_alive.ReadResponse().status, 400) << "request " << i;
    }
    // A chunked body reserves the whole body limit until it is read.
    ASSERT_TRUE(
        keep_alive.Send("POST /v1/login2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\n{}\r\n0\r\n\r\n")
    );
    EXPECT_EQ(keep_alive.ReadResponse().status, 400);

    // Bodies abandoned half-way: the read timeout closes them and frees their share.
    {
        RawConnection stalled_a(port);
        RawConnection stalled_b(port);
        ASSERT_TRUE(stalled_a.Send(PostHeader(1000000) + "{"));
        ASSERT_TRUE(stalled_b.Send(PostHeader(1000000) + "{"));
        EXPECT_TRUE(stalled_a.WaitClosed(seconds(6)));
        EXPECT_TRUE(stalled_b.WaitClosed(seconds(6)));
    }
    EXPECT_TRUE(WaitForMetric(port, "rainmaker_http_pending_body_bytes", 0));
    RawConnection after(port);
    ASSERT_TRUE(after.Send(PostHeader(1000000) + std::string(1000000, ' ')));
    EXPECT_EQ(after.ReadResponse().status, 400);
}

TEST(HttpLimits, ClosesAConnectionWhoseHeaderDoesNotArriveInTime) {
    ConfiguredServer server("[http]\nheader_timeout_seconds = 1\nread_timeout_seconds = 30\n");
    const auto port = server->port();

    // An idle keep-alive connection is kept for read_timeout, not header_timeout.
    RawConnection idle(port);
    ASSERT_TRUE(idle.Send(GetRequest("/healthz")));
    ASSERT_EQ(idle.ReadResponse().status, 200);
    std::this_thread::sleep_for(milliseconds(2500));
    ASSERT_TRUE(idle.Send(GetRequest("/healthz")));
    EXPECT_EQ(idle.ReadResponse().status, 200);

    // A header trickling in (slowloris) is cut once its first byte is header_timeout old.
    RawConnection slow(port);
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_TRUE(slow.WaitClosed(seconds(5)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(4));
}

// #14 review: a write must not move the deadline of a header read at the same time (the answer
// to a pipelined request being written while the next header trickles in). Beast 1.81 keeps a
// timer per direction, so this held before; it guards the deadlines against future changes.
TEST(HttpLimits, APipelinedHeaderKeepsItsDeadlineWhileAnAnswerIsWritten) {
    ConfiguredServer server("[http]\nheader_timeout_seconds = 1\nread_timeout_seconds = 30\n");
    const auto port = server->port();
    RawConnection connection(port);
    const auto started = std::chrono::steady_clock::now();
    // The login is handled on a worker; its answer is written while the next header is read.
    ASSERT_TRUE(connection.Send(PostHeader(2) + "{}" + "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_EQ(connection.ReadResponse().status, 400);
    EXPECT_TRUE(connection.WaitClosed(seconds(5)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(4));
}

TEST(HttpLimits, RefusesConnectionsPastThePerAddressCapWhileOtherAddressesConnect) {
    ConfiguredServer server("[http]\nmax_connections_per_address = 3\n");
    const auto port = server->port();
    std::vector<RawConnection> held;
    ASSERT_NO_FATAL_FAILURE(HoldAnsweredConnections(port, 3, held));
    RawConnection extra(port);
    extra.Send(GetRequest("/healthz"));
    ExpectBusyAnswer(extra.ReadResponse());
    EXPECT_TRUE(extra.WaitClosed(seconds(5)));

    // 127.0.0.2 is another client.
    RawConnection elsewhere(port, "127.0.0.2");
    ASSERT_TRUE(elsewhere.Send(GetRequest("/metrics")));
    const auto metrics = elsewhere.ReadResponse();
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(
        MetricValue(
            metrics.body, "rainmaker_http_refused_total{reason=\"max_connections_per_address\"}"
        ),
        1
    ) << metrics.body;
    EXPECT_EQ(
        MetricValue(metrics.body, "rainmaker_http_refused_total{reason=\"max_connections\"}"), 0
    );

    // A connection closed gives its address a place again.
    held.pop_back();
    EXPECT_EQ(GetOnce(port, "/healthz").status, 200);
}

// A trusted proxy carries everyone's connections: it is not capped per address (on loopback the
// proxy and the test are both 127.0.0.1).
TEST(HttpLimits, DoesNotCapConnectionsOfATrustedProxy) {
    ConfiguredServer server(
        "[http]\nmax_connections_per_address = 3\ntrusted_proxies = [\"127.0.0.1\"]\n"
    );
    const auto port = server->port();
    std::vector<RawConnection> held;
    ASSERT_NO_FATAL_FAILURE(HoldAnsweredConnections(port, 6, held));
    // Another peer, not a proxy, is capped.
    std::vector<RawConnection> direct;
    for (int i = 0; i < 4; ++i) {
        direct.emplace_back(port, "127.0.0.2");
        direct.back().Send(GetRequest("/healthz"));
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(direct[static_cast<std::size_t>(i)].ReadResponse().status, 200);
    }
    ExpectBusyAnswer(direct[3].ReadResponse());
}

TEST(HttpLimits, RaisesTheOpenFileLimitToTheHardLimitAtStart) {
    rlimit own{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
    if (own.rlim_max != RLIM_INFINITY && own.rlim_max <= 256) {
        GTEST_SKIP() << "the hard open-file limit is too low to tell";
    }
    const unsigned long expected = own.rlim_max == RLIM_INFINITY
                                       ? 1048576UL
                                       : std::min<unsigned long>(own.rlim_max, 1048576UL);
    ConfiguredServer server("", 256);  // started with a soft limit of 256
    std::ifstream in("/proc/" + std::to_string(server->pid()) + "/limits");
    std::string line;
    std::string soft;
    while (std::getline(in, line)) {
        if (line.rfind("Max open files", 0) == 0) {
            std::istringstream fields(line.substr(std::string("Max open files").size()));
            fields >> soft;
        }
    }
    EXPECT_EQ(soft, std::to_string(expected));
}

// CPU time (user + system) the process has used so far.
std::chrono::milliseconds CpuTime(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14 || i == 15) {  // utime, stime
            ticks += std::stol(field);
        }
    }
    return milliseconds(ticks * 1000 / sysconf(_SC_CLK_TCK));
}

// True while `pid` has not exited (a zombie has).
bool Running(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

TEST(HttpLimits, BacksOffInsteadOfSpinningWhenOutOfDescriptors) {
    // 64 descriptors: about 15 for the server itself, the rest for connections.
    ConfiguredServer server("[http]\nmax_connections = 10000\n", 64, true);
    const auto port = server->port();
    std::vector<RawConnection> connections;
    for (int i = 0; i < 80; ++i) {
        connections.emplace_back(port);
        connections.back().Send(GetRequest("/healthz"));
    }
    int answered = 0;
    for (auto& connection : connections) {
        answered += connection.ReadResponse(milliseconds(100)).status == 200 ? 1 : 0;
    }
    ASSERT_GT(answered, 0);
    ASSERT_LT(answered, 80) << "the descriptor limit was never reached";

    // Out of descriptors with connections waiting: the server must idle, not spin on accept.
    const auto before = CpuTime(server->pid());
    std::this_thread::sleep_for(seconds(1));
    const auto used = CpuTime(server->pid()) - before;
    ASSERT_TRUE(Running(server->pid())) << "the server died out of descriptors";
    EXPECT_LT(used, milliseconds(300)) << "CPU time over one second of EMFILE";

    // Descriptors freed: the server accepts again within the back-off's ceiling.
    connections.clear();
    bool recovered = false;
    for (int i = 0; i < 40 && !recovered; ++i) {
        recovered = GetOnce(port, "/healthz").status == 200;
        if (!recovered) {
            std::this_thread::sleep_for(milliseconds(100));
        }
    }
    EXPECT_TRUE(recovered);
    const std::string metrics = Metrics(port);
    EXPECT_GT(MetricValue(metrics, "rainmaker_http_accept_errors_total"), 0) << metrics;
}

}  // namespace
}  // namespace rainmaker::testing

// Request counters, a latency histogram and the connection limits' counters, rendered in the
// Prometheus text format at /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace rainmaker::http {

class Metrics {
public:
    // Records one answered request. A method outside the standard HTTP verbs is counted as
    // "other": the method is client text, and each new label would add series for as long as
    // the server runs.
    void Observe(
        const std::string& method,
        const std::string& route,
        int status,
        std::chrono::nanoseconds latency
    );

    // The Prometheus exposition text.
    std::string Render() const;

    // Adds lines from another part of the server (e.g. the MQTT link) to Render().
    void AddCollector(std::function<std::string()> collector);

    // ---- connection-level events: nothing was routed, so Observe() does not see them.

    // Why a connection or a request was answered 503 before any handler ran.
    enum class Refusal {
        kMaxConnections,            // http.max_connections open already
        kMaxConnectionsPerAddress,  // http.max_connections_per_address open from the peer
        kBodyBudget,                // http.max_pending_body_bytes held by unfinished bodies
        kBodyBudgetPerAddress,      // the client's http.max_pending_body_bytes_per_address
    };

    // What the HTTP server holds right now; it owns the counters and hands in a reader.
    struct ConnectionGauges {
        std::uint64_t open = 0;
        std::uint64_t pending_body_bytes = 0;
    };

    void CountRefusal(Refusal reason);
    // accept() failed: out of descriptors or memory (the listener backs off), or a connection
    // that failed before it was accepted.
    void CountAcceptError();
    // A TLS handshake on the HTTPS listener failed or timed out.
    void CountTlsHandshakeFailure();
    // The reader of the gauges; an empty function (at server stop) renders none.
    void SetConnectionGauges(std::function<ConnectionGauges()> reader);

private:
    static constexpr std::array<double, 12> kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> counts{};
        std::uint64_t total = 0;
        double sum = 0;
    };

    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
    std::map<std::string, Histogram> latency_by_route_;
    std::vector<std::function<std::string()>> collectors_;
    std::function<ConnectionGauges()> connection_gauges_;
    std::atomic<std::uint64_t> refused_max_connections_{0};
    std::atomic<std::uint64_t> refused_max_connections_per_address_{0};
    std::atomic<std::uint64_t> refused_body_budget_{0};
    std::atomic<std::uint64_t> refused_body_budget_per_address_{0};
    std::atomic<std::uint64_t> accept_errors_{0};
    std::atomic<std::uint64_t> tls_handshake_failures_{0};
};

}  // namespace rainmaker::http

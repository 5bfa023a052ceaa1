// Prometheus text for request counts by route and status, and latency by route.
#include "http/server/metrics.hpp"

#include <sstream>

namespace rainmaker::http {

namespace {

const std::string& MethodLabel(const std::string& method) {
    static const std::string kOther = "other";
    static const std::string kKnown[] = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    for (const auto& known : kKnown) {
        if (method == known) {
            return known;
        }
    }
    return kOther;
}

}  // namespace

void Metrics::Observe(
    const std::string& method,
    const std::string& route,
    int status,
    std::chrono::nanoseconds latency
) {
    const double seconds = std::chrono::duration<double>(latency).count();
    std::lock_guard lock(mutex_);
    ++requests_[{MethodLabel(method), route, status}];
    auto& histogram = latency_by_route_[route];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++histogram.counts[i];
        }
    }
    ++histogram.total;
    histogram.sum += seconds;
}

void Metrics::AddCollector(std::function<std::string()> collector) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collector));
}

void Metrics::CountRefusal(Refusal reason) {
    switch (reason) {
        case Refusal::kMaxConnections:
            refused_max_connections_.fetch_add(1, std::memory_order_relaxed);
            return;
        case Refusal::kMaxConnectionsPerAddress:
            refused_max_connections_per_address_.fetch_add(1, std::memory_order_relaxed);
            return;
        case Refusal::kBodyBudget:
            refused_body_budget_.fetch_add(1, std::memory_order_relaxed);
            return;
        case Refusal::kBodyBudgetPerAddress:
            refused_body_budget_per_address_.fetch_add(1, std::memory_order_relaxed);
            return;
    }
}

void Metrics::CountAcceptError() {
    accept_errors_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountTlsHandshakeFailure() {
    tls_handshake_failures_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::SetConnectionGauges(std::function<ConnectionGauges()> reader) {
    std::lock_guard lock(mutex_);
    connection_gauges_ = std::move(reader);
}

std::string Metrics::Render() const {
    std::ostringstream out;
    std::lock_guard lock(mutex_);
    out << "# HELP rainmaker_http_requests_total HTTP requests answered, by route and status.\n"
        << "# TYPE rainmaker_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        const auto& [method, route, status] = key;
        out << "rainmaker_http_requests_total{method=\"" << method << "\",route=\"" << route
            << "\",status=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP rainmaker_http_request_duration_seconds Time from request read to response "
           "ready.\n"
        << "# TYPE rainmaker_http_request_duration_seconds histogram\n";
    for (const auto& [route, histogram] : latency_by_route_) {
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            out << "rainmaker_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
                << kBuckets[i] << "\"} " << histogram.counts[i] << "\n";
        }
        out << "rainmaker_http_request_duration_seconds_bucket{route=\"" << route
            << "\",le=\"+Inf\"} " << histogram.total << "\n"
            << "rainmaker_http_request_duration_seconds_sum{route=\"" << route << "\"} "
            << histogram.sum << "\n"
            << "rainmaker_http_request_duration_seconds_count{route=\"" << route << "\"} "
            << histogram.total << "\n";
    }
    out << "# HELP rainmaker_http_refused_total Connections and requests answered 503 by a "
           "server limit.\n"
        << "# TYPE rainmaker_http_refused_total counter\n"
        << "rainmaker_http_refused_total{reason=\"max_connections\"} "
        << refused_max_connections_.load(std::memory_order_relaxed) << "\n"
        << "rainmaker_http_refused_total{reason=\"max_connections_per_address\"} "
        << refused_max_connections_per_address_.load(std::memory_order_relaxed) << "\n"
        << "rainmaker_http_refused_total{reason=\"body_budget\"} "
        << refused_body_budget_.load(std::memory_order_relaxed) << "\n"
        << "rainmaker_http_refused_total{reason=\"body_budget_per_address\"} "
        << refused_body_budget_per_address_.load(std::memory_order_relaxed) << "\n"
        << "# HELP rainmaker_http_accept_errors_total accept() failures (out of descriptors or "
           "memory, or connections failed before they were accepted).\n"
        << "# TYPE rainmaker_http_accept_errors_total counter\n"
        << "rainmaker_http_accept_errors_total " << accept_errors_.load(std::memory_order_relaxed)
        << "\n"
        << "# HELP rainmaker_https_handshake_failures_total TLS handshakes that failed or timed "
           "out on the HTTPS listener.\n"
        << "# TYPE rainmaker_https_handshake_failures_total counter\n"
        << "rainmaker_https_handshake_failures_total "
        << tls_handshake_failures_.load(std::memory_order_relaxed) << "\n";
    if (connection_gauges_) {
        const auto gauges = connection_gauges_();
        out << "# HELP rainmaker_http_connections_open HTTP connections open.\n"
            << "# TYPE rainmaker_http_connections_open gauge\n"
            << "rainmaker_http_connections_open " << gauges.open << "\n"
            << "# HELP rainmaker_http_pending_body_bytes Bytes held by request bodies being "
               "read or handled.\n"
            << "# TYPE rainmaker_http_pending_body_bytes gauge\n"
            << "rainmaker_http_pending_body_bytes " << gauges.pending_body_bytes << "\n";
    }
    for (const auto& collector : collectors_) {
        out << collector();
    }
    return out.str();
}

}  // namespace rainmaker::http

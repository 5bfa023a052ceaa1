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
    for (const auto& collector : collectors_) {
        out << collector();
    }
    return out.str();
}

}  // namespace rainmaker::http

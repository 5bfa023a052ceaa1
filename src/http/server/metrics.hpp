// Request counters and a latency histogram, rendered in the Prometheus text format at /metrics.
#pragma once

#include <array>
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
};

}  // namespace rainmaker::http

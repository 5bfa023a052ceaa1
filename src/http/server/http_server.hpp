// The HTTP/1.1 server: accepts connections, reads requests with Beast's limits and timeouts,
// runs handlers on a worker pool, writes responses in order. No Beast types leak out of it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/server/metrics.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http {

// max(1, cores / per_thread).
int DefaultThreads(int cores_per_thread);

// Defaults sized for the machine: one I/O thread per 4 cores, one worker per 2 cores. On 2 cores
// that is 1 + 1 + 1: more threads than cores only add context switches to every request.
struct HttpServerConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 picks a free port
    int io_threads = DefaultThreads(4);
    int worker_threads = DefaultThreads(2);    // handlers (Execution::kWorker)
    int heavy_threads = DefaultThreads(2);     // password hashing (Execution::kHeavy)
    std::size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{30};  // idle keep-alive and slow clients
    std::size_t pipeline_limit = 8;         // requests in flight per connection
    std::chrono::seconds shutdown_grace{10};
};

class HttpServer {
public:
    HttpServer(HttpServerConfig config, const Router& router, Metrics& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts the threads; returns the bound port. Throws std::runtime_error when
    // the address cannot be bound.
    std::uint16_t Start();

    // Graceful stop: no new connections, requests already read are answered, idle
    // connections are closed; waits up to shutdown_grace, then closes what is left.
    void Stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rainmaker::http

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

struct HttpServerConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 picks a free port
    int io_threads = 1;
    int worker_threads = 2;
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

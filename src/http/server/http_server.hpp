// The HTTP/1.1 server: accepts connections, reads requests with Beast's limits and timeouts,
// runs handlers on a worker pool, writes responses in order. No Beast types leak out of it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/server/metrics.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http {

// max(1, cores / per_thread).
int DefaultThreads(int cores_per_thread);

// min(10000, the open-file limit less a reserve of 128 for the rest of the process: SQLite,
// the broker link, outgoing mail, logging, refusals being closed); half the limit when it is
// below 256.
std::size_t DefaultMaxConnections();

// The TLS listener: the same router, limits, budgets and pools as the plain one, on its own port.
// TLS 1.2 or newer, forward-secret AEAD suites only.
struct HttpsConfig {
    bool enabled = true;
    std::uint16_t port = 8443;  // 0 picks a free port
    // PEM files: the certificate chain (leaf first) and its unencrypted private key. The
    // composition root fills them (the operator's, or ours issued by the CA at start).
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    std::chrono::seconds handshake_timeout{10};  // from accept to the end of the handshake
};

// Defaults sized for the machine: one I/O thread per 4 cores, one worker per 2 cores. On 2 cores
// that is 1 + 1 + 1: more threads than cores only add context switches to every request.
struct HttpServerConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 picks a free port
    int io_threads = DefaultThreads(4);
    int worker_threads = DefaultThreads(2);  // handlers (Execution::kWorker)
    int heavy_threads = DefaultThreads(2);   // password hashing (Execution::kHeavy)
    int outbound_threads = 2;  // handlers waiting on other servers (Execution::kOutbound)
    std::size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{30};  // keep-alive idle time; a whole body; each write
    std::size_t pipeline_limit = 8;         // requests in flight per connection
    std::chrono::seconds shutdown_grace{10};

    // Limits that keep a flood of connections or slow bodies from exhausting descriptors and
    // memory; past them a connection or request is answered 503 (100070) and closed.
    std::size_t max_connections = DefaultMaxConnections();
    // Open connections from one TCP peer (IPv6: its /64), trusted proxies excepted; 0 = no cap.
    std::size_t max_connections_per_address = 256;
    // Bytes held by the bodies of requests being read or handled (the bytes received, not the
    // declared length), all together and per client address (IPv6: its /64; 0 = no share; at
    // least max_body_bytes, at most max_pending_body_bytes).
    std::size_t max_pending_body_bytes = std::size_t{64} * 1024 * 1024;
    std::size_t max_pending_body_bytes_per_address = std::size_t{8} * 1024 * 1024;
    std::chrono::seconds header_timeout{10};  // from a request's first byte to its blank line
    // A body streamed to an upload sink (Router::SetUploadSink) must arrive within this, making
    // progress every read_timeout.
    std::chrono::seconds upload_timeout{3600};
    // Peers (IPs or CIDR blocks) whose X-Forwarded-For names the client; empty: nobody's.
    std::vector<std::string> trusted_proxies;
    HttpsConfig https;
};

class HttpServer {
public:
    // Throws std::runtime_error for a bad trusted_proxies entry or a pending-body budget
    // smaller than max_body_bytes.
    HttpServer(HttpServerConfig config, const Router& router, Metrics& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds (the plain port, and the TLS one when enabled) and starts the threads; returns the
    // bound plain port. Throws std::runtime_error when an address cannot be bound or the TLS
    // certificate or key cannot be loaded.
    std::uint16_t Start();

    // The bound TLS port once started (0 when TLS is not enabled).
    std::uint16_t HttpsPort() const;

    // Graceful stop: no new connections, requests already read are answered, idle
    // connections are closed; waits up to shutdown_grace, then closes what is left.
    void Stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rainmaker::http

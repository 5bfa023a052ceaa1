// A small HTTP/1.1 server on a free loopback port for the tests' external services: every
// request (one per connection) is read whole — head and Content-Length body — kept, and answered
// with what the handler returns (a complete raw HTTP response).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rainmaker::testing {

class FakeHttpServer {
public:
    using Handler = std::function<std::string(const std::string& request)>;

    explicit FakeHttpServer(Handler handler);
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    std::uint16_t port() const { return port_; }

    std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // The requests received so far, raw.
    std::vector<std::string> Requests();

    // A complete response with `status`, `body` and its Content-Type.
    static std::string Response(
        int status,
        const std::string& body,
        const std::string& content_type = "application/json",
        const std::string& extra_headers = ""
    );

private:
    void Serve();

    Handler handler_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

}  // namespace rainmaker::testing

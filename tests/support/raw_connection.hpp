// A blocking loopback TCP connection for tests that must control the bytes and the timing: hold a
// connection open, send half a request, see when the server closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace rainmaker::testing {

// One HTTP/1.1 response as read from the wire.
struct RawResponse {
    int status = 0;                              // 0 when no complete response arrived
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

class RawConnection {
public:
    // Connects to 127.0.0.1:`port`, from `source` when given (another loopback address, e.g.
    // "127.0.0.2", is another client to the server); throws std::runtime_error when the connect
    // fails.
    explicit RawConnection(std::uint16_t port, const std::string& source = {});
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&& other) noexcept;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Writes all of `bytes`; false when the peer has gone (no SIGPIPE).
    bool Send(const std::string& bytes);

    // Reads one response (status line, headers, Content-Length body), waiting up to `timeout`.
    RawResponse ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // True when the server closes the connection (EOF or reset) within `timeout`; bytes that
    // arrive meanwhile are discarded.
    bool WaitClosed(std::chrono::milliseconds timeout);

    void Close();

private:
    // Appends what arrives within `timeout` to pending_; false on timeout, EOF or error.
    bool ReadMore(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string pending_;
    bool eof_ = false;
};

// A GET of `target` on a keep-alive connection.
std::string GetRequest(const std::string& target);

}  // namespace rainmaker::testing

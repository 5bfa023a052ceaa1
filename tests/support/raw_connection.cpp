// POSIX sockets with poll() deadlines, and a minimal response reader.
#include "support/raw_connection.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace rainmaker::testing {

namespace {

int MillisecondsUntil(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()
    );
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::string Lower(std::string text) {
    for (auto& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

}  // namespace

RawConnection::RawConnection(std::uint16_t port, const std::string& source) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::runtime_error("socket failed");
    }
    if (!source.empty()) {
        sockaddr_in from{};
        from.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source.c_str(), &from.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
            ::close(fd_);
            fd_ = -1;
            throw std::runtime_error("cannot bind to " + source);
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect failed");
    }
}

RawConnection::~RawConnection() {
    Close();
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), pending_(std::move(other.pending_)), eof_(other.eof_) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
    if (this != &other) {
        Close();
        fd_ = std::exchange(other.fd_, -1);
        pending_ = std::move(other.pending_);
        eof_ = other.eof_;
    }
    return *this;
}

void RawConnection::Close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool RawConnection::Send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool RawConnection::ReadMore(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) {
        return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, MillisecondsUntil(deadline)) <= 0) {
        return false;
    }
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
}

RawResponse RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end_of_header = std::string::npos;
    while ((end_of_header = pending_.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(deadline)) {
            return {};
        }
    }
    RawResponse response;
    const std::string head = pending_.substr(0, end_of_header);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
        return {};
    }
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string line = head.substr(start, line_end - start);
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        response.headers[Lower(line.substr(0, colon))] = value;
    }
    std::size_t length = 0;
    if (const auto it = response.headers.find("content-length"); it != response.headers.end()) {
        length = std::stoul(it->second);
    }
    const std::size_t body_start = end_of_header + 4;
    while (pending_.size() < body_start + length) {
        if (!ReadMore(deadline)) {
            return {};
        }
    }
    response.body = pending_.substr(body_start, length);
    pending_.erase(0, body_start + length);
    return response;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
        if (!ReadMore(deadline) && !eof_) {
            return false;
        }
        pending_.clear();
    }
    return true;
}

std::string GetRequest(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

}  // namespace rainmaker::testing

// One thread accepting and answering connections in turn, every wait bounded.
#include "support/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace rainmaker::testing {

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
        throw std::runtime_error("fake HTTP server: cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
}

FakeHttpServer::~FakeHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

std::vector<std::string> FakeHttpServer::Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::string FakeHttpServer::Response(
    int status,
    const std::string& body,
    const std::string& content_type,
    const std::string& extra_headers
) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
           "Connection: close\r\n\r\n" + body;
}

void FakeHttpServer::Serve() {
    while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) {
            continue;
        }
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            continue;
        }
        std::string request;
        char buffer[4096];
        std::size_t need = std::string::npos;  // bytes of the whole request, once known
        while (request.size() < need && request.size() < (1 << 22)) {
            pollfd c{client, POLLIN, 0};
            if (::poll(&c, 1, 2000) <= 0) {
                break;
            }
            const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            request.append(buffer, static_cast<std::size_t>(n));
            const auto end = request.find("\r\n\r\n");
            if (need == std::string::npos && end != std::string::npos) {
                std::size_t length = 0;
                std::string head = request.substr(0, end);
                for (auto& ch : head) {
                    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                }
                if (const auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
                    length = std::stoul(head.substr(at + 17));
                }
                need = end + 4 + length;
            }
        }
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }
        const std::string answer = handler_(request);
        ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
        ::close(client);
    }
}

}  // namespace rainmaker::testing

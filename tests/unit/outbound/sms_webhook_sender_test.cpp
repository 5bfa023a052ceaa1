// SmsWebhookSender against a fake HTTP gateway on a loopback port: request shape and failures.
#include "outbound/sms_webhook_sender.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace rainmaker::outbound {
namespace {

using domain::users::OutgoingMessage;

// Every wait in the fake is bounded, so a broken client fails the test instead of hanging it.
constexpr int kIoTimeoutMs = 5000;

int ListenOnLoopback(int* port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("socket failed");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error("bind/listen failed");
    }
    *port = ntohs(address.sin_port);
    return fd;
}

struct HttpRequest {
    std::string head;  // request line and headers, header names lower-cased
    std::string body;
};

std::string Lower(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return text;
}

// Answers one connection per entry of `statuses`, in order, recording each request.
class FakeHttpServer {
public:
    explicit FakeHttpServer(std::vector<int> statuses)
        : statuses_(std::move(statuses)), listen_fd_(ListenOnLoopback(&port_)) {
        thread_ = std::thread([this] { Serve(); });
    }

    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    ~FakeHttpServer() {
        if (thread_.joinable()) {
            thread_.join();
        }
        ::close(listen_fd_);
    }

    std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sms"; }

    // Waits until every planned answer was given (or timed out) and returns the requests.
    std::vector<HttpRequest> Finish() {
        thread_.join();
        return requests_;
    }

private:
    void Serve() {
        for (const int status : statuses_) {
            pollfd waiting{listen_fd_, POLLIN, 0};
            if (::poll(&waiting, 1, kIoTimeoutMs) != 1) {
                return;
            }
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                return;
            }
            timeval timeout{kIoTimeoutMs / 1000, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
            ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
            HttpRequest request;
            if (ReadRequest(fd, &request)) {
                requests_.push_back(request);
                const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                                           " Fake\r\nContent-Type: text/plain\r\n"
                                           "Content-Length: 2\r\nConnection: close\r\n\r\nhi";
                ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
            }
            ::close(fd);
        }
    }

    static bool ReadRequest(int fd, HttpRequest* request) {
        std::string received;
        std::size_t head_end = std::string::npos;
        std::size_t content_length = 0;
        while (true) {
            if (head_end == std::string::npos) {
                head_end = received.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    request->head = Lower(received.substr(0, head_end));
                    const auto at = request->head.find("\r\ncontent-length:");
                    if (at != std::string::npos) {
                        content_length = std::strtoul(
                            request->head.c_str() + at + sizeof("\r\ncontent-length:") - 1,
                            nullptr,
                            10
                        );
                    }
                }
            }
            if (head_end != std::string::npos && received.size() >= head_end + 4 + content_length) {
                request->body = received.substr(head_end + 4, content_length);
                return true;
            }
            std::array<char, 4096> chunk{};
            const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
            if (n <= 0) {
                return false;
            }
            received.append(chunk.data(), static_cast<std::size_t>(n));
        }
    }

    std::vector<int> statuses_;
    int port_ = 0;
    int listen_fd_;
    std::vector<HttpRequest> requests_;
    std::thread thread_;
};

OutgoingMessage Code() {
    return OutgoingMessage{
        .to = "+15551234567", .sms = true, .subject = "", .text = "Your code is 123456 \"quoted\""};
}

TEST(SmsWebhookSender, PostsJsonWithBearerTokenAndThrowsOnAServerError) {
    FakeHttpServer server({200, 500});
    SmsWebhookSender sender(SmsWebhookConfig{
        .url = server.Url(), .bearer_token = "secret-token", .timeout = std::chrono::seconds(5)});

    EXPECT_NO_THROW(sender.Send(Code()));
    try {
        sender.Send(Code());
        FAIL() << "a 500 answer did not throw";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("500"), std::string::npos) << error.what();
    }
    const std::vector<HttpRequest> requests = server.Finish();

    ASSERT_EQ(requests.size(), 2U);
    const HttpRequest& first = requests.front();
    EXPECT_EQ(first.head.rfind("post /sms http/1.1\r\n", 0), 0U) << first.head;
    EXPECT_NE(first.head.find("\r\ncontent-type: application/json"), std::string::npos);
    EXPECT_NE(first.head.find("\r\nauthorization: bearer secret-token"), std::string::npos);
    const boost::json::object json = boost::json::parse(first.body).as_object();
    EXPECT_EQ(json.size(), 2U);
    EXPECT_EQ(json.at("to").as_string(), "+15551234567");
    EXPECT_EQ(json.at("text").as_string(), "Your code is 123456 \"quoted\"");
}

TEST(SmsWebhookSender, SendsNoAuthorizationHeaderWithoutAToken) {
    FakeHttpServer server({204});
    SmsWebhookSender sender(SmsWebhookConfig{
        .url = server.Url(), .bearer_token = "", .timeout = std::chrono::seconds(5)});

    sender.Send(Code());
    const std::vector<HttpRequest> requests = server.Finish();

    ASSERT_EQ(requests.size(), 1U);
    EXPECT_EQ(requests.front().head.find("authorization:"), std::string::npos);
}

TEST(SmsWebhookSender, TreatsARedirectAsAFailure) {
    FakeHttpServer server({302});
    SmsWebhookSender sender(SmsWebhookConfig{
        .url = server.Url(), .bearer_token = "", .timeout = std::chrono::seconds(5)});

    EXPECT_THROW(sender.Send(Code()), std::runtime_error);
    server.Finish();
}

TEST(SmsWebhookSender, ThrowsWhenNothingListensOnThePort) {
    int port = 0;
    ::close(ListenOnLoopback(&port));  // the port was free a moment ago and is closed now
    SmsWebhookSender sender(SmsWebhookConfig{
        .url = "http://127.0.0.1:" + std::to_string(port) + "/sms",
        .bearer_token = "",
        .timeout = std::chrono::seconds(5)});

    EXPECT_THROW(sender.Send(Code()), std::runtime_error);
}

TEST(SmsWebhookSender, RejectsAnEmptyUrl) {
    EXPECT_THROW(SmsWebhookSender(SmsWebhookConfig{}), std::invalid_argument);
}

}  // namespace
}  // namespace rainmaker::outbound

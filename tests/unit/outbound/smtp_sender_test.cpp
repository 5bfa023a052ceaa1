// SmtpSender against a fake relay on a loopback port: envelope, headers, body and failures.
#include "outbound/smtp_sender.hpp"

#include <arpa/inet.h>
#include <array>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace rainmaker::outbound {
namespace {

using domain::users::OutgoingMessage;

// Every wait in the fake is bounded, so a broken client fails the test instead of hanging it.
constexpr int kIoTimeoutMs = 5000;

// A bound, listening socket on 127.0.0.1 with a kernel-chosen port.
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

// Accepts one connection, or returns -1 after kIoTimeoutMs.
int AcceptWithTimeout(int listen_fd) {
    pollfd waiting{listen_fd, POLLIN, 0};
    if (::poll(&waiting, 1, kIoTimeoutMs) != 1) {
        return -1;
    }
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
        timeval timeout{kIoTimeoutMs / 1000, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    }
    return fd;
}

// What the fake relay saw in one SMTP session.
struct SmtpSession {
    std::vector<std::string> commands;
    std::string mail_from;                // the address inside MAIL FROM:<...>
    std::vector<std::string> recipients;  // the addresses inside RCPT TO:<...>
    std::string data;                     // the message, dot-unstuffed, without the final "."
};

// Speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for one session,
// on a thread of its own.
class FakeSmtpServer {
public:
    explicit FakeSmtpServer(bool reject_recipients = false)
        : reject_recipients_(reject_recipients), listen_fd_(ListenOnLoopback(&port_)) {
        thread_ = std::thread([this] { Serve(); });
    }

    FakeSmtpServer(const FakeSmtpServer&) = delete;
    FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

    ~FakeSmtpServer() {
        if (thread_.joinable()) {
            thread_.join();
        }
        ::close(listen_fd_);
    }

    int Port() const { return port_; }

    // Waits for the session to end and returns what it recorded.
    SmtpSession Finish() {
        thread_.join();
        return session_;
    }

private:
    void Serve() {
        conn_fd_ = AcceptWithTimeout(listen_fd_);
        if (conn_fd_ < 0) {
            return;
        }
        Reply("220 fake.test ESMTP ready");
        std::string line;
        while (ReadLine(&line)) {
            session_.commands.push_back(line);
            const std::string verb = Upper(line.substr(0, 4));
            if (verb == "EHLO" || verb == "HELO") {
                Reply("250 fake.test");
            } else if (verb == "MAIL") {
                session_.mail_from = Angle(line);
                Reply("250 sender ok");
            } else if (verb == "RCPT") {
                if (reject_recipients_) {
                    Reply("550 no such user");
                } else {
                    session_.recipients.push_back(Angle(line));
                    Reply("250 recipient ok");
                }
            } else if (verb == "DATA") {
                Reply("354 go ahead");
                if (!ReadData()) {
                    break;
                }
                Reply("250 queued");
            } else if (verb == "RSET" || verb == "NOOP") {
                Reply("250 ok");
            } else if (verb == "QUIT") {
                Reply("221 bye");
                break;
            } else {
                Reply("502 not implemented");
            }
        }
        ::close(conn_fd_);
    }

    // Reads message lines up to the lone ".", undoing the client's dot-stuffing.
    bool ReadData() {
        std::string line;
        while (ReadLine(&line)) {
            if (line == ".") {
                return true;
            }
            if (!line.empty() && line.front() == '.') {
                line.erase(0, 1);
            }
            session_.data += line + "\r\n";
        }
        return false;
    }

    // One CRLF-terminated line without its CRLF; false on EOF, error or timeout.
    bool ReadLine(std::string* line) {
        while (true) {
            const auto end = buffer_.find("\r\n");
            if (end != std::string::npos) {
                *line = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                return true;
            }
            std::array<char, 4096> chunk{};
            const ssize_t n = ::recv(conn_fd_, chunk.data(), chunk.size(), 0);
            if (n <= 0) {
                return false;
            }
            buffer_.append(chunk.data(), static_cast<std::size_t>(n));
        }
    }

    void Reply(const std::string& text) const {
        const std::string wire = text + "\r\n";
        ::send(conn_fd_, wire.data(), wire.size(), MSG_NOSIGNAL);
    }

    static std::string Upper(std::string text) {
        for (char& c : text) {
            if (c >= 'a' && c <= 'z') {
                c = static_cast<char>(c - 'a' + 'A');
            }
        }
        return text;
    }

    static std::string Angle(const std::string& line) {
        const auto open = line.find('<');
        const auto close = line.find('>', open);
        if (open == std::string::npos || close == std::string::npos) {
            return {};
        }
        return line.substr(open + 1, close - open - 1);
    }

    bool reject_recipients_;
    int port_ = 0;
    int listen_fd_;
    int conn_fd_ = -1;
    std::string buffer_;
    SmtpSession session_;
    std::thread thread_;
};

SmtpConfig PlainConfig(int port) {
    SmtpConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.starttls = false;
    config.from = "RainMaker <noreply@rainmaker.test>";
    config.timeout = std::chrono::seconds(5);
    return config;
}

// The header block (up to the blank line) of a raw message.
std::string HeadersOf(const std::string& data) {
    return data.substr(0, data.find("\r\n\r\n") + 2);
}

std::string BodyOf(const std::string& data) {
    return data.substr(data.find("\r\n\r\n") + 4);
}

TEST(SmtpSender, DeliversEnvelopeHeadersAndBodyToThePlainTextRelay) {
    FakeSmtpServer server;
    SmtpSender sender(PlainConfig(server.Port()));

    sender.Send(OutgoingMessage{
        .to = "user@example.com",
        .sms = false,
        .subject = "Your verification code",
        .text = "Your code is 123456\n.a line that starts with a dot"});
    const SmtpSession session = server.Finish();

    EXPECT_EQ(session.mail_from, "noreply@rainmaker.test");
    EXPECT_EQ(session.recipients, std::vector<std::string>{"user@example.com"});
    const std::string headers = HeadersOf(session.data);
    EXPECT_NE(headers.find("From: RainMaker <noreply@rainmaker.test>\r\n"), std::string::npos);
    EXPECT_NE(headers.find("To: user@example.com\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Subject: Your verification code\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Date: "), std::string::npos);
    EXPECT_NE(headers.find("Message-ID: <"), std::string::npos);
    EXPECT_NE(headers.find("@rainmaker.test>\r\n"), std::string::npos);
    EXPECT_NE(headers.find("MIME-Version: 1.0\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_EQ(BodyOf(session.data), "Your code is 123456\r\n.a line that starts with a dot\r\n");
    EXPECT_EQ(session.commands.back(), "QUIT");
}

TEST(SmtpSender, KeepsHeaderInjectionInsideTheSubjectLine) {
    FakeSmtpServer server;
    SmtpSender sender(PlainConfig(server.Port()));

    sender.Send(OutgoingMessage{
        .to = "user@example.com",
        .sms = false,
        .subject = "Hello\r\nBcc: victim@example.com",
        .text = "123456"});
    const SmtpSession session = server.Finish();

    EXPECT_EQ(session.recipients, std::vector<std::string>{"user@example.com"});
    EXPECT_EQ(session.data.find("\r\nBcc:"), std::string::npos);
    EXPECT_NE(session.data.find("Subject: Hello  Bcc: victim@example.com\r\n"), std::string::npos);
}

TEST(SmtpSender, EncodesNonAsciiSubjectAndBodySoAnyRelayCarriesThem) {
    FakeSmtpServer server;
    SmtpSender sender(PlainConfig(server.Port()));

    sender.Send(OutgoingMessage{
        .to = "user@example.com",
        .sms = false,
        .subject = "Código de verificação",
        .text = "Olá, your code is 123456"});
    const SmtpSession session = server.Finish();

    const std::string headers = HeadersOf(session.data);
    EXPECT_NE(
        headers.find("Subject: =?UTF-8?B?Q8OzZGlnbyBkZSB2ZXJpZmljYcOnw6Nv?=\r\n"), std::string::npos
    );
    EXPECT_NE(headers.find("Content-Transfer-Encoding: base64\r\n"), std::string::npos);
    EXPECT_EQ(BodyOf(session.data), "T2zDoSwgeW91ciBjb2RlIGlzIDEyMzQ1Ng==\r\n");
}

TEST(SmtpSender, ThrowsWhenTheRelayRejectsTheRecipient) {
    FakeSmtpServer server(/*reject_recipients=*/true);
    SmtpSender sender(PlainConfig(server.Port()));

    EXPECT_THROW(
        sender.Send(OutgoingMessage{.to = "nobody@example.com", .subject = "s", .text = "t"}),
        std::runtime_error
    );
    const SmtpSession session = server.Finish();
    EXPECT_TRUE(session.recipients.empty());
    EXPECT_TRUE(session.data.empty());
}

TEST(SmtpSender, ThrowsWithCurlsErrorTextWhenNothingListensOnThePort) {
    int port = 0;
    ::close(ListenOnLoopback(&port));  // the port was free a moment ago and is closed now
    SmtpSender sender(PlainConfig(port));

    try {
        sender.Send(OutgoingMessage{.to = "user@example.com", .subject = "s", .text = "t"});
        FAIL() << "Send to a closed port did not throw";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("connect"), std::string::npos) << error.what();
    }
}

TEST(SmtpSender, RejectsARecipientThatWouldBreakTheSmtpCommand) {
    SmtpSender sender(PlainConfig(1));
    EXPECT_THROW(
        sender.Send(OutgoingMessage{.to = "a@b.c>\r\nRCPT TO:<x@y.z", .subject = "s", .text = "t"}),
        std::runtime_error
    );
}

TEST(SmtpSender, RejectsAConfigWithoutHostOrSender) {
    SmtpConfig no_host = PlainConfig(25);
    no_host.host.clear();
    EXPECT_THROW(SmtpSender{no_host}, std::invalid_argument);

    SmtpConfig no_from = PlainConfig(25);
    no_from.from.clear();
    EXPECT_THROW(SmtpSender{no_from}, std::invalid_argument);
}

}  // namespace
}  // namespace rainmaker::outbound

// Sends e-mail codes through an operator's SMTP relay, using libcurl's SMTP client.
#pragma once

#include <chrono>
#include <string>

#include "domain/users/message_sender.hpp"

namespace rainmaker::outbound {

struct SmtpConfig {
    std::string host;
    int port = 587;
    bool starttls = true;  // upgrade with STARTTLS and refuse to go on without TLS
    bool tls = false;      // implicit TLS (smtps://, usually port 465); wins over starttls
    std::string user;      // no AUTH when empty
    std::string password;
    std::string from;                  // "noreply@example.com" or "RainMaker <noreply@example.com>"
    std::chrono::seconds timeout{15};  // whole transaction, connect included
};

// One SMTP transaction per message (a new connection each time; codes are rare).
class SmtpSender final : public domain::users::MessageSender {
public:
    // Throws std::invalid_argument when host or from is empty, or port or timeout is out of range.
    explicit SmtpSender(SmtpConfig config);

    // domain::users::MessageSender
    // Throws std::runtime_error with curl's error text when the relay does not accept the message.
    void Send(const domain::users::OutgoingMessage& message) override;

private:
    SmtpConfig config_;
    std::string envelope_from_;  // the bare address inside config_.from
    std::string url_;
};

}  // namespace rainmaker::outbound

// How the account service hands a verification code to the outside world (mail, SMS, mailbox).
#pragma once

#include <string>

namespace rainmaker::domain::users {

struct OutgoingMessage {
    std::string to;       // e-mail address, or +<country code><number> for SMS
    bool sms = false;     // true when `to` is a phone number
    std::string subject;  // e-mail subject (unused for SMS)
    std::string text;     // plain-text body; always contains the code for code messages
};

class MessageSender {
public:
    virtual ~MessageSender() = default;
    // Delivers or durably queues `message`; throws std::runtime_error when it cannot.
    virtual void Send(const OutgoingMessage& message) = 0;
};

}  // namespace rainmaker::domain::users

// Hands SMS codes as JSON to an operator's HTTP gateway (a relay to Twilio, an SMS modem, ...).
#pragma once

#include <chrono>
#include <string>

#include "domain/users/message_sender.hpp"

namespace rainmaker::outbound {

struct SmsWebhookConfig {
    std::string url;                   // http:// or https:// endpoint that accepts the POST
    std::string bearer_token;          // sent as "Authorization: Bearer <token>" when not empty
    std::chrono::seconds timeout{10};  // whole request, connect included
};

// POSTs {"to": "+<number>", "text": "..."} with Content-Type application/json; any 2xx answer
// is success. Redirects are not followed: a gateway that moved is a configuration error.
class SmsWebhookSender final : public domain::users::MessageSender {
public:
    // Throws std::invalid_argument when the URL is empty or the timeout is not positive.
    explicit SmsWebhookSender(SmsWebhookConfig config);

    // domain::users::MessageSender
    // Throws std::runtime_error on a transport error or a non-2xx status.
    void Send(const domain::users::OutgoingMessage& message) override;

private:
    SmsWebhookConfig config_;
};

}  // namespace rainmaker::outbound

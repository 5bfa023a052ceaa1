// Hands SMS codes as JSON to an operator's HTTP gateway (a relay to Twilio, an SMS modem, ...).
#include "outbound/sms_webhook_sender.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "net/curl_easy.hpp"

namespace rainmaker::outbound {

namespace {

// Enough of the gateway's answer to explain a failure in the log, not enough to flood it.
constexpr std::size_t kMaxKeptResponseBytes = 512;

}  // namespace

SmsWebhookSender::SmsWebhookSender(SmsWebhookConfig config) : config_(std::move(config)) {
    if (config_.url.empty()) {
        throw std::invalid_argument("SMS webhook URL is empty");
    }
    // curl reads a zero timeout as "wait forever", which a code request must never do.
    if (config_.timeout.count() <= 0) {
        throw std::invalid_argument("SMS webhook timeout must be positive");
    }
}

void SmsWebhookSender::Send(const domain::users::OutgoingMessage& message) {
    const std::string body =
        core::Serialize(boost::json::object{{"to", message.to}, {"text", message.text}});

    net::HttpRequest request;
    request.url = config_.url;
    request.post_body = body;
    request.headers = {
        "Content-Type: application/json",
        // Without this, curl may wait for a "100 Continue" that simple gateways never send.
        "Expect:"};
    if (!config_.bearer_token.empty()) {
        request.headers.push_back("Authorization: Bearer " + config_.bearer_token);
    }
    request.timeout = config_.timeout;
    request.max_answer_bytes = kMaxKeptResponseBytes;
    const auto answer = net::PerformHttp(request, "SMS webhook for " + message.to + " failed");
    if (answer.status < 200 || answer.status > 299) {
        throw std::runtime_error(
            "SMS webhook for " + message.to + " answered HTTP " + std::to_string(answer.status) +
            (answer.body.empty() ? std::string() : ": " + answer.body)
        );
    }
}

}  // namespace rainmaker::outbound

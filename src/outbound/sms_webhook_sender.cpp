// Hands SMS codes as JSON to an operator's HTTP gateway (a relay to Twilio, an SMS modem, ...).
#include "outbound/sms_webhook_sender.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "outbound/curl_easy.hpp"

namespace rainmaker::outbound {

namespace {

// Enough of the gateway's answer to explain a failure in the log, not enough to flood it.
constexpr std::size_t kMaxKeptResponseBytes = 512;

std::size_t KeepResponsePrefix(char* data, std::size_t size, std::size_t count, void* user_data) {
    auto* kept = static_cast<std::string*>(user_data);
    const std::size_t n = size * count;
    const std::size_t room = kMaxKeptResponseBytes - std::min(kept->size(), kMaxKeptResponseBytes);
    kept->append(data, std::min(n, room));
    return n;  // the rest is read and dropped, so curl does not report a write error
}

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

    CurlEasy curl = MakeCurlEasy();
    CURL* h = curl.get();
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    std::string response;
    CurlSlist headers;
    AppendToSlist(headers, "Content-Type: application/json");
    // Without this, curl may wait for a "100 Continue" that simple gateways never send.
    AppendToSlist(headers, "Expect:");
    if (!config_.bearer_token.empty()) {
        AppendToSlist(headers, "Authorization: Bearer " + config_.bearer_token);
    }
    const long timeout_seconds = static_cast<long>(config_.timeout.count());

    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data()), "CURLOPT_ERRORBUFFER"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_URL, config_.url.c_str()), "CURLOPT_URL");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()), "CURLOPT_HTTPHEADER");
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_POST, 1L), "CURLOPT_POST");
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str()), "CURLOPT_POSTFIELDS");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())),
        "CURLOPT_POSTFIELDSIZE_LARGE"
    );
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &KeepResponsePrefix), "CURLOPT_WRITEFUNCTION"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_WRITEDATA, &response), "CURLOPT_WRITEDATA");
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_seconds), "CURLOPT_TIMEOUT");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_seconds), "CURLOPT_CONNECTTIMEOUT"
    );

    const CURLcode result = curl_easy_perform(h);
    if (result != CURLE_OK) {
        throw std::runtime_error(
            "SMS webhook for " + message.to +
            " failed: " + CurlErrorText(result, error_buffer.data())
        );
    }
    long status = 0;
    ThrowIfCurlFailed(
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), "CURLINFO_RESPONSE_CODE"
    );
    if (status < 200 || status > 299) {
        throw std::runtime_error(
            "SMS webhook for " + message.to + " answered HTTP " + std::to_string(status) +
            (response.empty() ? std::string() : ": " + response)
        );
    }
}

}  // namespace rainmaker::outbound

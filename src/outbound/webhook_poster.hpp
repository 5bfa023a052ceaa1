// Webhook posts through libcurl: one easy handle per worker, so its connection to a receiver
// is kept alive between deliveries; http and https only, no redirects, no proxy, the socket
// guard of the passthrough (internal addresses refused unless allowed), the answer's body read
// and dropped past a small limit.
#pragma once

#include "domain/events/webhook_dispatcher.hpp"
#include "net/curl_easy.hpp"
#include "outbound/external_http_client.hpp"

namespace rainmaker::outbound {

class CurlWebhookPoster final : public domain::events::WebhookPoster {
public:
    CurlWebhookPoster();

    Result Post(
        const std::string& url,
        const std::vector<std::pair<std::string, std::string>>& headers,
        const std::string& body,
        std::chrono::seconds timeout,
        bool allow_private
    ) override;

private:
    net::CurlEasy curl_;
    AddressGuard guard_;
};

}  // namespace rainmaker::outbound

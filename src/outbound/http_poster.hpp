// The delivery pipeline's posts through libcurl: one easy handle per worker, so its connections
// are kept alive between deliveries (HTTP/2 when asked: APNs); http and https only, no
// redirects, no proxy, the passthrough's socket guard (internal addresses refused unless
// allowed, link-local always), the answer read up to a limit (its start kept: services say why
// they refused).
#pragma once

#include "domain/events/delivery_dispatcher.hpp"
#include "net/curl_easy.hpp"
#include "outbound/external_http_client.hpp"

namespace rainmaker::outbound {

class CurlPoster final : public domain::events::Poster {
public:
    CurlPoster();

    Result Post(const domain::events::PostRequest& request) override;

private:
    net::CurlEasy curl_;
    AddressGuard guard_;
};

}  // namespace rainmaker::outbound

// The passthrough's external calls through libcurl: http and https only, no redirects followed,
// no proxy from the environment, the answer bounded in time and size, and — unless the service
// allows them — no connection to a private, loopback, link-local, multicast or reserved
// address, checked on the address each socket is opened for (after name resolution, so a name
// that resolves to such an address is refused too).
#pragma once

#include <sys/socket.h>

#include <curl/curl.h>

#include "domain/passthrough/passthrough_service.hpp"

namespace rainmaker::outbound {

class ExternalHttpClient final : public domain::passthrough::ExternalHttp {
public:
    domain::passthrough::ExternalAnswer Perform(const domain::passthrough::ExternalRequest& request
    ) override;
};

// The socket guard of these calls, for other senders to a user's URL (webhooks): installed on
// a handle (with no proxy), each socket it opens is checked — internal addresses refused unless
// `allow_private`, link-local ones always — and `refused` says whether one was.
struct AddressGuard {
    bool allow_private = false;
    bool refused = false;
};

// Throws std::runtime_error when curl refuses an option. `guard` must outlive the handle's use.
void InstallAddressGuard(CURL* handle, AddressGuard& guard);

// Whether `address` (an IPv4 or IPv6 sockaddr) may not be reached by default: loopback,
// private (RFC 1918, unique local), shared (100.64/10), link-local, multicast, unspecified,
// reserved, and IPv4-mapped forms of these.
bool IsInternalAddress(const ::sockaddr* address);

}  // namespace rainmaker::outbound

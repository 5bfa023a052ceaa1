// libcurl with an open-socket hook that refuses internal addresses.
#include "outbound/external_http_client.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/curl_easy.hpp"

namespace rainmaker::outbound {

using domain::passthrough::ExternalAnswer;
using domain::passthrough::ExternalCallFailed;
using domain::passthrough::ExternalRequest;

namespace {

bool IsInternalV4(std::uint32_t a) {  // host order
    const auto in = [a](std::uint32_t net, int bits) {
        const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        return (a & mask) == net;
    };
    return in(0x00000000, 8) ||   // "this" network
           in(0x0A000000, 8) ||   // 10/8
           in(0x64400000, 10) ||  // 100.64/10 shared
           in(0x7F000000, 8) ||   // loopback
           in(0xA9FE0000, 16) ||  // link-local (cloud metadata services live here)
           in(0xAC100000, 12) ||  // 172.16/12
           in(0xC0000000, 24) ||  // 192.0.0/24
           in(0xC0A80000, 16) ||  // 192.168/16
           in(0xC6120000, 15) ||  // 198.18/15 benchmarking
           in(0xE0000000, 4) ||   // multicast
           in(0xF0000000, 4);     // reserved, broadcast
}

struct Transfer {
    AddressGuard guard;
    std::string body;
    std::size_t max_bytes = 0;
    bool too_large = false;
};

// Link-local addresses (169.254/16, fe80::/10: cloud metadata services) even for services
// allowed internal ones.
bool IsLinkLocal(const ::sockaddr* address) {
    if (address->sa_family == AF_INET) {
        const auto a = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
        return (a & 0xFFFF0000U) == 0xA9FE0000U;
    }
    const auto* b = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
    static constexpr std::array<unsigned char, 12> kMapped{
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||
           (std::equal(kMapped.begin(), kMapped.end(), b) && b[12] == 169 && b[13] == 254);
}

curl_socket_t OpenSocket(void* user, curlsocktype, struct curl_sockaddr* address) {
    auto* guard = static_cast<AddressGuard*>(user);
    if ((!guard->allow_private && IsInternalAddress(&address->addr)) ||
        IsLinkLocal(&address->addr)) {
        guard->refused = true;
        return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::size_t Keep(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (n > transfer->max_bytes - std::min(transfer->max_bytes, transfer->body.size())) {
        transfer->too_large = true;
        return 0;
    }
    transfer->body.append(data, n);
    return n;
}

}  // namespace

void InstallAddressGuard(CURL* handle, AddressGuard& guard) {
    net::ThrowIfCurlFailed(
        curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket),
        "CURLOPT_OPENSOCKETFUNCTION"
    );
    net::ThrowIfCurlFailed(
        curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &guard), "CURLOPT_OPENSOCKETDATA"
    );
    // A proxy would connect for us, unchecked.
    net::ThrowIfCurlFailed(curl_easy_setopt(handle, CURLOPT_PROXY, ""), "CURLOPT_PROXY");
}

bool IsInternalAddress(const ::sockaddr* address) {
    if (address->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        return IsInternalV4(ntohl(v4->sin_addr.s_addr));
    }
    if (address->sa_family != AF_INET6) {
        return true;
    }
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    const auto* b = v6->sin6_addr.s6_addr;
    static constexpr std::array<unsigned char, 12> kMapped{
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::equal(kMapped.begin(), kMapped.end(), b)) {
        return IsInternalV4(
            (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
            (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]}
        );
    }
    const auto v4_at = [b](int at) {
        return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
               (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
    };
    const auto zeros = [b](int from, int to) {
        return std::all_of(b + from, b + to, [](unsigned char x) { return x == 0; });
    };
    if (zeros(0, 12)) {
        return true;  // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
    }
    static constexpr std::array<unsigned char, 12> kNat64{
        0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
    if (std::equal(kNat64.begin(), kNat64.end(), b)) {
        return IsInternalV4(v4_at(12));  // 64:ff9b::/96 reaches the embedded IPv4 address
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
        return IsInternalV4(v4_at(2));  // 6to4 2002::/16
    }
    const bool local_nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B &&
                             b[4] == 0x00 && b[5] == 0x01;             // 64:ff9b:1::/48
    const bool discard = b[0] == 0x01 && b[1] == 0x00 && zeros(2, 8);  // 100::/64
    const bool teredo = b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00;
    return local_nat64 || discard || teredo || (b[0] & 0xFE) == 0xFC ||  // fc00::/7 unique local
           (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||                    // fe80::/10 link-local
           (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) ||                    // fec0::/10 site-local
           b[0] == 0xFF;                                                 // multicast
}

ExternalAnswer ExternalHttpClient::Perform(const ExternalRequest& request) {
    net::CurlEasy curl = net::MakeCurlEasy();
    CURL* h = curl.get();
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    Transfer transfer;
    transfer.guard.allow_private = request.allow_private;
    transfer.max_bytes = request.max_response_bytes;
    net::CurlSlist headers;
    for (const auto& [name, value] : request.headers) {
        net::AppendToSlist(headers, name + ": " + value);
    }
    if (request.method == "POST") {
        net::AppendToSlist(headers, "Expect:");
    }
    const auto set = [&](CURLoption option, auto value, const char* name) {
        net::ThrowIfCurlFailed(curl_easy_setopt(h, option, value), name);
    };
    const long seconds = static_cast<long>(request.timeout.count());
    set(CURLOPT_ERRORBUFFER, error_buffer.data(), "CURLOPT_ERRORBUFFER");
    set(CURLOPT_URL, request.url.c_str(), "CURLOPT_URL");
    set(CURLOPT_PROTOCOLS_STR, "http,https", "CURLOPT_PROTOCOLS_STR");
    set(CURLOPT_FOLLOWLOCATION, 0L, "CURLOPT_FOLLOWLOCATION");
    InstallAddressGuard(h, transfer.guard);
    set(CURLOPT_WRITEFUNCTION, &Keep, "CURLOPT_WRITEFUNCTION");
    set(CURLOPT_WRITEDATA, &transfer, "CURLOPT_WRITEDATA");
    set(CURLOPT_TIMEOUT, seconds, "CURLOPT_TIMEOUT");
    set(CURLOPT_CONNECTTIMEOUT, seconds, "CURLOPT_CONNECTTIMEOUT");
    if (headers) {
        set(CURLOPT_HTTPHEADER, headers.get(), "CURLOPT_HTTPHEADER");
    }
    if (request.method == "POST") {
        if (!request.body) {
            throw ExternalCallFailed("a POST without a body");
        }
        set(CURLOPT_POST, 1L, "CURLOPT_POST");
        set(CURLOPT_POSTFIELDS, request.body->c_str(), "CURLOPT_POSTFIELDS");
        set(CURLOPT_POSTFIELDSIZE_LARGE,
            static_cast<curl_off_t>(request.body->size()),
            "CURLOPT_POSTFIELDSIZE_LARGE");
    }
    const CURLcode result = curl_easy_perform(h);
    // A name with an internal and a public address connects to the public one: refused only
    // when no other address was reached.
    if (transfer.guard.refused && result != CURLE_OK) {
        throw ExternalCallFailed("the service's address is internal and not allowed for it");
    }
    if (transfer.too_large) {
        throw ExternalCallFailed(
            "answer larger than " + std::to_string(request.max_response_bytes) + " bytes"
        );
    }
    if (result != CURLE_OK) {
        throw ExternalCallFailed(net::CurlErrorText(result, error_buffer.data()));
    }
    ExternalAnswer answer;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    answer.status = static_cast<int>(status);
    const char* type = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) {
        answer.content_type = type;
    }
    answer.body = std::move(transfer.body);
    return answer;
}

}  // namespace rainmaker::outbound

// Who the client is when the server sits behind a reverse proxy: X-Forwarded-For is believed
// only as far as it was written by proxies we trust (http.trusted_proxies), because anyone can
// send the header. The result keys login throttling and goes into the access log.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace rainmaker::http {

// A set of addresses and CIDR blocks, IPv4 and IPv6. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) is the IPv4 address it carries.
class TrustedProxies {
public:
    TrustedProxies() = default;  // trusts nobody

    // Entries like "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"; host bits below the prefix are
    // ignored. Throws std::invalid_argument naming the first entry that is not one of these.
    explicit TrustedProxies(const std::vector<std::string>& entries);

    bool empty() const { return blocks_.empty(); }

    bool Contains(const boost::asio::ip::address& address) const;

private:
    struct Block {
        bool v4 = false;
        std::array<unsigned char, 16> bytes{};  // network bytes, masked to the prefix
        unsigned prefix = 0;                    // bits
    };

    std::vector<Block> blocks_;
};

// `address` as text in canonical form; an IPv4-mapped IPv6 address is the IPv4 address.
std::string AddressText(const boost::asio::ip::address& address);

// The client's address, as text in canonical form. It is `peer` unless `peer` is a trusted
// proxy; then it is the right-most address of `forwarded_for` (the X-Forwarded-For field, lines
// joined with ',') that is not itself a trusted proxy, or the left-most when all are. An absent
// or empty field, or an element that is not an address (walking from the right, up to the
// answer), gives `peer`: a malformed header must not let a client choose its address.
std::string ResolveClientAddress(
    const boost::asio::ip::address& peer,
    std::string_view forwarded_for,
    const TrustedProxies& trusted
);

}  // namespace rainmaker::http

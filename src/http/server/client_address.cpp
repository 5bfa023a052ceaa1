// CIDR matching on address bytes, and the right-to-left walk over X-Forwarded-For.
#include "http/server/client_address.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace rainmaker::http {

namespace ip = boost::asio::ip;

namespace {

// ::ffff:a.b.c.d is a.b.c.d: a dual-stack listener sees IPv4 clients that way.
ip::address Normalize(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    }
    return address;
}

// A bare IPv4 or IPv6 address; no zone ("%eth0": resolving one would make a syscall per
// header), no brackets, no port.
std::optional<ip::address> ParseAddress(std::string_view text) {
    if (text.empty() || text.find('%') != std::string_view::npos) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(text), ec);
    if (ec) {
        return std::nullopt;
    }
    return Normalize(address);
}

bool AllDigits(std::string_view text) {
    return !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == text.npos;
}

// One element of X-Forwarded-For: "192.0.2.1", "192.0.2.1:443", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:443".
std::optional<ip::address> ParseForwardedElement(std::string_view element) {
    if (!element.empty() && element.front() == '[') {
        const auto close = element.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        const auto rest = element.substr(close + 1);
        if (!rest.empty() && !(rest.front() == ':' && AllDigits(rest.substr(1)))) {
            return std::nullopt;
        }
        auto address = ParseAddress(element.substr(1, close - 1));
        if (!address || !address->is_v6()) {
            return std::nullopt;
        }
        return address;
    }
    const auto colon = element.find(':');
    if (colon != std::string_view::npos && element.find(':', colon + 1) == std::string_view::npos) {
        // Exactly one colon: IPv4 with a port.
        if (!AllDigits(element.substr(colon + 1))) {
            return std::nullopt;
        }
        auto address = ParseAddress(element.substr(0, colon));
        if (!address || !address->is_v4()) {
            return std::nullopt;
        }
        return address;
    }
    return ParseAddress(element);
}

std::string_view TrimSpaces(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
        const std::string_view text = TrimSpaces(entry);
        const auto slash = text.find('/');
        const auto address = ParseAddress(text.substr(0, slash));
        if (!address) {
            throw std::invalid_argument("not an IP address or CIDR block: \"" + entry + "\"");
        }
        Block block;
        block.v4 = address->is_v4();
        const unsigned bits = block.v4 ? 32 : 128;
        block.prefix = bits;
        if (slash != std::string_view::npos) {
            const auto digits = text.substr(slash + 1);
            unsigned prefix = 0;
            const auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
            if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
                prefix > bits) {
                throw std::invalid_argument("bad prefix length in \"" + entry + "\"");
            }
            block.prefix = prefix;
        }
        if (block.v4) {
            const auto bytes = address->to_v4().to_bytes();
            std::copy(bytes.begin(), bytes.end(), block.bytes.begin());
        } else {
            const auto bytes = address->to_v6().to_bytes();
            std::copy(bytes.begin(), bytes.end(), block.bytes.begin());
        }
        for (unsigned bit = block.prefix; bit < bits; ++bit) {
            block.bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
        }
        blocks_.push_back(block);
    }
}

bool TrustedProxies::Contains(const ip::address& raw) const {
    const ip::address address = Normalize(raw);
    std::array<unsigned char, 16> bytes{};
    if (address.is_v4()) {
        const auto v4 = address.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), bytes.begin());
    } else {
        bytes = address.to_v6().to_bytes();
    }
    for (const auto& block : blocks_) {
        if (block.v4 != address.is_v4()) {
            continue;
        }
        bool match = true;
        for (unsigned bit = 0; bit < block.prefix && match; bit += 8) {
            const unsigned left = block.prefix - bit;
            const unsigned char mask =
                left >= 8 ? 0xff : static_cast<unsigned char>(0xff00u >> left);
            match = (bytes[bit / 8] & mask) == block.bytes[bit / 8];
        }
        if (match) {
            return true;
        }
    }
    return false;
}

std::string AddressText(const ip::address& address) {
    return Normalize(address).to_string();
}

std::string ResolveClientAddress(
    const ip::address& raw_peer, std::string_view forwarded_for, const TrustedProxies& trusted
) {
    const ip::address peer = Normalize(raw_peer);
    if (!trusted.Contains(peer)) {
        return peer.to_string();
    }
    std::optional<ip::address> leftmost;
    std::string_view rest = forwarded_for;
    while (!rest.empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view element =
            TrimSpaces(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        if (element.empty()) {
            continue;  // list syntax allows empty elements ("a, , b")
        }
        const auto address = ParseForwardedElement(element);
        if (!address) {
            return peer.to_string();
        }
        if (!trusted.Contains(*address)) {
            return address->to_string();
        }
        leftmost = address;
    }
    return (leftmost ? *leftmost : peer).to_string();
}

}  // namespace rainmaker::http

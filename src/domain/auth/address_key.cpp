// IPv6 addresses reduced to their /64.
#include "domain/auth/address_key.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstring>

namespace rainmaker::domain::auth {

std::string AddressKey(std::string_view address) {
    if (address.find(':') == std::string_view::npos || address.size() >= INET6_ADDRSTRLEN) {
        return std::string(address);
    }
    const std::string text(address);
    std::array<unsigned char, 16> bytes{};
    if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) {
        return text;
    }
    std::memset(bytes.data() + 8, 0, 8);
    char out[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, bytes.data(), out, sizeof(out));
    return std::string(out) + "/64";
}

}  // namespace rainmaker::domain::auth

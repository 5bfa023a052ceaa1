// The key limits count a client address under: an IPv4 address as it is, an IPv6 address by
// its /64 (one host is usually given a whole /64, so counting single IPv6 addresses would let
// it take a fresh one for every attempt).
#pragma once

#include <string>
#include <string_view>

namespace rainmaker::domain::auth {

// "198.51.100.7" -> "198.51.100.7"; "2001:db8:1:2:a:b:c:d" -> "2001:db8:1:2::/64"; anything
// that is not an address is returned unchanged.
std::string AddressKey(std::string_view address);

}  // namespace rainmaker::domain::auth

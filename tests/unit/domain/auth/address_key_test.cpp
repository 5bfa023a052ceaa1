// Client addresses as the limits count them (domain/auth/address_key).
#include "domain/auth/address_key.hpp"

#include <gtest/gtest.h>

namespace rainmaker::domain::auth {
namespace {

TEST(AddressKey, KeepsIpv4AndReducesIpv6ToItsSlash64) {
    EXPECT_EQ(AddressKey("198.51.100.7"), "198.51.100.7");
    EXPECT_EQ(AddressKey("2001:db8:1:2:a:b:c:d"), "2001:db8:1:2::/64");
    EXPECT_EQ(AddressKey("2001:DB8:1:2::1"), "2001:db8:1:2::/64");
    EXPECT_EQ(AddressKey("::1"), "::/64");
    EXPECT_EQ(AddressKey("unknown"), "unknown");
    EXPECT_EQ(AddressKey("not:an:address"), "not:an:address");
}

}  // namespace
}  // namespace rainmaker::domain::auth

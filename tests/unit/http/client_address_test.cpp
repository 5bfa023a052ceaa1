// The client address behind proxies: CIDR matching for IPv4 and IPv6, the right-to-left walk
// over X-Forwarded-For, and the spoofing attempts it must not fall for.
#include "http/server/client_address.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace rainmaker::http {
namespace {

namespace ip = boost::asio::ip;

ip::address Ip(const char* text) {
    return ip::make_address(text);
}

TEST(TrustedProxies, MatchesSingleAddressesAndCidrBlocks) {
    const TrustedProxies trusted({"10.0.0.0/8", "192.0.2.7", "172.16.0.0/12", "198.51.100.0/25"});
    EXPECT_TRUE(trusted.Contains(Ip("10.0.0.1")));
    EXPECT_TRUE(trusted.Contains(Ip("10.255.255.255")));
    EXPECT_FALSE(trusted.Contains(Ip("11.0.0.1")));
    EXPECT_TRUE(trusted.Contains(Ip("192.0.2.7")));
    EXPECT_FALSE(trusted.Contains(Ip("192.0.2.8")));
    EXPECT_TRUE(trusted.Contains(Ip("172.31.255.1")));
    EXPECT_FALSE(trusted.Contains(Ip("172.32.0.1")));
    EXPECT_TRUE(trusted.Contains(Ip("198.51.100.127")));   // /25: the lower half
    EXPECT_FALSE(trusted.Contains(Ip("198.51.100.128")));  // the upper half
}

TEST(TrustedProxies, MatchesIpv6AndKeepsTheFamiliesApart) {
    const TrustedProxies trusted({"2001:db8::/32", "::1", "fd00:1234:5678:9a00::/57"});
    EXPECT_TRUE(trusted.Contains(Ip("2001:db8:ffff::1")));
    EXPECT_FALSE(trusted.Contains(Ip("2001:db9::1")));
    EXPECT_TRUE(trusted.Contains(Ip("::1")));
    EXPECT_FALSE(trusted.Contains(Ip("::2")));
    EXPECT_TRUE(trusted.Contains(Ip("fd00:1234:5678:9a7f::1")));   // inside the /57
    EXPECT_FALSE(trusted.Contains(Ip("fd00:1234:5678:9a80::1")));  // just past it
    EXPECT_FALSE(trusted.Contains(Ip("127.0.0.1")));               // ::1 is not 127.0.0.1
    const TrustedProxies v4({"0.0.0.0/0"});
    EXPECT_TRUE(v4.Contains(Ip("203.0.113.1")));
    EXPECT_FALSE(v4.Contains(Ip("2001:db8::1")));  // an IPv4 block holds no IPv6 address
}

TEST(TrustedProxies, SeesIpv4MappedAddressesAsIpv4) {
    const TrustedProxies trusted({"127.0.0.0/8"});
    EXPECT_TRUE(trusted.Contains(Ip("::ffff:127.0.0.1")));
    const TrustedProxies mapped({"::ffff:10.1.2.3"});
    EXPECT_TRUE(mapped.Contains(Ip("10.1.2.3")));
}

TEST(TrustedProxies, IgnoresHostBitsBelowThePrefix) {
    const TrustedProxies trusted({"10.1.2.3/16"});
    EXPECT_TRUE(trusted.Contains(Ip("10.1.200.200")));
    EXPECT_FALSE(trusted.Contains(Ip("10.2.0.1")));
}

TEST(TrustedProxies, RefusesEntriesThatAreNotAddressesOrBlocks) {
    for (const char* bad :
         {"",
          "proxy.example.com",
          "10.0.0.0/33",
          "2001:db8::/129",
          "10.0.0.0/",
          "10.0.0.0/x",
          "10.0.0.0/8/8",
          "fe80::1%eth0",
          "1.2.3"}) {
        EXPECT_THROW(TrustedProxies({bad}), std::invalid_argument) << bad;
    }
    EXPECT_TRUE(TrustedProxies().empty());
}

const TrustedProxies kProxies({"10.0.0.0/8", "2001:db8:ffff::/48"});

std::string Resolve(const char* peer, std::string_view forwarded_for) {
    return ResolveClientAddress(Ip(peer), forwarded_for, kProxies);
}

TEST(ResolveClientAddress, AnUntrustedPeerGetsNothingFromTheHeader) {
    EXPECT_EQ(Resolve("203.0.113.5", "198.51.100.1"), "203.0.113.5");
    EXPECT_EQ(Resolve("203.0.113.5", ""), "203.0.113.5");
    // Naming a trusted proxy as itself changes nothing either.
    EXPECT_EQ(Resolve("203.0.113.5", "10.0.0.1"), "203.0.113.5");
    const TrustedProxies nobody;
    EXPECT_EQ(ResolveClientAddress(Ip("127.0.0.1"), "198.51.100.1", nobody), "127.0.0.1");
}

TEST(ResolveClientAddress, TakesTheRightmostAddressThatIsNotATrustedProxy) {
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1"), "198.51.100.1");
    // The client wrote the left part itself: only what our proxies appended counts.
    EXPECT_EQ(Resolve("10.0.0.1", "1.1.1.1, 198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.9, 10.2.3.4"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1,10.0.0.9"), "198.51.100.1");
}

TEST(ResolveClientAddress, IgnoresSpoofedEntriesLeftOfTheAnswer) {
    // Whatever a client puts in front, even garbage or a trusted address, stays to the left.
    EXPECT_EQ(Resolve("10.0.0.1", "not-an-ip, 198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", "10.0.0.5, 198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", "127.0.0.1 , 198.51.100.1"), "198.51.100.1");
}

TEST(ResolveClientAddress, FallsBackToThePeerOnMalformedElements) {
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1, garbage"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "unknown"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1 junk"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "fe80::1%eth0"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "[2001:db8::1"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1:port"), "10.0.0.1");
    EXPECT_EQ(Resolve("10.0.0.1", "[198.51.100.1]"), "10.0.0.1");  // brackets are for IPv6
}

TEST(ResolveClientAddress, AcceptsPortsBracketsAndEmptyListElements) {
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1:4711"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", "[2001:db8::7]:443"), "2001:db8::7");
    EXPECT_EQ(Resolve("10.0.0.1", "[2001:db8::7]"), "2001:db8::7");
    EXPECT_EQ(Resolve("10.0.0.1", "198.51.100.1, ,\t"), "198.51.100.1");
    EXPECT_EQ(Resolve("10.0.0.1", " , "), "10.0.0.1");
}

TEST(ResolveClientAddress, WalksIpv6ProxiesAndCanonicalisesTheAnswer) {
    EXPECT_EQ(Resolve("2001:db8:ffff::1", "2001:DB8:0:0::42, 2001:db8:ffff::2"), "2001:db8::42");
    // An IPv4-mapped peer is its IPv4 address, trusted or not.
    EXPECT_EQ(Resolve("::ffff:10.0.0.1", "198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(Resolve("::ffff:203.0.113.5", "198.51.100.1"), "203.0.113.5");
    EXPECT_EQ(Resolve("10.0.0.1", "::ffff:198.51.100.1"), "198.51.100.1");
}

TEST(ResolveClientAddress, AllTrustedGivesTheLeftmost) {
    EXPECT_EQ(Resolve("10.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
}

TEST(AddressText, WritesIpv4MappedAddressesAsIpv4) {
    EXPECT_EQ(AddressText(Ip("::ffff:192.0.2.1")), "192.0.2.1");
    EXPECT_EQ(AddressText(Ip("192.0.2.1")), "192.0.2.1");
    EXPECT_EQ(AddressText(Ip("2001:DB8::1")), "2001:db8::1");
}

}  // namespace
}  // namespace rainmaker::http

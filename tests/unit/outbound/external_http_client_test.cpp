// The addresses passthrough refuses by default, and a call refused on the address it connects
// to (a loopback listener that would have answered).
#include "outbound/external_http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace rainmaker::outbound {
namespace {

bool Internal(const char* text) {
    sockaddr_storage storage{};
    if (std::string(text).find(':') == std::string::npos) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
        v4->sin_family = AF_INET;
        EXPECT_EQ(::inet_pton(AF_INET, text, &v4->sin_addr), 1) << text;
    } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
        v6->sin6_family = AF_INET6;
        EXPECT_EQ(::inet_pton(AF_INET6, text, &v6->sin6_addr), 1) << text;
    }
    return IsInternalAddress(reinterpret_cast<const sockaddr*>(&storage));
}

TEST(ExternalHttpClient, InternalAddressesAreRefusedByDefault) {
    for (const char* a :
         {"127.0.0.1",
          "127.255.0.9",
          "10.1.2.3",
          "172.16.0.1",
          "172.31.255.255",
          "192.168.1.1",
          "169.254.169.254",
          "100.64.0.1",
          "0.0.0.0",
          "224.0.0.1",
          "255.255.255.255",
          "::1",
          "::",
          "fc00::1",
          "fd12::1",
          "fe80::1",
          "ff02::1",
          "::ffff:127.0.0.1",
          "::ffff:10.0.0.1"}) {
        EXPECT_TRUE(Internal(a)) << a;
    }
    for (const char* a :
         {"8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"}) {
        EXPECT_FALSE(Internal(a)) << a;
    }
}

TEST(ExternalHttpClient, AServiceNotAllowedInternalAddressesIsNeverConnected) {
    domain::passthrough::ExternalRequest request;
    request.method = "GET";
    request.url = "http://localhost:9/";  // resolves to loopback
    request.max_response_bytes = 1024;
    request.timeout = std::chrono::seconds(5);
    ExternalHttpClient client;
    try {
        client.Perform(request);
        ADD_FAILURE() << "a loopback address was connected";
    } catch (const domain::passthrough::ExternalCallFailed& e) {
        EXPECT_NE(std::string(e.what()).find("internal"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace rainmaker::outbound

// The listener backs off only when accept() failed for lack of descriptors or memory; any other
// failure concerns one connection, and the next is accepted at once (#14 review).
#include "http/server/accept_errors.hpp"

#include <cerrno>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

namespace rainmaker::http {
namespace {

boost::system::error_code Errno(int value) {
    return {value, boost::system::system_category()};
}

TEST(AcceptErrors, OutOfDescriptorsOrMemoryIsOutOfResources) {
    EXPECT_TRUE(IsOutOfResources(Errno(EMFILE)));
    EXPECT_TRUE(IsOutOfResources(Errno(ENFILE)));
    EXPECT_TRUE(IsOutOfResources(Errno(ENOBUFS)));
    EXPECT_TRUE(IsOutOfResources(Errno(ENOMEM)));
    EXPECT_TRUE(IsOutOfResources(boost::asio::error::no_descriptors));
}

TEST(AcceptErrors, AConnectionThatFailedBeforeItWasAcceptedIsNot) {
    EXPECT_FALSE(IsOutOfResources(Errno(ECONNABORTED)));
    EXPECT_FALSE(IsOutOfResources(boost::asio::error::connection_aborted));
    EXPECT_FALSE(IsOutOfResources(Errno(EPROTO)));
    EXPECT_FALSE(IsOutOfResources(Errno(EPERM)));
    EXPECT_FALSE(IsOutOfResources(Errno(ENETUNREACH)));
    EXPECT_FALSE(IsOutOfResources(Errno(EHOSTUNREACH)));
}

}  // namespace
}  // namespace rainmaker::http

// Range headers of presigned downloads: one range of bytes, in its three forms, clipped to
// the object; anything else ignored (the whole object), a range past the end unsatisfiable.
#include "http/api/blob_routes.hpp"

#include <gtest/gtest.h>

namespace rainmaker::http::api {
namespace {

using Range = std::optional<std::pair<std::uint64_t, std::uint64_t>>;

Range R(std::uint64_t a, std::uint64_t b) {
    return std::pair<std::uint64_t, std::uint64_t>{a, b};
}

TEST(ParseRange, ReadsOneRangeInEachForm) {
    EXPECT_EQ(ParseRange("bytes=0-99", 1000), R(0, 99));
    EXPECT_EQ(ParseRange("bytes=500-", 1000), R(500, 999));
    EXPECT_EQ(ParseRange("bytes=-100", 1000), R(900, 999));
    EXPECT_EQ(ParseRange("bytes=-5000", 1000), R(0, 999));
    EXPECT_EQ(ParseRange("bytes=990-5000", 1000), R(990, 999));
}

TEST(ParseRange, IgnoresWhatItCannotServeAndRefusesWhatIsPastTheEnd) {
    for (const char* header :
         {"",
          "bytes=",
          "bytes=a-b",
          "bytes=5",
          "bytes=0-1,5-6",
          "items=0-1",
          "bytes=9-3",
          "bytes= 0-1",
          "bytes=0-1 ",
          "bytes=99999999999999999999-"}) {
        EXPECT_EQ(ParseRange(header, 1000), std::nullopt) << header;
    }
    EXPECT_EQ(ParseRange("bytes=1000-", 1000), R(1000, 0));
    EXPECT_EQ(ParseRange("bytes=-0", 1000), R(1000, 0));
    EXPECT_EQ(ParseRange("bytes=0-", 0), R(0, 0));
}

}  // namespace
}  // namespace rainmaker::http::api

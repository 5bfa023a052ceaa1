// Untrusted JSON: what Boost.JSON parses but the server must not keep.
#include "core/json.hpp"

#include <string>

#include <gtest/gtest.h>

namespace rainmaker::core {
namespace {

TEST(ParseUntrustedJson, ParsesDocumentsWithFiniteNumbers) {
    const auto value = ParseUntrustedJson(R"({"a":[1,-2.5,1e308,1e-400],"b":{"c":null}})", 8);
    ASSERT_TRUE(value);
    EXPECT_EQ(value->at("a").as_array().size(), 4u);
}

TEST(ParseUntrustedJson, RefusesNumbersBeyondTheDoubleRangeAtAnyDepth) {
    for (const auto* text : {"1e400", "[-1e400]", R"({"a":{"b":[0,{"c":1e309}]}})"}) {
        EXPECT_FALSE(ParseUntrustedJson(text, 8)) << text;
    }
}

TEST(ParseUntrustedJson, RefusesNonJsonAndNestingBeyondTheLimit) {
    EXPECT_FALSE(ParseUntrustedJson("{", 8));
    EXPECT_FALSE(ParseUntrustedJson("Infinity", 8));
    EXPECT_TRUE(ParseUntrustedJson(std::string(8, '[') + std::string(8, ']'), 8));
    EXPECT_FALSE(ParseUntrustedJson(std::string(9, '[') + std::string(9, ']'), 8));
}

}  // namespace
}  // namespace rainmaker::core

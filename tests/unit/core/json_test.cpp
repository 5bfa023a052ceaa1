// Untrusted JSON: what Boost.JSON parses but the server must not keep.
#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
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

// The CLI printed "Temperature": 2.15E1 (issue #8): every double in plain decimal.
TEST(Serialize, WritesDoublesInPlainDecimalAndEverythingElseAsBoostDoes) {
    const auto v = boost::json::parse(
        R"({"L":{"T":21.5,"H":7.0,"N":5,"S":"a\"b\\c\n\u0001é","A":[0.25,true,null,-3]},)"
        R"("small":0.000001,"tiny":1e-7,"large":1e20,"big":1e21,"u":18446744073709551615,)"
        R"("neg":-0.0})"
    );
    EXPECT_EQ(
        Serialize(v),
        R"({"L":{"T":21.5,"H":7.0,"N":5,"S":"a\"b\\c\n\u0001é","A":[0.25,true,null,-3]},)"
        R"("small":0.000001,"tiny":1e-07,"large":100000000000000000000.0,"big":1e+21,)"
        R"("u":18446744073709551615,"neg":-0.0})"
    );
    EXPECT_EQ(boost::json::serialize(boost::json::value(21.5)), "2.15E1");  // why it exists
    // Without doubles it is byte for byte what Boost writes.
    const auto plain = boost::json::parse(R"({"a":[1,"x\ty",{"b":false}],"c":"\u001f"})");
    EXPECT_EQ(Serialize(plain), boost::json::serialize(plain));
}

TEST(Serialize, ReplacesBytesThatAreNotUtf8AndKeepsTheRest) {
    EXPECT_EQ(
        Serialize(boost::json::string_view("a\xff"
                                           "b")),
        "\"a\\ufffdb\""
    );
    EXPECT_EQ(Serialize(boost::json::string_view("\xc3")), "\"\\ufffd\"");             // cut short
    EXPECT_EQ(Serialize(boost::json::string_view("\xc0\xaf")), "\"\\ufffd\\ufffd\"");  // overlong
    EXPECT_EQ(Serialize(boost::json::string_view("\xed\xa0\x80")), "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECT_EQ(Serialize(boost::json::string_view("é€😀")), "\"é€😀\"");
    const auto text = Serialize(boost::json::object{{"k\xfe", "v\x80"}});
    EXPECT_EQ(text, "{\"k\\ufffd\":\"v\\ufffd\"}");
    EXPECT_TRUE(boost::json::parse(text).is_object());
}

TEST(Serialize, EveryDoubleReadsBackExactly) {
    std::mt19937_64 random(42);
    std::uniform_int_distribution<std::uint64_t> bits;
    for (int i = 0; i < 20000; ++i) {
        double d = 0;
        const std::uint64_t b = bits(random);
        std::memcpy(&d, &b, sizeof(d));
        if (!std::isfinite(d)) {
            EXPECT_EQ(Serialize(boost::json::value(d)), "null");
            continue;
        }
        const auto text = Serialize(boost::json::value(d));
        const double magnitude = std::fabs(d);
        if (magnitude >= 1e-6 && magnitude < 1e21) {
            EXPECT_EQ(text.find_first_of("eE"), std::string::npos) << text;
        }
        // Read back exactly (std::from_chars: Boost.JSON 1.81 may land one ulp away).
        double back = 0;
        const auto r = std::from_chars(text.data(), text.data() + text.size(), back);
        EXPECT_EQ(r.ptr, text.data() + text.size()) << text;
        EXPECT_EQ(back, d) << text;
        EXPECT_TRUE(boost::json::parse(text).is_double()) << text;
    }
}

}  // namespace
}  // namespace rainmaker::core

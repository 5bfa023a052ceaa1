// Checks both base64 alphabets against RFC 4648 and that decoding refuses everything else.
#include "crypto/base64.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rainmaker::crypto {
namespace {

struct Vector {
    std::string bytes;
    std::string standard;
    std::string url;
};

// RFC 4648 §10, plus bytes whose encodings differ between the alphabets.
std::vector<Vector> Vectors() {
    return {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
        {"\xfb\xff", "+/8=", "-_8"},
        {"\xfb\xef\xbe", "++++", "----"},
        {"\xff\xff\xff", "////", "____"},
        {std::string("\0\0", 2), "AAA=", "AAA"},
    };
}

TEST(Base64, EncodesRfc4648VectorsInBothAlphabets) {
    for (const auto& v : Vectors()) {
        EXPECT_EQ(Base64Encode(v.bytes), v.standard);
        EXPECT_EQ(Base64UrlEncode(v.bytes), v.url);
    }
}

TEST(Base64, DecodesRfc4648VectorsInBothAlphabets) {
    for (const auto& v : Vectors()) {
        EXPECT_EQ(Base64Decode(v.standard), v.bytes) << v.standard;
        EXPECT_EQ(Base64UrlDecode(v.url), v.bytes) << v.url;
    }
}

TEST(Base64, UrlDecodeAcceptsPaddedInput) {
    EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
    EXPECT_EQ(Base64UrlDecode("Zm8="), "fo");
    EXPECT_EQ(Base64UrlDecode("-_8="), "\xfb\xff");
}

TEST(Base64, RoundTripsRandomBytesOfEveryShortLength) {
    std::mt19937 rng(20240611);
    for (std::size_t length = 0; length < 200; ++length) {
        std::string bytes(length, '\0');
        for (auto& b : bytes) {
            b = static_cast<char>(rng() & 0xFF);
        }
        EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
        EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
        EXPECT_EQ(Base64UrlEncode(bytes).find('='), std::string::npos);
    }
}

TEST(Base64, UrlDecodeRejectsMalformedInput) {
    for (const std::string bad : {
             "Z",         // a length of 1 mod 4 cannot be produced
             "Zm9vY",     // nor can 5
             "Zg=",       // padding that does not complete a group
             "Zg===",     // too much padding
             "====",      // nothing but padding
             "Zm8==",     // wrong amount of padding for the data
             "Z=g=",      // padding in the middle
             "Zm+v",      // standard-only character
             "Zm/v",      // standard-only character
             "Zm9v Yg",   // whitespace
             "Zm9v\nYg",  // newline
             "Zh",        // non-zero unused bits ("Zg" is the canonical form)
             "Zm9",       // non-zero unused bits ("Zm8" is the canonical form)
         }) {
        EXPECT_EQ(Base64UrlDecode(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(Base64UrlDecode(std::string("Zm9v\0Yg", 7)), std::nullopt);
    EXPECT_EQ(Base64UrlDecode("Zm9v\xc3\xa9"), std::nullopt);
}

TEST(Base64, StandardDecodeRejectsMalformedInput) {
    for (const std::string bad : {
             "Zg",    // padding is required
             "Zm8",   // padding is required
             "Z",     // impossible length
             "Zg=",   // incomplete padding
             "-_8=",  // URL-only characters
             "Zm9v Yg==",
             "Zh==",  // non-zero unused bits
             "Zm9=",  // non-zero unused bits
             "Z===",
         }) {
        EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace rainmaker::crypto

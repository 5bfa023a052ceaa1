// Checks the digests against published test vectors (FIPS 180-2 examples, RFC 4231).
#include "crypto/digest.hpp"

#include <string>

#include <gtest/gtest.h>

namespace rainmaker::crypto {
namespace {

TEST(Digest, Sha256HexMatchesKnownVectors) {
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(
        Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    EXPECT_EQ(
        Sha256Hex(std::string(1000000, 'a')),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

TEST(Digest, Sha256ReturnsThirtyTwoRawBytes) {
    const std::string digest = Sha256("abc");
    ASSERT_EQ(digest.size(), 32U);
    EXPECT_EQ(static_cast<unsigned char>(digest[0]), 0xba);
    EXPECT_EQ(static_cast<unsigned char>(digest[31]), 0xad);
}

TEST(Digest, Sha256HexHandlesEmbeddedNulBytes) {
    EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("ab"));
}

TEST(Digest, HmacSha256HexMatchesRfc4231Vectors) {
    // Test case 1.
    EXPECT_EQ(
        HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2: a key shorter than the output.
    EXPECT_EQ(
        HmacSha256Hex("Jefe", "what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 3: 0xaa key, 0xdd data.
    EXPECT_EQ(
        HmacSha256Hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
    );
    // Test case 6: a key longer than the block size is hashed first.
    EXPECT_EQ(
        HmacSha256Hex(
            std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

TEST(Digest, HmacSha256HexAcceptsAnEmptyKeyAndMessage) {
    EXPECT_EQ(
        HmacSha256Hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
    );
}

TEST(Digest, ConstantTimeEqualsComparesContentAndLength) {
    EXPECT_TRUE(ConstantTimeEquals("", ""));
    EXPECT_TRUE(ConstantTimeEquals("secret-token", "secret-token"));
    EXPECT_FALSE(ConstantTimeEquals("secret-token", "secret-tokeN"));
    EXPECT_FALSE(ConstantTimeEquals("Secret-token", "secret-token"));
    EXPECT_FALSE(ConstantTimeEquals("secret", "secret-token"));
    EXPECT_FALSE(ConstantTimeEquals("", "x"));
    EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
    EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
}

TEST(Digest, AHasherFedInPiecesGivesTheOneShotDigestAndStartsAgain) {
    const std::string data(300000, 'q');
    Hasher sha(Hasher::Algorithm::kSha256);
    Hasher md5(Hasher::Algorithm::kMd5);
    for (std::size_t at = 0; at < data.size(); at += 7777) {
        sha.Update(std::string_view(data).substr(at, 7777));
        md5.Update(std::string_view(data).substr(at, 7777));
    }
    EXPECT_EQ(HexOf(sha.Final()), Sha256Hex(data));
    EXPECT_EQ(HexOf(md5.Final()), Md5Hex(data));
    // After Final, a new digest.
    sha.Update("abc");
    EXPECT_EQ(HexOf(sha.Final()), Sha256Hex("abc"));
    EXPECT_EQ(HexOf(md5.Final()), Md5Hex(""));
    EXPECT_EQ(HexOf(std::string("\x00\xff\x10", 3)), "00ff10");
}

}  // namespace
}  // namespace rainmaker::crypto

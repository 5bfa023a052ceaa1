// Presigned URL signatures: what a URL allows (method, path, expiry, Content-MD5) is exactly
// what verifies; any change, a missing or malformed part, or time past the expiry refuses it;
// the key lives in a 0600 file and survives a restart.
#include "crypto/url_signer.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::crypto {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

TEST(UrlSigner, ASignatureVerifiesForExactlyWhatItWasMadeFor) {
    const UrlSigner signer(std::string(32, 'k'));
    const std::string sig = signer.Sign("GET", "/blobs/abc/x.bin", kNow + 60, "");
    EXPECT_EQ(sig.size(), 64U);
    const std::string expires = std::to_string(kNow + 60);
    EXPECT_EQ(signer.Check("GET", "/blobs/abc/x.bin", expires, sig, "", kNow), UrlCheck::kValid);
    // At the expiry second it still works; one second later it has expired.
    EXPECT_EQ(
        signer.Check("GET", "/blobs/abc/x.bin", expires, sig, "", kNow + 60), UrlCheck::kValid
    );
    EXPECT_EQ(
        signer.Check("GET", "/blobs/abc/x.bin", expires, sig, "", kNow + 61), UrlCheck::kExpired
    );
    // Another method, path, expiry, signature: not ours.
    EXPECT_EQ(signer.Check("PUT", "/blobs/abc/x.bin", expires, sig, "", kNow), UrlCheck::kInvalid);
    EXPECT_EQ(signer.Check("GET", "/blobs/abd/x.bin", expires, sig, "", kNow), UrlCheck::kInvalid);
    EXPECT_EQ(signer.Check("GET", "/blobs/abc/y.bin", expires, sig, "", kNow), UrlCheck::kInvalid);
    EXPECT_EQ(
        signer.Check("GET", "/blobs/abc/x.bin", std::to_string(kNow + 61), sig, "", kNow),
        UrlCheck::kInvalid
    );
    std::string flipped = sig;
    flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
    EXPECT_EQ(
        signer.Check("GET", "/blobs/abc/x.bin", expires, flipped, "", kNow), UrlCheck::kInvalid
    );
    // A forged URL stays invalid after its expiry: the signature is checked first.
    EXPECT_EQ(
        signer.Check("GET", "/blobs/abc/x.bin", expires, flipped, "", kNow + 100),
        UrlCheck::kInvalid
    );
    // Another key.
    const UrlSigner other(std::string(32, 'j'));
    EXPECT_EQ(other.Check("GET", "/blobs/abc/x.bin", expires, sig, "", kNow), UrlCheck::kInvalid);
}

TEST(UrlSigner, RefusesMalformedExpiriesAndSignatures) {
    const UrlSigner signer(std::string(32, 'k'));
    const std::string sig = signer.Sign("GET", "/p", kNow, "");
    for (const std::string& expires :
         {std::string(),
          std::string("-1"),
          std::string("1e9"),
          std::string(" 1800000000"),
          std::string(40, '9')}) {
        EXPECT_EQ(signer.Check("GET", "/p", expires, sig, "", 0), UrlCheck::kInvalid) << expires;
        // Even signed over that very text (the canonical form the signer hashes), an expiry
        // that is not a plain decimal is refused before it is read as a number.
        const std::string forged = crypto::HmacSha256Hex(
            std::string(32, 'k'), "rainmaker-presigned-v1\nGET\n/p\n" + expires + "\n"
        );
        EXPECT_EQ(signer.Check("GET", "/p", expires, forged, "", 0), UrlCheck::kInvalid) << expires;
    }
    // The canonical form above is the signer's: a well-formed expiry signed that way passes.
    EXPECT_EQ(
        signer.Check(
            "GET",
            "/p",
            std::to_string(kNow),
            crypto::HmacSha256Hex(
                std::string(32, 'k'),
                "rainmaker-presigned-v1\nGET\n/p\n" + std::to_string(kNow) + "\n"
            ),
            "",
            0
        ),
        UrlCheck::kValid
    );
    EXPECT_EQ(signer.Check("GET", "/p", std::to_string(kNow), "", "", 0), UrlCheck::kInvalid);
    EXPECT_EQ(
        signer.Check("GET", "/p", std::to_string(kNow), sig.substr(0, 63), "", 0),
        UrlCheck::kInvalid
    );
    EXPECT_EQ(
        signer.Check("GET", "/p", std::to_string(kNow), sig + "0", "", 0), UrlCheck::kInvalid
    );
}

TEST(UrlSigner, AUrlSignedWithAContentMd5RequiresItOneSignedWithoutAcceptsAny) {
    const UrlSigner signer(std::string(32, 'k'));
    const std::string md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    const std::string expires = std::to_string(kNow + 10);
    const std::string with = signer.Sign("PUT", "/uploads/a", kNow + 10, md5);
    EXPECT_EQ(signer.Check("PUT", "/uploads/a", expires, with, md5, kNow), UrlCheck::kValid);
    EXPECT_EQ(signer.Check("PUT", "/uploads/a", expires, with, "", kNow), UrlCheck::kInvalid);
    EXPECT_EQ(
        signer.Check("PUT", "/uploads/a", expires, with, "XrY7u+Ae7tCTyyK7j1rNww==", kNow),
        UrlCheck::kInvalid
    );
    const std::string without = signer.Sign("PUT", "/uploads/a", kNow + 10, "");
    EXPECT_EQ(signer.Check("PUT", "/uploads/a", expires, without, "", kNow), UrlCheck::kValid);
    EXPECT_EQ(signer.Check("PUT", "/uploads/a", expires, without, md5, kNow), UrlCheck::kValid);
}

TEST(UrlSigner, TheKeyIsAPrivateFileKeptAcrossRestarts) {
    testing::TempDir dir;
    const auto file = dir.path() / "keys" / "url-signing.key";
    const auto first = UrlSigner::LoadOrCreate(file);
    ASSERT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(
        std::filesystem::status(file).permissions() & std::filesystem::perms::all,
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
    );
    const std::string sig = first->Sign("GET", "/p", kNow, "");
    const auto again = UrlSigner::LoadOrCreate(file);
    EXPECT_EQ(again->Check("GET", "/p", std::to_string(kNow), sig, "", kNow), UrlCheck::kValid);
    // Another data directory: another key.
    testing::TempDir other_dir;
    const auto other = UrlSigner::LoadOrCreate(other_dir.path() / "url-signing.key");
    EXPECT_EQ(other->Check("GET", "/p", std::to_string(kNow), sig, "", kNow), UrlCheck::kInvalid);
    // A damaged key file is refused, not replaced.
    std::ofstream(other_dir.path() / "bad.key") << "not a key\n";
    EXPECT_THROW(UrlSigner::LoadOrCreate(other_dir.path() / "bad.key"), std::runtime_error);
}

}  // namespace
}  // namespace rainmaker::crypto

// ESP secure boot v2 signing (crypto/secure_boot) checked by a verifier written here from
// ESP-IDF's documented layout, with OpenSSL and nothing of the code under test but its output:
// the image kept and padded with 0xFF to 4 KiB, one 1216-byte block per key in a 4 KiB sector
// (0xFF after), each block's magic, version, image digest, CRC-32 (computed here bit by bit),
// key (matched against the PEM the generator answered, with the ROM's precomputed R^2 mod n and
// -n^-1 mod 2^32 recomputed) and signature (RSA-PSS SHA-256 with a 32-byte salt, or ECDSA
// P-256, both stored little-endian) verified; the key digest as the eFuse holds it.
#include "crypto/secure_boot.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"

namespace rainmaker::crypto {
namespace {

constexpr std::size_t kSector = 4096;
constexpr std::size_t kBlock = 1216;

// CRC-32 as zlib and the ESP ROM define it, bit by bit.
std::uint32_t BitwiseCrc32(std::string_view bytes) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char ch : bytes) {
        crc ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1U) ^ (0xEDB88320U & (0U - (crc & 1U)));
        }
    }
    return ~crc;
}

std::uint32_t Le32(std::string_view b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
        v = (v << 8U) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    }
    return v;
}

std::string Reversed(std::string_view s) {
    return std::string(s.rbegin(), s.rend());
}

struct Bn {
    BIGNUM* p = BN_new();
    Bn() = default;

    explicit Bn(std::string_view little_endian) {
        BN_lebin2bn(
            reinterpret_cast<const unsigned char*>(little_endian.data()),
            static_cast<int>(little_endian.size()),
            p
        );
    }

    Bn(const Bn&) = delete;
    Bn& operator=(const Bn&) = delete;

    ~Bn() { BN_free(p); }
};

EVP_PKEY* PublicKey(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return key;
}

bool Verify(EVP_PKEY* key, bool rsa, std::string_view digest, const std::string& signature) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    bool ok = ctx != nullptr && EVP_PKEY_verify_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
    if (ok && rsa) {
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1;
    }
    ok = ok && EVP_PKEY_verify(
                   ctx,
                   reinterpret_cast<const unsigned char*>(signature.data()),
                   signature.size(),
                   reinterpret_cast<const unsigned char*>(digest.data()),
                   digest.size()
               ) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

// Checks one signature block against `digest` and the key `pem`; "" when valid, else why.
std::string CheckBlock(
    std::string_view block,
    std::string_view digest,
    const std::string& pem,
    const std::string& key_digest
) {
    if (static_cast<unsigned char>(block[0]) != 0xE7) {
        return "magic";
    }
    if (block.substr(4, 32) != digest) {
        return "image digest";
    }
    if (Le32(block, 1196) != BitwiseCrc32(block.substr(0, 1196))) {
        return "crc";
    }
    if (block.substr(1200, 16) != std::string(16, '\0')) {
        return "padding";
    }
    EVP_PKEY* key = PublicKey(pem);
    if (key == nullptr) {
        return "pem";
    }
    std::string why;
    const int version = static_cast<unsigned char>(block[1]);
    if (version == 0x02) {
        Bn n(block.substr(36, 384));
        const std::uint32_t e = Le32(block, 420);
        Bn rinv(block.substr(424, 384));
        const std::uint32_t mdash = Le32(block, 808);
        BIGNUM* pem_n = nullptr;
        BIGNUM* pem_e = nullptr;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &pem_n);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &pem_e);
        Bn r2;
        BN_set_bit(r2.p, 6144);
        Bn expected_rinv;
        BN_CTX* ctx = BN_CTX_new();
        BN_mod(expected_rinv.p, r2.p, n.p, ctx);
        BN_CTX_free(ctx);
        const auto n0 = static_cast<std::uint32_t>(BN_get_word(n.p) & 0xFFFFFFFFU);
        if (BN_cmp(n.p, pem_n) != 0 || BN_get_word(pem_e) != e) {
            why = "rsa key";
        } else if (BN_cmp(rinv.p, expected_rinv.p) != 0) {
            why = "rinv";
        } else if (static_cast<std::uint32_t>(n0 * mdash) != 0xFFFFFFFFU) {
            why = "mdash";
        } else if (!Verify(key, true, digest, Reversed(block.substr(812, 384)))) {
            why = "rsa signature";
        } else if (Sha256Hex(block.substr(36, 776)) != key_digest) {
            why = "key digest";
        }
        BN_free(pem_n);
        BN_free(pem_e);
    } else if (version == 0x03) {
        BIGNUM* pem_x = nullptr;
        BIGNUM* pem_y = nullptr;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &pem_x);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &pem_y);
        Bn x(block.substr(37, 32));
        Bn y(block.substr(69, 32));
        ECDSA_SIG* sig = ECDSA_SIG_new();
        BIGNUM* r =
            BN_lebin2bn(reinterpret_cast<const unsigned char*>(block.data() + 101), 32, nullptr);
        BIGNUM* s =
            BN_lebin2bn(reinterpret_cast<const unsigned char*>(block.data() + 133), 32, nullptr);
        ECDSA_SIG_set0(sig, r, s);
        unsigned char* der = nullptr;
        const int der_size = i2d_ECDSA_SIG(sig, &der);
        const std::string der_signature(
            reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_size)
        );
        OPENSSL_free(der);
        ECDSA_SIG_free(sig);
        if (block[2] != 0 || block[36] != 2) {
            why = "ecdsa hash or curve id";
        } else if (BN_cmp(x.p, pem_x) != 0 || BN_cmp(y.p, pem_y) != 0) {
            why = "ecdsa key";
        } else if (!Verify(key, false, digest, der_signature)) {
            why = "ecdsa signature";
        } else if (block.substr(165, 1031) != std::string(1031, '\0')) {
            why = "ecdsa padding";
        } else if (Sha256Hex(block.substr(36, 65)) != key_digest) {
            why = "key digest";
        }
        BN_free(pem_x);
        BN_free(pem_y);
    } else {
        why = "version";
    }
    EVP_PKEY_free(key);
    return why;
}

// Checks a whole signed image made of `image` with `keys`; "" when valid.
std::string CheckSigned(
    const std::string& image,
    const std::string& out,
    const std::vector<const GeneratedSigningKey*>& keys
) {
    const std::size_t padded = (image.size() + kSector - 1) / kSector * kSector;
    if (out.size() != padded + kSector) {
        return "size";
    }
    if (out.compare(0, image.size(), image) != 0 ||
        out.substr(image.size(), padded - image.size()) !=
            std::string(padded - image.size(), '\xFF')) {
        return "image or its padding";
    }
    const std::string digest = Sha256(out.substr(0, padded));
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto why = CheckBlock(
            std::string_view(out).substr(padded + i * kBlock, kBlock),
            digest,
            keys[i]->public_pem,
            keys[i]->public_key_digest
        );
        if (!why.empty()) {
            return "block " + std::to_string(i) + ": " + why;
        }
    }
    const std::size_t used = keys.size() * kBlock;
    if (out.substr(padded + used) != std::string(kSector - used, '\xFF')) {
        return "sector padding";
    }
    return "";
}

class SecureBootTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa_ = new GeneratedSigningKey(GenerateSigningKey(SigningKeySpec::kRsa3072));
        rsa2_ = new GeneratedSigningKey(GenerateSigningKey(SigningKeySpec::kRsa3072));
        ec_ = new GeneratedSigningKey(GenerateSigningKey(SigningKeySpec::kEcdsaP256));
    }

    static void TearDownTestSuite() {
        delete rsa_;
        delete rsa2_;
        delete ec_;
    }

    static SigningKey Signer(const GeneratedSigningKey& key, SigningKeySpec spec) {
        return SigningKey{spec, key.private_der};
    }

    static inline GeneratedSigningKey* rsa_ = nullptr;
    static inline GeneratedSigningKey* rsa2_ = nullptr;
    static inline GeneratedSigningKey* ec_ = nullptr;
};

TEST_F(SecureBootTest, Crc32IsTheIeeeOne) {
    EXPECT_EQ(Crc32("123456789"), 0xCBF43926U);
    EXPECT_EQ(Crc32(""), 0U);
    const std::string bytes(5000, '\x5A');
    EXPECT_EQ(Crc32(bytes), BitwiseCrc32(bytes));
}

TEST_F(SecureBootTest, KeysAreOfTheirSpecWithTheDigestTheEfuseHolds) {
    EXPECT_EQ(rsa_->public_key_digest.size(), 64U);
    EXPECT_NE(rsa_->public_key_digest, rsa2_->public_key_digest);
    EXPECT_NE(rsa_->public_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
    EXPECT_EQ(rsa_->public_pem.find("PRIVATE"), std::string::npos);
    EVP_PKEY* key = PublicKey(rsa_->public_pem);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_bits(key), 3072);
    EVP_PKEY_free(key);
    key = PublicKey(ec_->public_pem);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    EVP_PKEY_free(key);
    EXPECT_EQ(KeySpecNamed("RSA_3072"), SigningKeySpec::kRsa3072);
    EXPECT_EQ(KeySpecNamed("ECC_NIST_P256"), SigningKeySpec::kEcdsaP256);
    EXPECT_FALSE(KeySpecNamed("RSA_2048"));
    EXPECT_EQ(KeySpecName(SigningKeySpec::kEcdsaP256), "ECC_NIST_P256");
}

TEST_F(SecureBootTest, ASignedImageVerifiesWithOneKeyOfEachKind) {
    std::string image(10000, '\0');
    for (std::size_t i = 0; i < image.size(); ++i) {
        image[i] = static_cast<char>(i * 7 + 3);
    }
    const auto with_rsa = SignForSecureBoot(image, {Signer(*rsa_, SigningKeySpec::kRsa3072)});
    EXPECT_EQ(CheckSigned(image, with_rsa, {rsa_}), "");
    const auto with_ec = SignForSecureBoot(image, {Signer(*ec_, SigningKeySpec::kEcdsaP256)});
    EXPECT_EQ(CheckSigned(image, with_ec, {ec_}), "");
    // The verifier refuses what it should, each for its reason: a signature byte changed (the
    // block's CRC made again, so that the signature check itself must refuse it), the image
    // changed, a block checked against another key.
    const auto resigned = [](std::string out, std::size_t at) {
        const std::size_t block = 12288;  // 10000 bytes padded to 12288
        out[block + at] = static_cast<char>(out[block + at] ^ 1);
        const std::uint32_t crc = BitwiseCrc32(std::string_view(out).substr(block, 1196));
        for (int i = 0; i < 4; ++i) {
            out[block + 1196 + static_cast<std::size_t>(i)] =
                static_cast<char>((crc >> (8 * i)) & 0xFFU);
        }
        return out;
    };
    EXPECT_EQ(CheckSigned(image, resigned(with_rsa, 900), {rsa_}), "block 0: rsa signature");
    EXPECT_EQ(CheckSigned(image, resigned(with_ec, 110), {ec_}), "block 0: ecdsa signature");
    auto damaged = with_rsa;
    damaged[100] = static_cast<char>(damaged[100] ^ 1);
    EXPECT_EQ(CheckSigned(image, damaged, {rsa_}), "image or its padding");
    EXPECT_EQ(CheckSigned(image, with_rsa, {rsa2_}), "block 0: rsa key");
}

TEST_F(SecureBootTest, ThreeKeysMakeThreeBlocksInTheirOrderAndAnAlignedImageIsNotPadded) {
    const std::string image(8192, '\x11');
    const auto out = SignForSecureBoot(
        image,
        {Signer(*rsa_, SigningKeySpec::kRsa3072),
         Signer(*ec_, SigningKeySpec::kEcdsaP256),
         Signer(*rsa2_, SigningKeySpec::kRsa3072)}
    );
    EXPECT_EQ(out.size(), 8192U + 4096U);
    EXPECT_EQ(CheckSigned(image, out, {rsa_, ec_, rsa2_}), "");
}

TEST_F(SecureBootTest, BadSignersAreRefused) {
    const std::string image(100, 'x');
    EXPECT_THROW(SignForSecureBoot(image, {}), std::invalid_argument);
    const auto one = Signer(*rsa_, SigningKeySpec::kRsa3072);
    EXPECT_THROW(SignForSecureBoot(image, {one, one, one, one}), std::invalid_argument);
    // A key that is not of its spec, or not a key.
    EXPECT_THROW(
        SignForSecureBoot(image, {Signer(*rsa_, SigningKeySpec::kEcdsaP256)}), std::invalid_argument
    );
    EXPECT_THROW(
        SignForSecureBoot(image, {SigningKey{SigningKeySpec::kRsa3072, "garbage"}}),
        std::invalid_argument
    );
}

}  // namespace
}  // namespace rainmaker::crypto

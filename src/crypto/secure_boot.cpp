#include "crypto/secure_boot.hpp"

#include <array>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdexcept>

#include "crypto/digest.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

using detail::BignumPtr;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;

constexpr std::uint8_t kMagic = 0xE7;
constexpr std::uint8_t kVersionRsa = 0x02;
constexpr std::uint8_t kVersionEcdsa = 0x03;
constexpr std::uint8_t kEcdsaSha256 = 0x00;
constexpr std::uint8_t kCurveP256 = 0x02;
constexpr std::size_t kRsaBytes = 384;     // 3072 bits
constexpr std::size_t kEcBytes = 32;       // P-256 coordinates and r, s
constexpr std::size_t kCrcCovered = 1196;  // the block's bytes before its CRC
constexpr std::size_t kSector = 4096;

using BnCtxPtr = std::unique_ptr<BN_CTX, detail::OpenSslDeleter<BN_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, detail::OpenSslDeleter<ECDSA_SIG_free>>;

// `n` as `size` bytes, least significant first.
std::string LittleEndian(const BIGNUM* n, std::size_t size) {
    std::string out(size, '\0');
    if (BN_bn2lebinpad(n, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) !=
        static_cast<int>(size)) {
        detail::ThrowOpenSsl("secure boot: a number does not fit its field");
    }
    return out;
}

void AppendLe32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
    }
}

BignumPtr Param(const EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        detail::ThrowOpenSsl("secure boot: reading a key parameter");
    }
    return BignumPtr(raw);
}

// The RSA key as the ROM reads it: n, e, R^2 mod n (R = 2^3072) and -n^-1 mod 2^32, each
// little-endian (776 bytes).
std::string RsaKeyPart(const EVP_PKEY* key) {
    const auto n = Param(key, OSSL_PKEY_PARAM_RSA_N);
    const auto e = Param(key, OSSL_PKEY_PARAM_RSA_E);
    const BnCtxPtr ctx(BN_CTX_new());
    BignumPtr r2(BN_new());
    BignumPtr rinv(BN_new());
    if (!ctx || !r2 || !rinv || BN_num_bytes(n.get()) != static_cast<int>(kRsaBytes) ||
        BN_set_bit(r2.get(), static_cast<int>(2 * 8 * kRsaBytes)) != 1 ||
        BN_mod(rinv.get(), r2.get(), n.get(), ctx.get()) != 1) {
        detail::ThrowOpenSsl("secure boot: not an RSA-3072 key");
    }
    // -n^-1 mod 2^32 by Newton's iteration on the lowest word (n is odd).
    const auto n0 = static_cast<std::uint32_t>(BN_get_word(n.get()) & 0xFFFFFFFFU);
    std::uint32_t inverse = 1;
    for (int i = 0; i < 5; ++i) {
        inverse *= 2U - n0 * inverse;
    }
    std::string out = LittleEndian(n.get(), kRsaBytes);
    AppendLe32(out, static_cast<std::uint32_t>(BN_get_word(e.get())));
    out += LittleEndian(rinv.get(), kRsaBytes);
    AppendLe32(out, 0U - inverse);
    return out;
}

// The ECDSA key as the ROM reads it: curve id, X, Y little-endian (65 bytes).
std::string EcKeyPart(const EVP_PKEY* key) {
    if (!detail::IsP256(key)) {
        throw std::invalid_argument("secure boot: not a P-256 key");
    }
    std::string out(1, static_cast<char>(kCurveP256));
    out += LittleEndian(Param(key, OSSL_PKEY_PARAM_EC_PUB_X).get(), kEcBytes);
    out += LittleEndian(Param(key, OSSL_PKEY_PARAM_EC_PUB_Y).get(), kEcBytes);
    return out;
}

std::string KeyPart(SigningKeySpec spec, const EVP_PKEY* key) {
    return spec == SigningKeySpec::kRsa3072 ? RsaKeyPart(key) : EcKeyPart(key);
}

PkeyPtr ParseDer(SigningKeySpec spec, std::string_view der) {
    const unsigned char* at = detail::Bytes(der);
    PkeyPtr key(d2i_AutoPrivateKey(nullptr, &at, static_cast<long>(der.size())));
    const int want = spec == SigningKeySpec::kRsa3072 ? EVP_PKEY_RSA : EVP_PKEY_EC;
    if (!key || EVP_PKEY_get_base_id(key.get()) != want) {
        throw std::invalid_argument("secure boot: the key does not parse as its key_spec");
    }
    return key;
}

// The raw signature of `digest` (a SHA-256) with `key`: RSA-PSS (MGF1-SHA-256, 32-byte salt) or
// ECDSA (DER).
std::string SignDigest(SigningKeySpec spec, EVP_PKEY* key, std::string_view digest) {
    const PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
        detail::ThrowOpenSsl("secure boot: starting a signature");
    }
    if (spec == SigningKeySpec::kRsa3072 &&
        (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), 32) != 1)) {
        detail::ThrowOpenSsl("secure boot: setting RSA-PSS");
    }
    std::size_t size = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &size, detail::Bytes(digest), digest.size()) != 1) {
        detail::ThrowOpenSsl("secure boot: sizing a signature");
    }
    std::string out(size, '\0');
    if (EVP_PKEY_sign(
            ctx.get(),
            reinterpret_cast<unsigned char*>(out.data()),
            &size,
            detail::Bytes(digest),
            digest.size()
        ) != 1) {
        detail::ThrowOpenSsl("secure boot: signing");
    }
    out.resize(size);
    return out;
}

std::string SignatureBlock(const SigningKey& signer, std::string_view digest) {
    const auto key = ParseDer(signer.spec, signer.private_der);
    const std::string signature = SignDigest(signer.spec, key.get(), digest);
    std::string block;
    block.reserve(kSignatureBlockBytes);
    if (signer.spec == SigningKeySpec::kRsa3072) {
        block.push_back(static_cast<char>(kMagic));
        block.push_back(static_cast<char>(kVersionRsa));
        block.append(2, '\0');
        block.append(digest);
        block += RsaKeyPart(key.get());
        if (signature.size() != kRsaBytes) {
            throw std::runtime_error("secure boot: an RSA signature of the wrong size");
        }
        block.append(signature.rbegin(), signature.rend());  // little-endian
    } else {
        block.push_back(static_cast<char>(kMagic));
        block.push_back(static_cast<char>(kVersionEcdsa));
        block.push_back(static_cast<char>(kEcdsaSha256));
        block.push_back('\0');
        block.append(digest);
        block += EcKeyPart(key.get());
        const unsigned char* at = detail::Bytes(signature);
        const EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &at, static_cast<long>(signature.size())));
        if (!sig) {
            detail::ThrowOpenSsl("secure boot: reading an ECDSA signature");
        }
        block += LittleEndian(ECDSA_SIG_get0_r(sig.get()), kEcBytes);
        block += LittleEndian(ECDSA_SIG_get0_s(sig.get()), kEcBytes);
        block.append(kCrcCovered - block.size(), '\0');
    }
    if (block.size() != kCrcCovered) {
        throw std::runtime_error("secure boot: a signature block of the wrong size");
    }
    AppendLe32(block, Crc32(block));
    block.append(16, '\0');
    return block;
}

}  // namespace

std::string_view KeySpecName(SigningKeySpec spec) {
    return spec == SigningKeySpec::kRsa3072 ? "RSA_3072" : "ECC_NIST_P256";
}

std::optional<SigningKeySpec> KeySpecNamed(std::string_view name) {
    if (name == "RSA_3072") {
        return SigningKeySpec::kRsa3072;
    }
    if (name == "ECC_NIST_P256") {
        return SigningKeySpec::kEcdsaP256;
    }
    return std::nullopt;
}

void Wipe(std::string& secret) {
    OPENSSL_cleanse(secret.data(), secret.size());
}

GeneratedSigningKey::~GeneratedSigningKey() {
    Wipe(private_der);
}

GeneratedSigningKey GenerateSigningKey(SigningKeySpec spec) {
    const PkeyPtr key(
        spec == SigningKeySpec::kRsa3072
            ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(3072))
            : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
    );
    if (!key) {
        detail::ThrowOpenSsl("secure boot: generating a key");
    }
    GeneratedSigningKey out;
    out.private_der = detail::WriteToString(
        [&](BIO* bio) {
            return i2d_PKCS8PrivateKey_bio(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        },
        "secure boot: writing a private key",
        true
    );
    out.public_pem = detail::WriteToString(
        [&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key.get()); },
        "secure boot: writing a public key"
    );
    out.public_key_digest = Sha256Hex(KeyPart(spec, key.get()));
    return out;
}

std::string SignForSecureBoot(std::string_view image, const std::vector<SigningKey>& keys) {
    if (keys.empty() || keys.size() > kMaxSignatureBlocks) {
        throw std::invalid_argument("secure boot: sign with 1 to 3 keys");
    }
    std::string out(image);
    if (const auto rest = out.size() % kSector; rest != 0) {
        out.append(kSector - rest, '\xFF');
    }
    const std::string digest = Sha256(out);
    std::string sector;
    for (const auto& key : keys) {
        sector += SignatureBlock(key, digest);
    }
    sector.append(kSector - sector.size(), '\xFF');
    out += sector;
    return out;
}

std::uint32_t Crc32(std::string_view bytes) {
    static const std::array<std::uint32_t, 256> kTable = [] {
        std::array<std::uint32_t, 256> table{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1U) : c >> 1U;
            }
            table[i] = c;
        }
        return table;
    }();
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char ch : bytes) {
        crc = kTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (crc >> 8U);
    }
    return crc ^ 0xFFFFFFFFU;
}

}  // namespace rainmaker::crypto

// ESP secure boot v2 signing, as ESP-IDF documents it: an image is padded with 0xFF to a 4 KiB
// boundary and a 4 KiB signature sector follows it, holding one 1216-byte signature block per
// key (at most 3) and 0xFF after them. A block: magic 0xE7; version 0x02 (RSA-3072, RSA-PSS
// with SHA-256, MGF1-SHA-256 and a 32-byte salt) or 0x03 (ECDSA P-256 over SHA-256); the
// SHA-256 of the padded image; the public key in the form the ROM reads (little-endian: RSA
// n, e, R^2 mod n and -n^-1 mod 2^32; ECDSA curve id 2 and X, Y); the signature (RSA
// little-endian; ECDSA r, s little-endian); the CRC-32 of the block's first 1196 bytes; 16
// zero bytes. A device trusts the SHA-256 of a block's key part (public_key_digest), which it
// holds in eFuse.
// Keys are generated here; their private halves leave only as PKCS#8 DER for sealing
// (KeySealer) and come back only to sign.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::crypto {

enum class SigningKeySpec { kRsa3072, kEcdsaP256 };

// "RSA_3072" / "ECC_NIST_P256" (the API's key_spec), and back (nullopt for another text).
std::string_view KeySpecName(SigningKeySpec spec);
std::optional<SigningKeySpec> KeySpecNamed(std::string_view name);

struct GeneratedSigningKey {
    std::string private_der;        // PKCS#8 DER: seal it, never store or send it as it is
    std::string public_pem;         // SubjectPublicKeyInfo PEM
    std::string public_key_digest;  // 64 hex: SHA-256 of the signature block's key part
    ~GeneratedSigningKey();         // wipes private_der
};

// A new key pair of `spec`. Throws std::runtime_error when OpenSSL fails.
GeneratedSigningKey GenerateSigningKey(SigningKeySpec spec);

struct SigningKey {
    SigningKeySpec spec;
    std::string private_der;  // PKCS#8 DER, as GenerateSigningKey made it
};

// The size of the signature sector and of one block in it.
inline constexpr std::size_t kSignatureSectorBytes = 4096;
inline constexpr std::size_t kSignatureBlockBytes = 1216;
inline constexpr std::size_t kMaxSignatureBlocks = 3;

// `image` padded with 0xFF to a multiple of 4096 bytes, then the signature sector with one
// block per key of `keys` (1..3), in their order. Throws std::invalid_argument (no key, more
// than 3, a key that does not parse as its spec), std::runtime_error (OpenSSL failed).
std::string SignForSecureBoot(std::string_view image, const std::vector<SigningKey>& keys);

// Overwrites `secret` with zeros in a way the compiler keeps (a private key's DER).
void Wipe(std::string& secret);

// The CRC-32 (IEEE 802.3, reflected, as zlib and the ESP ROM compute it) of `bytes`.
std::uint32_t Crc32(std::string_view bytes);

}  // namespace rainmaker::crypto

// The node's key material: an EC P-256 key and CSR like host claiming makes them, and the
// challenge-response signature of device-protocol §4.2 made with that key.
#pragma once

#include <filesystem>
#include <memory>
#include <openssl/evp.h>
#include <string>
#include <string_view>

namespace rainmaker::sim {

struct EvpPkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// A fresh EC P-256 (prime256v1) key. Throws std::runtime_error on OpenSSL failure.
EvpPkeyPtr GenerateP256Key();

// PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted, as the CLI writes into fctry.
std::string PrivateKeyToPem(EVP_PKEY* key);

// Reads a PEM private key (PKCS#8 or traditional). Throws std::runtime_error.
EvpPkeyPtr LoadPrivateKeyPem(const std::filesystem::path& file);

// A PKCS#10 CSR, subject CN=<common_name>, signed with SHA-256, as PEM.
std::string MakeCsrPem(EVP_PKEY* key, const std::string& common_name);

// Lowercase hex of the signature over SHA-256(challenge): DER ECDSA for EC keys, RSASSA-PSS
// (salt = digest length) for RSA keys, as core/esp_rmaker_node_auth.c produces it.
std::string SignChallengeHex(EVP_PKEY* key, std::string_view challenge);

// Checks a SignChallengeHex() result with the key's public half (used by selftest).
bool VerifyChallengeHex(EVP_PKEY* key, std::string_view challenge, std::string_view signature_hex);

}  // namespace rainmaker::sim

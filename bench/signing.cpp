// Secure boot signing rate (#10): RSA-3072 and ECDSA P-256 signature sectors made by
// crypto::SignForSecureBoot (key parsed from its DER, image padded and hashed, block built,
// CRC) over a 4 KiB and a 2 MiB image, beside raw EVP_PKEY_sign on a digest with the same
// parameters (RSA-PSS SHA-256, 32-byte salt; ECDSA SHA-256) in the same process. bench/
// signing.sh runs it after `openssl speed rsa3072 ecdsap256` on the same machine.
//
//   signing [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string>

#include "crypto/digest.hpp"
#include "crypto/secure_boot.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using rainmaker::crypto::SigningKey;
using rainmaker::crypto::SigningKeySpec;

template <typename F>
double PerSecond(double seconds, F&& once) {
    const auto start = Clock::now();
    long n = 0;
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        once();
        ++n;
    }
    return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

double RawRate(const std::string& der, bool rsa, double seconds) {
    const auto* at = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &at, static_cast<long>(der.size()));
    const std::string digest = rainmaker::crypto::Sha256("bench");
    unsigned char sig[512];
    const double rate = PerSecond(seconds, [&] {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
        EVP_PKEY_sign_init(ctx);
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
        if (rsa) {
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256());
            EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32);
        }
        std::size_t size = sizeof sig;
        if (EVP_PKEY_sign(
                ctx,
                sig,
                &size,
                reinterpret_cast<const unsigned char*>(digest.data()),
                digest.size()
            ) != 1) {
            std::abort();
        }
        EVP_PKEY_CTX_free(ctx);
    });
    EVP_PKEY_free(key);
    return rate;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--seconds") == 0) {
            seconds = std::atof(argv[i + 1]);
        }
    }
    const std::string small(4096, '\x5A');
    const std::string large(2 * 1024 * 1024, '\x5A');
    std::printf(
        "| key | raw EVP_PKEY_sign /s | signature sector, 4 KiB image /s | ratio | signature "
        "sector, 2 MiB image /s |\n"
    );
    std::printf("|---|---|---|---|---|\n");
    for (const auto spec : {SigningKeySpec::kRsa3072, SigningKeySpec::kEcdsaP256}) {
        const auto key = rainmaker::crypto::GenerateSigningKey(spec);
        const bool rsa = spec == SigningKeySpec::kRsa3072;
        const double raw = RawRate(key.private_der, rsa, seconds);
        const std::vector<SigningKey> signers{SigningKey{spec, key.private_der}};
        const double ours_small = PerSecond(seconds, [&] {
            if (rainmaker::crypto::SignForSecureBoot(small, signers).size() != 8192) {
                std::abort();
            }
        });
        const double ours_large =
            PerSecond(seconds, [&] { rainmaker::crypto::SignForSecureBoot(large, signers); });
        std::printf(
            "| %s | %.0f | %.0f | %.2f | %.1f |\n",
            std::string(rainmaker::crypto::KeySpecName(spec)).c_str(),
            raw,
            ours_small,
            ours_small / raw,
            ours_large
        );
    }
    return 0;
}

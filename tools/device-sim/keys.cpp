// The node's key material: an EC P-256 key and CSR like host claiming makes them, and the
// challenge-response signature of device-protocol §4.2 made with that key.
#include "keys.hpp"

#include <array>
#include <cstdio>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdexcept>
#include <vector>

namespace rainmaker::sim {

namespace {

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

struct ReqDeleter {
    void operator()(X509_REQ* req) const { X509_REQ_free(req); }
};

using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqDeleter>;

[[noreturn]] void ThrowOpenSsl(const std::string& what) {
    std::string text = what;
    unsigned long code = 0;
    while ((code = ERR_get_error()) != 0) {
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        text += ": ";
        text += buf.data();
    }
    throw std::runtime_error(text);
}

BioPtr NewMemBio() {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) {
        ThrowOpenSsl("BIO_new");
    }
    return bio;
}

std::string BioContents(BIO* bio) {
    // BIO_get_mem_data is a macro with a C cast; BIO_ctrl is what it expands to.
    char* data = nullptr;
    const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, static_cast<void*>(&data));
    if (size <= 0 || data == nullptr) {
        return {};
    }
    return {data, static_cast<std::size_t>(size)};
}

bool IsRsa(EVP_PKEY* key) {
    return EVP_PKEY_is_a(key, "RSA") == 1;
}

MdCtxPtr NewMdCtx() {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        ThrowOpenSsl("EVP_MD_CTX_new");
    }
    return ctx;
}

void UsePssIfRsa(EVP_PKEY* key, EVP_PKEY_CTX* pctx) {
    if (!IsRsa(key)) {
        return;
    }
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
        ThrowOpenSsl("RSA-PSS parameters");
    }
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

EvpPkeyPtr GenerateP256Key() {
    // EVP_EC_gen() is a macro with a C cast; this is the call it expands to.
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) {
        ThrowOpenSsl("EC P-256 key generation");
    }
    return key;
}

std::string PrivateKeyToPem(EVP_PKEY* key) {
    BioPtr bio = NewMemBio();
    if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        ThrowOpenSsl("PEM_write_bio_PrivateKey");
    }
    return BioContents(bio.get());
}

EvpPkeyPtr LoadPrivateKeyPem(const std::filesystem::path& file) {
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) {
        throw std::runtime_error("cannot open " + file.string());
    }
    EvpPkeyPtr key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!key) {
        ThrowOpenSsl("reading private key " + file.string());
    }
    return key;
}

std::string MakeCsrPem(EVP_PKEY* key, const std::string& common_name) {
    ReqPtr req(X509_REQ_new());
    if (!req) {
        ThrowOpenSsl("X509_REQ_new");
    }
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    if (X509_REQ_set_version(req.get(), 0) != 1 ||  // PKCS#10 v1 is encoded as 0
        X509_NAME_add_entry_by_txt(
            subject,
            "CN",
            MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(common_name.c_str()),
            -1,
            -1,
            0
        ) != 1 ||
        X509_REQ_set_pubkey(req.get(), key) != 1) {
        ThrowOpenSsl("building CSR");
    }
    // X509_REQ_sign() cannot select RSA-PSS; the CLI signs CSRs with plain SHA-256 anyway.
    if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) {
        ThrowOpenSsl("signing CSR");
    }
    BioPtr bio = NewMemBio();
    if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
        ThrowOpenSsl("PEM_write_bio_X509_REQ");
    }
    return BioContents(bio.get());
}

std::string SignChallengeHex(EVP_PKEY* key, std::string_view challenge) {
    MdCtxPtr ctx = NewMdCtx();
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) {
        ThrowOpenSsl("EVP_DigestSignInit");
    }
    UsePssIfRsa(key, pctx);
    const auto* data = reinterpret_cast<const unsigned char*>(challenge.data());
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, data, challenge.size()) != 1) {
        ThrowOpenSsl("EVP_DigestSign (size)");
    }
    std::vector<unsigned char> signature(size);
    if (EVP_DigestSign(ctx.get(), signature.data(), &size, data, challenge.size()) != 1) {
        ThrowOpenSsl("EVP_DigestSign");
    }
    signature.resize(size);
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string hex;
    hex.reserve(size * 2);
    for (const unsigned char b : signature) {
        hex += kDigits[b >> 4];
        hex += kDigits[b & 0x0F];
    }
    return hex;
}

bool VerifyChallengeHex(EVP_PKEY* key, std::string_view challenge, std::string_view signature_hex) {
    if (signature_hex.size() % 2 != 0) {
        return false;
    }
    std::vector<unsigned char> signature;
    for (std::size_t i = 0; i < signature_hex.size(); i += 2) {
        const int hi = HexValue(signature_hex[i]);
        const int lo = HexValue(signature_hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        signature.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    MdCtxPtr ctx = NewMdCtx();
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) {
        ThrowOpenSsl("EVP_DigestVerifyInit");
    }
    UsePssIfRsa(key, pctx);
    const int rc = EVP_DigestVerify(
        ctx.get(),
        signature.data(),
        signature.size(),
        reinterpret_cast<const unsigned char*>(challenge.data()),
        challenge.size()
    );
    ERR_clear_error();
    return rc == 1;
}

}  // namespace rainmaker::sim

// OpenSSL ownership types, error reporting and private-key file handling shared by jwt.cpp,
// pki.cpp and the other crypto/ sources, kept in one place so all wipe secrets, name errors and
// write key files alike.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace rainmaker::crypto::detail {

// The largest PEM text (key or certificate file) we read or parse.
constexpr std::size_t kMaxPemBytes = std::size_t{64} * 1024;

template <auto Free>
struct OpenSslDeleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;

// Private key text wiped from memory when it goes out of scope.
struct SecretText {
    std::string value;

    SecretText() = default;
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;

    ~SecretText();

    // Wipes and empties the text.
    void Clear();
};

// Throws std::runtime_error "<what>: <first OpenSSL error>" and empties the error queue.
[[noreturn]] void ThrowOpenSsl(const std::string& what);

// Throws std::runtime_error "<what> <path>: <text for errno>".
[[noreturn]] void ThrowErrno(const std::string& what, const std::filesystem::path& path);

// The bytes of `s` for OpenSSL, never null.
const unsigned char* Bytes(std::string_view s);

// A pem_password_cb that refuses to prompt on the terminal for an encrypted key's passphrase.
int NoPassphrase(char* buf, int size, int rwflag, void* userdata);

bool IsP256(const EVP_PKEY* key);

// A read-only BIO over `text`, or null when it is longer than kMaxPemBytes.
BioPtr ReadBio(std::string_view text);

// The first unencrypted PEM private key in `pem`, or null (never throws).
PkeyPtr ParsePrivateKey(std::string_view pem);

// Everything left to read in `bio`.
std::string ReadAll(BIO* bio);

// A DER ECDSA-Sig-Value of P-256 (what OpenSSL signs) as JWS carries it: r and s as two 32-byte
// big-endian integers. Throws via ThrowOpenSsl.
std::string EcdsaDerToRaw(std::string_view der);

// The reverse, for verifying: the DER ECDSA-Sig-Value of a JWS P-256 signature (r‖s, two 32-byte
// big-endian integers); empty when `raw` is not 64 bytes. Throws via ThrowOpenSsl.
std::string EcdsaRawToDer(std::string_view raw);

// What `write` puts into a memory BIO (a secure-heap one when `secret`, wiped on free); throws
// via ThrowOpenSsl(what) when `write` does not return 1.
template <typename Write>
std::string WriteToString(Write write, const char* what, bool secret = false) {
    const BioPtr bio(BIO_new(secret ? BIO_s_secmem() : BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
        ThrowOpenSsl(what);
    }
    return ReadAll(bio.get());
}

// `key` as PKCS#8 PEM ("BEGIN PRIVATE KEY"); throws via ThrowOpenSsl(what).
std::string PrivateKeyToPem(EVP_PKEY* key, const char* what);

// Reads `path` into `out`; false if it does not exist. Reading stops once `out` holds more than
// kMaxPemBytes, so an oversized file fails to parse. `noun` ("JWT key", "CA certificate")
// names the file in errors; when `is_key`, warns if group or others may read it.
bool ReadSmallFile(
    const std::filesystem::path& path, std::string& out, std::string_view noun, bool is_key
);

// Writes `text` to `path` with exactly `mode` unless the file already exists (then returns
// false). The text goes to a temporary file first and is hard-linked into place, so readers
// never see a half-written file, a crash leaves no half-written key, and of two processes
// starting at once only one wins (replacing a key would invalidate what it signed). `noun`
// names the file in errors. The parent directory must exist.
bool WriteFileIfAbsent(
    const std::filesystem::path& path, std::string_view text, mode_t mode, std::string_view noun
);

// The 32-byte secret kept in `file` as 64 hex characters, created (mode 0600, its directory
// too) when absent and `may_create`; of two processes starting at once, both read the one that
// won. Throws std::runtime_error when the file cannot be read or written, holds no such
// secret, or is missing and may not be created. `noun` ("URL signing key") names it in logs
// and errors.
std::string LoadOrCreateSecret(
    const std::filesystem::path& file, std::string_view noun, bool may_create = true
);

}  // namespace rainmaker::crypto::detail

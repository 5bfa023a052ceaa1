#include "crypto/key_sealer.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdexcept>

#include "crypto/base64.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

using detail::ThrowOpenSsl;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, detail::OpenSslDeleter<EVP_CIPHER_CTX_free>>;

constexpr std::size_t kSealKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kSealPrefix = "v1:";

}  // namespace

std::unique_ptr<KeySealer> KeySealer::LoadOrCreate(
    const std::filesystem::path& file, std::string_view noun, bool may_create
) {
    return std::unique_ptr<KeySealer>(
        new KeySealer(detail::LoadOrCreateSecret(file, noun, may_create))
    );
}

std::unique_ptr<KeySealer> KeySealer::FromKeyForTest(std::string_view key32) {
    if (key32.size() != kSealKeyBytes) {
        throw std::invalid_argument("a sealing key has 32 bytes");
    }
    return std::unique_ptr<KeySealer>(new KeySealer(std::string(key32)));
}

KeySealer::KeySealer(std::string key) : key_(std::move(key)) {}

KeySealer::~KeySealer() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

std::string KeySealer::Seal(std::string_view plain, std::string_view context) const {
    std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());  // NOLINT: OpenSSL's type
    if (RAND_bytes(bytes, static_cast<int>(kNonceBytes)) != 1) {
        ThrowOpenSsl("cannot draw a nonce");
    }
    const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int total = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, detail::Bytes(key_), bytes) !=
            1 ||
        EVP_EncryptUpdate(
            ctx.get(), nullptr, &len, detail::Bytes(context), static_cast<int>(context.size())
        ) != 1 ||
        EVP_EncryptUpdate(
            ctx.get(),
            bytes + kNonceBytes,
            &len,
            detail::Bytes(plain),
            static_cast<int>(plain.size())
        ) != 1) {
        ThrowOpenSsl("cannot seal a key");
    }
    total = len;
    if (EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + total, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(
            ctx.get(),
            EVP_CTRL_GCM_GET_TAG,
            static_cast<int>(kTagBytes),
            bytes + kNonceBytes + plain.size()
        ) != 1) {
        ThrowOpenSsl("cannot seal a key");
    }
    return std::string(kSealPrefix) + Base64Encode(out);
}

std::string KeySealer::Open(std::string_view sealed, std::string_view context) const {
    if (sealed.substr(0, kSealPrefix.size()) != kSealPrefix) {
        throw std::runtime_error("not a sealed key");
    }
    const auto raw = Base64Decode(sealed.substr(kSealPrefix.size()));
    if (!raw || raw->size() < kNonceBytes + kTagBytes) {
        throw std::runtime_error("not a sealed key");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());  // NOLINT
    const std::size_t body = raw->size() - kNonceBytes - kTagBytes;
    detail::SecretText plain;
    plain.value.assign(body, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plain.value.data());  // NOLINT
    std::string tag = raw->substr(kNonceBytes + body);
    const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    const bool ok =
        ctx &&
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, detail::Bytes(key_), bytes) ==
            1 &&
        EVP_DecryptUpdate(
            ctx.get(), nullptr, &len, detail::Bytes(context), static_cast<int>(context.size())
        ) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out, &len, bytes + kNonceBytes, static_cast<int>(body)) == 1 &&
        EVP_CIPHER_CTX_ctrl(
            ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()
        ) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
    ERR_clear_error();
    if (!ok) {
        throw std::runtime_error("a sealed key does not open (wrong key, context or altered)");
    }
    return plain.value;
}

}  // namespace rainmaker::crypto

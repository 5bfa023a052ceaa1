// OpenSSL's one-shot digest and MAC calls, wrapped so callers deal only in strings.
#include "crypto/digest.hpp"

#include <array>
#include <limits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>

namespace rainmaker::crypto {

namespace {

constexpr std::size_t kSha256Bytes = 32;

std::string ToHex(const unsigned char* bytes, std::size_t size) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0xF]);
    }
    return out;
}

// Empty string_views may carry a null data(); OpenSSL wants a valid pointer even for length 0.
const char* NonNull(std::string_view s) {
    return s.data() != nullptr ? s.data() : "";
}

}  // namespace

std::string Sha256(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(NonNull(data), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != kSha256Bytes) {
        throw std::runtime_error("SHA-256 failed");
    }
    return {reinterpret_cast<const char*>(digest.data()), size};
}

std::string Sha256Hex(std::string_view data) {
    const std::string digest = Sha256(data);
    return ToHex(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
}

std::string Md5Hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(NonNull(data), data.size(), digest.data(), &size, EVP_md5(), nullptr) != 1) {
        throw std::runtime_error("MD5 failed");
    }
    return ToHex(digest.data(), size);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw std::invalid_argument("HMAC key too long");
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (HMAC(
            EVP_sha256(),
            NonNull(key),
            static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(NonNull(data)),
            data.size(),
            mac.data(),
            &size
        ) == nullptr ||
        size != kSha256Bytes) {
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
    return HexOf(HmacSha256(key, data));
}

struct Hasher::State {
    EVP_MD_CTX* ctx = nullptr;
};

Hasher::Hasher(Algorithm algorithm) : state_(std::make_unique<State>()), algorithm_(algorithm) {
    state_->ctx = EVP_MD_CTX_new();
    if (state_->ctx == nullptr ||
        EVP_DigestInit_ex(
            state_->ctx, algorithm == Algorithm::kSha256 ? EVP_sha256() : EVP_md5(), nullptr
        ) != 1) {
        EVP_MD_CTX_free(state_->ctx);
        throw std::runtime_error("digest init failed");
    }
}

Hasher::~Hasher() {
    EVP_MD_CTX_free(state_->ctx);
}

void Hasher::Update(std::string_view data) {
    if (EVP_DigestUpdate(state_->ctx, NonNull(data), data.size()) != 1) {
        throw std::runtime_error("digest update failed");
    }
}

std::string Hasher::Final() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(state_->ctx, digest.data(), &size) != 1 ||
        EVP_DigestInit_ex(
            state_->ctx, algorithm_ == Algorithm::kSha256 ? EVP_sha256() : EVP_md5(), nullptr
        ) != 1) {
        throw std::runtime_error("digest final failed");
    }
    return {reinterpret_cast<const char*>(digest.data()), size};
}

std::string HexOf(std::string_view bytes) {
    return ToHex(reinterpret_cast<const unsigned char*>(NonNull(bytes)), bytes.size());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rainmaker::crypto

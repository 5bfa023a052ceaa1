// HMAC-SHA-256 over a canonical text of the request a URL allows; the secret in a 0600 file.
#include "crypto/url_signer.hpp"

#include <cstdio>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdexcept>

#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr const char* kNoun = "URL signing key";
// Bumped if the canonical text ever changes, so that old URLs stop verifying.
constexpr std::string_view kScheme = "rainmaker-presigned-v1";

std::string Canonical(
    std::string_view method, std::string_view path, std::string_view expires, std::string_view md5
) {
    std::string text;
    text.reserve(kScheme.size() + method.size() + path.size() + expires.size() + md5.size() + 4);
    text.append(kScheme).append("\n");
    text.append(method).append("\n");
    text.append(path).append("\n");
    text.append(expires).append("\n");
    text.append(md5);
    return text;
}

bool IsDecimal(std::string_view text) {
    if (text.empty() || text.size() > 18) {
        return false;
    }
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::unique_ptr<UrlSigner> UrlSigner::LoadOrCreate(const std::filesystem::path& file) {
    std::string text;
    if (!detail::ReadSmallFile(file, text, kNoun, true)) {
        std::filesystem::create_directories(file.parent_path());
        unsigned char bytes[kSecretBytes];
        if (RAND_bytes(bytes, sizeof bytes) != 1) {
            detail::ThrowOpenSsl("cannot draw the URL signing key");
        }
        std::string hex =
            HexOf(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
        OPENSSL_cleanse(bytes, sizeof bytes);
        if (detail::WriteFileIfAbsent(file, hex + "\n", 0600, kNoun)) {
            core::log::Info("created the URL signing key " + file.string());
        }
        OPENSSL_cleanse(hex.data(), hex.size());
        if (!detail::ReadSmallFile(file, text, kNoun, true)) {
            throw std::runtime_error("URL signing key disappeared: " + file.string());
        }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (text.size() != 2 * kSecretBytes) {
        throw std::runtime_error("URL signing key file holds no 32-byte hex key: " + file.string());
    }
    std::string secret;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        unsigned value = 0;
        if (std::sscanf(text.c_str() + i, "%2x", &value) != 1) {
            throw std::runtime_error("URL signing key file is not hex: " + file.string());
        }
        secret.push_back(static_cast<char>(value));
    }
    OPENSSL_cleanse(text.data(), text.size());
    return std::make_unique<UrlSigner>(std::move(secret));
}

UrlSigner::UrlSigner(std::string secret) : secret_(std::move(secret)) {}

UrlSigner::~UrlSigner() {
    OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::string UrlSigner::Sign(
    std::string_view method,
    std::string_view path,
    std::int64_t expires,
    std::string_view content_md5
) const {
    return HmacSha256Hex(secret_, Canonical(method, path, std::to_string(expires), content_md5));
}

UrlCheck UrlSigner::Check(
    std::string_view method,
    std::string_view path,
    std::string_view expires,
    std::string_view signature,
    std::string_view content_md5,
    std::int64_t now
) const {
    if (!IsDecimal(expires) || signature.size() != 64) {
        return UrlCheck::kInvalid;
    }
    bool valid = ConstantTimeEquals(
        HmacSha256Hex(secret_, Canonical(method, path, expires, content_md5)), signature
    );
    if (!valid && !content_md5.empty()) {
        // Signed without a Content-MD5: any body, which the receiver checks against its header.
        valid = ConstantTimeEquals(
            HmacSha256Hex(secret_, Canonical(method, path, expires, "")), signature
        );
    }
    if (!valid) {
        return UrlCheck::kInvalid;
    }
    return std::stoll(std::string(expires)) < now ? UrlCheck::kExpired : UrlCheck::kValid;
}

}  // namespace rainmaker::crypto

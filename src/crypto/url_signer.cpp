// HMAC-SHA-256 over a canonical text of the request a URL allows; the secret in a 0600 file.
#include "crypto/url_signer.hpp"

#include <openssl/crypto.h>
#include <stdexcept>

#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

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
    return std::make_unique<UrlSigner>(detail::LoadOrCreateSecret(file, kNoun));
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

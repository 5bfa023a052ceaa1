// Presigned URLs: an HMAC-SHA-256, under a secret kept in the data directory, over what a URL
// allows (method, path, expiry, and the Content-MD5 the body must carry when one was fixed), so
// that whoever holds the URL may do exactly that until it expires, with no other credential.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace rainmaker::crypto {

enum class UrlCheck {
    kValid,
    kExpired,  // signed by us, past its expiry
    kInvalid,  // not signed by us for this method, path, expiry and Content-MD5 (or malformed)
};

class UrlSigner {
public:
    // Loads the 32-byte secret from `file` (hex), or creates it (mode 0600, its directory too).
    // Throws std::runtime_error when the file cannot be read or written or holds no key.
    static std::unique_ptr<UrlSigner> LoadOrCreate(const std::filesystem::path& file);

    // A signer over `secret` (tests).
    explicit UrlSigner(std::string secret);
    ~UrlSigner();
    UrlSigner(const UrlSigner&) = delete;
    UrlSigner& operator=(const UrlSigner&) = delete;

    // The signature (64 lower-case hex) of `method` on `path` until `expires` (unix seconds),
    // with a body whose Content-MD5 header must be `content_md5` (base64; empty: any body).
    std::string Sign(
        std::string_view method,
        std::string_view path,
        std::int64_t expires,
        std::string_view content_md5
    ) const;

    // Whether a request may go ahead: `expires` and `signature` as the URL's query gave them,
    // `content_md5` the request's Content-MD5 header (empty when absent). A URL signed without
    // a Content-MD5 accepts a request with one (the body is then checked against it by the
    // receiver). Timing-safe comparison; an invalid signature wins over an expired one.
    UrlCheck Check(
        std::string_view method,
        std::string_view path,
        std::string_view expires,
        std::string_view signature,
        std::string_view content_md5,
        std::int64_t now
    ) const;

private:
    std::string secret_;
};

}  // namespace rainmaker::crypto

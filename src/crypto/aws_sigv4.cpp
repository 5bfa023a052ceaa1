// SigV4 query signing: canonical request, string to sign, the derived signing key.
#include "crypto/aws_sigv4.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "crypto/digest.hpp"

namespace rainmaker::crypto {

namespace {

// "20130524T000000Z" and "20130524" of unix seconds (UTC).
std::pair<std::string, std::string> AmzDates(std::int64_t now) {
    const auto t = static_cast<std::time_t>(now);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) {
        throw std::invalid_argument("AWS signature: time out of range");
    }
    char stamp[17];
    if (std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) != 16) {
        throw std::invalid_argument("AWS signature: time out of range");
    }
    return {std::string(stamp, 16), std::string(stamp, 8)};
}

// The host the request carries: the origin without its scheme.
std::string HostOf(std::string_view origin) {
    const auto scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos) {
        throw std::invalid_argument("AWS signature: origin without a scheme");
    }
    const auto host = origin.substr(scheme_end + 3);
    if (host.empty() || host.find('/') != std::string_view::npos) {
        throw std::invalid_argument("AWS signature: origin must be scheme://host[:port]");
    }
    return std::string(host);
}

}  // namespace

std::string AwsUriEncode(std::string_view text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out.push_back(c);
        } else {
            const auto u = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0xF]);
        }
    }
    return out;
}

std::string AwsPresignUrl(const AwsPresignRequest& r) {
    if (r.expires < 1 || r.expires > 604800) {
        throw std::invalid_argument("AWS signature: expires must be 1 to 604800 seconds");
    }
    const auto [stamp, day] = AmzDates(r.now);
    const std::string scope = day + "/" + r.region + "/" + r.service + "/aws4_request";

    // Signed headers: host and the given ones, sorted by name, as "name:value\n" lines.
    auto headers = r.headers;
    headers.emplace_back("host", HostOf(r.origin));
    std::sort(headers.begin(), headers.end());
    std::string canonical_headers;
    std::string signed_headers;
    for (const auto& [name, value] : headers) {
        canonical_headers += name + ":" + value + "\n";
        signed_headers += (signed_headers.empty() ? "" : ";") + name;
    }

    // The query: every parameter encoded, in byte order of the encoded names.
    std::vector<std::pair<std::string, std::string>> params = {
        {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
        {"X-Amz-Credential", AwsUriEncode(r.access_key_id + "/" + scope, false)},
        {"X-Amz-Date", stamp},
        {"X-Amz-Expires", std::to_string(r.expires)},
        {"X-Amz-SignedHeaders", AwsUriEncode(signed_headers, false)},
    };
    for (const auto& [name, value] : r.query) {
        params.emplace_back(AwsUriEncode(name, false), AwsUriEncode(value, false));
    }
    std::sort(params.begin(), params.end());
    std::string query;
    for (const auto& [name, value] : params) {
        query += (query.empty() ? "" : "&") + name + "=" + value;
    }
    const std::string path = AwsUriEncode(r.path, true);
    const std::string canonical_request = r.method + "\n" + path + "\n" + query + "\n" +
                                          canonical_headers + "\n" + signed_headers +
                                          "\nUNSIGNED-PAYLOAD";
    const std::string string_to_sign =
        "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + Sha256Hex(canonical_request);
    std::string key = HmacSha256("AWS4" + r.secret_access_key, day);
    key = HmacSha256(key, r.region);
    key = HmacSha256(key, r.service);
    key = HmacSha256(key, "aws4_request");
    return r.origin + path + "?" + query + "&X-Amz-Signature=" + HmacSha256Hex(key, string_to_sign);
}

}  // namespace rainmaker::crypto

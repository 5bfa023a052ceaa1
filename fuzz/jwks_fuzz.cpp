// Feeds bytes as an OpenID Connect provider's id_token and its JSON Web Key Set to
// VerifyJwsWithJwks. It must neither crash nor throw, and a token it accepts is within the
// limits, has a header whose alg is RS256 or ES256, claims that are exactly its payload
// segment's JSON object, and stops verifying when its signature's last byte changes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "crypto/base64.hpp"
#include "crypto/jwks.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rainmaker;

[[noreturn]] void Fail(const char* what, std::string_view token) {
    std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(token.size()), token.data());
    std::abort();
}

// The JSON a base64url segment holds, parsed independently of the code under test.
std::optional<boost::json::value> SegmentJson(std::string_view segment) {
    const std::optional<std::string> text = crypto::Base64UrlDecode(segment);
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(*text, ec);
    if (ec) {
        return std::nullopt;
    }
    return value;
}

void CheckAccepted(
    std::string_view token, std::string_view jwks, const boost::json::object& claims
) {
    if (token.size() > crypto::kMaxJwksTokenBytes || jwks.size() > crypto::kMaxJwksBytes) {
        Fail("accepted a token or key set over the limit", token);
    }
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot = token.find('.', first_dot + 1);
    if (first_dot == std::string_view::npos || second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        Fail("accepted a token that is not three segments", token);
    }
    const auto header = SegmentJson(token.substr(0, first_dot));
    const boost::json::value* alg =
        header && header->is_object() ? header->get_object().if_contains("alg") : nullptr;
    if (alg == nullptr || (*alg != "RS256" && *alg != "ES256")) {
        Fail("accepted a token whose alg is not RS256 or ES256", token);
    }
    const auto payload = SegmentJson(token.substr(first_dot + 1, second_dot - first_dot - 1));
    if (!payload || !payload->is_object() || payload->get_object() != claims) {
        Fail("the claims are not the payload segment's object", token);
    }
    std::optional<std::string> signature = crypto::Base64UrlDecode(token.substr(second_dot + 1));
    if (!signature || signature->empty()) {
        Fail("accepted a token without a signature", token);
    }
    signature->back() = static_cast<char>(signature->back() ^ 0x01);
    const std::string changed =
        std::string(token.substr(0, second_dot + 1)) + crypto::Base64UrlEncode(*signature);
    if (crypto::VerifyJwsWithJwks(changed, jwks)) {
        Fail("a changed signature still verifies", token);
    }
}

}  // namespace

// Input: the token, then after the first 0xFF byte the JWKS text (empty when there is none).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::AsText(data, size);
    const std::size_t split = input.find('\xff');
    const std::string_view token = input.substr(0, split);
    const std::string_view jwks =
        split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
    const std::optional<boost::json::object> claims = crypto::VerifyJwsWithJwks(token, jwks);
    if (claims) {
        CheckAccepted(token, jwks, *claims);
    }
    return 0;
}

// RS256 and ES256 signing of compact JWS tokens with a PEM key.
#include "crypto/jws.hpp"

#include <stdexcept>
#include <vector>

#include "core/json.hpp"
#include "crypto/base64.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

using detail::Bytes;
using detail::ThrowOpenSsl;

namespace {

std::string DigestSign(EVP_PKEY* key, std::string_view input) {
    const detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        ThrowOpenSsl("cannot start JWS signing");
    }
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(input), input.size()) != 1) {
        ThrowOpenSsl("JWS signing failed");
    }
    std::string out(size, '\0');
    if (EVP_DigestSign(
            ctx.get(),
            reinterpret_cast<unsigned char*>(out.data()),
            &size,
            Bytes(input),
            input.size()
        ) != 1) {
        ThrowOpenSsl("JWS signing failed");
    }
    out.resize(size);
    return out;
}

}  // namespace

std::string SignJws(
    std::string_view private_key_pem, boost::json::object header, const boost::json::object& claims
) {
    const detail::PkeyPtr key = detail::ParsePrivateKey(private_key_pem);
    const bool rsa = key && EVP_PKEY_is_a(key.get(), "RSA") == 1;
    const bool ec = key && detail::IsP256(key.get());
    if (!rsa && !ec) {
        throw std::invalid_argument("the key is not an unencrypted RSA or P-256 private key");
    }
    header["alg"] = rsa ? "RS256" : "ES256";
    std::string token = Base64UrlEncode(boost::json::serialize(header)) + "." +
                        Base64UrlEncode(boost::json::serialize(claims));
    const std::string signature = DigestSign(key.get(), token);
    token += "." + Base64UrlEncode(rsa ? signature : detail::EcdsaDerToRaw(signature));
    return token;
}

std::optional<boost::json::object> DecodeJwsObject(std::string_view segment) {
    constexpr std::size_t kMaxDepth = 16;  // headers and claims are flat in practice
    const std::optional<std::string> json = Base64UrlDecode(segment);
    if (!json) {
        return std::nullopt;
    }
    std::optional<boost::json::value> value = core::ParseUntrustedJson(*json, kMaxDepth);
    if (!value || !value->is_object()) {
        return std::nullopt;
    }
    return std::move(value->get_object());
}

std::optional<JwsParts> ReadJws(std::string_view token, std::size_t max_bytes) {
    if (token.size() > max_bytes || token.find('=') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t first_dot = token.find('.');
    if (first_dot == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t second_dot = token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<boost::json::object> header = DecodeJwsObject(token.substr(0, first_dot));
    std::optional<std::string> signature = Base64UrlDecode(token.substr(second_dot + 1));
    if (!header || header->contains("crit") || !signature) {
        return std::nullopt;
    }
    return JwsParts{
        std::move(*header),
        token.substr(0, second_dot),
        token.substr(first_dot + 1, second_dot - first_dot - 1),
        std::move(*signature)};
}

}  // namespace rainmaker::crypto

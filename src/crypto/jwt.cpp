// ES256 tokens with OpenSSL 3's EVP interface, and the claim writer that keeps every payload
// readable by clients that decode it as standard base64.
#include "crypto/jwt.hpp"

#include <array>
#include <cmath>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "core/log.hpp"
#include "core/utf8.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

constexpr int kCoordinateBytes = 32;  // P-256 field elements
constexpr std::size_t kKeyIdHashBytes = 12;

using detail::BignumPtr;
using detail::Bytes;
using detail::IsP256;
using detail::kMaxPemBytes;
using detail::MdCtxPtr;
using detail::ParsePrivateKey;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;
using detail::PrivateKeyToPem;
using detail::ReadSmallFile;
using detail::SecretText;
using detail::ThrowOpenSsl;
using detail::WriteFileIfAbsent;

constexpr const char* kKeyNoun = "JWT key";

std::string_view View(const boost::json::string& s) {
    return {s.data(), s.size()};
}

// ---- Claim writer -------------------------------------------------------------------------
//
// A base64url digit is '-' or '_' when a 6-bit group is 62 or 63 (0b11111x). For ASCII bytes
// (< 0x80) the first three groups of a 3-byte block can never reach 62, and the fourth is the
// low six bits of the block's last byte, which are 0b11111x only for '>', '?', '~' and DEL.
// So JSON made only of ASCII without those four bytes always encodes cleanly, whatever the
// alignment. JSON syntax never needs them; inside strings we write them, and every non-ASCII
// character, as \u escapes. The claims are unchanged for any JSON parser, the result is
// deterministic (one attempt, no filler claim), and the SDK's atob + JSON.parse also gets
// non-ASCII names right. A filler claim alone could not do this: it only shifts the alignment
// of what follows it, so an email such as "~~~@example.com" defeats every filler length.

bool EncodesToUrlOnlyDigit(char32_t c) {
    return c == '>' || c == '?' || c == '~' || c == 0x7F;
}

void AppendUnicodeEscape(std::string& out, std::uint32_t unit) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) {
        out.push_back(kHex[(unit >> shift) & 0xF]);
    }
}

void AppendString(std::string& out, std::string_view s) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const std::optional<char32_t> c = core::NextCodePoint(s, i);
        if (!c) {
            throw std::invalid_argument("JWT claim is not valid UTF-8");
        }
        switch (*c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (*c >= 0x20 && *c < 0x80 && !EncodesToUrlOnlyDigit(*c)) {
                    out.push_back(static_cast<char>(*c));
                } else if (*c < 0x10000) {  // control, '>', '?', '~', DEL, rest of the BMP
                    AppendUnicodeEscape(out, *c);
                } else {  // outside the BMP: a UTF-16 surrogate pair, as JSON requires
                    const std::uint32_t v = *c - 0x10000;
                    AppendUnicodeEscape(out, 0xD800 + (v >> 10));
                    AppendUnicodeEscape(out, 0xDC00 + (v & 0x3FF));
                }
        }
    }
    out.push_back('"');
}

void AppendValue(std::string& out, const boost::json::value& value);

void AppendObject(std::string& out, const boost::json::object& object) {
    out.push_back('{');
    bool first = true;
    for (const auto& member : object) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        AppendString(out, {member.key().data(), member.key().size()});
        out.push_back(':');
        AppendValue(out, member.value());
    }
    out.push_back('}');
}

void AppendValue(std::string& out, const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            out += "null";
            break;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::double_:
            // Boost.JSON writes infinity as `Infinity` (and NaN as null): not a JSON number.
            if (!std::isfinite(value.get_double())) {
                throw std::invalid_argument("JWT claim is not a finite number");
            }
            out += boost::json::serialize(value);  // digits, sign, '.', 'e': all safe
            break;
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            out += boost::json::serialize(value);
            break;
        case boost::json::kind::string:
            AppendString(out, View(value.get_string()));
            break;
        case boost::json::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& element : value.get_array()) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                AppendValue(out, element);
            }
            out.push_back(']');
            break;
        }
        case boost::json::kind::object:
            AppendObject(out, value.get_object());
            break;
    }
}

// ---- Keys ----------------------------------------------------------------------------------

PkeyPtr GenerateP256Key() {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
        ThrowOpenSsl("cannot set up P-256 key generation");
    }
    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_generate(ctx.get(), &key) != 1) {
        ThrowOpenSsl("cannot generate a P-256 key");
    }
    return PkeyPtr(key);
}

PkeyPtr ParsePrivateKeyPem(const std::string& pem, const std::filesystem::path& path) {
    if (pem.size() > kMaxPemBytes) {
        throw std::runtime_error("JWT key file is too large: " + path.string());
    }
    PkeyPtr key = ParsePrivateKey(pem);
    if (!key) {
        ThrowOpenSsl("JWT key file holds no unencrypted PEM private key: " + path.string());
    }
    if (!IsP256(key.get())) {
        throw std::runtime_error("JWT key is not an EC P-256 key: " + path.string());
    }
    return key;
}

// Writes `pem` to `path` with mode 0600 unless the file already exists; false when it does (a
// replaced key would stop every token signed with it from verifying).
bool WriteKeyFileIfAbsent(const std::filesystem::path& path, const std::string& pem) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            throw std::runtime_error(
                "cannot create directory " + path.parent_path().string() + ": " + ec.message()
            );
        }
    }
    return WriteFileIfAbsent(path, pem, 0600, kKeyNoun);
}

std::string PublicKeyDer(EVP_PKEY* key) {
    const int size = i2d_PUBKEY(key, nullptr);
    if (size <= 0) {
        ThrowOpenSsl("cannot encode the JWT public key");
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* cursor = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_PUBKEY(key, &cursor) != size) {
        ThrowOpenSsl("cannot encode the JWT public key");
    }
    return der;
}

std::string Coordinate(const EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        ThrowOpenSsl("cannot read the JWT public key");
    }
    const BignumPtr value(raw);
    std::array<unsigned char, kCoordinateBytes> bytes{};
    if (BN_bn2binpad(value.get(), bytes.data(), static_cast<int>(bytes.size())) !=
        static_cast<int>(bytes.size())) {
        ThrowOpenSsl("cannot read the JWT public key");
    }
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// ---- Signatures ----------------------------------------------------------------------------
//
// OpenSSL produces and checks DER ECDSA-Sig-Value; JWS carries the two 32-byte integers
// concatenated instead.

std::string SignEs256(EVP_PKEY* key, std::string_view input) {
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        ThrowOpenSsl("cannot start ES256 signing");
    }
    std::vector<unsigned char> der(static_cast<std::size_t>(EVP_PKEY_get_size(key)));
    std::size_t der_size = der.size();
    if (EVP_DigestSign(ctx.get(), der.data(), &der_size, Bytes(input), input.size()) != 1) {
        ThrowOpenSsl("ES256 signing failed");
    }
    return detail::EcdsaDerToRaw({reinterpret_cast<const char*>(der.data()), der_size});
}

bool VerifyEs256(EVP_PKEY* key, std::string_view input, std::string_view raw) {
    const std::string der = detail::EcdsaRawToDer(raw);
    if (der.empty()) {
        return false;
    }
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), Bytes(der), der.size(), Bytes(input), input.size()) == 1;
}

// ---- Parsing -------------------------------------------------------------------------------

bool HasString(const boost::json::object& object, std::string_view key, std::string_view want) {
    const boost::json::value* value = object.if_contains(key);
    return value != nullptr && value->is_string() && View(value->get_string()) == want;
}

std::optional<boost::json::object> VerifyToken(
    EVP_PKEY* key, const std::string& kid, std::string_view token
) {
    const std::optional<JwsParts> jws = ReadJws(token, JwtSigner::kMaxTokenBytes);
    if (!jws || !HasString(jws->header, "alg", "ES256") || !HasString(jws->header, "kid", kid) ||
        (jws->header.contains("typ") && !HasString(jws->header, "typ", "JWT")) ||
        !VerifyEs256(key, jws->signing_input, jws->signature)) {
        return std::nullopt;
    }
    return DecodeJwsObject(jws->payload);
}

}  // namespace

struct JwtSigner::Key {
    PkeyPtr pkey;
};

std::unique_ptr<JwtSigner> JwtSigner::LoadOrCreate(const std::filesystem::path& pem_file) {
    SecretText pem;
    if (!ReadSmallFile(pem_file, pem.value, kKeyNoun, true)) {
        PkeyPtr generated = GenerateP256Key();
        pem.value = PrivateKeyToPem(generated.get(), "cannot encode the JWT key as PEM");
        if (WriteKeyFileIfAbsent(pem_file, pem.value)) {
            core::log::Info("generated a new JWT signing key in " + pem_file.string());
            return std::unique_ptr<JwtSigner>(
                new JwtSigner(std::make_unique<Key>(Key{std::move(generated)}))
            );
        }
        // Another process created the key between our read and our write: use theirs.
        pem.Clear();
        if (!ReadSmallFile(pem_file, pem.value, kKeyNoun, true)) {
            throw std::runtime_error("JWT key disappeared: " + pem_file.string());
        }
    }
    return std::unique_ptr<JwtSigner>(
        new JwtSigner(std::make_unique<Key>(Key{ParsePrivateKeyPem(pem.value, pem_file)}))
    );
}

JwtSigner::JwtSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {
    EVP_PKEY* pkey = key_->pkey.get();
    kid_ = Base64UrlEncode(Sha256(PublicKeyDer(pkey)).substr(0, kKeyIdHashBytes));

    std::string header;
    AppendObject(header, {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}});
    header_segment_ = Base64UrlEncode(header);

    const boost::json::object jwk{
        {"kty", "EC"},
        {"crv", "P-256"},
        {"x", Base64UrlEncode(Coordinate(pkey, OSSL_PKEY_PARAM_EC_PUB_X))},
        {"y", Base64UrlEncode(Coordinate(pkey, OSSL_PKEY_PARAM_EC_PUB_Y))},
        {"kid", kid_},
        {"use", "sig"},
        {"alg", "ES256"}};
    jwks_ = boost::json::serialize(boost::json::object{{"keys", boost::json::array{jwk}}});
}

JwtSigner::~JwtSigner() = default;

std::string JwtSigner::Sign(const boost::json::object& claims) const {
    std::string payload;
    AppendObject(payload, claims);
    const std::string payload_segment = Base64UrlEncode(payload);
    if (payload_segment.find_first_of("-_") != std::string::npos) {
        throw std::logic_error("JWT payload segment contains '-' or '_'");  // see AppendString
    }
    std::string token = header_segment_;
    token.push_back('.');
    token += payload_segment;
    const std::string signature = SignEs256(key_->pkey.get(), token);
    token.push_back('.');
    token += Base64UrlEncode(signature);
    if (token.size() > kMaxTokenBytes) {
        throw std::invalid_argument("JWT claims too large");  // Verify() would refuse the token
    }
    return token;
}

std::optional<boost::json::object> JwtSigner::Verify(std::string_view token) const {
    try {
        std::optional<boost::json::object> claims = VerifyToken(key_->pkey.get(), kid_, token);
        ERR_clear_error();  // a failed check leaves entries in this thread's OpenSSL error queue
        return claims;
    } catch (...) {
        ERR_clear_error();
        return std::nullopt;
    }
}

std::string JwtSigner::Jwks() const {
    return jwks_;
}

}  // namespace rainmaker::crypto

// RS256 and ES256 verification against a JWKS: public keys built from their JWK members with
// OpenSSL 3's EVP_PKEY_fromdata, signatures checked with EVP_DigestVerify.
#include "crypto/jwks.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string>

#include "core/json.hpp"
#include "crypto/base64.hpp"
#include "crypto/jws.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

using detail::BignumPtr;
using detail::Bytes;
using detail::OpenSslDeleter;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;

// Headers, claims and key sets are flat in practice (a JWKS is 3 deep, x5c 4).
constexpr std::size_t kMaxJsonDepth = 16;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
// Public exponents are 65537 in practice; a bound keeps the public operation cheap (OpenSSL
// itself refuses more than 64 bits above 3072-bit moduli).
constexpr int kMaxRsaExponentBits = 64;
constexpr std::size_t kCoordinateBytes = 32;  // P-256 field elements

enum class Alg { kRs256, kEs256 };

std::string_view View(const boost::json::string& s) {
    return {s.data(), s.size()};
}

// The string member `key` of `object`; null when absent or not a string.
const boost::json::string* StringMember(const boost::json::object& object, std::string_view key) {
    const boost::json::value* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? &value->get_string() : nullptr;
}

// The bytes of the base64url string member `key` of `jwk`, or nullopt.
std::optional<std::string> DecodeMember(const boost::json::object& jwk, std::string_view key) {
    const boost::json::string* text = StringMember(jwk, key);
    if (text == nullptr) {
        return std::nullopt;
    }
    return Base64UrlDecode(View(*text));
}

// A public key of `type` ("RSA", "EC") from the parameters in `bld`, or null.
PkeyPtr FromData(const char* type, OSSL_PARAM_BLD* bld) {
    const ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
    const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return PkeyPtr(key);
}

// The RSA key of a JWK's n and e: an odd modulus of kMinRsaBits..kMaxRsaBits, an odd exponent
// of 3 up to kMaxRsaExponentBits bits; null otherwise.
PkeyPtr RsaKey(const boost::json::object& jwk) {
    const std::optional<std::string> n_bytes = DecodeMember(jwk, "n");
    const std::optional<std::string> e_bytes = DecodeMember(jwk, "e");
    if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty()) {
        return nullptr;
    }
    const BignumPtr n(BN_bin2bn(Bytes(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
    const BignumPtr e(BN_bin2bn(Bytes(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
    if (!n || !e || BN_num_bits(n.get()) < kMinRsaBits || BN_num_bits(n.get()) > kMaxRsaBits ||
        BN_is_odd(n.get()) != 1 || BN_num_bits(e.get()) > kMaxRsaExponentBits ||
        BN_is_odd(e.get()) != 1 || BN_is_one(e.get()) == 1) {
        return nullptr;
    }
    const ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return nullptr;
    }
    return FromData("RSA", bld.get());
}

// The P-256 key of a JWK's x and y (exactly 32 bytes each), or null; OpenSSL refuses a point
// off the curve.
PkeyPtr P256Key(const boost::json::object& jwk) {
    const boost::json::string* crv = StringMember(jwk, "crv");
    if (crv == nullptr || View(*crv) != "P-256") {
        return nullptr;
    }
    const std::optional<std::string> x = DecodeMember(jwk, "x");
    const std::optional<std::string> y = DecodeMember(jwk, "y");
    if (!x || !y || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
        return nullptr;
    }
    std::array<unsigned char, 1 + 2 * kCoordinateBytes> point{};
    point[0] = 0x04;  // uncompressed (SEC 1 §2.3.3)
    std::copy(x->begin(), x->end(), point.begin() + 1);
    std::copy(y->begin(), y->end(), point.begin() + 1 + kCoordinateBytes);
    static constexpr char kGroup[] = "prime256v1";
    const ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(
            bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()
        ) != 1) {
        return nullptr;
    }
    return FromData("EC", bld.get());
}

// Whether `jwk` may verify a token of `alg` whose header names `kid` (null: no kid): the key
// type fits, kid equal when given, "use" absent or "sig", "alg" absent or the token's.
bool Counts(const boost::json::object& jwk, Alg alg, const boost::json::string* kid) {
    const boost::json::string* kty = StringMember(jwk, "kty");
    if (kty == nullptr || View(*kty) != (alg == Alg::kRs256 ? "RSA" : "EC")) {
        return false;
    }
    if (kid != nullptr) {
        const boost::json::string* key_id = StringMember(jwk, "kid");
        if (key_id == nullptr || *key_id != *kid) {
            return false;
        }
    }
    if (jwk.contains("use")) {
        const boost::json::string* use = StringMember(jwk, "use");
        if (use == nullptr || View(*use) != "sig") {
            return false;
        }
    }
    if (jwk.contains("alg")) {
        const boost::json::string* key_alg = StringMember(jwk, "alg");
        if (key_alg == nullptr || View(*key_alg) != (alg == Alg::kRs256 ? "RS256" : "ES256")) {
            return false;
        }
    }
    return true;
}

// Whether `signature` (RS256: as long as the modulus; ES256: raw r‖s) signs `input` under `key`.
bool SignatureVerifies(Alg alg, EVP_PKEY* key, std::string_view input, std::string_view signature) {
    std::string der;
    if (alg == Alg::kRs256) {
        if (EVP_PKEY_get_size(key) <= 0 ||
            signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) {
            return false;
        }
    } else {
        der = detail::EcdsaRawToDer(signature);
        if (der.empty()) {
            return false;
        }
        signature = der;
    }
    const detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(
               ctx.get(), Bytes(signature), signature.size(), Bytes(input), input.size()
           ) == 1;
}

std::optional<boost::json::object> Verify(std::string_view token, std::string_view jwks) {
    if (jwks.size() > kMaxJwksBytes) {
        return std::nullopt;
    }
    const std::optional<JwsParts> jws = ReadJws(token, kMaxJwksTokenBytes);
    if (!jws) {
        return std::nullopt;
    }
    const boost::json::object& header = jws->header;
    const boost::json::string* alg_name = StringMember(header, "alg");
    if (alg_name == nullptr || (View(*alg_name) != "RS256" && View(*alg_name) != "ES256")) {
        return std::nullopt;
    }
    const Alg alg = View(*alg_name) == "RS256" ? Alg::kRs256 : Alg::kEs256;
    const boost::json::string* kid = StringMember(header, "kid");
    if (kid == nullptr && header.contains("kid")) {
        return std::nullopt;
    }

    const std::optional<boost::json::value> set = core::ParseUntrustedJson(jwks, kMaxJsonDepth);
    const boost::json::value* keys =
        set && set->is_object() ? set->get_object().if_contains("keys") : nullptr;
    if (keys == nullptr || !keys->is_array()) {
        return std::nullopt;
    }
    for (const boost::json::value& jwk : keys->get_array()) {
        if (!jwk.is_object() || !Counts(jwk.get_object(), alg, kid)) {
            continue;
        }
        const PkeyPtr key =
            alg == Alg::kRs256 ? RsaKey(jwk.get_object()) : P256Key(jwk.get_object());
        if (key && SignatureVerifies(alg, key.get(), jws->signing_input, jws->signature)) {
            return DecodeJwsObject(jws->payload);
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<boost::json::object> VerifyJwsWithJwks(
    std::string_view token, std::string_view jwks
) {
    try {
        std::optional<boost::json::object> claims = Verify(token, jwks);
        ERR_clear_error();  // a failed check leaves entries in this thread's OpenSSL error queue
        return claims;
    } catch (...) {
        ERR_clear_error();
        return std::nullopt;
    }
}

}  // namespace rainmaker::crypto

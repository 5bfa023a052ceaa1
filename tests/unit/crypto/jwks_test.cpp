// Checks RS256/ES256 verification against a JWKS built here from OpenSSL keys: what verifies,
// every way a token or key set is refused, the size limits, and garbage that must not crash.
#include "crypto/jwks.hpp"

#include <array>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "crypto/openssl_support.hpp"
#include "crypto/pki.hpp"

namespace rainmaker::crypto {
namespace {

namespace json = boost::json;

// A private key as SignJws takes it and as OpenSSL holds it.
struct TestKey {
    std::string pem;
    detail::PkeyPtr pkey;
};

TestKey FromPem(std::string pem) {
    detail::PkeyPtr pkey = detail::ParsePrivateKey(pem);
    EXPECT_TRUE(pkey);
    return {std::move(pem), std::move(pkey)};
}

TestKey MakeKey(KeyType type) {
    return FromPem(MakeKeyAndCsr("jwks-test", type).key_pem);
}

TestKey MakeRsaKey(unsigned bits) {
    detail::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{bits}));
    EXPECT_TRUE(key);
    return FromPem(detail::PrivateKeyToPem(key.get(), "cannot write the test key"));
}

// The keys every test uses, made once (RSA generation is slow under ASan).
struct Keys {
    TestKey rsa = MakeKey(KeyType::kRsa2048);
    TestKey rsa_other = MakeKey(KeyType::kRsa2048);
    TestKey ec = MakeKey(KeyType::kEcP256);
    TestKey ec_other = MakeKey(KeyType::kEcP256);
    TestKey rsa_1024 = MakeRsaKey(1024);
};

const Keys& K() {
    static const Keys keys;
    return keys;
}

// The big-endian bytes of a public key parameter, left-padded with zeros to `width` when given.
std::string Param(const EVP_PKEY* key, const char* name, int width = 0) {
    BIGNUM* raw = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &raw), 1);
    const detail::BignumPtr value(raw);
    const int size = width > 0 ? width : BN_num_bytes(value.get());
    std::string out(static_cast<std::size_t>(size), '\0');
    EXPECT_EQ(BN_bn2binpad(value.get(), reinterpret_cast<unsigned char*>(out.data()), size), size);
    return out;
}

json::object RsaJwk(const TestKey& key, std::string_view kid) {
    return {
        {"kty", "RSA"},
        {"kid", kid},
        {"n", Base64UrlEncode(Param(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
        {"e", Base64UrlEncode(Param(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

json::object EcJwk(const TestKey& key, std::string_view kid) {
    return {
        {"kty", "EC"},
        {"crv", "P-256"},
        {"kid", kid},
        {"x", Base64UrlEncode(Param(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
        {"y", Base64UrlEncode(Param(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
}

std::string Jwks(std::initializer_list<json::object> keys) {
    json::array array;
    for (const auto& key : keys) {
        array.emplace_back(key);
    }
    return json::serialize(json::object{{"keys", std::move(array)}});
}

const json::object kClaims{{"iss", "https://idp.test"}, {"sub", "user-1"}, {"aud", "rainmaker"}};

std::string Token(const TestKey& key, std::string_view kid, const json::object& claims = kClaims) {
    return SignJws(key.pem, {{"kid", kid}, {"typ", "JWT"}}, claims);
}

// `input` signed with `key` and `md` as JWS carries it (an EC signature as raw r‖s), computed
// here so that headers SignJws would correct (another alg) can be signed too.
std::string SignInput(const TestKey& key, const EVP_MD* md, std::string_view input) {
    const detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.pkey.get()), 1);
    std::size_t size = 0;
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size, detail::Bytes(input), input.size()), 1);
    std::string signature(size, '\0');
    EXPECT_EQ(
        EVP_DigestSign(
            ctx.get(),
            reinterpret_cast<unsigned char*>(signature.data()),
            &size,
            detail::Bytes(input),
            input.size()
        ),
        1
    );
    signature.resize(size);
    return EVP_PKEY_is_a(key.pkey.get(), "EC") == 1 ? detail::EcdsaDerToRaw(signature) : signature;
}

std::string SigningInput(const json::object& header, std::string_view payload_json) {
    return Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(payload_json);
}

std::string CustomToken(
    const TestKey& key,
    const EVP_MD* md,
    const json::object& header,
    std::string_view payload_json = json::serialize(kClaims)
) {
    const std::string input = SigningInput(header, payload_json);
    return input + "." + Base64UrlEncode(SignInput(key, md, input));
}

struct Parts {
    std::string header;
    std::string payload;
    std::string signature;
};

Parts Split(const std::string& token) {
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    return {
        token.substr(0, first),
        token.substr(first + 1, second - first - 1),
        token.substr(second + 1)};
}

std::string Join(const Parts& p) {
    return p.header + "." + p.payload + "." + p.signature;
}

std::string Signature(const std::string& token) {
    return *Base64UrlDecode(Split(token).signature);
}

std::string WithSignature(const std::string& token, std::string_view signature) {
    Parts parts = Split(token);
    parts.signature = Base64UrlEncode(signature);
    return Join(parts);
}

bool Verifies(const std::string& token, const std::string& jwks) {
    return VerifyJwsWithJwks(token, jwks).has_value();
}

// ---- What verifies ------------------------------------------------------------------------

TEST(JwksVerify, Rs256AndEs256TokensVerifyToTheirClaims) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    const auto rs = VerifyJwsWithJwks(Token(K().rsa, "r1"), jwks);
    ASSERT_TRUE(rs);
    EXPECT_EQ(*rs, kClaims);
    const auto es = VerifyJwsWithJwks(Token(K().ec, "e1"), jwks);
    ASSERT_TRUE(es);
    EXPECT_EQ(*es, kClaims);

    // "use":"sig" and the matching "alg" are fine, as are members we do not read.
    json::object rsa = RsaJwk(K().rsa, "r1");
    rsa["use"] = "sig";
    rsa["alg"] = "RS256";
    rsa["x5t"] = "whatever";
    json::object ec = EcJwk(K().ec, "e1");
    ec["use"] = "sig";
    ec["alg"] = "ES256";
    ec["key_ops"] = json::array{"verify"};
    const std::string detailed = Jwks({rsa, ec});
    EXPECT_TRUE(Verifies(Token(K().rsa, "r1"), detailed));
    EXPECT_TRUE(Verifies(Token(K().ec, "e1"), detailed));

    // The helper that signs arbitrary headers makes tokens that verify when the header is fine,
    // so the refusals below come from the header, not from the helper.
    EXPECT_TRUE(
        Verifies(CustomToken(K().rsa, EVP_sha256(), {{"alg", "RS256"}, {"kid", "r1"}}), jwks)
    );
    EXPECT_TRUE(Verifies(CustomToken(K().ec, EVP_sha256(), {{"alg", "ES256"}, {"kid", "e1"}}), jwks)
    );
}

TEST(JwksVerify, ModulusWithALeadingZeroOctetIsRead) {
    // RFC 7518 §6.3.1.1 forbids it, but some libraries write one; the value is the same.
    json::object jwk = RsaJwk(K().rsa, "r1");
    jwk["n"] =
        Base64UrlEncode(std::string(1, '\0') + Param(K().rsa.pkey.get(), OSSL_PKEY_PARAM_RSA_N));
    EXPECT_TRUE(Verifies(Token(K().rsa, "r1"), Jwks({jwk})));
}

// ---- Keys that do not verify the token ------------------------------------------------------

TEST(JwksVerify, RefusesAnotherKeyOrAnotherKid) {
    // The kid names a key, but not the one that signed.
    EXPECT_FALSE(Verifies(Token(K().rsa_other, "r1"), Jwks({RsaJwk(K().rsa, "r1")})));
    EXPECT_FALSE(Verifies(Token(K().ec_other, "e1"), Jwks({EcJwk(K().ec, "e1")})));
    // The right key, under another kid.
    EXPECT_FALSE(Verifies(Token(K().rsa, "r2"), Jwks({RsaJwk(K().rsa, "r1")})));
    EXPECT_FALSE(Verifies(Token(K().ec, "e2"), Jwks({EcJwk(K().ec, "e1")})));
    // A kid is compared exactly.
    EXPECT_FALSE(Verifies(Token(K().rsa, "R1"), Jwks({RsaJwk(K().rsa, "r1")})));
    EXPECT_FALSE(Verifies(Token(K().rsa, "r1 "), Jwks({RsaJwk(K().rsa, "r1")})));
    // A token with a kid does not match a key without one.
    json::object no_kid = RsaJwk(K().rsa, "r1");
    no_kid.erase("kid");
    EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), Jwks({no_kid})));
    // The signer's key under the kid of another type does not count either.
    EXPECT_FALSE(Verifies(Token(K().rsa, "k"), Jwks({EcJwk(K().ec, "k")})));
}

TEST(JwksVerify, RefusesAnAlgThatDoesNotMatchTheKey) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    // RS256 header over an EC signature, with the EC key's kid; and the reverse.
    EXPECT_FALSE(
        Verifies(CustomToken(K().ec, EVP_sha256(), {{"alg", "RS256"}, {"kid", "e1"}}), jwks)
    );
    EXPECT_FALSE(
        Verifies(CustomToken(K().rsa, EVP_sha256(), {{"alg", "ES256"}, {"kid", "r1"}}), jwks)
    );
    // A key whose "alg" is given and differs, or is not a string.
    for (const json::value& alg : {json::value("RS384"), json::value("ES256"), json::value(1)}) {
        json::object rsa = RsaJwk(K().rsa, "r1");
        rsa["alg"] = alg;
        EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), Jwks({rsa}))) << json::serialize(alg);
    }
    json::object ec = EcJwk(K().ec, "e1");
    ec["alg"] = "RS256";
    EXPECT_FALSE(Verifies(Token(K().ec, "e1"), Jwks({ec})));
    // An EC key on another curve name, with the right coordinates.
    ec = EcJwk(K().ec, "e1");
    ec["crv"] = "P-384";
    EXPECT_FALSE(Verifies(Token(K().ec, "e1"), Jwks({ec})));
}

TEST(JwksVerify, RefusesEveryAlgButRs256AndEs256) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    const std::string claims = json::serialize(kClaims);
    // "none", with no signature and with a valid RSA signature of the same input.
    const json::object none{{"alg", "none"}, {"kid", "r1"}};
    EXPECT_FALSE(Verifies(SigningInput(none, claims) + ".", jwks));
    EXPECT_FALSE(Verifies(CustomToken(K().rsa, EVP_sha256(), none), jwks));
    EXPECT_FALSE(Verifies(SigningInput({{"alg", "none"}}, claims) + ".", jwks));
    // HS256 keyed with the public key's bytes (the classic confusion) and with the JWKS text.
    const json::object hs{{"alg", "HS256"}, {"kid", "r1"}};
    const std::string input = SigningInput(hs, claims);
    for (const std::string& secret :
         {Param(K().rsa.pkey.get(), OSSL_PKEY_PARAM_RSA_N), jwks, std::string()}) {
        EXPECT_FALSE(Verifies(input + "." + Base64UrlEncode(HmacSha256(secret, input)), jwks));
    }
    // Other RSA and EC algorithms, correctly signed with their own digest.
    EXPECT_FALSE(
        Verifies(CustomToken(K().rsa, EVP_sha384(), {{"alg", "RS384"}, {"kid", "r1"}}), jwks)
    );
    EXPECT_FALSE(
        Verifies(CustomToken(K().rsa, EVP_sha512(), {{"alg", "RS512"}, {"kid", "r1"}}), jwks)
    );
    EXPECT_FALSE(
        Verifies(CustomToken(K().ec, EVP_sha384(), {{"alg", "ES384"}, {"kid", "e1"}}), jwks)
    );
    // The right signature under a header whose alg is spelled otherwise, absent or no string.
    for (const json::value& alg :
         {json::value("rs256"), json::value("RS256 "), json::value(nullptr), json::value(256)}) {
        EXPECT_FALSE(
            Verifies(CustomToken(K().rsa, EVP_sha256(), {{"alg", alg}, {"kid", "r1"}}), jwks)
        ) << json::serialize(alg);
    }
    EXPECT_FALSE(Verifies(CustomToken(K().rsa, EVP_sha256(), {{"kid", "r1"}}), jwks));
}

// ---- Tokens changed after signing ---------------------------------------------------------

TEST(JwksVerify, RefusesTamperedClaimsHeaderAndSignature) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    for (const TestKey* key : {&K().rsa, &K().ec}) {
        const std::string kid = key == &K().rsa ? "r1" : "e1";
        const std::string token = Token(*key, kid);
        ASSERT_TRUE(Verifies(token, jwks));

        Parts parts = Split(token);
        json::object claims = kClaims;
        claims["sub"] = "admin";
        parts.payload = Base64UrlEncode(json::serialize(claims));
        EXPECT_FALSE(Verifies(Join(parts), jwks));
        // The claims of another valid token under this token's header and signature.
        parts.payload = Split(Token(*key, kid, claims)).payload;
        EXPECT_FALSE(Verifies(Join(parts), jwks));

        std::string signature = Signature(token);
        signature[signature.size() / 2] ^= 0x01;
        EXPECT_FALSE(Verifies(WithSignature(token, signature), jwks));
        signature = Signature(token);
        signature.back() ^= 0x80;
        EXPECT_FALSE(Verifies(WithSignature(token, signature), jwks));

        // Any one character of the token replaced.
        for (std::size_t i = 0; i < token.size(); ++i) {
            std::string changed = token;
            changed[i] = changed[i] == 'A' ? 'B' : 'A';
            EXPECT_FALSE(Verifies(changed, jwks)) << "position " << i;
        }
    }
}

TEST(JwksVerify, RefusesSignaturesOfTheWrongLength) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    for (const TestKey* key : {&K().rsa, &K().ec}) {
        const std::string token = Token(*key, key == &K().rsa ? "r1" : "e1");
        const std::string signature = Signature(token);
        ASSERT_EQ(signature.size(), key == &K().rsa ? 256u : 64u);
        EXPECT_FALSE(Verifies(WithSignature(token, signature.substr(0, signature.size() - 1)), jwks)
        );
        EXPECT_FALSE(Verifies(WithSignature(token, signature + std::string(1, '\0')), jwks));
        // The same number with a zero octet in front.
        EXPECT_FALSE(Verifies(WithSignature(token, std::string(1, '\0') + signature), jwks));
        EXPECT_FALSE(Verifies(WithSignature(token, signature + signature), jwks));
        EXPECT_FALSE(Verifies(WithSignature(token, ""), jwks));
        EXPECT_FALSE(Verifies(WithSignature(token, std::string(1000, '\xff')), jwks));
    }
    // ES256 as DER (what OpenSSL makes) instead of r‖s.
    const std::string token = Token(K().ec, "e1");
    const std::string der = detail::EcdsaRawToDer(Signature(token));
    ASSERT_FALSE(der.empty());
    EXPECT_FALSE(Verifies(WithSignature(token, der), jwks));
}

TEST(JwksVerify, RefusesMalformedTokens) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1")});
    const std::string token = Token(K().rsa, "r1");
    ASSERT_TRUE(Verifies(token, jwks));
    EXPECT_FALSE(Verifies(token + ".", jwks));
    EXPECT_FALSE(Verifies(token + "." + Split(token).signature, jwks));
    EXPECT_FALSE(Verifies(Split(token).header + "." + Split(token).payload, jwks));
    EXPECT_FALSE(Verifies(token + "=", jwks));
    EXPECT_FALSE(Verifies(" " + token, jwks));
    EXPECT_FALSE(Verifies(token + "\n", jwks));
    EXPECT_FALSE(Verifies("", jwks));
    EXPECT_FALSE(Verifies("..", jwks));
    // Standard base64 digits instead of base64url.
    std::string standard = token;
    for (char& c : standard) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (standard != token) {
        EXPECT_FALSE(Verifies(standard, jwks));
    }

    // Validly signed, but with a header or claims we do not take.
    EXPECT_FALSE(
        Verifies(SignJws(K().rsa.pem, {{"kid", "r1"}, {"crit", json::array{"exp"}}}, kClaims), jwks)
    );
    EXPECT_FALSE(Verifies(SignJws(K().rsa.pem, {{"kid", 1}}, kClaims), jwks));
    EXPECT_FALSE(Verifies(SignJws(K().rsa.pem, {{"kid", json::array{"r1"}}}, kClaims), jwks));
    const json::object header{{"alg", "RS256"}, {"kid", "r1"}};
    for (const std::string_view payload : {"[1]", "\"x\"", "null", "{", "", "{\"a\":1e400}"}) {
        EXPECT_FALSE(Verifies(CustomToken(K().rsa, EVP_sha256(), header, payload), jwks))
            << payload;
    }
    EXPECT_TRUE(Verifies(CustomToken(K().rsa, EVP_sha256(), header, "{}"), jwks));
}

// ---- Tokens without kid --------------------------------------------------------------------

TEST(JwksVerify, TokenWithoutKidIsTriedAgainstEveryKeyOfItsType) {
    const std::string jwks = Jwks(
        {RsaJwk(K().rsa_other, "a"),
         EcJwk(K().ec_other, "b"),
         EcJwk(K().ec, "c"),
         RsaJwk(K().rsa, "d")}
    );
    const auto rs = VerifyJwsWithJwks(SignJws(K().rsa.pem, {}, kClaims), jwks);
    ASSERT_TRUE(rs);
    EXPECT_EQ(*rs, kClaims);
    EXPECT_TRUE(Verifies(SignJws(K().ec.pem, {}, kClaims), jwks));
    // Keys without a kid of their own count too.
    json::object no_kid = RsaJwk(K().rsa, "");
    no_kid.erase("kid");
    EXPECT_TRUE(Verifies(SignJws(K().rsa.pem, {}, kClaims), Jwks({no_kid})));

    // No key of the set signed it.
    const std::string others = Jwks({RsaJwk(K().rsa_other, "a"), EcJwk(K().ec_other, "b")});
    EXPECT_FALSE(Verifies(SignJws(K().rsa.pem, {}, kClaims), others));
    EXPECT_FALSE(Verifies(SignJws(K().ec.pem, {}, kClaims), others));
    // The signer's key is there, but only for encryption.
    json::object enc = RsaJwk(K().rsa, "d");
    enc["use"] = "enc";
    EXPECT_FALSE(
        Verifies(SignJws(K().rsa.pem, {}, kClaims), Jwks({RsaJwk(K().rsa_other, "a"), enc}))
    );
}

// ---- Keys that do not count ----------------------------------------------------------------

TEST(JwksVerify, RefusesKeysNotForSignatures) {
    for (const json::value& use : {json::value("enc"), json::value("SIG"), json::value(true)}) {
        json::object rsa = RsaJwk(K().rsa, "r1");
        rsa["use"] = use;
        json::object ec = EcJwk(K().ec, "e1");
        ec["use"] = use;
        const std::string jwks = Jwks({rsa, ec});
        EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), jwks)) << json::serialize(use);
        EXPECT_FALSE(Verifies(Token(K().ec, "e1"), jwks)) << json::serialize(use);
    }
    // The same key listed twice, once as "enc" and once as "sig": the second counts.
    json::object enc = RsaJwk(K().rsa, "r1");
    enc["use"] = "enc";
    json::object sig = RsaJwk(K().rsa, "r1");
    sig["use"] = "sig";
    EXPECT_TRUE(Verifies(Token(K().rsa, "r1"), Jwks({enc, sig})));
}

TEST(JwksVerify, RefusesRsaModuliOutside2048To8192Bits) {
    const std::string token = Token(K().rsa_1024, "small");
    EXPECT_FALSE(Verifies(token, Jwks({RsaJwk(K().rsa_1024, "small")})));
    EXPECT_FALSE(Verifies(SignJws(K().rsa_1024.pem, {}, kClaims), Jwks({RsaJwk(K().rsa_1024, "x")}))
    );
    // The same token is a good one, had the key been allowed: its signature verifies with
    // OpenSSL directly.
    const Parts parts = Split(token);
    const std::string input = parts.header + "." + parts.payload;
    const std::string signature = Signature(token);
    const detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    ASSERT_EQ(
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, K().rsa_1024.pkey.get()), 1
    );
    EXPECT_EQ(
        EVP_DigestVerify(
            ctx.get(),
            detail::Bytes(signature),
            signature.size(),
            detail::Bytes(input),
            input.size()
        ),
        1
    );

    // An odd modulus of 8193 to 8200 bits (no signature to try: refused all the same).
    json::object jwk = RsaJwk(K().rsa, "r1");
    jwk["n"] = Base64UrlEncode(
        Param(K().rsa.pkey.get(), OSSL_PKEY_PARAM_RSA_N) + std::string(768, '\0') + "\x01"
    );
    EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), Jwks({jwk})));
}

TEST(JwksVerify, RefusesAPublicExponentOfOne) {
    // With e = 1 the padded digest itself would be a valid RSA signature: anyone could forge.
    const json::object header{{"alg", "RS256"}, {"kid", "r1"}};
    const std::string input = SigningInput(header, json::serialize(kClaims));
    // EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF.. 00, the SHA-256 DigestInfo, the digest.
    const std::string digest_info(
        "\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20", 19
    );
    const std::string tail = digest_info + Sha256(input);
    const std::string encoded = std::string("\x00\x01", 2) +
                                std::string(256 - 3 - tail.size(), '\xff') + std::string(1, '\0') +
                                tail;
    ASSERT_EQ(encoded.size(), 256u);
    const std::string forged = input + "." + Base64UrlEncode(encoded);
    json::object jwk = RsaJwk(K().rsa, "r1");
    jwk["e"] = Base64UrlEncode(std::string(1, '\x01'));
    EXPECT_FALSE(Verifies(forged, Jwks({jwk})));
    // Even exponents and exponents over 64 bits do not count either (the genuine token).
    jwk["e"] = Base64UrlEncode(std::string("\x01\x00\x00", 3));
    EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), Jwks({jwk})));
    jwk["e"] = Base64UrlEncode(std::string("\x01", 1) + std::string(8, '\0') + "\x01");
    EXPECT_FALSE(Verifies(Token(K().rsa, "r1"), Jwks({jwk})));
}

TEST(JwksVerify, RefusesEcKeysWithCoordinatesNotExactly32BytesOrOffTheCurve) {
    const std::string token = Token(K().ec, "e1");
    const std::string x = Param(K().ec.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32);
    const std::string y = Param(K().ec.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    json::object jwk = EcJwk(K().ec, "e1");
    ASSERT_TRUE(Verifies(token, Jwks({jwk})));
    // The same numbers with a zero octet in front.
    jwk["x"] = Base64UrlEncode(std::string(1, '\0') + x);
    EXPECT_FALSE(Verifies(token, Jwks({jwk})));
    jwk = EcJwk(K().ec, "e1");
    jwk["y"] = Base64UrlEncode(std::string(1, '\0') + y);
    EXPECT_FALSE(Verifies(token, Jwks({jwk})));
    jwk = EcJwk(K().ec, "e1");
    jwk["x"] = Base64UrlEncode(x.substr(1));
    EXPECT_FALSE(Verifies(token, Jwks({jwk})));
    // A point off the curve.
    std::string off = y;
    off.back() ^= 0x01;
    jwk = EcJwk(K().ec, "e1");
    jwk["y"] = Base64UrlEncode(off);
    EXPECT_FALSE(Verifies(token, Jwks({jwk})));
    // Members missing or not base64url.
    for (const char* member : {"x", "y", "crv", "kty"}) {
        jwk = EcJwk(K().ec, "e1");
        jwk.erase(member);
        EXPECT_FALSE(Verifies(token, Jwks({jwk}))) << member;
        jwk[member] = 7;
        EXPECT_FALSE(Verifies(token, Jwks({jwk}))) << member;
    }
    jwk = EcJwk(K().ec, "e1");
    jwk["x"] = std::string(jwk["x"].as_string()) + "!";
    EXPECT_FALSE(Verifies(token, Jwks({jwk})));
    // '=' padding is tolerated in key members (unlike in tokens): the key is the same.
    jwk = EcJwk(K().ec, "e1");
    jwk["x"] = std::string(jwk["x"].as_string()) + "=";
    EXPECT_TRUE(Verifies(token, Jwks({jwk})));
}

TEST(JwksVerify, RefusesKeySetsThatAreNotJwks) {
    const std::string token = Token(K().rsa, "r1");
    const std::string jwk = json::serialize(RsaJwk(K().rsa, "r1"));
    ASSERT_TRUE(Verifies(token, "{\"keys\":[" + jwk + "]}"));
    for (const std::string& jwks :
         {std::string(),
          std::string("not json"),
          "{\"keys\":[" + jwk + "]",
          "[" + jwk + "]",
          jwk,
          std::string("{}"),
          std::string("{\"keys\":[]}"),
          std::string("{\"keys\":null}"),
          "{\"keys\":{\"0\":" + jwk + "}}",
          "{\"Keys\":[" + jwk + "]}",
          "{\"keys\":[[" + jwk + "]]}",
          "{\"keys\":[" + jwk + "]}x",
          std::string("{\"keys\":[1,\"x\",null,[],{}]}"),
          "{\"keys\":[" + jwk + "],\"deep\":" + std::string(100, '[') + std::string(100, ']') +
              "}"}) {
        EXPECT_FALSE(Verifies(token, jwks)) << jwks;
    }
    // n or e missing, not a string or not base64url.
    for (const char* member : {"n", "e"}) {
        json::object key = RsaJwk(K().rsa, "r1");
        key.erase(member);
        EXPECT_FALSE(Verifies(token, Jwks({key}))) << member;
        key[member] = 65537;
        EXPECT_FALSE(Verifies(token, Jwks({key}))) << member;
        key[member] = "AQAB!";
        EXPECT_FALSE(Verifies(token, Jwks({key}))) << member;
        key[member] = "";
        EXPECT_FALSE(Verifies(token, Jwks({key}))) << member;
    }
}

// ---- Limits --------------------------------------------------------------------------------

TEST(JwksVerify, RefusesTokensOver16KiBAndKeySetsOver256KiB) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1")});
    // Claims padded until the token is just under the limit (one more byte of claims adds one
    // or two base64url digits), then just over it.
    const auto token_of = [&](std::size_t padding) {
        json::object claims = kClaims;
        claims["pad"] = std::string(padding, 'p');
        return Token(K().rsa, "r1", claims);
    };
    std::size_t padding = (kMaxJwksTokenBytes - token_of(0).size()) / 4 * 3 - 8;
    std::string under = token_of(padding);
    std::string over = under;
    while (over.size() <= kMaxJwksTokenBytes) {
        under = over;
        over = token_of(++padding);
    }
    ASSERT_LE(under.size(), kMaxJwksTokenBytes);
    ASSERT_GE(under.size(), kMaxJwksTokenBytes - 2);
    EXPECT_TRUE(Verifies(under, jwks)) << under.size();
    EXPECT_FALSE(Verifies(over, jwks)) << over.size();

    // A key set padded with whitespace (still the same JSON) to the limit, then one byte over.
    const std::string small = Token(K().rsa, "r1");
    std::string padded = jwks + std::string(kMaxJwksBytes - jwks.size(), ' ');
    EXPECT_TRUE(Verifies(small, padded));
    padded.push_back(' ');
    EXPECT_FALSE(Verifies(small, padded));
}

// ---- Garbage -------------------------------------------------------------------------------

TEST(JwksVerify, GarbageNeitherThrowsNorVerifies) {
    const std::string jwks = Jwks({RsaJwk(K().rsa, "r1"), EcJwk(K().ec, "e1")});
    const std::string rs = Token(K().rsa, "r1");
    const std::string es = Token(K().ec, "e1");
    std::mt19937 rng(20240607);
    const auto random_bytes = [&](std::size_t size) {
        std::string bytes(size, '\0');
        for (char& c : bytes) {
            c = static_cast<char>(rng() & 0xFF);
        }
        return bytes;
    };
    for (int i = 0; i < 300; ++i) {
        const std::string bytes = random_bytes(rng() % 400);
        // Raw bytes, and three base64url segments of them, as token and as key set.
        const std::string segments = Base64UrlEncode(bytes.substr(0, bytes.size() / 3)) + "." +
                                     Base64UrlEncode(bytes.substr(bytes.size() / 3)) + "." +
                                     Base64UrlEncode(bytes.substr(0, 64));
        EXPECT_FALSE(Verifies(bytes, jwks));
        EXPECT_FALSE(Verifies(segments, jwks));
        EXPECT_FALSE(Verifies(rs, bytes));
        EXPECT_FALSE(Verifies(es, bytes));
        // A valid header with random claims and signature.
        const std::string& token = i % 2 == 0 ? rs : es;
        EXPECT_FALSE(
            Verifies(Split(token).header + "." + segments.substr(segments.find('.') + 1), jwks)
        );

        // A few random bytes of a valid token or key set changed: never a crash; a changed
        // token never verifies (a changed key set may still hold the key).
        std::string token_changed = token;
        std::string jwks_changed = jwks;
        for (int j = 0; j < 1 + static_cast<int>(rng() % 4); ++j) {
            token_changed[rng() % token_changed.size()] = static_cast<char>(rng() & 0xFF);
            jwks_changed[rng() % jwks_changed.size()] = static_cast<char>(rng() & 0xFF);
        }
        if (token_changed != token) {
            EXPECT_FALSE(Verifies(token_changed, jwks)) << token_changed;
        }
        (void)VerifyJwsWithJwks(token, jwks_changed);
        // Huge numbers: n and e of random lengths up to 64 KiB.
        json::object key = RsaJwk(K().rsa, "r1");
        key["n"] = Base64UrlEncode(random_bytes(rng() % 65536));
        key["e"] = Base64UrlEncode(random_bytes(rng() % 1024));
        EXPECT_FALSE(Verifies(rs, Jwks({key})));
        key = EcJwk(K().ec, "e1");
        key["x"] = Base64UrlEncode(random_bytes(rng() % 70));
        EXPECT_FALSE(Verifies(es, Jwks({key})));
    }
}

}  // namespace
}  // namespace rainmaker::crypto

// Checks ES256 signing and verification, the client payload rule, key persistence and JWKS.
#include "crypto/jwt.hpp"

#include <array>
#include <atomic>
#include <fstream>
#include <limits>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"

namespace rainmaker::crypto {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() : path_(fs::temp_directory_path() / ("rm_jwt_test_" + core::RandomHex(8))) {
        fs::create_directories(path_);
    }

    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& Path() const { return path_; }

private:
    fs::path path_;
};

// ---- OpenSSL helpers that work independently of JwtSigner --------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

Pkey ReadPrivateKey(const fs::path& path) {
    const std::string pem = ReadFile(path);
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    Pkey key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    return key;
}

Pkey GenerateEcKey(const char* curve) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* key = nullptr;
    EXPECT_EQ(EVP_PKEY_keygen_init(ctx), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_group_name(ctx, curve), 1);
    EXPECT_EQ(EVP_PKEY_generate(ctx, &key), 1);
    EVP_PKEY_CTX_free(ctx);
    return Pkey(key);
}

// PKCS#8 PEM of `key`, encrypted with AES-256-CBC under `passphrase` when one is given.
std::string ToPem(EVP_PKEY* key, const std::string& passphrase = {}) {
    BIO* bio = BIO_new(BIO_s_mem());
    const auto* pass = reinterpret_cast<const unsigned char*>(passphrase.data());
    EXPECT_EQ(
        PEM_write_bio_PrivateKey(
            bio,
            key,
            passphrase.empty() ? nullptr : EVP_aes_256_cbc(),
            passphrase.empty() ? nullptr : pass,
            static_cast<int>(passphrase.size()),
            nullptr,
            nullptr
        ),
        1
    );
    std::string pem;
    std::array<char, 512> chunk{};
    int n = 0;
    while ((n = BIO_read(bio, chunk.data(), static_cast<int>(chunk.size()))) > 0) {
        pem.append(chunk.data(), static_cast<std::size_t>(n));
    }
    BIO_free(bio);
    return pem;
}

// ES256 over `input` in the JWS R||S form, computed with `key` directly.
std::string SignRaw(EVP_PKEY* key, std::string_view input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::array<unsigned char, 128> der{};
    std::size_t der_size = der.size();
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
    EXPECT_EQ(
        EVP_DigestSign(
            ctx,
            der.data(),
            &der_size,
            reinterpret_cast<const unsigned char*>(input.data()),
            input.size()
        ),
        1
    );
    EVP_MD_CTX_free(ctx);
    const unsigned char* cursor = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_size));
    std::array<unsigned char, 64> raw{};
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32);
    ECDSA_SIG_free(sig);
    return {reinterpret_cast<const char*>(raw.data()), raw.size()};
}

bool VerifyRaw(EVP_PKEY* key, std::string_view input, std::string_view raw) {
    ECDSA_SIG* sig = ECDSA_SIG_new();
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
    std::array<unsigned char, 128> der{};
    unsigned char* cursor = der.data();
    const int der_size = i2d_ECDSA_SIG(sig, &cursor);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(
                        ctx,
                        der.data(),
                        static_cast<std::size_t>(der_size),
                        reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()
                    ) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

// The P-256 public key whose affine coordinates are `x` and `y` (32 bytes each).
Pkey PublicKeyFromCoordinates(const std::string& x, const std::string& y) {
    const std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
    OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* key = nullptr;
    EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
    EXPECT_EQ(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    return Pkey(key);
}

// ---- Token helpers ------------------------------------------------------------------------

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

boost::json::object ParseObject(const std::string& json) {
    return boost::json::parse(json).as_object();
}

// What the Python CLI does: pad, then decode with the standard alphabet.
std::optional<std::string> DecodeLikeStandardBase64(std::string segment) {
    while (segment.size() % 4 != 0) {
        segment.push_back('=');
    }
    return Base64Decode(segment);
}

boost::json::object SampleClaims() {
    return {
        {"custom:user_id", "a1b2c3d4e5f6"},
        {"email", "someone@example.com"},
        {"exp", 1893456000},
        {"iat", 1700000000},
        {"token_use", "access"}};
}

// ---- Random claims --------------------------------------------------------------------------

void AppendUtf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

class ClaimGenerator {
public:
    explicit ClaimGenerator(std::uint32_t seed) : rng_(seed) {}

    std::uint32_t Below(std::uint32_t upper) {
        return std::uniform_int_distribution<std::uint32_t>(0, upper - 1)(rng_);
    }

    // Text of up to `max_length` characters, weighted towards ASCII but with the bytes that
    // produce '-'/'_' digits, control characters and 2-, 3- and 4-byte UTF-8 all frequent.
    std::string Text(std::uint32_t max_length) {
        static constexpr std::string_view kAwkward = "->?~_/+=\x7f\"\\";
        std::string out;
        const std::uint32_t length = Below(max_length + 1);
        for (std::uint32_t i = 0; i < length; ++i) {
            switch (Below(10)) {
                case 5:
                    out.push_back(kAwkward[Below(kAwkward.size())]);
                    break;
                case 6:
                    out.push_back(static_cast<char>(Below(0x20)));
                    break;
                case 7:
                    AppendUtf8(out, 0x80 + Below(0x800 - 0x80));
                    break;
                case 8: {
                    char32_t c = 0;
                    do {
                        c = 0x800 + Below(0x10000 - 0x800);
                    } while (c >= 0xD800 && c <= 0xDFFF);
                    AppendUtf8(out, c);
                    break;
                }
                case 9:
                    AppendUtf8(out, 0x10000 + Below(0x110000 - 0x10000));
                    break;
                default:
                    out.push_back(static_cast<char>(0x20 + Below(0x7F - 0x20)));
            }
        }
        return out;
    }

    std::string Alnum(std::uint32_t max_length) {
        static constexpr std::string_view kChars =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        std::string out;
        const std::uint32_t length = Below(max_length + 1);
        for (std::uint32_t i = 0; i < length; ++i) {
            out.push_back(kChars[Below(kChars.size())]);
        }
        return out;
    }

    std::string Email() {
        static constexpr std::string_view kLocal =
            "abcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+/=?^_`{|}~-";
        std::string out;
        const std::uint32_t length = 1 + Below(40);
        for (std::uint32_t i = 0; i < length; ++i) {
            out.push_back(kLocal[Below(kLocal.size())]);
        }
        out += Below(4) == 0 ? Text(10) : "";
        return out + "@" + Alnum(20) + "." + (Below(2) == 0 ? "com" : Alnum(6));
    }

    boost::json::value Scalar() {
        switch (Below(6)) {
            case 0:
                return static_cast<std::int64_t>(rng_()) - (1LL << 31);
            case 1:
                // Eighths round-trip exactly: Boost.JSON 1.81 parses other doubles only to
                // within an ulp, which says nothing about the token code.
                return static_cast<double>(static_cast<std::int32_t>(rng_())) / 8;
            case 2:
                return Below(2) == 0;
            case 3:
                return nullptr;
            default: {
                // Not braces: `return {text}` would pick value's initializer_list constructor.
                boost::json::value text(Text(60));
                return text;
            }
        }
    }

    boost::json::object Claims() {
        boost::json::object claims;
        claims["custom:user_id"] = Alnum(64);
        if (Below(3) == 0) {
            claims["phone_number"] = "+" + std::to_string(rng_());
        } else {
            claims["email"] = Email();
        }
        claims["exp"] = 1700000000 + static_cast<std::int64_t>(Below(1u << 30));
        claims["iat"] = 1700000000 + static_cast<std::int64_t>(Below(1u << 30));
        claims["token_use"] = Below(2) == 0 ? "access" : "id";
        if (Below(2) == 0) {
            claims["name"] = Text(80);
        }
        const std::uint32_t extras = Below(5);
        for (std::uint32_t i = 0; i < extras; ++i) {
            const std::string key = Text(12);
            if (Below(4) == 0) {
                boost::json::array list;
                const std::uint32_t n = Below(5);
                for (std::uint32_t k = 0; k < n; ++k) {
                    list.push_back(Scalar());
                }
                claims[key] = boost::json::object{{Text(8), std::move(list)}};
            } else {
                claims[key] = Scalar();
            }
        }
        return claims;
    }

private:
    std::mt19937 rng_;
};

// ---- Tests ------------------------------------------------------------------------------------

TEST(JwtSigner, SignedTokenVerifiesAndYieldsExactlyTheClaims) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const auto claims = SampleClaims();
    const std::string token = signer->Sign(claims);
    const auto verified = signer->Verify(token);
    ASSERT_TRUE(verified.has_value());
    EXPECT_EQ(*verified, claims);
}

TEST(JwtSigner, WritesTheEs256HeaderWithTheKeyId) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const Parts parts = Split(signer->Sign(SampleClaims()));
    const auto header = Base64UrlDecode(parts.header);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(
        ParseObject(*header),
        (boost::json::object{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", signer->KeyId()}})
    );
}

TEST(JwtSigner, SignatureIsTheRawSixtyFourByteForm) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    const auto signer = JwtSigner::LoadOrCreate(key_file);
    const std::string token = signer->Sign(SampleClaims());
    const Parts parts = Split(token);
    const auto signature = Base64UrlDecode(parts.signature);
    ASSERT_TRUE(signature.has_value());
    ASSERT_EQ(signature->size(), 64U);
    EXPECT_EQ(parts.signature.size(), 86U);
    // An independent ES256 verifier accepts it.
    const Pkey key = ReadPrivateKey(key_file);
    EXPECT_TRUE(VerifyRaw(key.get(), parts.header + "." + parts.payload, *signature));
}

TEST(JwtSigner, DoesNotCheckExpiry) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    auto claims = SampleClaims();
    claims["exp"] = 1;
    EXPECT_TRUE(signer->Verify(signer->Sign(claims)).has_value());
}

TEST(JwtSigner, RejectsTamperedPayload) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    Parts parts = Split(signer->Sign(SampleClaims()));
    auto claims = SampleClaims();
    claims["custom:user_id"] = "someone-else";
    std::string forged = parts.payload;
    parts.payload = Base64UrlEncode(boost::json::serialize(claims));
    EXPECT_FALSE(signer->Verify(Join(parts)).has_value());
    // The same claims written differently are also a different payload.
    parts.payload = Base64UrlEncode(boost::json::serialize(SampleClaims()) + " ");
    EXPECT_FALSE(signer->Verify(Join(parts)).has_value());
}

TEST(JwtSigner, RejectsTamperedSignature) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const Parts parts = Split(signer->Sign(SampleClaims()));
    const std::string signature = *Base64UrlDecode(parts.signature);
    for (std::size_t byte = 0; byte < signature.size(); byte += 7) {
        std::string flipped = signature;
        flipped[byte] = static_cast<char>(flipped[byte] ^ 0x01);
        Parts tampered = parts;
        tampered.signature = Base64UrlEncode(flipped);
        EXPECT_FALSE(signer->Verify(Join(tampered)).has_value()) << "byte " << byte;
    }
    // (r, s) with r or s zero, and all-ones values above the group order.
    for (const std::string& bad : {std::string(64, '\0'), std::string(64, '\xff')}) {
        Parts tampered = parts;
        tampered.signature = Base64UrlEncode(bad);
        EXPECT_FALSE(signer->Verify(Join(tampered)).has_value());
    }
}

TEST(JwtSigner, RejectsEverySingleCharacterChange) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const std::string token = signer->Sign(SampleClaims());
    for (std::size_t i = 0; i < token.size(); ++i) {
        for (const char replacement : {'A', 'B', 'g', '-', '_', '.', '=', '+', '\0'}) {
            if (token[i] == replacement) {
                continue;
            }
            std::string mutated = token;
            mutated[i] = replacement;
            EXPECT_FALSE(signer->Verify(mutated).has_value()) << "position " << i;
        }
    }
}

TEST(JwtSigner, RejectsTokenSignedByAnotherKey) {
    TempDir dir;
    const auto ours = JwtSigner::LoadOrCreate(dir.Path() / "ours.pem");
    const auto theirs = JwtSigner::LoadOrCreate(dir.Path() / "theirs.pem");
    ASSERT_NE(ours->KeyId(), theirs->KeyId());
    const std::string token = theirs->Sign(SampleClaims());
    ASSERT_TRUE(theirs->Verify(token).has_value());
    EXPECT_FALSE(ours->Verify(token).has_value());
}

TEST(JwtSigner, RejectsAnotherKeysSignatureEvenUnderOurKeyId) {
    TempDir dir;
    const auto ours = JwtSigner::LoadOrCreate(dir.Path() / "ours.pem");
    const auto theirs = JwtSigner::LoadOrCreate(dir.Path() / "theirs.pem");
    Parts parts = Split(ours->Sign(SampleClaims()));  // header carries our kid
    const Pkey their_key = ReadPrivateKey(dir.Path() / "theirs.pem");
    parts.signature = Base64UrlEncode(SignRaw(their_key.get(), parts.header + "." + parts.payload));
    EXPECT_FALSE(ours->Verify(Join(parts)).has_value());
    // Control: the same construction with our own key is accepted.
    const Pkey our_key = ReadPrivateKey(dir.Path() / "ours.pem");
    parts.signature = Base64UrlEncode(SignRaw(our_key.get(), parts.header + "." + parts.payload));
    EXPECT_TRUE(ours->Verify(Join(parts)).has_value());
}

TEST(JwtSigner, RejectsValidlySignedTokensWithTheWrongHeaderOrPayloadShape) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    const auto signer = JwtSigner::LoadOrCreate(key_file);
    const Pkey key = ReadPrivateKey(key_file);
    const std::string kid = signer->KeyId();
    const std::string good_header = Split(signer->Sign({})).header;
    const std::string good_payload = Base64UrlEncode(R"({"sub":"x"})");
    // Signs header.payload with our real key, so only the shape check can reject it.
    auto signed_with_our_key = [&](const std::string& header_json, const std::string& payload) {
        const std::string header = header_json.empty() ? good_header : Base64UrlEncode(header_json);
        const std::string input = header + "." + payload;
        return input + "." + Base64UrlEncode(SignRaw(key.get(), input));
    };
    ASSERT_TRUE(signer->Verify(signed_with_our_key("", good_payload)).has_value());
    for (const std::string& header : std::vector<std::string>{
             R"({"alg":"ES384","typ":"JWT","kid":")" + kid + R"("})",
             R"({"alg":"none","typ":"JWT","kid":")" + kid + R"("})",
             R"({"alg":"HS256","typ":"JWT","kid":")" + kid + R"("})",
             R"({"typ":"JWT","kid":")" + kid + R"("})",
             R"({"alg":"ES256","typ":"JWT"})",
             R"({"alg":"ES256","typ":"JWT","kid":"other"})",
             R"({"alg":"ES256","typ":"JWT","kid":7})",
             R"({"alg":"ES256","typ":"JWE","kid":")" + kid + R"("})",
             R"({"alg":"ES256","kid":")" + kid + R"(","crit":["exp"]})",
             R"(["ES256"])",
             R"(not json)",
         }) {
        EXPECT_FALSE(signer->Verify(signed_with_our_key(header, good_payload)).has_value())
            << header;
    }
    for (const std::string& payload : {
             Base64UrlEncode("not json"),
             Base64UrlEncode("[1,2,3]"),
             Base64UrlEncode("\"a string\""),
             Base64UrlEncode(""),
             std::string("e30="),  // padded "{}"
             std::string("!!!!"),
         }) {
        EXPECT_FALSE(signer->Verify(signed_with_our_key("", payload)).has_value()) << payload;
    }
    // "alg":"none" with an empty signature.
    const std::string none_header =
        Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":")" + kid + R"("})");
    EXPECT_FALSE(signer->Verify(none_header + "." + good_payload + ".").has_value());
}

TEST(JwtSigner, RejectsGarbageWithoutThrowing) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const std::string token = signer->Sign(SampleClaims());
    const Parts parts = Split(token);
    std::vector<std::string> garbage = {
        "",
        ".",
        "..",
        "...",
        "a",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "!!!.@@@.###",
        "Bearer " + token,
        token + ".",
        "." + token,
        token + "=",
        token + " ",
        token + "\n",
        std::string("\0\0\0", 3),
        std::string(token).insert(10, 1, '\0'),
        parts.header + "." + parts.payload,
        parts.header + "." + parts.payload + ".",
        parts.header + ".." + parts.signature,
        "." + parts.payload + "." + parts.signature,
        parts.header + "." + parts.payload + "." + parts.signature.substr(1),
        parts.header + "." + parts.payload + "." + parts.signature + "AA",
        parts.header + "." + parts.payload + "." + parts.signature.substr(0, 85),
        parts.header + "=." + parts.payload + "." + parts.signature,
        parts.header + "." + parts.payload + "==." + parts.signature,
        std::string(10 << 20, 'a'),
        std::string(JwtSigner::kMaxTokenBytes + 1, '.'),
        token + std::string(JwtSigner::kMaxTokenBytes, 'A'),
        parts.header + "." + std::string(JwtSigner::kMaxTokenBytes, 'A') + "." + parts.signature,
    };
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        std::string random(rng() % 300, '\0');
        for (auto& c : random) {
            c = static_cast<char>(rng() & 0xFF);
        }
        if (i % 2 == 0) {  // shaped like a token
            random = Base64UrlEncode(random.substr(0, random.size() / 3)) + "." +
                     Base64UrlEncode(random.substr(random.size() / 3)) + "." +
                     Base64UrlEncode(random.substr(0, 64));
        }
        garbage.push_back(random);
    }
    for (const std::string& input : garbage) {
        std::optional<boost::json::object> result;
        EXPECT_NO_THROW(result = signer->Verify(input));
        EXPECT_FALSE(result.has_value()) << input.substr(0, 100);
    }
}

TEST(JwtSigner, PayloadSegmentNeverContainsDashOrUnderscoreForRandomClaims) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    ClaimGenerator generator(12345);
    int naive_would_fail = 0;
    constexpr int kClaimSets = 3000;
    for (int i = 0; i < kClaimSets; ++i) {
        const boost::json::object claims = generator.Claims();
        if (Base64UrlEncode(boost::json::serialize(claims)).find_first_of("-_") !=
            std::string::npos) {
            ++naive_would_fail;
        }
        const std::string token = signer->Sign(claims);
        const Parts parts = Split(token);
        ASSERT_EQ(parts.payload.find_first_of("-_"), std::string::npos)
            << "claim set " << i << ": " << boost::json::serialize(claims);
        // A standard base64 decoder (CLI) and atob (SDK) read the same claims.
        const std::optional<std::string> json = DecodeLikeStandardBase64(parts.payload);
        ASSERT_TRUE(json.has_value()) << parts.payload;
        ASSERT_EQ(ParseObject(*json), claims) << *json;
        // atob yields Latin-1 "bytes": the payload must be plain ASCII for JSON.parse.
        for (const char c : *json) {
            ASSERT_GT(static_cast<unsigned char>(c), 0x1F);
            ASSERT_LT(static_cast<unsigned char>(c), 0x7F);
        }
        const auto verified = signer->Verify(token);
        ASSERT_TRUE(verified.has_value());
        ASSERT_EQ(*verified, claims);
    }
    // The generator really exercises the rule: most sets would break with plain serialization.
    EXPECT_GT(naive_would_fail, kClaimSets / 2);
}

TEST(JwtSigner, KeepsPayloadCleanWhereNoFillerClaimCouldHelp) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    // A run of three '~' covers all three alignments, so no filler length could fix it.
    for (const std::string& email : {
             std::string("~~~@example.com"),
             std::string("???@example.com"),
             std::string(">>>@example.com"),
             std::string("\x7f\x7f\x7f@example.com"),
             std::string("j\xc3\xb6rg\xc3\xa9@example.com"),
             std::string("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80@example.com"),
             std::string("\xef\xbf\xbf\xef\xbf\xbf\xef\xbf\xbf@example.com"),
         }) {
        const boost::json::object claims{{"email", email}, {"exp", 2000000000}};
        const std::string token = signer->Sign(claims);
        const Parts parts = Split(token);
        EXPECT_EQ(parts.payload.find_first_of("-_"), std::string::npos) << email;
        EXPECT_EQ(ParseObject(*DecodeLikeStandardBase64(parts.payload)), claims);
        EXPECT_EQ(signer->Verify(token), claims);
    }
}

TEST(JwtSigner, RefusesClaimsThatAreNotUtf8) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    for (const std::string& bad : {
             std::string("\xff"),
             std::string("\xc3"),              // truncated
             std::string("\xc0\xaf"),          // overlong '/'
             std::string("\xed\xa0\x80"),      // surrogate
             std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
         }) {
        EXPECT_THROW(signer->Sign({{"name", bad}}), std::invalid_argument);
        EXPECT_THROW(signer->Sign({{bad, "value"}}), std::invalid_argument);
    }
}

// Found by fuzz/token_fuzz: Boost.JSON writes an infinite double as `Infinity`, so Sign made
// a token whose payload is not JSON and that Verify never accepts.
TEST(JwtSigner, RefusesClaimsWithNumbersThatAreNotFinite) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_THROW(signer->Sign({{"exp", inf}}), std::invalid_argument);
    EXPECT_THROW(signer->Sign({{"a", boost::json::array{1, -inf}}}), std::invalid_argument);
    EXPECT_THROW(
        signer->Sign({{"nan", std::numeric_limits<double>::quiet_NaN()}}), std::invalid_argument
    );
    const auto token = signer->Sign({{"x", 2.5}});
    EXPECT_EQ(signer->Verify(token), (boost::json::object{{"x", 2.5}}));
}

TEST(JwtSigner, RefusesClaimsTooLargeToVerify) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    EXPECT_THROW(
        signer->Sign({{"blob", std::string(JwtSigner::kMaxTokenBytes, 'a')}}), std::invalid_argument
    );
}

TEST(JwtSigner, PersistsTheKeyAndReloadsIt) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    const auto first = JwtSigner::LoadOrCreate(key_file);
    const std::string token = first->Sign(SampleClaims());
    const auto reloaded = JwtSigner::LoadOrCreate(key_file);
    EXPECT_EQ(reloaded->KeyId(), first->KeyId());
    EXPECT_EQ(reloaded->Jwks(), first->Jwks());
    EXPECT_EQ(reloaded->Verify(token), SampleClaims());
    EXPECT_EQ(first->Verify(reloaded->Sign(SampleClaims())), SampleClaims());
}

TEST(JwtSigner, WritesAPkcs8KeyFileReadableOnlyByTheOwner) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    JwtSigner::LoadOrCreate(key_file);
    EXPECT_EQ(
        fs::status(key_file).permissions() & fs::perms::all,
        fs::perms::owner_read | fs::perms::owner_write
    );
    EXPECT_EQ(ReadFile(key_file).rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0U);
    // Nothing but the key is left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.Path())) {
        ++entries;
    }
    EXPECT_EQ(entries, 1U);
}

TEST(JwtSigner, CreatesTheMissingParentDirectory) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "a" / "b" / "jwt.pem";
    const auto signer = JwtSigner::LoadOrCreate(key_file);
    EXPECT_TRUE(fs::exists(key_file));
    EXPECT_EQ(JwtSigner::LoadOrCreate(key_file)->KeyId(), signer->KeyId());
}

TEST(JwtSigner, LoadsAKeyWrittenByOpenSsl) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    const Pkey key = GenerateEcKey("P-256");
    WriteFile(key_file, ToPem(key.get()));
    const auto signer = JwtSigner::LoadOrCreate(key_file);
    const Parts parts = Split(signer->Sign(SampleClaims()));
    EXPECT_TRUE(
        VerifyRaw(key.get(), parts.header + "." + parts.payload, *Base64UrlDecode(parts.signature))
    );
}

TEST(JwtSigner, RefusesUnusableKeyFiles) {
    TempDir dir;
    const fs::path key_file = dir.Path() / "jwt.pem";
    const Pkey p384 = GenerateEcKey("P-384");
    const Pkey p256 = GenerateEcKey("P-256");
    const std::string good = ToPem(p256.get());
    for (const std::string& contents : {
             std::string(),
             std::string("not a key"),
             good.substr(0, good.size() / 2),
             ToPem(p384.get()),
             ToPem(p256.get(), "passphrase"),  // encrypted: must fail, never prompt
         }) {
        WriteFile(key_file, contents);
        EXPECT_THROW(JwtSigner::LoadOrCreate(key_file), std::runtime_error) << contents;
        EXPECT_EQ(ReadFile(key_file), contents);  // never replaced
    }
    EXPECT_THROW(JwtSigner::LoadOrCreate(dir.Path()), std::runtime_error);  // a directory
}

TEST(JwtSigner, PublishesItsPublicKeyAsJwks) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    const boost::json::value jwks = boost::json::parse(signer->Jwks());
    const auto& keys = jwks.at("keys").as_array();
    ASSERT_EQ(keys.size(), 1U);
    const auto& jwk = keys[0].as_object();
    EXPECT_EQ(jwk.size(), 7U);
    EXPECT_EQ(jwk.at("kty"), "EC");
    EXPECT_EQ(jwk.at("crv"), "P-256");
    EXPECT_EQ(jwk.at("kid"), signer->KeyId().c_str());
    EXPECT_EQ(jwk.at("use"), "sig");
    EXPECT_EQ(jwk.at("alg"), "ES256");
    const auto x = Base64UrlDecode(boost::json::value_to<std::string>(jwk.at("x")));
    const auto y = Base64UrlDecode(boost::json::value_to<std::string>(jwk.at("y")));
    ASSERT_TRUE(x.has_value() && y.has_value());
    ASSERT_EQ(x->size(), 32U);
    ASSERT_EQ(y->size(), 32U);

    // A verifier that knows only the JWK accepts our tokens.
    const Pkey public_key = PublicKeyFromCoordinates(*x, *y);
    ASSERT_NE(public_key, nullptr);
    const Parts parts = Split(signer->Sign(SampleClaims()));
    EXPECT_TRUE(VerifyRaw(
        public_key.get(), parts.header + "." + parts.payload, *Base64UrlDecode(parts.signature)
    ));

    // kid = base64url(first 12 bytes of SHA-256(SubjectPublicKeyInfo DER)).
    unsigned char* der = nullptr;
    const int der_size = i2d_PUBKEY(public_key.get(), &der);
    ASSERT_GT(der_size, 0);
    const std::string digest =
        Sha256(std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_size)));
    OPENSSL_free(der);
    EXPECT_EQ(signer->KeyId(), Base64UrlEncode(digest.substr(0, 12)));
    EXPECT_EQ(signer->KeyId().size(), 16U);
}

TEST(JwtSigner, SignsAndVerifiesFromManyThreadsAtOnce) {
    TempDir dir;
    const auto signer = JwtSigner::LoadOrCreate(dir.Path() / "jwt.pem");
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            ClaimGenerator generator(static_cast<std::uint32_t>(t));
            for (int i = 0; i < 200; ++i) {
                const auto claims = generator.Claims();
                const std::string token = signer->Sign(claims);
                if (signer->Verify(token) != claims || signer->Verify(token + "x")) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace rainmaker::crypto

// Checks the Matter RCAC and NOC builder against OpenSSL's chain verifier and the text of
// `openssl x509 -text`, and the sealing of fabric keys.
#include "crypto/matter_certs.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/pki.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::crypto {
namespace {

using rainmaker::testing::TempDir;

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;

constexpr std::int64_t kNow = 1'765'000'000;
constexpr std::uint64_t kFabric = 0x1122334455667788ULL;

X509Ptr Parse(const std::string& pem) {
    std::unique_ptr<BIO, Deleter<BIO_free>> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// `openssl x509 -text` over the certificate (the external tool, not our parser).
std::string OpensslText(const TempDir& dir, const std::string& pem) {
    const auto file = dir.path() / "cert.pem";
    std::ofstream(file) << pem;
    const std::string command = "openssl x509 -noout -text -in " + file.string() + " 2>&1";
    std::unique_ptr<FILE, Deleter<pclose>> pipe(popen(command.c_str(), "r"));
    std::string out;
    char buffer[512];
    while (pipe && fgets(buffer, sizeof buffer, pipe.get()) != nullptr) {
        out += buffer;
    }
    return out;
}

// OpenSSL's chain verification of `leaf` under `root` at kNow (purpose not checked).
bool Verifies(const std::string& root_pem, const std::string& leaf_pem) {
    const auto root = Parse(root_pem);
    const auto leaf = Parse(leaf_pem);
    const StorePtr store(X509_STORE_new());
    const StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_add_cert(store.get(), root.get());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(kNow));
    return X509_verify_cert(ctx.get()) == 1;
}

// The CSR of a new P-256 key (what a phone or a device sends).
std::string Csr() {
    return MakeKeyAndCsr("matter").csr_pem;
}

// Output of a shell command, its errors included.
std::string Shell(const std::string& command) {
    std::unique_ptr<FILE, Deleter<pclose>> pipe(popen((command + " 2>&1").c_str(), "r"));
    std::string out;
    char buffer[512];
    while (pipe && fgets(buffer, sizeof buffer, pipe.get()) != nullptr) {
        out += buffer;
    }
    return out;
}

// The CSR with the last byte of its DER (inside the signature's s INTEGER) changed, as the
// base64 of the DER (what the phone apps send): well formed, signature wrong.
std::string TamperedCsr(const std::string& pem) {
    std::string body;
    std::size_t start = 0;
    while (start < pem.size()) {
        auto end = pem.find('\n', start);
        end = end == std::string::npos ? pem.size() : end;
        const auto line = pem.substr(start, end - start);
        if (line.rfind("-----", 0) != 0) {
            body += line;
        }
        start = end + 1;
    }
    auto der = Base64Decode(body);
    if (!der || der->empty()) {
        ADD_FAILURE() << "not a PEM CSR";
        return {};
    }
    der->back() = static_cast<char>(der->back() ^ 0x01);
    return Base64Encode(*der);
}

// A CSR whose key is a compressed P-256 point (OpenSSL's API; the openssl tool writes the
// point uncompressed whatever the key file says), signed with ecdsa-with-SHA256.
std::string CompressedKeyCsr() {
    std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>> key(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
    );
    std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>> req(X509_REQ_new());
    if (!key || !req ||
        EVP_PKEY_set_utf8_string_param(
            key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"
        ) != 1 ||
        X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
        X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
        ADD_FAILURE() << "cannot make a CSR with a compressed key";
        return {};
    }
    std::unique_ptr<BIO, Deleter<BIO_free>> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), req.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// The description of the std::invalid_argument `f` throws ("" when none).
template <typename F>
std::string RefusalOf(F f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(MatterCerts, RootCarriesTheMatterAttributesAndCaExtensions) {
    TempDir dir;
    const auto root = MakeMatterRoot(0xAAD09FFFE7D8B03BULL, kFabric, kNow);
    const auto text = OpensslText(dir, root.cert_pem);
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.4 = AAD09FFFE7D8B03B"), std::string::npos) << text;
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.5 = 1122334455667788"), std::string::npos) << text;
    EXPECT_NE(text.find("CA:TRUE"), std::string::npos);
    EXPECT_NE(text.find("Certificate Sign, CRL Sign"), std::string::npos);
    EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos);
    EXPECT_NE(text.find("prime256v1"), std::string::npos);
    EXPECT_NE(text.find("Not After : Dec 31 23:59:59 9999 GMT"), std::string::npos) << text;
    EXPECT_TRUE(Verifies(root.cert_pem, root.cert_pem));
    EXPECT_NE(root.key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
    EXPECT_THROW(MakeMatterRoot(0, kFabric, kNow), std::invalid_argument);
    EXPECT_THROW(MakeMatterRoot(1, 0, kNow), std::invalid_argument);
}

TEST(MatterCerts, NocCarriesNodeFabricCatsAndVerifiesAgainstTheRoot) {
    TempDir dir;
    const auto root = MakeMatterRoot(7, kFabric, kNow);
    const auto noc = SignMatterNoc(
        root.key_pem,
        root.cert_pem,
        NocRequest{Csr(), 0x00000000DEADBEEFULL, kFabric, {0x03A30001, 0x06D90002}},
        kNow
    );
    const auto text = OpensslText(dir, noc);
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.1 = 00000000DEADBEEF"), std::string::npos) << text;
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.5 = 1122334455667788"), std::string::npos);
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.6 = 03A30001"), std::string::npos);
    EXPECT_NE(text.find("1.3.6.1.4.1.37244.1.6 = 06D90002"), std::string::npos);
    // Issuer = the RCAC's DN.
    EXPECT_NE(
        text.find("Issuer: 1.3.6.1.4.1.37244.1.4 = 0000000000000007, "
                  "1.3.6.1.4.1.37244.1.5 = 1122334455667788"),
        std::string::npos
    ) << text;
    EXPECT_NE(
        text.find("X509v3 Basic Constraints: critical\n                CA:FALSE"), std::string::npos
    ) << text;
    EXPECT_NE(
        text.find("X509v3 Key Usage: critical\n                Digital Signature\n"),
        std::string::npos
    );
    EXPECT_NE(
        text.find("X509v3 Extended Key Usage: critical\n                TLS Web Client "
                  "Authentication, TLS Web Server Authentication"),
        std::string::npos
    ) << text;
    EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos);
    EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos);
    EXPECT_TRUE(Verifies(root.cert_pem, noc));
    EXPECT_TRUE(IsIssuedBy(noc, root.cert_pem));
    // Not by another fabric's root.
    const auto other = MakeMatterRoot(8, kFabric, kNow);
    EXPECT_FALSE(Verifies(other.cert_pem, noc));
}

TEST(MatterCerts, AcceptsABase64DerCsrAsThePhoneAppsSendIt) {
    const auto root = MakeMatterRoot(7, kFabric, kNow);
    std::string body = Csr();
    const auto begin = body.find('\n') + 1;
    const auto end = body.find("-----END");
    body = body.substr(begin, end - begin);  // base64 lines without the armour
    EXPECT_NO_THROW(SignMatterNoc(root.key_pem, root.cert_pem, {body, 5, kFabric, {}}, kNow));
}

TEST(MatterCerts, RefusesBadCsrsAndIds) {
    const auto root = MakeMatterRoot(7, kFabric, kNow);
    const auto sign = [&](const std::string& csr, std::uint64_t node, std::vector<uint32_t> cats) {
        return SignMatterNoc(root.key_pem, root.cert_pem, {csr, node, kFabric, cats}, kNow);
    };
    const auto good = Csr();
    EXPECT_THROW(sign("not a csr", 1, {}), std::invalid_argument);
    EXPECT_THROW(sign("", 1, {}), std::invalid_argument);
    EXPECT_THROW(sign(std::string(5000, 'A'), 1, {}), std::invalid_argument);
    // A P-256 key with a compressed point (OpenSSL would copy it into the NOC; Matter cannot
    // carry it).
    {
        const TempDir dir;
        const auto key = dir.path() / "compressed.key";
        const std::string command =
            "openssl ecparam -name prime256v1 -genkey -noout -conv_form compressed -out " +
            key.string() + " && openssl req -new -key " + key.string() + " -subj /CN=c 2>&1";
        std::unique_ptr<FILE, Deleter<pclose>> pipe(popen(command.c_str(), "r"));
        std::string compressed;
        char buffer[512];
        while (pipe && fgets(buffer, sizeof buffer, pipe.get()) != nullptr) {
            compressed += buffer;
        }
        ASSERT_NE(compressed.find("BEGIN CERTIFICATE REQUEST"), std::string::npos) << compressed;
        // Refused, or the NOC carries the key uncompressed on the named curve (the 91-byte
        // SubjectPublicKeyInfo Matter's TLV form can express): never the compressed point.
        try {
            const auto noc = Parse(sign(compressed, 1, {}));
            ASSERT_TRUE(noc);
            EXPECT_EQ(i2d_X509_PUBKEY(X509_get_X509_PUBKEY(noc.get()), nullptr), 91);
        } catch (const std::invalid_argument&) {
        }
    }
    // An RSA key is not a Matter key.
    EXPECT_THROW(sign(MakeKeyAndCsr("x", KeyType::kRsa2048).csr_pem, 1, {}), std::invalid_argument);
    // A CSR whose signature was altered.
    EXPECT_NE(
        RefusalOf([&] { sign(TamperedCsr(good), 1, {}); }).find("does not verify"),
        std::string::npos
    );
    // Signed with another algorithm than ecdsa-with-SHA256 (the fast reader leaves it to
    // OpenSSL, which would verify it).
    {
        const TempDir dir;
        const auto key = (dir.path() / "k.pem").string();
        Shell("openssl ecparam -name prime256v1 -genkey -noout -out " + key);
        const auto sha384 = Shell("openssl req -new -sha384 -key " + key + " -subj /CN=x");
        ASSERT_NE(sha384.find("BEGIN CERTIFICATE REQUEST"), std::string::npos) << sha384;
        EXPECT_NE(
            RefusalOf([&] { sign(sha384, 1, {}); }).find("ecdsa-with-SHA256"), std::string::npos
        );
    }
    // Node ids outside the operational range.
    EXPECT_THROW(sign(good, 0, {}), std::invalid_argument);
    EXPECT_THROW(sign(good, 0xFFFFFFF000000000ULL, {}), std::invalid_argument);
    EXPECT_NO_THROW(sign(good, kMaxOperationalNodeId, {}));
    // CAT lists: version 0, repeated identifiers, more than three.
    EXPECT_THROW(sign(good, 1, {0x01000000}), std::invalid_argument);
    EXPECT_THROW(sign(good, 1, {0x01000001, 0x01000002}), std::invalid_argument);
    EXPECT_THROW(
        sign(good, 1, {1 << 16 | 1, 2 << 16 | 1, 3 << 16 | 1, 4 << 16 | 1}), std::invalid_argument
    );
    // Three CATs and the largest ids still make a certificate that fits Matter's 600-byte DER
    // budget (the TLV form is smaller).
    const auto biggest = sign(good, kMaxOperationalNodeId, {0xFFFF0001, 0xFFFE0001, 0xFFFD0001});
    const auto der = [](const std::string& pem) {
        const auto cert = Parse(pem);
        return i2d_X509(cert.get(), nullptr);
    };
    EXPECT_LE(der(biggest), 600);  // the DER budget of Matter stacks (CHIP kMaxDERCertLength)
    EXPECT_LT(der(root.cert_pem), 600);
    // A root key that is not the root certificate's.
    const auto other = MakeMatterRoot(8, kFabric, kNow);
    EXPECT_THROW(
        SignMatterNoc(other.key_pem, root.cert_pem, {good, 1, kFabric, {}}, kNow),
        std::runtime_error
    );
}

// The NOC as OpenSSL's X.509 objects build it from the same fields (what the issuer did before
// it wrote NOCs from DER pieces): the serial and the key are taken from `noc`.
X509Ptr ReferenceNoc(
    const MatterRoot& root, const X509* noc, const NocRequest& r, std::int64_t now
) {
    const auto root_cert = Parse(root.cert_pem);
    std::unique_ptr<BIO, Deleter<BIO_free>> bio(
        BIO_new_mem_buf(root.key_pem.data(), int(root.key_pem.size()))
    );
    std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
    );
    X509Ptr cert(X509_new());
    std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>> subject(X509_NAME_new());
    const auto add = [&](const char* oid, const std::string& value) {
        std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>> object(OBJ_txt2obj(oid, 1));
        X509_NAME_add_entry_by_OBJ(
            subject.get(),
            object.get(),
            MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(value.data()),
            int(value.size()),
            -1,
            0
        );
    };
    add("1.3.6.1.4.1.37244.1.1", MatterIdHex(r.node_id));
    add("1.3.6.1.4.1.37244.1.5", MatterIdHex(r.fabric_id));
    for (const auto cat : r.cats) {
        add("1.3.6.1.4.1.37244.1.6", MatterCatHex(cat));
    }
    X509_set_version(cert.get(), X509_VERSION_3);
    X509_set_serialNumber(cert.get(), X509_get_serialNumber(const_cast<X509*>(noc)));
    X509_set_subject_name(cert.get(), subject.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(root_cert.get()));
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(now - 3600));
    ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), "99991231235959Z");
    X509_set_pubkey(cert.get(), X509_get0_pubkey(noc));
    for (const auto& [nid, value] : std::vector<std::pair<int, const char*>>{
             {NID_basic_constraints, "critical,CA:FALSE"},
             {NID_key_usage, "critical,digitalSignature"},
             {NID_ext_key_usage, "critical,clientAuth,serverAuth"},
             {NID_subject_key_identifier, "hash"},
             {NID_authority_key_identifier, "keyid:always"}}) {
        X509V3_CTX ctx{};
        X509V3_set_ctx(&ctx, root_cert.get(), cert.get(), nullptr, nullptr, 0);
        std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>> extension(
            X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value)
        );
        X509_add_ext(cert.get(), extension.get(), -1);
    }
    X509_sign(cert.get(), key.get(), EVP_sha256());
    return cert;
}

// The TBSCertificate of `cert`: as received (its DER read back: the first element of the outer
// SEQUENCE) or, with `reencode`, as OpenSSL encodes it.
std::string TbsOf(X509* cert, bool reencode) {
    unsigned char* der = nullptr;
    const int size = reencode ? i2d_re_X509_tbs(cert, &der) : i2d_X509(cert, &der);
    std::string out(reinterpret_cast<char*>(der), size > 0 ? std::size_t(size) : 0);
    OPENSSL_free(der);
    if (reencode || out.size() < 8) {
        return out;
    }
    // 30 82 hi lo | 30 82 hi lo ... (a NOC is 256..65535 bytes long)
    const std::size_t tbs = 4 + (std::size_t(std::uint8_t(out[6])) << 8 | std::uint8_t(out[7]));
    return out.substr(4, tbs);
}

// The NOC written from DER pieces is, byte for byte, the TBSCertificate OpenSSL builds from the
// same fields (so what Matter stacks and the matter.js test accepted stays what we issue), with
// a valid signature, before and after 2050 (UTCTime, then GeneralizedTime).
TEST(MatterCerts, TheDerNocIsWhatOpenSslBuildsFromTheSameFields) {
    for (const std::int64_t now : {kNow, std::int64_t{2'600'000'000}}) {
        const auto root = MakeMatterRoot(7, kFabric, now);
        const auto root_cert = Parse(root.cert_pem);
        for (const auto& cats : std::vector<std::vector<std::uint32_t>>{
                 {}, {0x03A30001}, {0x03A30001, 0x06D90002, 0x1000FFFF}}) {
            const std::string csr = Csr();
            const NocRequest request{csr, 0x00000000DEADBEEFULL, kFabric, cats};
            const auto noc = Parse(SignMatterNoc(root.key_pem, root.cert_pem, request, now));
            ASSERT_TRUE(noc);
            EXPECT_EQ(X509_verify(noc.get(), X509_get0_pubkey(root_cert.get())), 1);
            const auto reference = ReferenceNoc(root, noc.get(), request, now);
            EXPECT_EQ(TbsOf(noc.get(), false), TbsOf(reference.get(), true)) << now;
            // The serial: positive, 63 bits at most.
            const ASN1_INTEGER* serial = X509_get0_serialNumber(noc.get());
            EXPECT_LE(ASN1_STRING_length(serial), 8);
            EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER
            EXPECT_GT(ASN1_INTEGER_get(serial), 0);
        }
    }
}

// The serial's DER: leading zero bytes dropped, one kept before a byte with its top bit set.
TEST(MatterCerts, TheSerialIsAMinimalPositiveInteger) {
    const auto hex = [](const std::string& der) {
        std::string out;
        for (const unsigned char c : der) {
            char two[3];
            std::snprintf(two, sizeof two, "%02x", c);
            out += two;
        }
        return out;
    };
    EXPECT_EQ(
        hex(detail::DerPositiveInteger({0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc})),
        "0206123456789abc"
    );
    EXPECT_EQ(hex(detail::DerPositiveInteger({0, 0x80, 0, 0, 0, 0, 0, 1})), "02080080000000000001");
    EXPECT_EQ(hex(detail::DerPositiveInteger({0, 0, 0, 0, 0, 0, 0, 1})), "020101");
    EXPECT_EQ(hex(detail::DerPositiveInteger({0x7f, 0, 0, 0, 0, 0, 0, 0})), "02087f00000000000000");
    EXPECT_THROW(detail::DerPositiveInteger({0x80, 0, 0, 0, 0, 0, 0, 0}), std::invalid_argument);
}

// DER lengths past two bytes are refused, not written wrong.
TEST(MatterCerts, TheDerWriterRefusesLengthsItCannotWrite) {
    std::string out;
    detail::AppendDerLength(out, 0x7f);
    detail::AppendDerLength(out, 0x80);
    detail::AppendDerLength(out, 0xffff);
    EXPECT_EQ(out, std::string("\x7f\x81\x80\x82\xff\xff", 6));
    EXPECT_THROW(detail::AppendDerLength(out, 0x10000), std::length_error);
}

// Only MatterCsrPublicKey makes a checked key: a NOC request cannot carry a key nobody proved.
static_assert(!std::is_constructible_v<CheckedCsrKey, std::string>);
static_assert(!std::is_constructible_v<CheckedCsrKey, std::string_view>);

TEST(MatterCerts, ACheckedKeyIsTheKeyTheNocCarries) {
    const auto root = MakeMatterRoot(7, kFabric, kNow);
    const auto csr = Csr();
    const auto key = MatterCsrPublicKey(csr);
    NocRequest request{{}, 1, kFabric, {}, &key};
    const auto noc = Parse(SignMatterNoc(root.key_pem, root.cert_pem, request, kNow));
    ASSERT_TRUE(noc);
    unsigned char* der = nullptr;
    const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(noc.get()), &der);
    const std::string spki(reinterpret_cast<char*>(der), size > 0 ? std::size_t(size) : 0);
    OPENSSL_free(der);
    EXPECT_EQ(spki, key.Spki());
}

// The DER reader takes a CSR when OpenSSL's parser does, with the same key; other shapes (an
// attribute, a compressed key, RSA, another signature algorithm) go through OpenSSL, and a bad
// signature is refused by both.
TEST(MatterCerts, TheDerCsrReaderAgreesWithOpenSsl) {
    const auto read = [](const std::string& csr, CsrReader reader) -> std::optional<std::string> {
        try {
            return MatterCsrPublicKey(csr, reader).Spki();
        } catch (const std::invalid_argument&) {
            return std::nullopt;
        }
    };
    const auto same = [&](const std::string& csr) {
        const auto fast = read(csr, CsrReader::kAny);
        EXPECT_EQ(fast, read(csr, CsrReader::kOpenSslOnly)) << csr;
        return fast.has_value();
    };
    // Taken by the fast path itself (the comparison above is worth something only then).
    const auto fast_only = [&](const std::string& csr) {
        const auto key = read(csr, CsrReader::kFastOnly);
        if (key) {
            EXPECT_EQ(key, read(csr, CsrReader::kOpenSslOnly)) << csr;
        }
        return key.has_value();
    };
    const auto good = Csr();
    EXPECT_TRUE(same(good));
    EXPECT_TRUE(fast_only(good));
    EXPECT_EQ(MatterCsrPublicKey(good).Spki().size(), 91U);
    // A signature changed inside the DER: refused by both paths for that reason.
    const auto tampered = TamperedCsr(good);
    EXPECT_FALSE(same(tampered));
    for (const auto reader : {CsrReader::kAny, CsrReader::kOpenSslOnly}) {
        EXPECT_NE(
            RefusalOf([&] { MatterCsrPublicKey(tampered, reader); }).find("does not verify"),
            std::string::npos
        );
    }
    EXPECT_FALSE(same(MakeKeyAndCsr("x", KeyType::kRsa2048).csr_pem));
    EXPECT_FALSE(same("garbage"));
    // The openssl tool's CSR, one with an extension request attribute, one with a compressed
    // key, one signed with SHA-384.
    const TempDir dir;
    const auto key = (dir.path() / "k.pem").string();
    Shell("openssl ecparam -name prime256v1 -genkey -noout -out " + key);
    const auto plain = Shell("openssl req -new -key " + key + " -subj /O=CSR");
    const auto with_attribute =
        Shell("openssl req -new -key " + key + " -subj /CN=x -addext keyUsage=digitalSignature");
    const auto compressed = CompressedKeyCsr();
    EXPECT_NE(
        RefusalOf([&] { MatterCsrPublicKey(compressed); }).find("uncompressed point"),
        std::string::npos
    );
    const auto sha384 = Shell("openssl req -new -sha384 -key " + key + " -subj /CN=x");
    for (const auto* csr : {&plain, &with_attribute, &compressed, &sha384}) {
        ASSERT_NE(csr->find("BEGIN CERTIFICATE REQUEST"), std::string::npos) << *csr;
    }
    EXPECT_TRUE(same(plain));
    EXPECT_TRUE(fast_only(plain));
    // The attribute: not the fast path's shape, taken through OpenSSL with the same key.
    EXPECT_FALSE(fast_only(with_attribute));
    EXPECT_TRUE(same(with_attribute));
    EXPECT_EQ(read(with_attribute, CsrReader::kAny), read(plain, CsrReader::kAny));
    // A compressed point (a NOC cannot carry it) and SHA-384: refused by every path.
    EXPECT_FALSE(same(compressed));
    EXPECT_FALSE(fast_only(compressed));
    EXPECT_FALSE(same(sha384));
    EXPECT_FALSE(fast_only(sha384));
}

TEST(KeySealer, SealsAndOpensOnlyWithTheSameKeyAndContext) {
    TempDir dir;
    const auto file = dir.path() / "fabric.key";
    const auto sealer = KeySealer::LoadOrCreate(file, "fabric sealing key");

    struct stat st {};

    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    const std::string secret = "-----BEGIN PRIVATE KEY-----\nabc\n";
    const auto sealed = sealer->Seal(secret, "group1");
    EXPECT_EQ(sealed.find("abc"), std::string::npos);
    EXPECT_EQ(sealer->Open(sealed, "group1"), secret);
    EXPECT_THROW(sealer->Open(sealed, "group2"), std::runtime_error);
    // Not to be created: a missing file is an error, and none is made.
    const auto absent = dir.path() / "absent.key";
    EXPECT_THROW(KeySealer::LoadOrCreate(absent, "fabric sealing key", false), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(absent));
    EXPECT_EQ(
        KeySealer::LoadOrCreate(file, "fabric sealing key", false)
            ->Open(sealer->Seal("x", "g"), "g"),
        "x"
    );
    // The same file gives the same key; another key does not open it.
    EXPECT_EQ(KeySealer::LoadOrCreate(file, "fabric sealing key")->Open(sealed, "group1"), secret);
    EXPECT_THROW(
        KeySealer::FromKeyForTest(std::string(32, 'k'))->Open(sealed, "group1"), std::runtime_error
    );
    // An altered byte does not open.
    auto raw = *Base64Decode(sealed.substr(3));
    raw[20] = static_cast<char>(raw[20] ^ 1);
    EXPECT_THROW(sealer->Open("v1:" + Base64Encode(raw), "group1"), std::runtime_error);
    EXPECT_THROW(sealer->Open("garbage", "group1"), std::runtime_error);
    EXPECT_NE(sealer->Seal(secret, "group1"), sealed);  // a fresh nonce each time
}

}  // namespace
}  // namespace rainmaker::crypto

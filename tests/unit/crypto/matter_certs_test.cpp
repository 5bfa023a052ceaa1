// Checks the Matter RCAC and NOC builder against OpenSSL's chain verifier and the text of
// `openssl x509 -text`, and the sealing of fabric keys.
#include "crypto/matter_certs.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <string>
#include <sys/stat.h>

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
    std::string tampered = good;
    const auto at = tampered.find("-----END") - 6;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    EXPECT_THROW(sign(tampered, 1, {}), std::invalid_argument);
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

TEST(FabricKeySealer, SealsAndOpensOnlyWithTheSameKeyAndContext) {
    TempDir dir;
    const auto file = dir.path() / "fabric.key";
    const auto sealer = FabricKeySealer::LoadOrCreate(file);

    struct stat st {};

    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    const std::string secret = "-----BEGIN PRIVATE KEY-----\nabc\n";
    const auto sealed = sealer->Seal(secret, "group1");
    EXPECT_EQ(sealed.find("abc"), std::string::npos);
    EXPECT_EQ(sealer->Open(sealed, "group1"), secret);
    EXPECT_THROW(sealer->Open(sealed, "group2"), std::runtime_error);
    // The same file gives the same key; another key does not open it.
    EXPECT_EQ(FabricKeySealer::LoadOrCreate(file)->Open(sealed, "group1"), secret);
    EXPECT_THROW(
        FabricKeySealer::FromKeyForTest(std::string(32, 'k'))->Open(sealed, "group1"),
        std::runtime_error
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

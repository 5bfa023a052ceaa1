// Checks the CA against OpenSSL's own chain verifier: what claiming issues, what the broker
// trusts and revokes, and the challenge-response signatures of EC and RSA nodes.
#include "crypto/pki.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::crypto {
namespace {

namespace fs = std::filesystem;
using rainmaker::testing::TempDir;

// 2049-12-31T23:59:59Z
constexpr std::int64_t kNodeNotAfter = 2524607999;

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

BioPtr Bio(const std::string& text) {
    return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

X509Ptr Cert(const std::string& pem) {
    return X509Ptr(PEM_read_bio_X509(Bio(pem).get(), nullptr, nullptr, nullptr));
}

CrlPtr Crl(const std::string& pem) {
    return CrlPtr(PEM_read_bio_X509_CRL(Bio(pem).get(), nullptr, nullptr, nullptr));
}

PkeyPtr PrivateKey(const std::string& pem) {
    return PkeyPtr(PEM_read_bio_PrivateKey(Bio(pem).get(), nullptr, nullptr, nullptr));
}

std::string CsrPem(X509_REQ* req) {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), req);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

// A CSR for `key` signed by it, with a subject a node could have chosen.
std::string CsrFor(EVP_PKEY* key, const std::string& cn) {
    const ReqPtr req(X509_REQ_new());
    X509_NAME_add_entry_by_txt(
        X509_REQ_get_subject_name(req.get()),
        "CN",
        MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>(cn.c_str()),
        -1,
        -1,
        0
    );
    X509_REQ_set_pubkey(req.get(), key);
    X509_REQ_sign(req.get(), key, EVP_sha256());
    return CsrPem(req.get());
}

// The same PEM object with its last DER byte (inside the signature) flipped.
std::string WithLastByteFlipped(const std::string& pem) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    PEM_read_bio(Bio(pem).get(), &name, &header, &data, &length);
    data[length - 1] ^= 0x01;
    const BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio(out.get(), name, header, data, length);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    char* text = nullptr;
    const long size = BIO_get_mem_data(out.get(), &text);
    return {text, static_cast<std::size_t>(size)};
}

// X509_verify_cert with the CA as the only trust anchor, the way `openssl verify -x509_strict
// -purpose <purpose> [-crl_check]` runs; the verify error code (X509_V_OK on success).
int VerifyChain(
    const std::string& cert_pem,
    const std::string& ca_pem,
    int purpose,
    const std::string& crl_pem = {}
) {
    const StorePtr store(X509_STORE_new());
    const X509Ptr ca = Cert(ca_pem);
    const X509Ptr cert = Cert(cert_pem);
    EXPECT_TRUE(ca && cert);
    X509_STORE_add_cert(store.get(), ca.get());
    unsigned long flags = X509_V_FLAG_X509_STRICT;
    if (!crl_pem.empty()) {
        const CrlPtr crl = Crl(crl_pem);
        EXPECT_TRUE(crl);
        X509_STORE_add_crl(store.get(), crl.get());
        flags |= X509_V_FLAG_CRL_CHECK;
    }
    X509_STORE_set_flags(store.get(), flags);
    const StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    X509_STORE_CTX_set_purpose(ctx.get(), purpose);
    if (X509_verify_cert(ctx.get()) == 1) {
        return X509_V_OK;
    }
    return X509_STORE_CTX_get_error(ctx.get());
}

bool HasCriticalExtension(X509* cert, int nid) {
    const int index = X509_get_ext_by_NID(cert, nid, -1);
    return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class Pki : public ::testing::Test {
protected:
    TempDir dir_;
    std::unique_ptr<CertificateAuthority> ca_ =
        CertificateAuthority::LoadOrCreate(dir_.path() / "ca");
};

TEST_F(Pki, CreatesTheCaThenReloadsTheSameCertificateWithAKeyOnlyTheOwnerCanRead) {
    const fs::path key_path = dir_.path() / "ca" / "ca.key";
    ASSERT_TRUE(fs::exists(key_path));
    EXPECT_EQ(fs::status(key_path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(ReadFile(dir_.path() / "ca" / "ca.pem"), ca_->CertPem());

    const auto reloaded = CertificateAuthority::LoadOrCreate(dir_.path() / "ca");
    EXPECT_EQ(reloaded->CertPem(), ca_->CertPem());
    // Certificates from the reloaded CA chain to the original certificate.
    const std::string node = reloaded->IssueNodeCert("node-1").cert_pem;
    EXPECT_EQ(VerifyChain(node, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(Pki, CaCertificateIsASelfSignedP256CaForThirtyYears) {
    const X509Ptr cert = Cert(ca_->CertPem());
    ASSERT_TRUE(cert);
    const std::optional<CertInfo> info = InspectCertificate(ca_->CertPem());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->common_name, "rainmaker-server CA");
    EXPECT_EQ(X509_check_ca(cert.get()), 1);
    EXPECT_TRUE(HasCriticalExtension(cert.get(), NID_basic_constraints));
    EXPECT_EQ(X509_get_key_usage(cert.get()), std::uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN});
    EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 256);
    EXPECT_TRUE(EVP_PKEY_is_a(X509_get0_pubkey(cert.get()), "EC"));
    EXPECT_TRUE(IsIssuedBy(ca_->CertPem(), ca_->CertPem()));
    EXPECT_EQ(VerifyChain(ca_->CertPem(), ca_->CertPem(), X509_PURPOSE_ANY), X509_V_OK);
    const std::int64_t now = std::time(nullptr);
    EXPECT_GT(info->not_after, now + std::int64_t{29} * 365 * 24 * 3600);
    EXPECT_LT(info->not_after, now + std::int64_t{31} * 365 * 24 * 3600);
}

TEST_F(Pki, RecreatesAMissingCaCertificateFromTheExistingKey) {
    const std::string old_node = ca_->IssueNodeCert("node-1").cert_pem;
    fs::remove(dir_.path() / "ca" / "ca.pem");
    const auto reloaded = CertificateAuthority::LoadOrCreate(dir_.path() / "ca");
    EXPECT_NE(reloaded->CertPem(), ca_->CertPem());
    EXPECT_EQ(VerifyChain(old_node, reloaded->CertPem(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(Pki, RefusesACaCertificateThatDoesNotBelongToTheKey) {
    TempDir other;
    const auto other_ca = CertificateAuthority::LoadOrCreate(other.path());
    {
        std::ofstream out(dir_.path() / "ca" / "ca.pem", std::ios::trunc);
        out << other_ca->CertPem();
    }
    EXPECT_THROW(CertificateAuthority::LoadOrCreate(dir_.path() / "ca"), std::runtime_error);
}

TEST_F(Pki, RefusesAKeyFileThatHoldsNoKey) {
    TempDir other;
    {
        std::ofstream out(other.path() / "ca.key");
        out << "not a key";
    }
    EXPECT_THROW(CertificateAuthority::LoadOrCreate(other.path()), std::runtime_error);
}

TEST_F(Pki, ServerCertificateVerifiesAgainstTheCaAndCarriesTheSansAndServerAuth) {
    const KeyAndCert server = ca_->IssueServerCert(
        "mqtt.example.com", {"mqtt.example.com", "localhost"}, {"127.0.0.1", "::1"}
    );
    EXPECT_EQ(VerifyChain(server.cert_pem, ca_->CertPem(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
    const X509Ptr cert = Cert(server.cert_pem);
    ASSERT_TRUE(cert);
    EXPECT_EQ(X509_check_host(cert.get(), "mqtt.example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert.get(), "other.example.com", 0, 0, nullptr), 0);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.1", 0), 0);
    EXPECT_EQ(X509_get_extended_key_usage(cert.get()), std::uint32_t{XKU_SSL_SERVER});
    EXPECT_EQ(X509_check_ca(cert.get()), 0);
    const PkeyPtr key = PrivateKey(server.key_pem);
    ASSERT_TRUE(key);
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
    EXPECT_EQ(InspectCertificate(server.cert_pem)->common_name, "mqtt.example.com");
    const std::int64_t now = std::time(nullptr);
    EXPECT_GT(InspectCertificate(server.cert_pem)->not_after, now + std::int64_t{9} * 365 * 86400);
}

TEST_F(Pki, ServerCertificateRefusesNamesThatCouldInjectOtherEntries) {
    EXPECT_THROW(
        ca_->IssueServerCert("x", {"a.example,DNS:evil.example"}, {}), std::invalid_argument
    );
    EXPECT_THROW(ca_->IssueServerCert("x", {""}, {}), std::invalid_argument);
    EXPECT_THROW(ca_->IssueServerCert("x", {}, {"1.2.3.4,DNS:evil"}), std::invalid_argument);
    EXPECT_THROW(ca_->IssueServerCert("x", {}, {"999.1.1.1"}), std::invalid_argument);
    EXPECT_THROW(ca_->IssueServerCert("", {"a"}, {}), std::invalid_argument);
    EXPECT_THROW(ca_->IssueServerCert(std::string(65, 'a'), {}, {}), std::invalid_argument);
}

TEST_F(Pki, NodeCertificateFromEcAndRsaCsrsForcesTheNodeIdAndClientAuthUntil2049) {
    for (const KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
        SCOPED_TRACE(type == KeyType::kEcP256 ? "EC" : "RSA");
        const KeyAndCsr csr = MakeKeyAndCsr("attacker-chosen-name", type);
        const std::string pem = ca_->SignNodeCsr(csr.csr_pem, "AbCdEf0123456789");
        EXPECT_LT(pem.size(), 3072U);
        EXPECT_EQ(VerifyChain(pem, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
        EXPECT_TRUE(IsIssuedBy(pem, ca_->CertPem()));

        const X509Ptr cert = Cert(pem);
        ASSERT_TRUE(cert);
        const X509_NAME* subject = X509_get_subject_name(cert.get());
        EXPECT_EQ(X509_NAME_entry_count(subject), 1);
        EXPECT_EQ(InspectCertificate(pem)->common_name, "AbCdEf0123456789");
        EXPECT_EQ(InspectCertificate(pem)->not_after, kNodeNotAfter);
        EXPECT_EQ(X509_get_extended_key_usage(cert.get()), std::uint32_t{XKU_SSL_CLIENT});
        EXPECT_EQ(X509_get_key_usage(cert.get()), std::uint32_t{KU_DIGITAL_SIGNATURE});
        EXPECT_TRUE(HasCriticalExtension(cert.get(), NID_key_usage));
        EXPECT_EQ(X509_check_ca(cert.get()), 0);
        EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
        // The certificate is for the CSR's key.
        const PkeyPtr key = PrivateKey(csr.key_pem);
        ASSERT_TRUE(key);
        EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
    }
}

TEST_F(Pki, NodeCertificatesGetDistinctPositive128BitSerials) {
    std::set<std::string> serials;
    for (int i = 0; i < 20; ++i) {
        const X509Ptr cert = Cert(ca_->IssueNodeCert("node").cert_pem);
        const BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
        EXPECT_EQ(BN_is_negative(serial.get()), 0);
        EXPECT_EQ(BN_is_zero(serial.get()), 0);
        EXPECT_LE(BN_num_bits(serial.get()), 128);
        serials.insert(InspectCertificate(ca_->IssueNodeCert("node").cert_pem)->serial_hex);
    }
    EXPECT_EQ(serials.size(), 20U);
}

TEST_F(Pki, RefusesCsrsWithABrokenSignatureOrAnUnacceptableKeyAndGarbage) {
    const KeyAndCsr ec = MakeKeyAndCsr("node");
    EXPECT_THROW(ca_->SignNodeCsr(WithLastByteFlipped(ec.csr_pem), "node"), std::invalid_argument);
    EXPECT_THROW(ca_->SignNodeCsr("garbage", "node"), std::invalid_argument);
    EXPECT_THROW(ca_->SignNodeCsr("", "node"), std::invalid_argument);
    EXPECT_THROW(ca_->SignNodeCsr(ca_->CertPem(), "node"), std::invalid_argument);
    EXPECT_THROW(ca_->SignNodeCsr(ec.csr_pem, ""), std::invalid_argument);
    EXPECT_THROW(ca_->SignNodeCsr(ec.csr_pem, std::string(65, 'n')), std::invalid_argument);

    const PkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    EXPECT_THROW(ca_->SignNodeCsr(CsrFor(p384.get(), "node"), "node"), std::invalid_argument);
    const PkeyPtr rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
    EXPECT_THROW(ca_->SignNodeCsr(CsrFor(rsa1024.get(), "node"), "node"), std::invalid_argument);
    const PkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    const ReqPtr ed_req(X509_REQ_new());
    X509_REQ_set_pubkey(ed_req.get(), ed25519.get());
    X509_REQ_sign(ed_req.get(), ed25519.get(), nullptr);
    EXPECT_THROW(ca_->SignNodeCsr(CsrPem(ed_req.get()), "node"), std::invalid_argument);
    // A well-formed CSR from a key we did not generate is fine.
    const PkeyPtr p256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EXPECT_NO_THROW(ca_->SignNodeCsr(CsrFor(p256.get(), "whatever"), "node"));
}

TEST_F(Pki, IssuedNodeKeyMatchesItsCertificate) {
    for (const KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
        const KeyAndCert node = ca_->IssueNodeCert("node-42", type);
        const X509Ptr cert = Cert(node.cert_pem);
        const PkeyPtr key = PrivateKey(node.key_pem);
        ASSERT_TRUE(cert && key);
        EXPECT_NE(node.key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
        EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
        EXPECT_EQ(EVP_PKEY_is_a(key.get(), type == KeyType::kEcP256 ? "EC" : "RSA"), 1);
        EXPECT_EQ(VerifyChain(node.cert_pem, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
        EXPECT_TRUE(VerifyNodeSignature(node.cert_pem, "hi", SignAsNode(node.key_pem, "hi")));
    }
}

TEST_F(Pki, CrlListsTheRevokedSerialsAndRevokesThoseCertificates) {
    const std::string revoked = ca_->IssueNodeCert("revoked").cert_pem;
    const std::string kept = ca_->IssueNodeCert("kept").cert_pem;
    const std::string revoked_serial = InspectCertificate(revoked)->serial_hex;
    std::string upper = revoked_serial;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    const std::string crl_pem = ca_->MakeCrl({"0a", upper});

    const CrlPtr crl = Crl(crl_pem);
    ASSERT_TRUE(crl);
    const X509Ptr ca_cert = Cert(ca_->CertPem());
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca_cert.get())), 1);
    const STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
    ASSERT_EQ(sk_X509_REVOKED_num(entries), 2);
    std::set<std::string> listed;
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        const ASN1_INTEGER* serial =
            X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i));
        const BignumPtr value(ASN1_INTEGER_to_BN(serial, nullptr));
        char* hex = BN_bn2hex(value.get());
        std::string text(hex);
        OPENSSL_free(hex);
        std::transform(text.begin(), text.end(), text.begin(), ::tolower);
        listed.insert(text);
    }
    EXPECT_EQ(listed, (std::set<std::string>{"0a", revoked_serial}));

    EXPECT_EQ(
        VerifyChain(revoked, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT, crl_pem),
        X509_V_ERR_CERT_REVOKED
    );
    EXPECT_EQ(VerifyChain(kept, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT, crl_pem), X509_V_OK);
}

TEST_F(Pki, EmptyCrlIsValidForTenYears) {
    const std::string crl_pem = ca_->MakeCrl({});
    const CrlPtr crl = Crl(crl_pem);
    ASSERT_TRUE(crl);
    const X509Ptr ca_cert = Cert(ca_->CertPem());
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca_cert.get())), 1);
    // revokedCertificates is omitted when empty (RFC 5280 §5.1.2.6), so no stack at all.
    EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 0);
    int days = 0;
    int seconds = 0;
    ASSERT_EQ(
        ASN1_TIME_diff(
            &days,
            &seconds,
            X509_CRL_get0_lastUpdate(crl.get()),
            X509_CRL_get0_nextUpdate(crl.get())
        ),
        1
    );
    EXPECT_GE(days, 3650);
    const std::string node = ca_->IssueNodeCert("node").cert_pem;
    EXPECT_EQ(VerifyChain(node, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT, crl_pem), X509_V_OK);
}

TEST_F(Pki, CrlRefusesSerialsThatAreNotHex) {
    EXPECT_THROW(ca_->MakeCrl({""}), std::invalid_argument);
    EXPECT_THROW(ca_->MakeCrl({"xyz"}), std::invalid_argument);
    EXPECT_THROW(ca_->MakeCrl({"-01"}), std::invalid_argument);
    EXPECT_THROW(ca_->MakeCrl({std::string(41, '1')}), std::invalid_argument);
}

TEST_F(Pki, NodeSignatureVerifiesOnlyForTheSameMessageKeyAndBytes) {
    for (const KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
        SCOPED_TRACE(type == KeyType::kEcP256 ? "EC" : "RSA");
        const KeyAndCert node = ca_->IssueNodeCert("node", type);
        const KeyAndCert other = ca_->IssueNodeCert("node", type);
        const std::string challenge = "c2f1f5b1-8e8c-4bb4-a4b0-1b2e3c4d5e6f";
        const std::string signature = SignAsNode(node.key_pem, challenge);

        EXPECT_TRUE(VerifyNodeSignature(node.cert_pem, challenge, signature));
        EXPECT_FALSE(VerifyNodeSignature(node.cert_pem, challenge + "x", signature));
        EXPECT_FALSE(VerifyNodeSignature(other.cert_pem, challenge, signature));
        for (const std::size_t at : {std::size_t{0}, signature.size() / 2, signature.size() - 1}) {
            std::string flipped = signature;
            flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
            EXPECT_FALSE(VerifyNodeSignature(node.cert_pem, challenge, flipped));
        }
        EXPECT_FALSE(VerifyNodeSignature(node.cert_pem, challenge, ""));
        EXPECT_FALSE(VerifyNodeSignature(node.cert_pem, challenge, "garbage"));
        EXPECT_FALSE(VerifyNodeSignature(node.cert_pem, challenge, signature + "x"));
        EXPECT_FALSE(VerifyNodeSignature("garbage", challenge, signature));
        EXPECT_FALSE(VerifyNodeSignature("", challenge, signature));
        EXPECT_FALSE(VerifyNodeSignature(node.key_pem, challenge, signature));
        EXPECT_TRUE(VerifyNodeSignature(node.cert_pem, "", SignAsNode(node.key_pem, "")));
    }
}

// Signs like firmware might: RSA with a given padding and salt length, over SHA-256(message).
std::string SignRsa(const std::string& key_pem, const std::string& message, int padding, int salt) {
    const PkeyPtr key = PrivateKey(key_pem);
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get());
    EVP_PKEY_CTX_set_rsa_padding(pctx, padding);
    if (padding == RSA_PKCS1_PSS_PADDING) {
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt);
    }
    std::string signature(static_cast<std::size_t>(EVP_PKEY_get_size(key.get())), '\0');
    std::size_t size = signature.size();
    EVP_DigestSign(
        ctx.get(),
        reinterpret_cast<unsigned char*>(signature.data()),
        &size,
        reinterpret_cast<const unsigned char*>(message.data()),
        message.size()
    );
    signature.resize(size);
    return signature;
}

TEST_F(Pki, RsaNodeSignatureVerifiesWithAnyPssSaltLengthButNotPkcs1) {
    const KeyAndCert node = ca_->IssueNodeCert("node", KeyType::kRsa2048);
    for (const int salt : {0, 20, 32, RSA_PSS_SALTLEN_MAX}) {
        EXPECT_TRUE(VerifyNodeSignature(
            node.cert_pem,
            "challenge",
            SignRsa(node.key_pem, "challenge", RSA_PKCS1_PSS_PADDING, salt)
        )) << salt;
    }
    EXPECT_FALSE(VerifyNodeSignature(
        node.cert_pem, "challenge", SignRsa(node.key_pem, "challenge", RSA_PKCS1_PADDING, 0)
    ));
}

TEST_F(Pki, SignAsNodeRefusesABadKey) {
    EXPECT_THROW(SignAsNode("garbage", "m"), std::invalid_argument);
    EXPECT_THROW(SignAsNode("", "m"), std::invalid_argument);
    EXPECT_THROW(SignAsNode(ca_->CertPem(), "m"), std::invalid_argument);
}

TEST_F(Pki, InspectCertificateReadsSerialNameFingerprintKeyAndExpiry) {
    const KeyAndCert node = ca_->IssueNodeCert("node-7");
    const std::optional<CertInfo> info = InspectCertificate(node.cert_pem);
    ASSERT_TRUE(info);
    const X509Ptr cert = Cert(node.cert_pem);

    const BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
    char* hex = BN_bn2hex(serial.get());
    std::string expected_serial(hex);
    OPENSSL_free(hex);
    std::transform(
        expected_serial.begin(), expected_serial.end(), expected_serial.begin(), ::tolower
    );
    EXPECT_EQ(info->serial_hex, expected_serial);
    EXPECT_EQ(info->common_name, "node-7");
    EXPECT_EQ(info->not_after, kNodeNotAfter);

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    X509_digest(cert.get(), EVP_sha256(), digest.data(), &digest_size);
    ASSERT_EQ(digest_size, 32U);
    std::string fingerprint;
    for (unsigned int i = 0; i < digest_size; ++i) {
        constexpr std::string_view kHex = "0123456789abcdef";
        fingerprint += kHex[digest[i] >> 4];
        fingerprint += kHex[digest[i] & 0xF];
    }
    EXPECT_EQ(info->fingerprint_sha256_hex, fingerprint);

    EXPECT_EQ(info->public_key_pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0U);
    const PkeyPtr public_key(
        PEM_read_bio_PUBKEY(Bio(info->public_key_pem).get(), nullptr, nullptr, nullptr)
    );
    const PkeyPtr private_key = PrivateKey(node.key_pem);
    ASSERT_TRUE(public_key && private_key);
    EXPECT_EQ(EVP_PKEY_eq(public_key.get(), private_key.get()), 1);
}

TEST_F(Pki, InspectCertificateReturnsNothingForNonCertificates) {
    EXPECT_FALSE(InspectCertificate(""));
    EXPECT_FALSE(InspectCertificate("garbage"));
    EXPECT_FALSE(InspectCertificate(MakeKeyAndCsr("node").csr_pem));
    EXPECT_FALSE(IsIssuedBy("garbage", ca_->CertPem()));
    EXPECT_FALSE(IsIssuedBy(ca_->CertPem(), "garbage"));
}

TEST_F(Pki, IsIssuedByTellsCasApart) {
    TempDir other;
    const auto other_ca = CertificateAuthority::LoadOrCreate(other.path());
    const std::string node = ca_->IssueNodeCert("node").cert_pem;
    EXPECT_TRUE(IsIssuedBy(node, ca_->CertPem()));
    EXPECT_FALSE(IsIssuedBy(node, other_ca->CertPem()));
    EXPECT_FALSE(IsIssuedBy(WithLastByteFlipped(node), ca_->CertPem()));
}

// Found by fuzz/csr_fuzz: a CN that OpenSSL cannot convert to UTF-8 made CsrCommonName throw
// std::runtime_error, which /claim/verify answered with a 500 instead of refusing the CSR.
TEST(CsrCommonName, IsAbsentWhenTheCommonNameIsNotConvertibleText) {
    const PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    ASSERT_TRUE(key);
    const ReqPtr req(X509_REQ_new());
    // Tag 8 (EXTERNAL) parses as a name value but is no string type (the fuzzer's CSR had it).
    const unsigned char text[] = {'n', 'o', 'd', 'e'};
    ASSERT_EQ(
        X509_NAME_add_entry_by_NID(
            X509_REQ_get_subject_name(req.get()), NID_commonName, V_ASN1_EXTERNAL, text, 4, -1, 0
        ),
        1
    );
    X509_REQ_set_pubkey(req.get(), key.get());
    X509_REQ_sign(req.get(), key.get(), EVP_sha256());
    const std::string pem = CsrPem(req.get());
    ASSERT_FALSE(pem.empty());
    EXPECT_FALSE(CsrCommonName(pem));
    EXPECT_EQ(CsrCommonName(CsrFor(key.get(), "node-1")), "node-1");
}

TEST(MakeKeyAndCsr, ProducesASelfSignedCsrWithTheCommonNameAndKeyType) {
    for (const KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
        const KeyAndCsr csr = MakeKeyAndCsr("AABBCCDDEEFF", type);
        const ReqPtr req(PEM_read_bio_X509_REQ(Bio(csr.csr_pem).get(), nullptr, nullptr, nullptr));
        ASSERT_TRUE(req);
        EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
        EXPECT_EQ(X509_REQ_verify(req.get(), key), 1);
        EXPECT_EQ(EVP_PKEY_get_bits(key), type == KeyType::kEcP256 ? 256 : 2048);
        std::array<char, 128> cn{};
        X509_NAME_get_text_by_NID(
            X509_REQ_get_subject_name(req.get()), NID_commonName, cn.data(), cn.size()
        );
        EXPECT_STREQ(cn.data(), "AABBCCDDEEFF");
        const PkeyPtr private_key = PrivateKey(csr.key_pem);
        ASSERT_TRUE(private_key);
        EXPECT_EQ(EVP_PKEY_eq(key, private_key.get()), 1);
    }
    EXPECT_THROW(MakeKeyAndCsr(""), std::invalid_argument);
    EXPECT_THROW(MakeKeyAndCsr(std::string(65, 'a')), std::invalid_argument);
}

TEST_F(Pki, SignsCsrsFromSeveralThreadsAtOnce) {
    std::vector<KeyAndCsr> csrs;
    csrs.reserve(4);
    for (int i = 0; i < 4; ++i) {
        csrs.push_back(MakeKeyAndCsr("node"));
    }
    std::vector<std::string> issued(csrs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < csrs.size(); ++i) {
        threads.emplace_back([&, i] {
            for (int round = 0; round < 10; ++round) {
                issued[i] = ca_->SignNodeCsr(csrs[i].csr_pem, "node-" + std::to_string(i));
                ca_->MakeCrl({"01"});
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (const std::string& pem : issued) {
        EXPECT_EQ(VerifyChain(pem, ca_->CertPem(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    }
}

}  // namespace
}  // namespace rainmaker::crypto

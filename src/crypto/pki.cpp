// X.509 issuing and checking with OpenSSL 3's EVP and X509 interfaces, kept in one place so that
// claiming, the broker setup and challenge-response mapping agree on every certificate detail.
#include "crypto/pki.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <ctime>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <system_error>

#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

constexpr std::size_t kMaxCommonNameBytes = 64;  // ub-common-name (RFC 5280)
constexpr int kMinRsaBits = 2048;
// Larger keys buy nothing on an ESP32, cost verification time and grow the 3 KB response.
constexpr int kMaxRsaBits = 4096;
constexpr std::size_t kRsaKeygenBits = 2048;  // KeyType::kRsa2048
constexpr int kSerialBits = 128;
constexpr std::size_t kMaxSerialHexDigits = 40;  // 20 octets (RFC 5280 §4.1.2.2)
// Certificates start an hour early, like Let's Encrypt's, so a verifier whose clock runs a
// little behind ours does not reject a certificate issued a moment ago.
constexpr long kBackdateSeconds = 3600;
constexpr int kCaYears = 30;
constexpr int kServerYears = 10;
constexpr int kCrlYears = 10;
// 2049-12-31T23:59:59Z, the last UTCTime instant; the real cloud's node certificates end there.
constexpr const char* kNodeNotAfter = "491231235959Z";
constexpr const char* kCaCommonName = "rainmaker-server CA";
constexpr const char* kKeyNoun = "CA key";
constexpr const char* kCertNoun = "CA certificate";

void FreeOpenSslMemory(void* p) {
    OPENSSL_free(p);
}

using detail::BignumPtr;
using detail::BioPtr;
using detail::Bytes;
using detail::IsP256;
using detail::MdCtxPtr;
using detail::NoPassphrase;
using detail::OpenSslDeleter;
using detail::ParsePrivateKey;
using detail::PkeyPtr;
using detail::ReadBio;
using detail::ReadSmallFile;
using detail::SecretText;
using detail::ThrowOpenSsl;
using detail::WriteFileIfAbsent;
using detail::WriteToString;

using detail::ReqPtr;
using detail::X509Ptr;
using CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, OpenSslDeleter<X509_REVOKED_free>>;
using detail::ExtensionPtr;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;
using Asn1OctetsPtr = std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME_free>>;
using OpenSslTextPtr = std::unique_ptr<char, OpenSslDeleter<FreeOpenSslMemory>>;

[[noreturn]] void ThrowInvalid(const std::string& what) {
    ERR_clear_error();
    throw std::invalid_argument(what);
}

std::string ToLower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

// ---- PEM in and out ------------------------------------------------------------------------

// The first object of its kind in `pem`, or null (never throws).
X509Ptr ParseCert(std::string_view pem) {
    const BioPtr bio = ReadBio(pem);
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
}

ReqPtr ParseCsr(std::string_view pem) {
    const BioPtr bio = ReadBio(pem);
    return ReqPtr(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
}

std::string CertToPem(X509* cert) {
    return WriteToString([&](BIO* b) { return PEM_write_bio_X509(b, cert); }, "cannot write PEM");
}

// PKCS#8 ("BEGIN PRIVATE KEY").
std::string PrivateKeyToPem(EVP_PKEY* key) {
    return detail::PrivateKeyToPem(key, "cannot write the private key");
}

// ---- Keys ----------------------------------------------------------------------------------

PkeyPtr GenerateKey(KeyType type) {
    EVP_PKEY* key = type == KeyType::kRsa2048
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kRsaKeygenBits)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (key == nullptr) {
        ThrowOpenSsl("cannot generate a key");
    }
    return PkeyPtr(key);
}

bool IsAcceptedNodeKey(const EVP_PKEY* key) {
    if (IsP256(key)) {
        return true;
    }
    const int bits = EVP_PKEY_get_bits(key);
    return EVP_PKEY_is_a(key, "RSA") == 1 && bits >= kMinRsaBits && bits <= kMaxRsaBits;
}

// Starts a SHA-256 sign or verify operation; for RSA keys selects PSS with MGF1-SHA-256 and
// `salt_length`. False when the key is neither EC nor RSA or OpenSSL refuses.
bool InitDigest(EVP_MD_CTX* ctx, EVP_PKEY* key, bool sign, int salt_length) {
    const bool rsa = EVP_PKEY_is_a(key, "RSA") == 1;
    if (!rsa && EVP_PKEY_is_a(key, "EC") != 1) {
        return false;
    }
    EVP_PKEY_CTX* pctx = nullptr;
    const int started = sign ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key)
                             : EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key);
    return started == 1 &&
           (!rsa || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_length) == 1));
}

// ---- Certificates --------------------------------------------------------------------------

void CheckCommonName(std::string_view cn, const char* what) {
    if (cn.empty() || cn.size() > kMaxCommonNameBytes) {
        ThrowInvalid(std::string(what) + " must be 1 to 64 bytes");
    }
}

void SetCommonName(X509_NAME* name, std::string_view cn, const char* what) {
    CheckCommonName(cn, what);
    if (X509_NAME_add_entry_by_NID(
            name, NID_commonName, MBSTRING_UTF8, Bytes(cn), static_cast<int>(cn.size()), -1, 0
        ) != 1) {
        ThrowInvalid(std::string(what) + " is not a valid UTF-8 common name");
    }
}

Asn1TimePtr TimeFromNow(int days, long seconds) {
    Asn1TimePtr time(X509_time_adj_ex(nullptr, days, seconds, nullptr));
    if (!time) {
        ThrowOpenSsl("cannot compute a certificate time");
    }
    return time;
}

int YearsInDays(int years) {
    return years * 365 + years / 4;  // leap days
}

std::int64_t UnixSeconds(const ASN1_TIME* time) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(time, &tm) != 1) {
        ThrowOpenSsl("cannot read a certificate time");
    }
    return static_cast<std::int64_t>(::timegm(&tm));
}

// A v3 certificate for `key` with subject CN=cn, issued by `issuer` (null: self-issued), a
// random positive 128-bit serial, and notBefore an hour ago. The caller sets notAfter, adds
// the extensions and signs.
X509Ptr NewCertificate(EVP_PKEY* key, std::string_view cn, const char* what, X509* issuer) {
    X509Ptr cert(X509_new());
    const BignumPtr serial(BN_new());
    if (!cert || !serial || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        ThrowOpenSsl("cannot create a certificate");
    }
    do {
        if (BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
            ThrowOpenSsl("cannot draw a serial number");
        }
    } while (BN_is_zero(serial.get()) == 1);
    SetCommonName(X509_get_subject_name(cert.get()), cn, what);
    const X509_NAME* issuer_name = X509_get_subject_name(issuer != nullptr ? issuer : cert.get());
    if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
        X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
        X509_set1_notBefore(cert.get(), TimeFromNow(0, -kBackdateSeconds).get()) != 1 ||
        X509_set_pubkey(cert.get(), key) != 1) {
        ThrowOpenSsl("cannot fill in a certificate");
    }
    return cert;
}

void SetNotAfterYears(X509* cert, int years) {
    if (X509_set1_notAfter(cert, TimeFromNow(YearsInDays(years), 0).get()) != 1) {
        ThrowOpenSsl("cannot set the certificate's notAfter");
    }
}

// Adds the extension `nid` written in openssl.cnf syntax (`value`); `issuer` null means
// self-signed (authorityKeyIdentifier then refers to the certificate's own key).
void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx{};
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    const ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        ThrowOpenSsl(std::string("cannot add certificate extension ") + OBJ_nid2sn(nid));
    }
}

// basicConstraints, keyUsage and the key identifiers every leaf carries, plus `eku`.
void AddLeafExtensions(X509* cert, X509* issuer, const char* eku) {
    AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert, issuer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert, issuer, NID_ext_key_usage, eku);
    AddExtension(cert, issuer, NID_subject_key_identifier, "hash");
    AddExtension(cert, issuer, NID_authority_key_identifier, "keyid:always");
}

void SignCertificate(X509* cert, EVP_PKEY* key) {
    if (X509_sign(cert, key, EVP_sha256()) <= 0) {
        ThrowOpenSsl("cannot sign a certificate");
    }
}

X509Ptr MakeCaCertificate(EVP_PKEY* key) {
    X509Ptr cert = NewCertificate(key, kCaCommonName, "CA name", nullptr);
    SetNotAfterYears(cert.get(), kCaYears);
    AddExtension(cert.get(), nullptr, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert.get(), nullptr, NID_subject_key_identifier, "hash");
    AddExtension(cert.get(), nullptr, NID_authority_key_identifier, "keyid:always");
    SignCertificate(cert.get(), key);
    return cert;
}

bool IsDnsName(std::string_view name) {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '*';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// The subjectAltName value in openssl.cnf syntax. Every entry is validated first, so no entry
// can smuggle in a ',' and add names of its own.
std::string SubjectAltNames(
    const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses
) {
    std::string value;
    for (const std::string& name : dns_names) {
        if (!IsDnsName(name)) {
            ThrowInvalid("not a DNS name: " + name);
        }
        value += (value.empty() ? "DNS:" : ",DNS:") + name;
    }
    for (const std::string& ip : ip_addresses) {
        const Asn1OctetsPtr parsed(a2i_IPADDRESS(ip.c_str()));
        if (!parsed || ip.find(',') != std::string::npos) {
            ThrowInvalid("not an IP address: " + ip);
        }
        value += (value.empty() ? "IP:" : ",IP:") + ip;
    }
    return value;
}

// Lower-case hex of an ASN1 INTEGER's magnitude.
std::string IntegerHex(const ASN1_INTEGER* integer) {
    const BignumPtr value(ASN1_INTEGER_to_BN(integer, nullptr));
    const OpenSslTextPtr hex(value ? BN_bn2hex(value.get()) : nullptr);
    if (!hex) {
        ThrowOpenSsl("cannot read a serial number");
    }
    return ToLower(hex.get());
}

std::string CommonName(X509_NAME* name) {
    const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) {
        return {};
    }
    unsigned char* raw = nullptr;
    const int length =
        ASN1_STRING_to_UTF8(&raw, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
    const OpenSslTextPtr text(reinterpret_cast<char*>(raw));
    if (length < 0) {
        ThrowOpenSsl("cannot read the common name");
    }
    return {text.get(), static_cast<std::size_t>(length)};
}

std::string CertDer(X509* cert) {
    const int size = i2d_X509(cert, nullptr);
    if (size <= 0) {
        ThrowOpenSsl("cannot encode a certificate");
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* cursor = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_X509(cert, &cursor) != size) {
        ThrowOpenSsl("cannot encode a certificate");
    }
    return der;
}

}  // namespace

// ---- CertificateAuthority ------------------------------------------------------------------

struct CertificateAuthority::State {
    PkeyPtr key;
    X509Ptr cert;
    std::string cert_pem;

    // The node certificate for `node_key` (shared by SignNodeCsr and IssueNodeCert).
    std::string IssueNodeCert(EVP_PKEY* node_key, std::string_view node_id) const {
        X509Ptr leaf = NewCertificate(node_key, node_id, "node_id", cert.get());
        if (ASN1_TIME_set_string_X509(X509_getm_notAfter(leaf.get()), kNodeNotAfter) != 1) {
            ThrowOpenSsl("cannot set the node certificate's notAfter");
        }
        AddLeafExtensions(leaf.get(), cert.get(), "clientAuth");
        SignCertificate(leaf.get(), key.get());
        return CertToPem(leaf.get());
    }
};

std::unique_ptr<CertificateAuthority> CertificateAuthority::LoadOrCreate(
    const std::filesystem::path& dir
) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw std::runtime_error(
            "cannot create CA directory " + dir.string() + ": " + ec.message()
        );
    }
    const std::filesystem::path key_path = dir / "ca.key";
    const std::filesystem::path cert_path = dir / "ca.pem";

    auto state = std::make_unique<State>();
    SecretText key_pem;
    if (!ReadSmallFile(key_path, key_pem.value, kKeyNoun, true)) {
        PkeyPtr generated = GenerateKey(KeyType::kEcP256);
        key_pem.value = PrivateKeyToPem(generated.get());
        if (WriteFileIfAbsent(key_path, key_pem.value, 0600, kKeyNoun)) {
            core::log::Info("generated a new CA key in " + key_path.string());
            state->key = std::move(generated);
        } else {  // another process created it between our read and our write: use theirs
            key_pem.Clear();
            if (!ReadSmallFile(key_path, key_pem.value, kKeyNoun, true)) {
                throw std::runtime_error("CA key disappeared: " + key_path.string());
            }
        }
    }
    if (!state->key) {
        state->key = ParsePrivateKey(key_pem.value);
        if (!state->key) {
            ThrowOpenSsl("CA key file holds no unencrypted PEM private key: " + key_path.string());
        }
    }

    const auto load_cert = [&] {
        if (!ReadSmallFile(cert_path, state->cert_pem, kCertNoun, false)) {
            return false;
        }
        state->cert = ParseCert(state->cert_pem);
        if (!state->cert) {
            ThrowOpenSsl("CA certificate file holds no PEM certificate: " + cert_path.string());
        }
        if (X509_check_private_key(state->cert.get(), state->key.get()) != 1) {
            ThrowOpenSsl("CA certificate " + cert_path.string() + " does not match the CA key");
        }
        state->cert_pem = CertToPem(state->cert.get());  // just the certificate, normalised
        return true;
    };
    if (!load_cert()) {
        X509Ptr created = MakeCaCertificate(state->key.get());
        const std::string pem = CertToPem(created.get());
        if (WriteFileIfAbsent(cert_path, pem, 0644, kCertNoun)) {
            core::log::Info("created the CA certificate " + cert_path.string());
            state->cert = std::move(created);
            state->cert_pem = pem;
        } else if (!load_cert()) {
            throw std::runtime_error("CA certificate disappeared: " + cert_path.string());
        }
    }
    return std::unique_ptr<CertificateAuthority>(new CertificateAuthority(std::move(state)));
}

CertificateAuthority::CertificateAuthority(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

CertificateAuthority::~CertificateAuthority() = default;

const std::string& CertificateAuthority::CertPem() const {
    return state_->cert_pem;
}

KeyAndCert CertificateAuthority::IssueServerCert(
    std::string_view common_name,
    const std::vector<std::string>& dns_names,
    const std::vector<std::string>& ip_addresses
) const {
    const std::string san = SubjectAltNames(dns_names, ip_addresses);
    const PkeyPtr key = GenerateKey(KeyType::kEcP256);
    X509Ptr cert = NewCertificate(key.get(), common_name, "server name", state_->cert.get());
    SetNotAfterYears(cert.get(), kServerYears);
    AddLeafExtensions(cert.get(), state_->cert.get(), "serverAuth");
    if (!san.empty()) {
        AddExtension(cert.get(), state_->cert.get(), NID_subject_alt_name, san.c_str());
    }
    SignCertificate(cert.get(), state_->key.get());
    return {PrivateKeyToPem(key.get()), CertToPem(cert.get())};
}

KeyAndCert CertificateAuthority::IssueServerCertFor(const std::string& host) const {
    std::vector<std::string> dns = {"localhost"};
    std::vector<std::string> ips = {"127.0.0.1", "::1"};
    if (!host.empty() && host != "localhost") {
        auto& list = IsIpAddress(host) ? ips : dns;
        if (std::find(list.begin(), list.end(), host) == list.end()) {
            list.push_back(host);
        }
    }
    constexpr std::size_t kMaxCommonName = 64;
    const bool fits = !host.empty() && host.size() <= kMaxCommonName;
    return IssueServerCert(fits ? host : "rainmaker-server", dns, ips);
}

bool IsIpAddress(const std::string& host) {
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string CertificateAuthority::SignNodeCsr(std::string_view csr_pem, std::string_view node_id)
    const {
    CheckCommonName(node_id, "node_id");
    const ReqPtr csr = ParseCsr(csr_pem);
    if (!csr) {
        ThrowInvalid("not a PEM certificate request");
    }
    EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
    if (key == nullptr || !IsAcceptedNodeKey(key)) {
        ThrowInvalid("CSR key is neither EC P-256 nor RSA of 2048 to 4096 bits");
    }
    if (X509_REQ_verify(csr.get(), key) != 1) {
        ThrowInvalid("CSR signature does not verify");
    }
    return state_->IssueNodeCert(key, node_id);
}

KeyAndCert CertificateAuthority::IssueNodeCert(std::string_view node_id, KeyType type) const {
    CheckCommonName(node_id, "node_id");
    const PkeyPtr key = GenerateKey(type);
    std::string cert_pem = state_->IssueNodeCert(key.get(), node_id);
    return {PrivateKeyToPem(key.get()), std::move(cert_pem)};
}

std::string CertificateAuthority::MakeCrl(const std::vector<std::string>& revoked_serials_hex
) const {
    const CrlPtr crl(X509_CRL_new());
    const Asn1TimePtr now = TimeFromNow(0, 0);
    if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||  // 1 = v2, needed for extensions
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(state_->cert.get())) != 1 ||
        X509_CRL_set1_lastUpdate(crl.get(), now.get()) != 1 ||
        X509_CRL_set1_nextUpdate(crl.get(), TimeFromNow(YearsInDays(kCrlYears), 0).get()) != 1) {
        ThrowOpenSsl("cannot create a CRL");
    }
    for (const std::string& hex : revoked_serials_hex) {
        if (hex.empty() || hex.size() > kMaxSerialHexDigits ||
            hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            ThrowInvalid("not a hex serial number: " + hex);
        }
        BIGNUM* raw = nullptr;
        if (BN_hex2bn(&raw, hex.c_str()) == 0) {
            ThrowOpenSsl("cannot parse a serial number");
        }
        const BignumPtr value(raw);
        const Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(value.get(), nullptr));
        RevokedPtr entry(X509_REVOKED_new());
        if (!serial || !entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
            X509_REVOKED_set_revocationDate(entry.get(), now.get()) != 1 ||
            X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
            ThrowOpenSsl("cannot add a CRL entry");
        }
        static_cast<void>(entry.release());  // owned by the CRL now
    }
    // RFC 5280 §5.2.3: conforming CRLs carry an increasing crlNumber; the issue time in seconds
    // grows for as long as the clock does, without keeping a counter anywhere.
    const BignumPtr number(BN_new());
    if (!number || BN_set_word(number.get(), static_cast<BN_ULONG>(UnixSeconds(now.get()))) != 1) {
        ThrowOpenSsl("cannot number the CRL");
    }
    const Asn1IntegerPtr crl_number(BN_to_ASN1_INTEGER(number.get(), nullptr));
    X509V3_CTX ctx{};
    X509V3_set_ctx(&ctx, state_->cert.get(), nullptr, nullptr, crl.get(), 0);
    const ExtensionPtr aki(
        X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always")
    );
    if (!crl_number || !aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) != 1 ||
        X509_CRL_sort(crl.get()) != 1 ||
        X509_CRL_sign(crl.get(), state_->key.get(), EVP_sha256()) <= 0) {
        ThrowOpenSsl("cannot sign the CRL");
    }
    return WriteToString(
        [&](BIO* b) { return PEM_write_bio_X509_CRL(b, crl.get()); }, "cannot write the CRL"
    );
}

// ---- Free functions ------------------------------------------------------------------------

std::optional<std::string> CsrCommonName(std::string_view csr_pem) {
    const ReqPtr csr = ParseCsr(csr_pem);
    if (!csr) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string cn;
    try {
        cn = CommonName(X509_REQ_get_subject_name(csr.get()));
    } catch (const std::runtime_error&) {
        // A CN OpenSSL cannot convert to UTF-8 (an odd-length BMPString, a non-string type):
        // no name a node could have.
        ERR_clear_error();
        return std::nullopt;
    }
    if (cn.empty()) {
        return std::nullopt;
    }
    return cn;
}

std::optional<CertInfo> InspectCertificate(std::string_view cert_pem) {
    try {
        const X509Ptr cert = ParseCert(cert_pem);
        if (!cert) {
            ERR_clear_error();
            return std::nullopt;
        }
        CertInfo info;
        info.serial_hex = IntegerHex(X509_get0_serialNumber(cert.get()));
        info.common_name = CommonName(X509_get_subject_name(cert.get()));
        info.fingerprint_sha256_hex = Sha256Hex(CertDer(cert.get()));
        info.public_key_pem = WriteToString(
            [&](BIO* b) { return PEM_write_bio_PUBKEY(b, X509_get0_pubkey(cert.get())); },
            "cannot write the public key"
        );
        info.not_after = UnixSeconds(X509_get0_notAfter(cert.get()));
        return info;
    } catch (...) {
        ERR_clear_error();
        return std::nullopt;
    }
}

bool IsIssuedBy(std::string_view cert_pem, std::string_view ca_pem) {
    const X509Ptr cert = ParseCert(cert_pem);
    const X509Ptr ca = ParseCert(ca_pem);
    EVP_PKEY* ca_key = ca ? X509_get0_pubkey(ca.get()) : nullptr;
    const bool issued = cert && ca_key != nullptr && X509_verify(cert.get(), ca_key) == 1;
    ERR_clear_error();  // a failed check leaves entries in this thread's OpenSSL error queue
    return issued;
}

bool VerifyNodeSignature(
    std::string_view cert_pem, std::string_view message, std::string_view signature
) {
    const X509Ptr cert = ParseCert(cert_pem);
    EVP_PKEY* key = cert ? X509_get0_pubkey(cert.get()) : nullptr;
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    // Firmware built against different mbedTLS versions signs with different PSS salt lengths.
    const bool valid =
        key != nullptr && ctx && InitDigest(ctx.get(), key, false, RSA_PSS_SALTLEN_AUTO) &&
        EVP_DigestVerify(
            ctx.get(), Bytes(signature), signature.size(), Bytes(message), message.size()
        ) == 1;
    ERR_clear_error();
    return valid;
}

std::string SignAsNode(std::string_view key_pem, std::string_view message) {
    const PkeyPtr key = ParsePrivateKey(key_pem);
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!key || !ctx || !InitDigest(ctx.get(), key.get(), true, RSA_PSS_SALTLEN_DIGEST)) {
        ThrowInvalid("not an unencrypted PEM EC or RSA private key");
    }
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(message), message.size()) != 1) {
        ThrowOpenSsl("cannot sign");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(
            ctx.get(),
            reinterpret_cast<unsigned char*>(signature.data()),
            &size,
            Bytes(message),
            message.size()
        ) != 1) {
        ThrowOpenSsl("cannot sign");
    }
    signature.resize(size);  // DER ECDSA signatures vary in length
    return signature;
}

KeyAndCsr MakeKeyAndCsr(std::string_view cn, KeyType type) {
    CheckCommonName(cn, "CSR common name");
    const PkeyPtr key = GenerateKey(type);
    const ReqPtr csr(X509_REQ_new());
    if (!csr) {
        ThrowOpenSsl("cannot create a CSR");
    }
    SetCommonName(X509_REQ_get_subject_name(csr.get()), cn, "CSR common name");
    if (X509_REQ_set_version(csr.get(), X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_pubkey(csr.get(), key.get()) != 1 ||
        X509_REQ_sign(csr.get(), key.get(), EVP_sha256()) <= 0) {
        ThrowOpenSsl("cannot sign the CSR");
    }
    return {
        PrivateKeyToPem(key.get()),
        WriteToString(
            [&](BIO* b) { return PEM_write_bio_X509_REQ(b, csr.get()); }, "cannot write the CSR"
        )};
}

}  // namespace rainmaker::crypto

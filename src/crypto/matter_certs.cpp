// Matter RCACs and NOCs with OpenSSL 3, and AES-256-GCM sealing of fabric root keys. Every
// certificate detail here follows what Matter's compact TLV form can express (chapter 6), so a
// Matter stack converting our DER to TLV and back gets the same bytes and a valid signature.
#include "crypto/matter_certs.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdexcept>

#include "core/log.hpp"
#include "crypto/base64.hpp"
#include "crypto/openssl_support.hpp"

namespace rainmaker::crypto {

namespace {

using detail::BignumPtr;
using detail::BioPtr;
using detail::IsP256;
using detail::NoPassphrase;
using detail::OpenSslDeleter;
using detail::ParsePrivateKey;
using detail::PkeyPtr;
using detail::ReadBio;
using detail::ThrowOpenSsl;

using detail::ExtensionPtr;
using detail::ReqPtr;
using detail::X509Ptr;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslDeleter<ASN1_OBJECT_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<EVP_CIPHER_CTX_free>>;

// Whether `key` is encoded as Matter's TLV form can carry it: the named curve P-256 and an
// uncompressed point, i.e. the 91-byte SubjectPublicKeyInfo with this fixed 27-byte start.
// OpenSSL also accepts compressed points and explicit curve parameters, and copies them into
// the certificates it signs: such a NOC would be refused by every Matter device.
bool IsCanonicalP256(EVP_PKEY* key) {
    static constexpr unsigned char kPrefix[] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
        0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    constexpr int kLength = 91;
    if (i2d_PUBKEY(key, nullptr) != kLength) {
        return false;
    }
    unsigned char der[kLength];
    unsigned char* out = der;
    return i2d_PUBKEY(key, &out) == kLength &&
           std::equal(std::begin(kPrefix), std::end(kPrefix), der);
}

// Matter DN attribute types (Matter §6.5.6.1).
constexpr const char* kOidNodeId = "1.3.6.1.4.1.37244.1.1";
constexpr const char* kOidRcacId = "1.3.6.1.4.1.37244.1.4";
constexpr const char* kOidFabricId = "1.3.6.1.4.1.37244.1.5";
constexpr const char* kOidCat = "1.3.6.1.4.1.37244.1.6";
// Certificates start an hour early (clock skew on the verifier), as our other certificates do.
constexpr long kBackdateSeconds = 3600;
// Matter's "no well-defined expiration" (X.509 GeneralizedTime 99991231235959Z).
constexpr const char* kNoExpiry = "99991231235959Z";
// A Matter CSR is a few hundred bytes; anything larger is not one.
constexpr std::size_t kMaxCsrBytes = 4096;
constexpr std::size_t kSealKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kSealPrefix = "v1:";

[[noreturn]] void ThrowInvalid(const std::string& what) {
    ERR_clear_error();
    throw std::invalid_argument(what);
}

void AddMatterAttribute(X509_NAME* name, const char* oid, const std::string& value) {
    const ObjectPtr object(OBJ_txt2obj(oid, 1));
    if (!object ||
        X509_NAME_add_entry_by_OBJ(
            name,
            object.get(),
            MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(value.data()),  // NOLINT: OpenSSL's type
            static_cast<int>(value.size()),
            -1,
            0
        ) != 1) {
        ThrowOpenSsl("cannot add a Matter name attribute");
    }
}

// A v3 certificate for `key` with `subject`, issued by `issuer_name`, a random positive 64-bit
// serial (Matter allows 20 octets), valid from an hour ago with no expiry.
X509Ptr NewMatterCertificate(
    EVP_PKEY* key, X509_NAME* subject, const X509_NAME* issuer_name, std::int64_t now
) {
    X509Ptr cert(X509_new());
    const BignumPtr serial(BN_new());
    if (!cert || !serial || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        ThrowOpenSsl("cannot create a certificate");
    }
    do {
        if (BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
            ThrowOpenSsl("cannot draw a serial number");
        }
    } while (BN_is_zero(serial.get()) == 1);
    if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
        X509_set_subject_name(cert.get(), subject) != 1 ||
        X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
        ASN1_TIME_set(
            X509_getm_notBefore(cert.get()), static_cast<time_t>(now - kBackdateSeconds)
        ) == nullptr ||
        ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), kNoExpiry) != 1 ||
        X509_set_pubkey(cert.get(), key) != 1) {
        ThrowOpenSsl("cannot fill in a certificate");
    }
    return cert;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx{};
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    const ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        ThrowOpenSsl(std::string("cannot add certificate extension ") + OBJ_nid2sn(nid));
    }
}

std::string CertToPem(X509* cert) {
    return detail::WriteToString(
        [&](BIO* b) { return PEM_write_bio_X509(b, cert); }, "cannot write PEM"
    );
}

X509Ptr ParseCert(std::string_view pem) {
    const BioPtr bio = ReadBio(pem);
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
}

// A CSR as the base64 of its DER, armoured or not: PEM ("BEGIN CERTIFICATE REQUEST"), bare
// base64 lines, or base64 inside whatever armour a phone app puts around it (some wrap the
// CSR in "BEGIN CERTIFICATE" lines): every "-----" line is dropped and the rest decoded.
ReqPtr ParseCsr(std::string_view text) {
    if (text.size() > kMaxCsrBytes) {
        return nullptr;
    }
    std::string compact;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const auto line = text.substr(start, end - start);
        if (line.substr(0, 5) != "-----") {
            for (const char c : line) {
                if (c != '\r' && c != ' ' && c != '\t') {
                    compact.push_back(c);
                }
            }
        }
        start = end + 1;
    }
    const auto der = Base64Decode(compact);
    if (!der || der->empty()) {
        return nullptr;
    }
    const auto* begin = reinterpret_cast<const unsigned char*>(der->data());  // NOLINT: OpenSSL
    const auto* p = begin;
    ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));
    // Trailing bytes after the DER are not a CSR.
    if (req && p != begin + der->size()) {
        return nullptr;
    }
    return req;
}

bool ValidCat(std::uint32_t cat) {
    return (cat & 0xFFFFU) != 0;  // version 0 is invalid (Matter §6.6.2.1.2)
}

}  // namespace

std::string MatterIdHex(std::uint64_t id) {
    char out[17];
    std::snprintf(out, sizeof out, "%016llX", static_cast<unsigned long long>(id));
    return out;
}

std::string MatterCatHex(std::uint32_t cat) {
    char out[9];
    std::snprintf(out, sizeof out, "%08X", static_cast<unsigned>(cat));
    return out;
}

MatterRoot MakeMatterRoot(std::uint64_t rcac_id, std::uint64_t fabric_id, std::int64_t now) {
    if (rcac_id == 0 || fabric_id == 0) {
        ThrowInvalid("RCAC and fabric ids must not be 0");
    }
    EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (raw == nullptr) {
        ThrowOpenSsl("cannot generate a key");
    }
    const PkeyPtr key(raw);
    using NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
    const NamePtr name(X509_NAME_new());
    if (!name) {
        ThrowOpenSsl("cannot create a name");
    }
    AddMatterAttribute(name.get(), kOidRcacId, MatterIdHex(rcac_id));
    AddMatterAttribute(name.get(), kOidFabricId, MatterIdHex(fabric_id));
    X509Ptr cert = NewMatterCertificate(key.get(), name.get(), name.get(), now);
    AddExtension(cert.get(), nullptr, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert.get(), nullptr, NID_subject_key_identifier, "hash");
    AddExtension(cert.get(), nullptr, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        ThrowOpenSsl("cannot sign a certificate");
    }
    return {
        detail::PrivateKeyToPem(key.get(), "cannot write the private key"), CertToPem(cert.get())};
}

struct MatterIssuer::State {
    PkeyPtr key;
    X509Ptr cert;
};

MatterIssuer::MatterIssuer(std::string_view root_key_pem, std::string_view root_cert_pem)
    : state_(std::make_unique<State>()) {
    state_->key = ParsePrivateKey(root_key_pem);
    state_->cert = ParseCert(root_cert_pem);
    if (!state_->key || !state_->cert ||
        X509_check_private_key(state_->cert.get(), state_->key.get()) != 1) {
        ThrowOpenSsl("the fabric's root key or certificate does not parse");
    }
}

MatterIssuer::~MatterIssuer() = default;

std::string SignMatterNoc(
    std::string_view root_key_pem,
    std::string_view root_cert_pem,
    const NocRequest& request,
    std::int64_t now
) {
    return MatterIssuer(root_key_pem, root_cert_pem).Sign(request, now);
}

std::string MatterIssuer::Sign(const NocRequest& request, std::int64_t now) const {
    X509* root = state_->cert.get();
    if (request.node_id == 0 || request.node_id > kMaxOperationalNodeId) {
        ThrowInvalid("the node id is not an operational node id");
    }
    if (request.fabric_id == 0) {
        ThrowInvalid("the fabric id must not be 0");
    }
    if (request.cats.size() > kMaxNocCats) {
        ThrowInvalid("a NOC carries at most three CATs");
    }
    for (std::size_t i = 0; i < request.cats.size(); ++i) {
        if (!ValidCat(request.cats[i])) {
            ThrowInvalid("a CAT's version must not be 0");
        }
        for (std::size_t j = 0; j < i; ++j) {
            // Two CATs with the same identifier are not allowed (Matter §6.6.2.1.2).
            if ((request.cats[i] >> 16) == (request.cats[j] >> 16)) {
                ThrowInvalid("two CATs with the same identifier");
            }
        }
    }
    const ReqPtr csr = ParseCsr(request.csr);
    if (!csr) {
        ThrowInvalid("not a certificate signing request");
    }
    EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
    if (key == nullptr || !IsP256(key)) {
        ThrowInvalid("the CSR's key is not EC P-256");
    }
    if (!IsCanonicalP256(key)) {
        ThrowInvalid("the CSR's key is not an uncompressed point on the named curve P-256");
    }
    if (X509_REQ_verify(csr.get(), key) != 1) {
        ThrowInvalid("the CSR's signature does not verify");
    }
    using NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
    const NamePtr subject(X509_NAME_new());
    if (!subject) {
        ThrowOpenSsl("cannot create a name");
    }
    AddMatterAttribute(subject.get(), kOidNodeId, MatterIdHex(request.node_id));
    AddMatterAttribute(subject.get(), kOidFabricId, MatterIdHex(request.fabric_id));
    for (const auto cat : request.cats) {
        AddMatterAttribute(subject.get(), kOidCat, MatterCatHex(cat));
    }
    X509Ptr cert = NewMatterCertificate(key, subject.get(), X509_get_subject_name(root), now);
    AddExtension(cert.get(), root, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), root, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), root, NID_ext_key_usage, "critical,clientAuth,serverAuth");
    AddExtension(cert.get(), root, NID_subject_key_identifier, "hash");
    AddExtension(cert.get(), root, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(cert.get(), state_->key.get(), EVP_sha256()) <= 0) {
        ThrowOpenSsl("cannot sign a certificate");
    }
    return CertToPem(cert.get());
}

// ---- sealing -------------------------------------------------------------------------------

std::unique_ptr<FabricKeySealer> FabricKeySealer::LoadOrCreate(const std::filesystem::path& file) {
    std::string text;
    if (!detail::ReadSmallFile(file, text, "fabric sealing key", true)) {
        unsigned char bytes[kSealKeyBytes];
        if (RAND_bytes(bytes, sizeof bytes) != 1) {
            ThrowOpenSsl("cannot draw the fabric sealing key");
        }
        std::string hex;
        for (const unsigned char b : bytes) {
            char two[3];
            std::snprintf(two, sizeof two, "%02x", b);
            hex += two;
        }
        OPENSSL_cleanse(bytes, sizeof bytes);
        if (detail::WriteFileIfAbsent(file, hex + "\n", 0600, "fabric sealing key")) {
            core::log::Info("created the fabric sealing key " + file.string());
        }
        if (!detail::ReadSmallFile(file, text, "fabric sealing key", true)) {
            throw std::runtime_error("fabric sealing key disappeared: " + file.string());
        }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (text.size() != 2 * kSealKeyBytes) {
        throw std::runtime_error(
            "fabric sealing key file holds no 32-byte hex key: " + file.string()
        );
    }
    std::string key;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        unsigned value = 0;
        if (std::sscanf(text.c_str() + i, "%2x", &value) != 1) {
            throw std::runtime_error("fabric sealing key file is not hex: " + file.string());
        }
        key.push_back(static_cast<char>(value));
    }
    OPENSSL_cleanse(text.data(), text.size());
    return std::unique_ptr<FabricKeySealer>(new FabricKeySealer(std::move(key)));
}

std::unique_ptr<FabricKeySealer> FabricKeySealer::FromKeyForTest(std::string_view key32) {
    if (key32.size() != kSealKeyBytes) {
        throw std::invalid_argument("a sealing key has 32 bytes");
    }
    return std::unique_ptr<FabricKeySealer>(new FabricKeySealer(std::string(key32)));
}

FabricKeySealer::FabricKeySealer(std::string key) : key_(std::move(key)) {}

FabricKeySealer::~FabricKeySealer() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

std::string FabricKeySealer::Seal(std::string_view plain, std::string_view context) const {
    std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());  // NOLINT: OpenSSL's type
    if (RAND_bytes(bytes, static_cast<int>(kNonceBytes)) != 1) {
        ThrowOpenSsl("cannot draw a nonce");
    }
    const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int total = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, detail::Bytes(key_), bytes) !=
            1 ||
        EVP_EncryptUpdate(
            ctx.get(), nullptr, &len, detail::Bytes(context), static_cast<int>(context.size())
        ) != 1 ||
        EVP_EncryptUpdate(
            ctx.get(),
            bytes + kNonceBytes,
            &len,
            detail::Bytes(plain),
            static_cast<int>(plain.size())
        ) != 1) {
        ThrowOpenSsl("cannot seal a key");
    }
    total = len;
    if (EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + total, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(
            ctx.get(),
            EVP_CTRL_GCM_GET_TAG,
            static_cast<int>(kTagBytes),
            bytes + kNonceBytes + plain.size()
        ) != 1) {
        ThrowOpenSsl("cannot seal a key");
    }
    return std::string(kSealPrefix) + Base64Encode(out);
}

std::string FabricKeySealer::Open(std::string_view sealed, std::string_view context) const {
    if (sealed.substr(0, kSealPrefix.size()) != kSealPrefix) {
        throw std::runtime_error("not a sealed key");
    }
    const auto raw = Base64Decode(sealed.substr(kSealPrefix.size()));
    if (!raw || raw->size() < kNonceBytes + kTagBytes) {
        throw std::runtime_error("not a sealed key");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());  // NOLINT
    const std::size_t body = raw->size() - kNonceBytes - kTagBytes;
    detail::SecretText plain;
    plain.value.assign(body, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plain.value.data());  // NOLINT
    std::string tag = raw->substr(kNonceBytes + body);
    const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    const bool ok =
        ctx &&
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, detail::Bytes(key_), bytes) ==
            1 &&
        EVP_DecryptUpdate(
            ctx.get(), nullptr, &len, detail::Bytes(context), static_cast<int>(context.size())
        ) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out, &len, bytes + kNonceBytes, static_cast<int>(body)) == 1 &&
        EVP_CIPHER_CTX_ctrl(
            ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()
        ) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
    ERR_clear_error();
    if (!ok) {
        throw std::runtime_error("a sealed key does not open (wrong key, context or altered)");
    }
    return plain.value;
}

}  // namespace rainmaker::crypto

// Matter RCACs and NOCs with OpenSSL 3, and AES-256-GCM sealing of fabric root keys. Every
// certificate detail here follows what Matter's compact TLV form can express (chapter 6), so a
// Matter stack converting our DER to TLV and back gets the same bytes and a valid signature.
#include "crypto/matter_certs.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <mutex>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <optional>
#include <span>
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
// Signing contexts an issuer keeps for reuse (about one per thread that signs at once).
constexpr std::size_t kMaxSigningContexts = 16;

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
std::optional<std::string> CsrDer(std::string_view text) {
    if (text.size() > kMaxCsrBytes) {
        return std::nullopt;
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
    auto der = Base64Decode(compact);
    if (!der || der->empty()) {
        return std::nullopt;
    }
    return der;
}

// The CSR in `der` parsed by OpenSSL; null when it does not parse or bytes trail it.
ReqPtr ParseCsrDer(std::string_view der) {
    const auto* begin = detail::Bytes(der);
    const auto* p = begin;
    ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
    // Trailing bytes after the DER are not a CSR.
    if (req && p != begin + der.size()) {
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

// ---- NOCs from DER ---------------------------------------------------------------------------
//
namespace detail {

void AppendDerLength(std::string& out, std::size_t length) {
    if (length < 0x80) {
        out.push_back(static_cast<char>(length));
    } else if (length <= 0xff) {
        out.push_back(static_cast<char>(0x81));
        out.push_back(static_cast<char>(length));
    } else if (length <= 0xffff) {
        out.push_back(static_cast<char>(0x82));
        out.push_back(static_cast<char>(length >> 8));
        out.push_back(static_cast<char>(length & 0xff));
    } else {
        // Nothing written here comes near (a NOC is under 600 bytes); a wrong length would
        // make a certificate that says something else.
        throw std::length_error("a DER length above 65535 bytes");
    }
}

std::string DerPositiveInteger(const std::array<unsigned char, 8>& bytes) {
    if ((bytes[0] & 0x80) != 0) {
        throw std::invalid_argument("not a positive 64-bit integer");
    }
    std::size_t first = 0;
    while (first + 1 < bytes.size() && bytes[first] == 0 && bytes[first + 1] < 0x80) {
        ++first;
    }
    std::string out{static_cast<char>(V_ASN1_INTEGER)};
    AppendDerLength(out, bytes.size() - first);
    out.append(
        reinterpret_cast<const char*>(bytes.data() + first), bytes.size() - first
    );  // NOLINT
    return out;
}

}  // namespace detail

// OpenSSL 3 spends most of a NOC's time outside the cryptography: decoding the CSR's public key
// through its decoder framework, building X.509 objects and extensions by name, encoding them
// again. A NOC's only varying parts are the serial, the validity start, the subject's values,
// the key and its key id; everything else is fixed per issuer. So the CSR is read here (strict
// DER, falling back to OpenSSL for any shape this reader does not know), the TBSCertificate is
// written from pre-encoded pieces, and OpenSSL only hashes, verifies and signs.

namespace {

// Not std::basic_string_view<unsigned char>: char_traits has no unsigned char specialization
// (libc++ 19 removed the generic one).
using Bytes = std::span<const unsigned char>;

bool Equal(Bytes a, Bytes b) {
    return std::ranges::equal(a, b);
}

// ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters: the AlgorithmIdentifier of our
// signatures and of the CSRs the fast reader takes.
constexpr unsigned char kEcdsaSha256[] = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
// The start of the 91-byte SubjectPublicKeyInfo of an uncompressed P-256 point.
constexpr unsigned char kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
constexpr std::size_t kP256SpkiBytes = 91;
constexpr std::size_t kP256PointBytes = 65;
// [0] EXPLICIT version v3.
constexpr unsigned char kVersion3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
// The NOC's fixed extensions as OpenSSL writes them from "critical,CA:FALSE",
// "critical,digitalSignature" and "critical,clientAuth,serverAuth".
constexpr unsigned char kNocFixedExtensions[] = {
    // basicConstraints, critical, SEQUENCE {} (cA FALSE is the default)
    0x30,
    0x0c,
    0x06,
    0x03,
    0x55,
    0x1d,
    0x13,
    0x01,
    0x01,
    0xff,
    0x04,
    0x02,
    0x30,
    0x00,
    // keyUsage, critical, digitalSignature
    0x30,
    0x0e,
    0x06,
    0x03,
    0x55,
    0x1d,
    0x0f,
    0x01,
    0x01,
    0xff,
    0x04,
    0x04,
    0x03,
    0x02,
    0x07,
    0x80,
    // extKeyUsage, critical, clientAuth, serverAuth
    0x30,
    0x20,
    0x06,
    0x03,
    0x55,
    0x1d,
    0x25,
    0x01,
    0x01,
    0xff,
    0x04,
    0x16,
    0x30,
    0x14,
    0x06,
    0x08,
    0x2b,
    0x06,
    0x01,
    0x05,
    0x05,
    0x07,
    0x03,
    0x02,
    0x06,
    0x08,
    0x2b,
    0x06,
    0x01,
    0x05,
    0x05,
    0x07,
    0x03,
    0x01};
// subjectKeyIdentifier and authorityKeyIdentifier up to their 20-byte key ids.
constexpr unsigned char kSkiStart[] = {
    0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14};
constexpr unsigned char kAkiStart[] = {
    0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14};
constexpr std::size_t kKeyIdBytes = 20;

Bytes AsBytes(std::string_view s) {
    return {detail::Bytes(s), s.size()};
}

template <std::size_t N>
Bytes AsBytes(const unsigned char (&a)[N]) {
    return {a, N};
}

void Append(std::string& out, Bytes bytes) {
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());  // NOLINT
}

void AppendLength(std::string& out, std::size_t length) {
    detail::AppendDerLength(out, length);
}

void AppendTlv(std::string& out, unsigned char tag, std::string_view content) {
    out.push_back(static_cast<char>(tag));
    AppendLength(out, content.size());
    out.append(content);
}

// Takes one DER element (a one-byte tag that is not the high-tag form, a minimal definite
// length of at most two bytes) off the front of `in`: its tag, content and whole encoding.
// False on anything else.
bool TakeElement(Bytes& in, unsigned char* tag, Bytes* content, Bytes* whole) {
    if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) {
        return false;
    }
    std::size_t length = in[1];
    std::size_t head = 2;
    if ((length & 0x80) != 0) {
        const std::size_t count = length & 0x7f;
        if (count == 0 || count > 2 || in.size() < 2 + count) {
            return false;
        }
        length = 0;
        for (std::size_t i = 0; i < count; ++i) {
            length = length << 8 | in[2 + i];
        }
        if (length < 0x80 || (count == 2 && length <= 0xff)) {
            return false;  // not the shortest form
        }
        head += count;
    }
    if (in.size() - head < length) {
        return false;
    }
    if (tag != nullptr) {
        *tag = in[0];
    }
    if (content != nullptr) {
        *content = in.subspan(head, length);
    }
    if (whole != nullptr) {
        *whole = in.first(head + length);
    }
    in = in.subspan(head + length);
    return true;
}

// TakeElement of an element with tag `tag`.
bool Take(Bytes& in, unsigned char tag, Bytes* content, Bytes* whole = nullptr) {
    Bytes copy = in;
    unsigned char found = 0;
    if (!TakeElement(copy, &found, content, whole) || found != tag) {
        return false;
    }
    in = copy;
    return true;
}

// The parts of a CSR the fast reader takes: version 0, a subject OpenSSL parses, the 91-byte
// P-256 key, no attributes, signed with ecdsa-with-SHA256; nothing else, nothing after.
struct CsrParts {
    Bytes info;  // the signed CertificationRequestInfo, whole
    Bytes spki;  // 91 bytes
    Bytes signature;
};

std::optional<CsrParts> SplitCsr(Bytes der) {
    Bytes request;
    CsrParts parts;
    Bytes info;
    Bytes version;
    Bytes subject;
    Bytes attributes;
    Bytes algorithm;
    Bytes bits;
    if (!Take(der, 0x30, &request) || !der.empty() || !Take(request, 0x30, &info, &parts.info) ||
        !Take(info, 0x02, &version) || version.size() != 1 || version[0] != 0 ||
        !Take(info, 0x30, nullptr, &subject) || !Take(info, 0x30, nullptr, &parts.spki) ||
        !Take(info, 0xa0, &attributes) || !attributes.empty() || !info.empty() ||
        !Take(request, 0x30, nullptr, &algorithm) || !Equal(algorithm, AsBytes(kEcdsaSha256)) ||
        !Take(request, 0x03, &bits) || !request.empty() || bits.size() < 2 || bits[0] != 0) {
        return std::nullopt;
    }
    if (parts.spki.size() != kP256SpkiBytes ||
        !Equal(parts.spki.first(sizeof kP256SpkiPrefix), AsBytes(kP256SpkiPrefix))) {
        return std::nullopt;
    }
    // The subject is ignored, but a CSR whose subject OpenSSL would not read is left to the
    // OpenSSL path (which refuses it), so both paths take the same CSRs.
    const unsigned char* p = subject.data();
    using NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
    const NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject.size())));
    if (!name || p != subject.data() + subject.size()) {
        ERR_clear_error();
        return std::nullopt;
    }
    parts.signature = bits.subspan(1);
    return parts;
}

// The parameters of P-256, made once, to give read keys their group.
const EVP_PKEY* P256Parameters() {
    static const PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) {
        ThrowOpenSsl("cannot make a P-256 key");
    }
    return key.get();
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> Sha256(Bytes data) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(data.data(), data.size(), digest.data());
    return digest;
}

// Whether `signature` (DER ECDSA-Sig-Value) verifies over `message` with the P-256 `point`;
// nullopt when the point is not one (not on the curve).
std::optional<bool> VerifyP256(Bytes point, Bytes message, Bytes signature) {
    if (point.size() != kP256PointBytes) {
        return std::nullopt;
    }
    const PkeyPtr key(EVP_PKEY_new());
    if (!key || EVP_PKEY_copy_parameters(key.get(), P256Parameters()) != 1 ||
        EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    const detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) {
        ThrowOpenSsl("cannot verify a signature");
    }
    const auto digest = Sha256(message);
    const bool ok = EVP_PKEY_verify(
                        ctx.get(), signature.data(), signature.size(), digest.data(), digest.size()
                    ) == 1;
    ERR_clear_error();
    return ok;
}

// The 91-byte SubjectPublicKeyInfo of the CSR in `text` once its signature verifies: the fast
// reader, or OpenSSL for what it leaves (as `reader` says). Throws std::invalid_argument as
// SignMatterNoc documents.
std::string ReadCsrKey(std::string_view text, CsrReader reader) {
    const auto der = CsrDer(text);
    if (!der) {
        ThrowInvalid("not a certificate signing request");
    }
    if (reader != CsrReader::kOpenSslOnly) {
        if (const auto parts = SplitCsr(AsBytes(*der))) {
            const auto verified = VerifyP256(
                parts->spki.subspan(sizeof kP256SpkiPrefix - 1), parts->info, parts->signature
            );
            if (verified) {
                if (!*verified) {
                    ThrowInvalid("the CSR's signature does not verify");
                }
                return std::string(
                    reinterpret_cast<const char*>(parts->spki.data()),  // NOLINT
                    parts->spki.size()
                );
            }
        }
        if (reader == CsrReader::kFastOnly) {
            ThrowInvalid("not a CSR of the shape the DER reader takes");
        }
    }
    const ReqPtr csr = ParseCsrDer(*der);
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
    // Matter CSRs are signed with ecdsa-with-SHA256 (the fast reader takes nothing else);
    // OpenSSL would verify any algorithm it knows (SHA-1, say).
    if (X509_REQ_get_signature_nid(csr.get()) != NID_ecdsa_with_SHA256) {
        ThrowInvalid("the CSR is not signed with ecdsa-with-SHA256");
    }
    if (X509_REQ_verify(csr.get(), key) != 1) {
        ThrowInvalid("the CSR's signature does not verify");
    }
    std::string spki(kP256SpkiBytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(spki.data());  // NOLINT: OpenSSL's type
    if (i2d_PUBKEY(key, &out) != static_cast<int>(kP256SpkiBytes)) {
        ThrowOpenSsl("cannot encode the CSR's key");
    }
    return spki;
}

// The DER of one RDN of a Matter attribute: SET { SEQUENCE { OID, UTF8String value } }.
void AppendMatterRdn(std::string& out, std::string_view oid_der, std::string_view value) {
    std::string pair(oid_der);
    AppendTlv(pair, V_ASN1_UTF8STRING, value);
    std::string sequence;
    AppendTlv(sequence, 0x30, pair);
    AppendTlv(out, 0x31, sequence);
}

// The DER of an OID given in dotted form.
std::string OidDer(const char* dotted) {
    const ObjectPtr object(OBJ_txt2obj(dotted, 1));
    const int size = object ? i2d_ASN1_OBJECT(object.get(), nullptr) : -1;
    std::string der(static_cast<std::size_t>(std::max(size, 0)), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());  // NOLINT: OpenSSL's type
    if (size <= 0 || i2d_ASN1_OBJECT(object.get(), &out) != size) {
        ThrowOpenSsl("cannot encode an OID");
    }
    return der;
}

// notBefore as X.509 writes it: UTCTime through 2049, GeneralizedTime after.
void AppendTime(std::string& out, std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) {
        ThrowInvalid("the time cannot be written");
    }
    const int year = tm.tm_year + 1900;
    char text[64];
    if (year >= 1950 && year < 2050) {
        std::snprintf(
            text,
            sizeof text,
            "%02d%02d%02d%02d%02d%02dZ",
            year % 100,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        );
        AppendTlv(out, V_ASN1_UTCTIME, text);
    } else if (year > 0 && year <= 9999) {
        std::snprintf(
            text,
            sizeof text,
            "%04d%02d%02d%02d%02d%02dZ",
            year,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        );
        AppendTlv(out, V_ASN1_GENERALIZEDTIME, text);
    } else {
        ThrowInvalid("the time cannot be written");
    }
}

// A random positive serial below 2^63, not 0, as a minimal DER INTEGER.
void AppendSerial(std::string& out) {
    std::array<unsigned char, 8> bytes{};
    do {
        if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
            ThrowOpenSsl("cannot draw a serial number");
        }
        bytes[0] &= 0x7f;
    } while (std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; }));
    out += detail::DerPositiveInteger(bytes);
}

// PEM "CERTIFICATE" text of DER bytes, 64 base64 characters a line.
std::string PemCertificate(std::string_view der) {
    const std::string b64 = Base64Encode(der);
    std::string pem = "-----BEGIN CERTIFICATE-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        pem.append(b64, i, 64);
        pem.push_back('\n');
    }
    pem += "-----END CERTIFICATE-----\n";
    return pem;
}

void CheckNocRequest(const NocRequest& request) {
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
}

}  // namespace

struct MatterIssuer::State {
    PkeyPtr key;
    X509Ptr cert;
    std::string issuer_name;  // DER of the issuer's subject
    std::string aki;          // the authorityKeyIdentifier extension of its NOCs
    std::string oid_node_id;  // DER of the Matter attribute OIDs
    std::string oid_fabric_id;
    std::string oid_cat;
    // Signing contexts ready for the key, reused (a context serves one thread at a time).
    std::mutex contexts_mutex;
    std::vector<detail::PkeyCtxPtr> contexts;
};

MatterIssuer::MatterIssuer(std::string_view root_key_pem, std::string_view root_cert_pem)
    : state_(std::make_unique<State>()) {
    state_->key = ParsePrivateKey(root_key_pem);
    state_->cert = ParseCert(root_cert_pem);
    if (!state_->key || !state_->cert ||
        X509_check_private_key(state_->cert.get(), state_->key.get()) != 1) {
        ThrowOpenSsl("the fabric's root key or certificate does not parse");
    }
    if (!IsP256(state_->key.get())) {
        throw std::runtime_error("the fabric's root key is not EC P-256");
    }
    unsigned char* name = nullptr;
    const int name_size = i2d_X509_NAME(X509_get_subject_name(state_->cert.get()), &name);
    const ASN1_OCTET_STRING* key_id = X509_get0_subject_key_id(state_->cert.get());
    if (name_size <= 0 || key_id == nullptr ||
        ASN1_STRING_length(key_id) != static_cast<int>(kKeyIdBytes)) {
        OPENSSL_free(name);
        ThrowOpenSsl("the fabric's root certificate has no name or no 20-byte key id");
    }
    state_->issuer_name.assign(
        reinterpret_cast<const char*>(name),  // NOLINT: OpenSSL's type
        static_cast<std::size_t>(name_size)
    );
    OPENSSL_free(name);
    Append(state_->aki, AsBytes(kAkiStart));
    Append(state_->aki, Bytes(ASN1_STRING_get0_data(key_id), kKeyIdBytes));
    state_->oid_node_id = OidDer(kOidNodeId);
    state_->oid_fabric_id = OidDer(kOidFabricId);
    state_->oid_cat = OidDer(kOidCat);
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

CheckedCsrKey MatterCsrPublicKey(std::string_view csr, CsrReader reader) {
    return CheckedCsrKey(ReadCsrKey(csr, reader));
}

std::string MatterIssuer::Sign(const NocRequest& request, std::int64_t now) const {
    CheckNocRequest(request);
    const std::string spki = request.checked_key != nullptr
                                 ? request.checked_key->Spki()
                                 : ReadCsrKey(request.csr, CsrReader::kAny);
    if (spki.size() != kP256SpkiBytes ||
        !Equal(AsBytes(spki).first(sizeof kP256SpkiPrefix), AsBytes(kP256SpkiPrefix))) {
        ThrowInvalid("the CSR's key is not an uncompressed point on the named curve P-256");
    }
    const State& s = *state_;

    std::string subject_rdns;
    AppendMatterRdn(subject_rdns, s.oid_node_id, MatterIdHex(request.node_id));
    AppendMatterRdn(subject_rdns, s.oid_fabric_id, MatterIdHex(request.fabric_id));
    for (const auto cat : request.cats) {
        AppendMatterRdn(subject_rdns, s.oid_cat, MatterCatHex(cat));
    }
    std::string validity;
    AppendTime(validity, now - kBackdateSeconds);
    AppendTlv(validity, V_ASN1_GENERALIZEDTIME, kNoExpiry);
    // The subject key id as OpenSSL's "hash" makes it: SHA-1 of the public key's bits.
    unsigned char key_id[SHA_DIGEST_LENGTH];
    const auto point = AsBytes(spki).subspan(sizeof kP256SpkiPrefix - 1);
    SHA1(point.data(), point.size(), key_id);
    std::string extensions;
    Append(extensions, AsBytes(kNocFixedExtensions));
    Append(extensions, AsBytes(kSkiStart));
    Append(extensions, Bytes(key_id, kKeyIdBytes));
    extensions += s.aki;
    std::string extension_list;
    AppendTlv(extension_list, 0x30, extensions);

    std::string tbs_content;
    Append(tbs_content, AsBytes(kVersion3));
    AppendSerial(tbs_content);
    Append(tbs_content, AsBytes(kEcdsaSha256));
    tbs_content += s.issuer_name;
    AppendTlv(tbs_content, 0x30, validity);
    AppendTlv(tbs_content, 0x30, subject_rdns);
    tbs_content += spki;
    AppendTlv(tbs_content, 0xa3, extension_list);
    std::string tbs;
    AppendTlv(tbs, 0x30, tbs_content);

    // The signature, with a context of the pool (or a new one).
    detail::PkeyCtxPtr ctx;
    {
        const std::lock_guard lock(state_->contexts_mutex);
        if (!state_->contexts.empty()) {
            ctx = std::move(state_->contexts.back());
            state_->contexts.pop_back();
        }
    }
    if (!ctx) {
        ctx.reset(EVP_PKEY_CTX_new(s.key.get(), nullptr));
        if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) {
            ThrowOpenSsl("cannot sign a certificate");
        }
    }
    const auto digest = Sha256(AsBytes(tbs));
    unsigned char signature[80];
    std::size_t signature_size = sizeof signature;
    if (EVP_PKEY_sign(ctx.get(), signature, &signature_size, digest.data(), digest.size()) != 1) {
        ThrowOpenSsl("cannot sign a certificate");
    }
    {
        const std::lock_guard lock(state_->contexts_mutex);
        if (state_->contexts.size() < kMaxSigningContexts) {
            state_->contexts.push_back(std::move(ctx));
        }
    }
    std::string bits(1, '\0');
    Append(bits, Bytes(signature, signature_size));
    std::string certificate_content = tbs;
    Append(certificate_content, AsBytes(kEcdsaSha256));
    AppendTlv(certificate_content, V_ASN1_BIT_STRING, bits);
    std::string certificate;
    AppendTlv(certificate, 0x30, certificate_content);
    return PemCertificate(certificate);
}

}  // namespace rainmaker::crypto

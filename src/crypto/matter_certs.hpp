// Matter operational certificates (Matter core specification, chapter 6) in their X.509 form:
// a home's root CA (RCAC) and the NOCs it signs for users, controllers and devices, plus the
// sealing of a fabric's root key before it goes into the store.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/key_sealer.hpp"

namespace rainmaker::crypto {

// The largest valid operational node id (0xFFFF_FFEF_FFFF_FFFF); ids above it are group,
// CAT and reserved ids (Matter §2.5.5.1). 0 is not an operational id either.
constexpr std::uint64_t kMaxOperationalNodeId = 0xFFFFFFEFFFFFFFFFULL;
// A NOC carries at most three CATs (Matter §6.5.6.1).
constexpr std::size_t kMaxNocCats = 3;

struct MatterRoot {
    std::string key_pem;   // PKCS#8, unencrypted: seal it (FabricKeySealer) before storing
    std::string cert_pem;  // the RCAC
};

// A new self-signed RCAC for a fabric: P-256, ECDSA-SHA256, subject and issuer {RCAC id
// 1.3.6.1.4.1.37244.1.4, fabric id …1.5} as 16 upper-case hex digits (UTF8String), basic
// constraints CA:TRUE (critical), key usage keyCertSign + cRLSign (critical), subject and
// authority key ids, a random 64-bit serial, valid from `now` - 1 h to 9999-12-31 (Matter's
// "no well-defined expiration"). Throws std::invalid_argument on a zero id.
MatterRoot MakeMatterRoot(std::uint64_t rcac_id, std::uint64_t fabric_id, std::int64_t now);

// How MatterCsrPublicKey reads a CSR.
enum class CsrReader {
    kAny,          // the strict DER reader, OpenSSL's parser for the shapes it leaves
    kOpenSslOnly,  // OpenSSL's parser only: the reference csr_fuzz compares the reader with
    kFastOnly,     // the strict DER reader only, other shapes refused (tests)
};

class CheckedCsrKey;

// The 91-byte DER SubjectPublicKeyInfo of a Matter CSR (text as SignMatterNoc takes it) whose
// signature verifies; throws std::invalid_argument as SignMatterNoc does. The CSRs Matter stacks
// and the openssl tool make (version 0, no attributes, ecdsa-with-SHA256, an uncompressed P-256
// key) are read by a strict DER reader; any other shape goes through OpenSSL's parser (which
// also takes only ecdsa-with-SHA256), as `reader` says.
CheckedCsrKey MatterCsrPublicKey(std::string_view csr, CsrReader reader = CsrReader::kAny);

// The key of a CSR whose signature verified. Only MatterCsrPublicKey makes one, so that a
// NocRequest carrying one (checked outside a lock, say) cannot name a key nobody proved.
class CheckedCsrKey {
public:
    // The 91-byte DER SubjectPublicKeyInfo.
    const std::string& Spki() const { return spki_; }

    bool operator==(const CheckedCsrKey&) const = default;

private:
    explicit CheckedCsrKey(std::string spki) : spki_(std::move(spki)) {}

    friend CheckedCsrKey MatterCsrPublicKey(std::string_view csr, CsrReader reader);

    std::string spki_;
};

struct NocRequest {
    std::string_view csr;  // PEM, or the base64 of the DER (what the phone apps send)
    std::uint64_t node_id = 0;
    std::uint64_t fabric_id = 0;
    std::vector<std::uint32_t> cats;  // 0..3 CASE authenticated tags
    // The CSR's key when it was checked already: the CSR is not read again (nor `csr` used).
    const CheckedCsrKey* checked_key = nullptr;
};

// A NOC signed by the RCAC for the key of a CSR whose self-signature verifies: subject {node id
// 1.3.6.1.4.1.37244.1.1, fabric id …1.5, CATs …1.6 (8 hex digits each)}, issuer = the RCAC's
// subject, basic constraints CA:FALSE (critical), key usage digitalSignature (critical),
// extended key usage clientAuth + serverAuth (critical), subject and authority key ids, valid
// like the RCAC. The CSR's own subject and extensions are ignored. Throws
// std::invalid_argument when the CSR is unparsable, over 4 KiB, its signature does not verify,
// its key is not EC P-256, the node id is not operational, the fabric id is 0, or a CAT is
// invalid (version 0) or repeated, or there are more than three; std::runtime_error when the
// root key or certificate does not parse.
std::string SignMatterNoc(
    std::string_view root_key_pem,
    std::string_view root_cert_pem,
    const NocRequest& request,
    std::int64_t now
);

// A fabric's root parsed once (OpenSSL 3 decodes a PEM key in about a millisecond: ten times
// the cost of a signature), to sign many NOCs. A NOC is written from DER pieces encoded once
// per issuer (name, key ids, fixed extensions); OpenSSL hashes, verifies the CSR and signs.
// Thread-safe (const methods only).
class MatterIssuer {
public:
    // Throws std::runtime_error when the key or the certificate does not parse or they do not
    // belong together.
    MatterIssuer(std::string_view root_key_pem, std::string_view root_cert_pem);
    ~MatterIssuer();
    MatterIssuer(const MatterIssuer&) = delete;
    MatterIssuer& operator=(const MatterIssuer&) = delete;

    // SignMatterNoc with this root.
    std::string Sign(const NocRequest& request, std::int64_t now) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

namespace detail {
// Pieces of the NOC's DER writer, for tests. A definite length (std::length_error above
// 65535, the most two length bytes hold).
void AppendDerLength(std::string& out, std::size_t length);
// The minimal DER INTEGER of the positive value of 8 big-endian bytes (a serial; the top bit
// must be clear): leading zero bytes dropped while the next byte's top bit is clear.
std::string DerPositiveInteger(const std::array<unsigned char, 8>& bytes);
}  // namespace detail

// 16 upper-case hex digits: how Matter ids appear in certificates and in the API.
std::string MatterIdHex(std::uint64_t id);
// 8 upper-case hex digits (a CAT).
std::string MatterCatHex(std::uint32_t cat);

}  // namespace rainmaker::crypto

// Our own X.509 CA: node certificates for claiming (device-protocol §5.4), the broker's TLS
// certificate and CRL, and the signature check behind challenge-response mapping (§4.2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::crypto {

struct KeyAndCert {
    std::string key_pem;  // PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted
    std::string cert_pem;
};

struct KeyAndCsr {
    std::string key_pem;  // PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted
    std::string csr_pem;
};

// The key types stock firmware and the CLI generate (device-protocol §5.1, §5.3).
enum class KeyType { kEcP256, kRsa2048 };

// An ECDSA P-256 certificate authority kept in a directory. Every method is const and safe to
// call from several threads at once. Certificates are SHA-256 signed, carry a random positive
// 128-bit serial and start one hour in the past (tolerance for clock skew on the verifier).
class CertificateAuthority {
public:
    // Loads <dir>/ca.pem and <dir>/ca.key, or creates them: ECDSA P-256, self-signed,
    // CN "rainmaker-server CA", basicConstraints CA:TRUE critical, keyCertSign + cRLSign,
    // 30 years. Creates `dir`; the key file gets mode 0600. A key without its certificate
    // (e.g. a crash between the two writes) gets a fresh self-signed certificate. Throws
    // std::runtime_error when the files cannot be read or written, hold no unencrypted key,
    // or the certificate does not belong to the key.
    static std::unique_ptr<CertificateAuthority> LoadOrCreate(const std::filesystem::path& dir);

    ~CertificateAuthority();
    CertificateAuthority(const CertificateAuthority&) = delete;
    CertificateAuthority& operator=(const CertificateAuthority&) = delete;

    const std::string& CertPem() const;

    // A TLS server certificate (new EC P-256 key) with CN `common_name`, subjectAltName DNS and
    // IP entries (no SAN extension when both lists are empty), serverAuth EKU, 10 years.
    // Throws std::invalid_argument on an empty or over-64-byte CN, a DNS name outside
    // [A-Za-z0-9.*-] or an unparsable IP address.
    KeyAndCert IssueServerCert(
        std::string_view common_name,
        const std::vector<std::string>& dns_names,
        const std::vector<std::string>& ip_addresses
    ) const;

    // A server certificate for `host` (a name or an IP address) and loopback: SANs localhost,
    // 127.0.0.1, ::1 and `host`; CN `host`, or "rainmaker-server" when it is longer than a CN
    // holds (the SANs name it). What the broker and the HTTPS listener present.
    KeyAndCert IssueServerCertFor(const std::string& host) const;

    // A node certificate for the key in a PEM CSR (claim/verify). Throws std::invalid_argument
    // when the CSR is unparsable, its self-signature does not verify, its key is neither EC
    // P-256 nor RSA of 2048..4096 bits, or `node_id` is empty or over 64 bytes. The CSR subject
    // and requested extensions are ignored: subject CN = node_id, keyUsage digitalSignature
    // (critical), extendedKeyUsage clientAuth, basicConstraints CA:FALSE, notAfter
    // 2049-12-31T23:59:59Z. Returns the leaf PEM only (well under the node's 3 KB buffer).
    std::string SignNodeCsr(std::string_view csr_pem, std::string_view node_id) const;

    // A key generated here and its certificate as above (manufacturing: `admin
    // issue-node-certs`). Throws std::invalid_argument on a bad node_id.
    KeyAndCert IssueNodeCert(std::string_view node_id, KeyType type = KeyType::kEcP256) const;

    // A PEM CRL (v2, with authorityKeyIdentifier and a crlNumber that grows with time) signed by
    // the CA, listing the given serials (hex as in CertInfo::serial_hex, either case); an empty
    // list is valid. lastUpdate now, nextUpdate in 10 years. Throws std::invalid_argument on a
    // serial that is not 1..40 hex digits.
    std::string MakeCrl(const std::vector<std::string>& revoked_serials_hex) const;

private:
    struct State;  // owns the OpenSSL key and certificate, so this header needs no OpenSSL

    explicit CertificateAuthority(std::unique_ptr<State> state);

    std::unique_ptr<State> state_;
};

struct CertInfo {
    std::string serial_hex;              // lower-case hex of the serial's magnitude
    std::string common_name;             // the subject's first CN, UTF-8; empty when absent
    std::string fingerprint_sha256_hex;  // lower-case hex SHA-256 of the DER certificate
    std::string public_key_pem;          // "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo)
    std::int64_t not_after = 0;          // Unix seconds
};

// The fields of the first certificate in `cert_pem`; nullopt when it holds none. Never throws.
std::optional<CertInfo> InspectCertificate(std::string_view cert_pem);

// The subject CN of a PEM CSR (the node id a claiming device asks for); nullopt when it is
// not a CSR or has no CN readable as UTF-8. Does not check the CSR's signature (SignNodeCsr
// does). Never throws.
std::optional<std::string> CsrCommonName(std::string_view csr_pem);

// True when `cert_pem` carries a valid signature by the key of `ca_pem` (signature check only:
// no names, dates or extensions). Never throws.
bool IsIssuedBy(std::string_view cert_pem, std::string_view ca_pem);

// Node challenge-response (device-protocol §4.2): true when `signature` verifies over
// SHA-256(message) with the public key of `cert_pem`: ECDSA (DER signature) or RSA-PSS/SHA-256
// (MGF1-SHA-256) with any salt length. Never throws; false on any malformed input.
bool VerifyNodeSignature(
    std::string_view cert_pem, std::string_view message, std::string_view signature
);

// What a node does: signs SHA-256(message) with `key_pem` (ECDSA → DER; RSA → PSS, salt =
// digest length). Throws std::invalid_argument when `key_pem` is not an unencrypted PEM EC or
// RSA private key.
std::string SignAsNode(std::string_view key_pem, std::string_view message);

// A new key and a CSR with subject CN=cn (what the CLI or firmware does before claim/verify).
// Throws std::invalid_argument on an empty or over-64-byte CN.
KeyAndCsr MakeKeyAndCsr(std::string_view cn, KeyType type = KeyType::kEcP256);

// Whether `host` is an IPv4 or IPv6 address (else a host name).
bool IsIpAddress(const std::string& host);

}  // namespace rainmaker::crypto

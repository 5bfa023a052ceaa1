// Feeds bytes as the CSR a claiming client posts to /claim/verify (PEM text, or DER that is
// wrapped in PEM here) through what the claim service does with it: read the CN, check and
// sign the CSR with the server's CA; and as the signature of challenge-response mapping; and
// as the CSR of a Matter NOC request (#57 csr_requests: PEM, bare base64 or any armour).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/base64.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "fuzz_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace rainmaker;

constexpr std::string_view kNodeId = "fuzz-node-1";

struct Ca {
    Ca() : ca(crypto::CertificateAuthority::LoadOrCreate(dir.path() / "tls")) {
        fuzz::SilenceLogs();
        node_cert = ca->IssueNodeCert(kNodeId).cert_pem;
        matter_root = crypto::MakeMatterRoot(1, 2, 1'765'000'000);
        // SameCsrKey compares the fast path only if it is taken: a Matter stack's CSR must be.
        const auto good = crypto::MakeKeyAndCsr("fuzz").csr_pem;
        if (crypto::MatterCsrPublicKey(good, crypto::CsrReader::kFastOnly) !=
            crypto::MatterCsrPublicKey(good, crypto::CsrReader::kOpenSslOnly)) {
            std::abort();
        }
    }

    testing::TempDir dir;
    std::unique_ptr<crypto::CertificateAuthority> ca;
    std::string node_cert;  // for the challenge-response signature check
    crypto::MatterRoot matter_root;
};

Ca& Instance() {
    static Ca instance;  // one CA per process, removed at exit
    return instance;
}

[[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
}

// DER bytes as a PEM certificate request, 64 base64 characters a line.
std::string WrapDer(std::string_view der) {
    const std::string b64 = crypto::Base64Encode(der);
    std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        pem += b64.substr(i, 64);
        pem += '\n';
    }
    pem += "-----END CERTIFICATE REQUEST-----\n";
    return pem;
}

// ClaimService::Verify: the CN names the node (looked up in the store, here taken as it is
// when it is a possible node id), then the CA signs the CSR's key for that node.
void Claim(const Ca& s, const std::string& pem) {
    const std::optional<std::string> cn = crypto::CsrCommonName(pem);
    const std::string node_id = cn && !cn->empty() && cn->size() <= 64 ? *cn : std::string(kNodeId);
    std::string cert;
    try {
        cert = s.ca->SignNodeCsr(pem, node_id);
    } catch (const std::invalid_argument&) {
        return;  // the documented refusal: the claim answers 100006
    }
    const auto info = crypto::InspectCertificate(cert);
    if (!info || info->common_name != node_id || !crypto::IsIssuedBy(cert, s.ca->CertPem())) {
        Fail("SignNodeCsr returned a certificate that is not ours for " + node_id + ":\n" + cert);
    }
}

// The DER CSR reader of Matter NOCs takes exactly the CSRs OpenSSL's parser takes, with the same
// key (it leaves every shape it does not know to OpenSSL); what the fast-only entry point takes
// is taken the same way (so the comparison covers the fast path, not OpenSSL against itself).
void SameCsrKey(const std::string& csr) {
    const auto read = [&](crypto::CsrReader reader) -> std::optional<std::string> {
        try {
            return crypto::MatterCsrPublicKey(csr, reader).Spki();
        } catch (const std::invalid_argument&) {
            return std::nullopt;
        }
    };
    const auto fast = read(crypto::CsrReader::kAny);
    const auto reference = read(crypto::CsrReader::kOpenSslOnly);
    const auto fast_only = read(crypto::CsrReader::kFastOnly);
    if (fast != reference) {
        Fail(
            std::string("the DER CSR reader and OpenSSL disagree (") + (fast ? "fast" : "-") +
            " / " + (reference ? "OpenSSL" : "-") + ") on:\n" + csr
        );
    }
    if (fast_only && fast_only != reference) {
        Fail("the fast-only DER CSR reader took a CSR OpenSSL reads otherwise:\n" + csr);
    }
}

// FabricService::IssueNocs: the fabric's root signs a NOC for the CSR's key, or the CSR is
// refused (108085).
void MatterNoc(const Ca& s, const std::string& csr) {
    SameCsrKey(csr);
    std::string noc;
    try {
        noc = crypto::SignMatterNoc(
            s.matter_root.key_pem,
            s.matter_root.cert_pem,
            crypto::NocRequest{csr, 5, 2, {0x01000001}},
            1'765'000'000
        );
    } catch (const std::invalid_argument&) {
        return;
    }
    if (!crypto::IsIssuedBy(noc, s.matter_root.cert_pem)) {
        Fail("SignMatterNoc returned a certificate its root did not sign:\n" + noc);
    }
}

}  // namespace

// Input: a selector byte, then the bytes. Selector % 6: 0-1 the bytes are PEM text, 2 they are
// DER wrapped in PEM, 3 they are a challenge-response signature over a fixed challenge, 4 they
// are a Matter CSR as text, 5 they are DER sent as bare base64 (as the phone apps do).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Ca& s = Instance();
    if (size == 0) {
        return 0;
    }
    const std::string_view rest = fuzz::AsText(data + 1, size - 1);
    switch (data[0] % 6) {
        case 4:
            MatterNoc(s, std::string(rest));
            break;
        case 5:
            MatterNoc(s, crypto::Base64Encode(rest));
            break;
        case 2:
            Claim(s, WrapDer(rest));
            break;
        case 3:
            if (crypto::VerifyNodeSignature(s.node_cert, "fuzz-challenge", rest)) {
                Fail("a signature by no key verified");
            }
            break;
        default:
            Claim(s, std::string(rest));
    }
    return 0;
}

// The claim service: gives a device its node id and a client certificate from our CA (host
// and assisted claiming, device-protocol §5), and issues certificates in bulk for
// manufacturing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "crypto/pki.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

struct IssuedNode {
    std::string node_id;
    std::string key_pem;
    std::string cert_pem;
};

class ClaimService {
public:
    ClaimService(
        storage::Database& db,
        const crypto::CertificateAuthority& ca,
        const core::Clock& clock,
        std::string mqtt_host
    );

    // claim/initiate {mac_addr, platform}: the node id for this device: the same one when the
    // caller claimed the MAC before, a new one when another user did and nobody is mapped to
    // it. Throws kInvalidBody for a malformed MAC or platform, kNodeNotOwned when another
    // user claimed the device and it is mapped.
    std::string Initiate(
        const auth::AuthContext& caller, std::string_view mac_addr, std::string_view platform
    );
    // claim/verify {csr}: the certificate for the node named by the CSR's CN, which the caller
    // must have initiated. Throws kInvalidBody (bad CSR), kNodeNotOwned (not initiated by the
    // caller).
    std::string Verify(const auth::AuthContext& caller, std::string_view csr_pem);

    const std::string& mqtt_host() const { return mqtt_host_; }

    // `admin issue-node-certs`: `count` new nodes with keys and certificates, known and
    // unmapped.
    std::vector<IssuedNode> IssueNodes(int count);

    // A new node id: 22 characters of [A-Za-z0-9], like the public cloud's.
    static std::string NewNodeId();

private:
    storage::Database& db_;
    const crypto::CertificateAuthority& ca_;
    const core::Clock& clock_;
    std::string mqtt_host_;
};

}  // namespace rainmaker::domain::nodes

// The claim service: gives a device its node id and a client certificate from our CA (host
// and assisted claiming, device-protocol §5), and issues certificates in bulk for
// manufacturing.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "crypto/pki.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/certificate_revocations.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

struct ClaimLimits {
    // Claims of one user never mapped yet; admins are not limited. 0 = no limit.
    int max_pending_per_user = 100;
    // Nodes one user claimed (or was the last to map), mapped or not; admins are not limited.
    int max_per_user = 1000;
    // A claim of a user who is not an admin, whose device neither connected nor was mapped
    // within this time, expires: the node and its certificate go. 0 = never.
    std::chrono::seconds pending_ttl{30 * 24 * 3600};
};

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
        CertificateRevocations& revocations,
        const core::Clock& clock,
        std::string mqtt_host,
        ClaimLimits limits = {}
    );

    // claim/initiate {mac_addr, platform}: the node id for this device. While the device is
    // mapped, only its primary users (directly, not through a group) and admins may claim it
    // again, and get the same id. An unmapped device gets the same id when the caller claimed
    // it before, else a new one (the old identity loses the MAC, nothing else: its device keeps
    // working). Throws kInvalidBody for a malformed MAC or platform, kNodeNotOwned when the
    // device is mapped and the caller is not its primary user, kTooManyRequests past the
    // claim limits.
    std::string Initiate(
        const auth::AuthContext& caller, std::string_view mac_addr, std::string_view platform
    );
    // claim/verify {csr}: the certificate for the node named by the CSR's CN, which the caller
    // must have initiated (and, while it is mapped, still be its primary user). Every earlier
    // certificate of the node is revoked at once. Throws kInvalidBody (bad CSR), kNodeNotOwned.
    std::string Verify(const auth::AuthContext& caller, std::string_view csr_pem);

    // Housekeeping: claims whose device neither connected nor was mapped within pending_ttl
    // expire (the node and its certificate go). Returns how many expired.
    int ExpirePendingClaims();

    const std::string& mqtt_host() const { return mqtt_host_; }

    // `admin issue-node-certs`: `count` new nodes with keys and certificates, known and
    // unmapped.
    std::vector<IssuedNode> IssueNodes(int count);

    // A new node id: 22 characters of [A-Za-z0-9], like the public cloud's.
    static std::string NewNodeId();

private:
    // Throws kNodeNotOwned unless the caller may claim this node again: nobody is mapped to
    // it, or the caller is one of its primary users, or an admin.
    void CheckMayReclaim(const auth::AuthContext& caller, const storage::NodeRow& node);

    storage::Database& db_;
    const crypto::CertificateAuthority& ca_;
    CertificateRevocations& revocations_;
    const core::Clock& clock_;
    std::string mqtt_host_;
    ClaimLimits limits_;
};

}  // namespace rainmaker::domain::nodes

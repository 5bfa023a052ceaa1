// Node identities and certificates.
#include "domain/nodes/claim_service.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/random.hpp"

namespace rainmaker::domain::nodes {

using core::ApiError;
using core::ErrorCode;

namespace {

// 12 hex digits, upper case; ':' and '-' separators are tolerated.
std::string CanonicalMac(std::string_view raw) {
    std::string mac;
    for (const char c : raw) {
        if (c == ':' || c == '-') {
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            throw ApiError(
                ErrorCode::kInvalidBody, "Invalid request body: mac_addr must be 12 hex digits"
            );
        }
        mac.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (mac.size() != 12) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: mac_addr must be 12 hex digits"
        );
    }
    return mac;
}

std::string CanonicalPlatform(std::string_view raw) {
    std::string platform;
    for (const char c : raw) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') {
            throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: platform is not valid");
        }
        platform.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (platform.empty() || platform.size() > 32) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: platform is missing");
    }
    return platform;
}

}  // namespace

ClaimService::ClaimService(
    storage::Database& db,
    const crypto::CertificateAuthority& ca,
    CertificateRevocations& revocations,
    const core::Clock& clock,
    std::string mqtt_host,
    ClaimLimits limits
)
    : db_(db),
      ca_(ca),
      revocations_(revocations),
      clock_(clock),
      mqtt_host_(std::move(mqtt_host)),
      limits_(limits) {}

std::string ClaimService::NewNodeId() {
    return core::RandomAlnum(22);
}

void ClaimService::CheckMayReclaim(const auth::AuthContext& caller, const storage::NodeRow& node) {
    // A deactivated device stays cut off: claiming it again (or under a new identity) must not
    // get round an admin's deactivation. Admins may re-provision it (it stays deactivated).
    if (node.revoked && !caller.IsAdmin()) {
        throw ApiError(
            ErrorCode::kNodeNotOwned,
            "Node does not belong to user: this device is deactivated, ask the administrator"
        );
    }
    if (caller.IsAdmin() || db_.Nodes().CountMappingsOfNode(node.node_id) == 0) {
        return;
    }
    // Knowing a MAC address (or having claimed the device once and handed it on) must not
    // hand over someone's device: while it is mapped, only its primary users re-claim it.
    const auto mapping = db_.Nodes().FindMapping(caller.user_id, node.node_id);
    if (!mapping || mapping->direct_role != core::ResourceRole::kPrimary) {
        throw ApiError(
            ErrorCode::kNodeNotOwned,
            "Node does not belong to user: this device is mapped, and only its primary user "
            "can claim it again"
        );
    }
}

std::string ClaimService::Initiate(
    const auth::AuthContext& caller, std::string_view mac_addr, std::string_view platform
) {
    const std::string mac = CanonicalMac(mac_addr);
    const std::string target = CanonicalPlatform(platform);
    const auto now = clock_.NowSeconds();
    std::string node_id;
    db_.Transaction([&] {
        if (const auto existing = db_.Nodes().FindByMac(mac)) {
            CheckMayReclaim(caller, *existing);
            // Mapped (so the caller is its primary user or an admin), or unmapped and claimed
            // by the caller before (a re-flashed device): the same identity, claimed again.
            if (db_.Nodes().CountMappingsOfNode(existing->node_id) > 0 ||
                existing->claimed_by == caller.user_id) {
                db_.Nodes().SetClaimer(existing->node_id, caller.user_id, now);
                node_id = existing->node_id;
                return;
            }
            // An unmapped device another user claimed (sold on, factory reset) gets a new
            // identity; the old one keeps no MAC. Its certificate stays valid: knowing a MAC
            // must not let anyone cut a device off either.
            db_.Nodes().ClearMac(existing->node_id);
        }
        if (!caller.IsAdmin()) {
            if (limits_.max_pending_per_user > 0 &&
                db_.Nodes().CountPendingClaims(caller.user_id) >= limits_.max_pending_per_user) {
                throw ApiError(
                    ErrorCode::kTooManyRequests,
                    "Too many requests: at most " + std::to_string(limits_.max_pending_per_user) +
                        " claimed devices may wait to be mapped; map them first"
                );
            }
            if (limits_.max_per_user > 0 &&
                db_.Nodes().CountClaims(caller.user_id) >= limits_.max_per_user) {
                throw ApiError(
                    ErrorCode::kTooManyRequests,
                    "Too many requests: a user claims at most " +
                        std::to_string(limits_.max_per_user) + " devices"
                );
            }
        }
        storage::NodeRow node;
        node.node_id = NewNodeId();
        node.created_at = now;
        node.mac_addr = mac;
        node.platform = target;
        node.claimed_by = caller.user_id;
        node.claimed_at = now;
        if (!db_.Nodes().Insert(node)) {
            throw ApiError(ErrorCode::kInternal, {}, "node id collision");
        }
        node_id = node.node_id;
    });
    return node_id;
}

std::string ClaimService::Verify(const auth::AuthContext& caller, std::string_view csr_pem) {
    const auto cn = crypto::CsrCommonName(csr_pem);
    if (!cn) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: csr is not a valid CSR");
    }
    bool revoked = false;
    std::string certificate;
    db_.Transaction([&] {
        const auto node = db_.Nodes().Find(*cn);
        if (!node || node->claimed_by != caller.user_id) {
            throw ApiError(
                ErrorCode::kNodeNotOwned,
                "Node does not belong to user: call claim/initiate for it first"
            );
        }
        // Checked again: the primary user may have changed since claim/initiate.
        CheckMayReclaim(caller, *node);
        try {
            certificate = ca_.SignNodeCsr(csr_pem, node->node_id);
        } catch (const std::invalid_argument& e) {
            throw ApiError(
                ErrorCode::kInvalidBody, std::string("Invalid request body: ") + e.what()
            );
        }
        const auto info = crypto::InspectCertificate(certificate);
        if (!info) {
            throw ApiError(ErrorCode::kInternal, {}, "issued certificate unreadable");
        }
        const auto now = clock_.NowSeconds();
        db_.Nodes().AddCertificate(node->node_id, certificate, info->serial_hex, now);
        // One valid certificate per node: whoever holds an earlier one is cut off at once.
        revoked = db_.Nodes().RevokeCertificates(node->node_id, info->serial_hex, now) > 0;
        // A deactivated node's new certificate goes on the CRL with its others.
        revoked = revoked || node->revoked;
    });
    if (revoked) {
        revocations_.Changed();
    }
    core::log::Info("node " + *cn + " claimed by user " + caller.user_id);
    return certificate;
}

int ClaimService::ExpirePendingClaims() {
    if (limits_.pending_ttl.count() <= 0) {
        return 0;
    }
    const auto now = clock_.NowSeconds();
    int expired = 0;
    // In bounded batches, each one transaction, so a large backlog never holds the store long.
    for (;;) {
        int batch = 0;
        db_.Transaction([&] {
            for (const auto& node_id :
                 db_.Nodes().ExpiredClaims(now - limits_.pending_ttl.count(), 200)) {
                db_.Nodes().RevokeCertificates(node_id, "", now);
                db_.Nodes().DeleteNode(node_id);
                ++batch;
            }
        });
        expired += batch;
        if (batch < 200) {
            break;
        }
    }
    if (expired > 0) {
        revocations_.Changed();
        core::log::Info(std::to_string(expired) + " claim(s) never mapped expired");
    }
    return expired;
}

std::vector<IssuedNode> ClaimService::IssueNodes(int count) {
    std::vector<IssuedNode> issued;
    for (int i = 0; i < count; ++i) {
        storage::NodeRow node;
        node.node_id = NewNodeId();
        node.created_at = clock_.NowSeconds();
        const auto pair = ca_.IssueNodeCert(node.node_id);
        const auto info = crypto::InspectCertificate(pair.cert_pem);
        if (!info) {
            throw std::runtime_error("issued certificate unreadable");
        }
        bool inserted = false;
        db_.Transaction([&] {
            inserted = db_.Nodes().Insert(node);
            if (inserted) {
                db_.Nodes().AddCertificate(
                    node.node_id, pair.cert_pem, info->serial_hex, node.created_at
                );
            }
        });
        if (!inserted) {
            --i;  // id collision: try another
            continue;
        }
        issued.push_back(IssuedNode{node.node_id, pair.key_pem, pair.cert_pem});
    }
    return issued;
}

}  // namespace rainmaker::domain::nodes

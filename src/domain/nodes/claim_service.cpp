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
    const core::Clock& clock,
    std::string mqtt_host
)
    : db_(db), ca_(ca), clock_(clock), mqtt_host_(std::move(mqtt_host)) {}

std::string ClaimService::NewNodeId() {
    return core::RandomAlnum(22);
}

std::string ClaimService::Initiate(
    const auth::AuthContext& caller, std::string_view mac_addr, std::string_view platform
) {
    const std::string mac = CanonicalMac(mac_addr);
    const std::string target = CanonicalPlatform(platform);
    std::string node_id;
    db_.Transaction([&] {
        if (const auto existing = db_.Nodes().FindByMac(mac)) {
            // The same user claiming again (re-flashed device): the same identity.
            if (existing->claimed_by == caller.user_id) {
                node_id = existing->node_id;
                return;
            }
            // Knowing a MAC address must not hand over someone's device: while it is mapped
            // to a user, another user cannot claim it.
            if (db_.Nodes().CountMappingsOfNode(existing->node_id) > 0) {
                throw ApiError(
                    ErrorCode::kNodeNotOwned,
                    "Node does not belong to user: this device is claimed and mapped "
                    "by another user"
                );
            }
            // An unmapped device (sold on, factory reset) gets a new identity; the old one,
            // with its old certificate, keeps no MAC and no users.
            db_.Nodes().ClearMac(existing->node_id);
        }
        storage::NodeRow node;
        node.node_id = NewNodeId();
        node.created_at = clock_.NowSeconds();
        node.mac_addr = mac;
        node.platform = target;
        node.claimed_by = caller.user_id;
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
    const auto node = db_.Nodes().Find(*cn);
    if (!node || node->claimed_by != caller.user_id) {
        throw ApiError(
            ErrorCode::kNodeNotOwned,
            "Node does not belong to user: call claim/initiate for it first"
        );
    }
    std::string certificate;
    try {
        certificate = ca_.SignNodeCsr(csr_pem, node->node_id);
    } catch (const std::invalid_argument& e) {
        throw ApiError(ErrorCode::kInvalidBody, std::string("Invalid request body: ") + e.what());
    }
    const auto info = crypto::InspectCertificate(certificate);
    db_.Nodes().SetCertificate(node->node_id, certificate, info ? info->serial_hex : "");
    core::log::Info("node " + node->node_id + " claimed by user " + caller.user_id);
    return certificate;
}

std::vector<IssuedNode> ClaimService::IssueNodes(int count) {
    std::vector<IssuedNode> issued;
    for (int i = 0; i < count; ++i) {
        storage::NodeRow node;
        node.node_id = NewNodeId();
        node.created_at = clock_.NowSeconds();
        const auto pair = ca_.IssueNodeCert(node.node_id);
        node.cert_pem = pair.cert_pem;
        if (const auto info = crypto::InspectCertificate(pair.cert_pem)) {
            node.cert_serial = info->serial_hex;
        }
        if (!db_.Nodes().Insert(node)) {
            --i;  // id collision: try another
            continue;
        }
        issued.push_back(IssuedNode{node.node_id, pair.key_pem, pair.cert_pem});
    }
    return issued;
}

}  // namespace rainmaker::domain::nodes

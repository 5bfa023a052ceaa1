// Mapping requests and their matching; the one place that makes a user primary for a node.
#include "domain/nodes/mapping_service.hpp"

#include <stdexcept>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/digest.hpp"
#include "crypto/pki.hpp"
#include "domain/nodes/node_access.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/validation.hpp"

namespace rainmaker::domain::nodes {

using core::ApiError;
using core::ErrorCode;
using storage::MappingRequestRow;

namespace {

constexpr std::size_t kMaxNodeId = 36;
constexpr std::size_t kMaxSecret = 64;
constexpr std::int64_t kMaxTimeout = 100LL * 365 * 24 * 3600;

std::string SecretHash(
    std::string_view node_id, std::string_view user_id, std::string_view secret
) {
    return crypto::Sha256Hex(
        std::string(node_id) + "\n" + std::string(user_id) + "\n" + std::string(secret)
    );
}

void CheckNodeId(std::string_view node_id) {
    if (node_id.empty()) {
        throw ApiError(ErrorCode::kNodeIdMissing);
    }
    if (node_id.size() > kMaxNodeId) {
        throw ApiError(ErrorCode::kNodeIdTooLong);
    }
}

void CheckExtras(const MappingExtras& extras) {
    if (extras.tags) {
        for (const auto& tag : *extras.tags) {
            if (!users::IsValidTag(tag)) {
                throw ApiError(ErrorCode::kInvalidNodeTag);
            }
        }
    }
    if (extras.metadata && !extras.metadata->is_object() && !extras.metadata->is_null()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: metadata must be an object");
    }
}

void FillExtras(MappingRequestRow& row, const MappingExtras& extras) {
    if (extras.tags) {
        boost::json::array tags;
        for (const auto& tag : *extras.tags) {
            tags.emplace_back(tag);
        }
        row.tags = SerializeBounded(tags, "the tags");
    }
    if (extras.metadata && extras.metadata->is_object()) {
        row.metadata = SerializeBounded(*extras.metadata, "the metadata");
    }
    row.group_id = extras.group_id;
}

std::optional<std::string> HexDecode(std::string_view hex) {
    if (hex.size() % 2 != 0 || hex.empty()) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int v = 0;
        for (int k = 0; k < 2; ++k) {
            const char c = hex[i + static_cast<std::size_t>(k)];
            int d = -1;
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                d = c - 'A' + 10;
            }
            if (d < 0) {
                return std::nullopt;
            }
            v = v * 16 + d;
        }
        out.push_back(static_cast<char>(v));
    }
    return out;
}

}  // namespace

MappingService::MappingService(
    storage::Database& db,
    const core::Clock& clock,
    std::chrono::seconds secret_timeout,
    int max_open_requests
)
    : db_(db),
      clock_(clock),
      secret_timeout_(secret_timeout),
      max_open_requests_(max_open_requests) {}

void MappingService::CheckOpenRequests(std::string_view user_id) {
    if (max_open_requests_ > 0 && db_.Nodes().CountOpenRequests(user_id) >= max_open_requests_) {
        throw ApiError(
            ErrorCode::kTooManyRequests,
            "Too many requests: at most " + std::to_string(max_open_requests_) +
                " mapping requests may wait at once"
        );
    }
}

std::string MappingService::TagsFor(const MappingRequestRow& request) {
    if (!request.tags.empty()) {
        return request.tags;
    }
    // No tags given: the esp.* keys of the user's esp.location custom data become tags.
    boost::json::array tags;
    if (const auto user = db_.Users().FindById(request.user_id)) {
        const auto data = ParseObject(user->custom_data);
        const auto* location = data.if_contains("esp.location");
        const auto* value = location != nullptr && location->is_object()
                                ? location->as_object().if_contains("value")
                                : nullptr;
        if (value != nullptr && value->is_object()) {
            for (const auto& [key, v] : value->as_object()) {
                if (key.starts_with("esp.") && (v.is_string() || v.is_number())) {
                    tags.emplace_back(
                        std::string(key) + ":" +
                        (v.is_string() ? std::string(v.as_string()) : core::Serialize(v))
                    );
                }
            }
        }
    }
    return core::Serialize(tags);
}

bool MappingService::OwnedByAnother(std::string_view node_id, std::string_view user_id) {
    for (const auto& m : db_.Nodes().MappingsOfNode(node_id)) {
        if (m.user_id != user_id && m.direct_role == core::ResourceRole::kPrimary) {
            return true;
        }
    }
    return false;
}

bool MappingService::Confirm(MappingRequestRow request, std::string_view node_id) {
    // A node belongs to its primary users until it is reset (its user/mapping report with
    // reset: true removes them): whoever else proves they hold its key (a former owner who
    // kept the key of a host-claimed device) does not become an owner beside them.
    if (OwnedByAnother(node_id, request.user_id)) {
        core::log::Warn(
            "node " + std::string(node_id) + " not mapped to user " + request.user_id +
            ": it belongs to another user until it is reset"
        );
        return false;
    }
    const auto now = clock_.NowSeconds();
    storage::UserNodeRow mapping;
    if (const auto existing = db_.Nodes().FindMapping(request.user_id, node_id)) {
        mapping = *existing;
    }
    mapping.user_id = request.user_id;
    mapping.node_id = std::string(node_id);
    mapping.direct_role = core::ResourceRole::kPrimary;
    mapping.tags = TagsFor(request);
    mapping.metadata = request.metadata.empty() ? mapping.metadata : request.metadata;
    mapping.group_id = request.group_id;
    mapping.created_at = now;
    db_.Nodes().PutMapping(mapping);
    db_.Nodes().MarkMapped(node_id, now);  // its claim is no longer pending
    // The new owner is the one who may claim it again while it is unmapped (a former
    // claimer may not).
    db_.Nodes().SetClaimer(node_id, request.user_id, now);
    SyncAccess(db_, request.user_id, node_id, now);  // a secondary before: now primary
    if (!request.group_id.empty() && group_joiner_) {
        try {
            group_joiner_(request.user_id, request.group_id, node_id);
        } catch (const ApiError& e) {
            // The mapping stands; the group part failed (103035 for the synchronous flow).
            core::log::Warn(
                "node " + std::string(node_id) + " mapped but not added to group " +
                request.group_id + ": " + e.description()
            );
            group_failed_ = true;
        }
    }
    request.status = "confirmed";
    request.node_id = std::string(node_id);
    db_.Nodes().PutRequest(request);
    // Other open requests for this node and user are superseded.
    for (auto other : db_.Nodes().OpenRequests(node_id, "secret")) {
        if (other.user_id == request.user_id && other.request_id != request.request_id) {
            other.status = "discarded";
            db_.Nodes().PutRequest(other);
        }
    }
    db_.Nodes().DeleteReport(node_id);
    db_.Events().Append(
        "user_node_added",
        request.user_id,
        node_id,
        core::Serialize(boost::json::object{{"node_id", node_id}, {"user_id", request.user_id}}),
        now
    );
    core::log::Info("node " + std::string(node_id) + " mapped to user " + request.user_id);
    return true;
}

std::string MappingService::RequestSecretMapping(
    const auth::AuthContext& caller,
    std::string_view node_id,
    std::string_view secret,
    const MappingExtras& extras
) {
    CheckNodeId(node_id);
    if (secret.empty()) {
        throw ApiError(ErrorCode::kSecretBlank);
    }
    if (secret.size() > kMaxSecret) {
        throw ApiError(ErrorCode::kSecretTooLong);
    }
    CheckExtras(extras);
    const auto now = clock_.NowSeconds();
    MappingRequestRow request;
    request.request_id = core::RandomAlnum(22);
    request.user_id = caller.user_id;
    request.node_id = std::string(node_id);
    request.kind = "secret";
    request.secret_hash = SecretHash(node_id, caller.user_id, secret);
    request.status = "requested";
    request.created_at = now;
    request.expires_at = now + secret_timeout_.count();
    FillExtras(request, extras);
    db_.Transaction([&] {
        // A newer request of the same user for the same node replaces the older ones.
        for (auto old : db_.Nodes().OpenRequests(node_id, "secret")) {
            if (old.user_id == caller.user_id) {
                old.status = "discarded";
                db_.Nodes().PutRequest(old);
            }
        }
        CheckOpenRequests(caller.user_id);
        db_.Nodes().PutRequest(request);
        const auto report = db_.Nodes().FindReport(node_id);
        if (report && report->secret_hash == request.secret_hash &&
            report->reported_at + secret_timeout_.count() >= now) {
            Confirm(request, node_id);
        }
    });
    return request.request_id;
}

void MappingService::RemoveMapping(const auth::AuthContext& caller, std::string_view node_id) {
    CheckNodeId(node_id);
    db_.Transaction([&] {
        const auto mapping = db_.Nodes().FindMapping(caller.user_id, node_id);
        if (!mapping) {
            throw ApiError(ErrorCode::kMappingNotExist);
        }
        // The direct part goes; what shared groups give stays until the group sharing ends.
        if (!mapping->direct_role) {
            throw ApiError(
                ErrorCode::kShareViaGroupRemove,
                "Error, cannot remove nodes that were shared via groups: leave the group instead"
            );
        }
        // Releases the node when it was its last mapping (node_access).
        SetDirectRole(db_, caller.user_id, node_id, std::nullopt, clock_.NowSeconds());
        db_.Events().Append(
            "user_node_removed",
            caller.user_id,
            node_id,
            core::Serialize(boost::json::object{{"node_id", node_id}, {"user_id", caller.user_id}}),
            clock_.NowSeconds()
        );
    });
}

void MappingService::ForgetUser(std::string_view user_id) {
    constexpr int kPage = 1000;
    std::vector<std::string> nodes;
    for (std::string start;;) {
        const auto page = db_.Nodes().ListMappings(user_id, start, kPage + 1);
        for (std::size_t i = 0; i < page.size() && i < static_cast<std::size_t>(kPage); ++i) {
            nodes.push_back(page[i].node_id);
        }
        if (page.size() <= static_cast<std::size_t>(kPage)) {
            break;
        }
        start = page.back().node_id;
    }
    for (const auto& node_id : nodes) {
        db_.Nodes().DeleteMapping(user_id, node_id);
        ReleaseIfUnmapped(db_, node_id);
    }
}

std::string MappingService::RequestStatus(
    const auth::AuthContext& caller, std::string_view request_id
) {
    if (request_id.empty()) {
        throw ApiError(ErrorCode::kRequestIdMissing);
    }
    auto request = db_.Nodes().FindRequest(request_id);
    if (!request || request->user_id != caller.user_id) {
        throw ApiError(ErrorCode::kRequestNotFound);
    }
    if (request->status == "requested" && request->expires_at != 0 &&
        request->expires_at < clock_.NowSeconds()) {
        // A conditional move: a confirmation that committed since the read above stands.
        if (db_.Nodes().MoveRequest(request->request_id, "requested", "timedout")) {
            return "timedout";
        }
        request = db_.Nodes().FindRequest(request_id);
    }
    return request ? request->status : "timedout";
}

std::pair<std::string, std::string> MappingService::InitiateChallenge(
    const auth::AuthContext& caller, std::optional<std::int64_t> timeout
) {
    const std::int64_t seconds = timeout.value_or(300);
    if (seconds < 0 || seconds > kMaxTimeout) {
        throw ApiError(ErrorCode::kTimeoutRange);
    }
    const auto now = clock_.NowSeconds();
    MappingRequestRow request;
    request.request_id = core::RandomAlnum(22);
    request.user_id = caller.user_id;
    request.kind = "challenge";
    request.challenge = core::RandomAlnum(32);
    request.status = "requested";
    request.created_at = now;
    request.expires_at = seconds == 0 ? 0 : now + seconds;
    db_.Transaction([&] {
        CheckOpenRequests(caller.user_id);
        db_.Nodes().PutRequest(request);
    });
    return {request.request_id, request.challenge};
}

void MappingService::VerifyChallenge(
    const auth::AuthContext& caller,
    std::string_view request_id,
    std::string_view node_id,
    std::string_view response_hex,
    const MappingExtras& extras
) {
    if (request_id.empty()) {
        throw ApiError(ErrorCode::kRequestIdMissing);
    }
    CheckExtras(extras);
    db_.Transaction([&] {
        auto request = db_.Nodes().FindRequest(request_id);
        if (!request || request->user_id != caller.user_id || request->kind != "challenge") {
            throw ApiError(ErrorCode::kRequestNotFound);
        }
        if (request->status == "confirmed") {
            throw ApiError(ErrorCode::kAlreadyConfirmed);
        }
        if (request->status != "requested") {
            throw ApiError(ErrorCode::kNotConfirmable);
        }
        if (request->expires_at != 0 && request->expires_at < clock_.NowSeconds()) {
            request->status = "timedout";
            db_.Nodes().PutRequest(*request);
            return;  // committed below, then answered
        }
        CheckNodeId(node_id);
        const auto node = db_.Nodes().Find(node_id);
        if (!node || node->cert_pem.empty() || node->revoked) {
            throw ApiError(ErrorCode::kNodesNotFound);
        }
        const auto signature = HexDecode(response_hex);
        if (!signature ||
            !crypto::VerifyNodeSignature(node->cert_pem, request->challenge, *signature)) {
            throw ApiError(ErrorCode::kChallengeInvalid);
        }
        FillExtras(*request, extras);
        group_failed_ = false;
        if (!Confirm(*request, node_id)) {
            throw ApiError(
                ErrorCode::kMappingRefused,
                "Adding user to nodes mapping failed: the node belongs to another user; reset "
                "the device to map it to a new account"
            );
        }
    });
    if (group_failed_) {
        throw ApiError(ErrorCode::kMappedNotGrouped);
    }
    if (const auto request = db_.Nodes().FindRequest(request_id);
        request && request->status == "timedout") {
        throw ApiError(ErrorCode::kMappingTimedOut);
    }
}

NodeMappingMessage MappingService::ParseNodeReport(
    std::string_view node_id, const boost::json::object& payload
) {
    const auto text = [&](std::string_view key) -> std::string {
        const auto* v = payload.if_contains(key);
        if (v == nullptr || !v->is_string()) {
            throw std::invalid_argument("user/mapping: " + std::string(key) + " missing");
        }
        return std::string(v->as_string());
    };
    if (text("node_id") != node_id) {
        // Only the node holding the certificate can publish here: the payload must name it.
        throw std::invalid_argument("user/mapping: node_id differs from the topic");
    }
    const auto* reset = payload.if_contains("reset");
    return NodeMappingMessage{
        text("user_id"),
        text("secret_key"),
        reset != nullptr && reset->is_bool() && reset->as_bool()};
}

void MappingService::OnNodeReport(std::string_view node_id, const NodeMappingMessage& report) {
    const std::string& user_id = report.user_id;
    const std::string& secret = report.secret_key;
    const auto now = clock_.NowSeconds();
    db_.Transaction([&] {
        if (report.reset) {
            const int removed = db_.Nodes().DeleteAllMappings(node_id);
            db_.Groups().RemoveNodeFromUserGroups(node_id);
            // A new owner does not inherit the old one's data (released even when it had no
            // users left: a report of a node nobody maps still ends its fabric bindings).
            if (const auto& released = db_.AccessHooks().node_released) {
                released(node_id);
            }
            core::log::Info(
                "node " + std::string(node_id) + " reset its mapping: " + std::to_string(removed) +
                " user(s) removed"
            );
        }
        if (user_id == "esp-rmaker" && secret == "failed") {
            return;  // the factory-reset dummy: nobody to map
        }
        const std::string hash = SecretHash(node_id, user_id, secret);
        for (auto request : db_.Nodes().OpenRequests(node_id, "secret")) {
            if (request.user_id == user_id && request.secret_hash == hash &&
                request.expires_at >= now) {
                Confirm(request, node_id);
                return;
            }
        }
        db_.Nodes().PutReport(storage::NodeMappingReport{std::string(node_id), user_id, hash, now});
    });
}

}  // namespace rainmaker::domain::nodes

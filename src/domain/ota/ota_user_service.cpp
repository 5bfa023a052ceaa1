// #41-#43 over the OtaJobStore and OtaDelivery.
#include "domain/ota/ota_user_service.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "domain/ota/ota_messages.hpp"

namespace rainmaker::domain::ota {

using core::ApiError;
using core::ErrorCode;

namespace {

// The one place that decides which users of a node reach its OTA updates (#41-#43): every
// user mapped to it, whatever their role (primary or secondary, directly or through a shared
// group). The reference text gives the three operations to "the node which is associated with
// his account", and an admin who makes a user-approval job offers it to the node's users.
bool MayUseNodeOta(storage::Database& db, std::string_view user_id, std::string_view node_id) {
    return db.Nodes().FindMapping(user_id, node_id).has_value();
}

}  // namespace

OtaUserService::OtaUserService(storage::Database& db, OtaDelivery& delivery)
    : db_(db), delivery_(delivery) {}

storage::NodeRow OtaUserService::RequireNode(
    const auth::AuthContext& caller, std::string_view node_id
) {
    if (node_id.empty()) {
        throw ApiError(ErrorCode::kAdminNodeIdMissing);
    }
    auto node = db_.Nodes().Find(node_id);
    // Another user's node and one that does not exist answer alike.
    if (!node || !MayUseNodeOta(db_, caller.user_id, node_id)) {
        throw ApiError(ErrorCode::kNodeNotOwned);
    }
    return *node;
}

UpdateCheck OtaUserService::Check(const auth::AuthContext& caller, std::string_view node_id) {
    return storage::ReadSnapshot(db_, [&] {
        const auto node = RequireNode(caller, node_id);
        UpdateCheck out;
        const auto choice = delivery_.Choose(node, "", OfferMode::kApproval);
        if (!choice.best) {
            return out;
        }
        const auto& offer = *choice.best;
        out.ota_available = true;
        out.ota_job_id = offer.job.ota_job_id;
        out.description = offer.job.description;
        out.fw_version = offer.image.fw_version;
        out.file_size = offer.image.file_size;
        out.file_md5 = offer.image.file_md5;
        if (offer.job.user_image_access) {
            out.url = delivery_.ImageUrl(offer.image);
        }
        if (!offer.job.metadata.empty()) {
            if (const auto parsed =
                    core::ParseUntrustedJson(offer.job.metadata, core::kMaxJsonDepth);
                parsed && parsed->is_object()) {
                out.metadata = parsed->as_object();
            }
        }
        return out;
    });
}

void OtaUserService::Approve(
    const auth::AuthContext& caller, std::string_view ota_job_id, std::string_view node_id
) {
    if (ota_job_id.empty()) {
        throw ApiError(ErrorCode::kOtaJobIdMissing);
    }
    db_.Transaction([&] {
        const auto node = RequireNode(caller, node_id);
        auto& jobs = db_.OtaJobs();
        const auto job = jobs.Find(ota_job_id);
        // A job that does not exist and one that does not target the node answer alike: users
        // learn nothing of other nodes' jobs.
        auto row = job ? jobs.FindNode(ota_job_id, node_id) : std::nullopt;
        if (!job || (!row && !MatchesDynamic(*job, node.node_type, node.model, node.fw_version))) {
            throw ApiError(ErrorCode::kOtaJobNotForNode);
        }
        if (!job->user_approval || job->status != "active" || (row && IsTerminal(row->status))) {
            throw ApiError(ErrorCode::kOtaJobNotApplicable);
        }
        const auto image = jobs.DeliveredImage(*job);
        if (!image || image->fw_version == node.fw_version) {
            throw ApiError(
                ErrorCode::kOtaJobNotApplicable,
                image ? "The node runs this firmware version already" : ""
            );
        }
        if (!node.connected || node.revoked) {
            throw ApiError(ErrorCode::kNodeOffline);
        }
        if (!row) {
            storage::OtaJobNodeRow made;
            made.ota_job_id = job->ota_job_id;
            made.node_id = node.node_id;
            made.status = std::string(kNodePending);
            made.approved = true;
            jobs.InsertNode(made);
            row = made;
        } else {
            jobs.SetApproved(ota_job_id, node_id);
            row->approved = true;
        }
        // Approved: pushed now (an offline node would be 102001 above), and offered whenever
        // the node asks again until it reports a terminal status.
        delivery_.Offer(node, storage::OtaOfferRow{*job, *image, row});
    });
}

NodeOtaStatus OtaUserService::Status(
    const auth::AuthContext& caller, std::string_view node_id, std::string_view ota_job_id
) {
    if (node_id.empty()) {
        throw ApiError(ErrorCode::kAdminNodeIdMissing);
    }
    if (ota_job_id.empty()) {
        throw ApiError(ErrorCode::kOtaJobIdMissing);
    }
    return storage::ReadSnapshot(db_, [&] {
        RequireNode(caller, node_id);
        const auto row = db_.OtaJobs().FindNode(ota_job_id, node_id);
        if (!row) {
            throw ApiError(ErrorCode::kOtaStatusNotFound);
        }
        return NodeOtaStatus{row->node_id, row->status, row->additional_info, row->updated_at};
    });
}

}  // namespace rainmaker::domain::ota

// Offers, pushes and status reports of OTA jobs over the OtaJobStore. Everything a node is sent
// goes after the transaction that recorded it commits (Database::AfterCommit), so a status the
// node reports at once finds its row.
#include "domain/ota/ota_delivery.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "core/json.hpp"
#include "core/log.hpp"

namespace rainmaker::domain::ota {

namespace {

// The file name a download names: the image's name, as a .bin.
std::string FileName(const storage::OtaImageRow& image) {
    std::string name = image.image_name;
    if (!name.ends_with(".bin")) {
        name += ".bin";
    }
    return name;
}

bool Before(const storage::OtaOfferRow& a, const storage::OtaOfferRow& b) {
    return std::tie(a.job.priority, a.job.created_at, a.job.ota_job_id) <
           std::tie(b.job.priority, b.job.created_at, b.job.ota_job_id);
}

}  // namespace

bool MatchesDynamic(
    const storage::OtaJobRow& job,
    std::string_view node_type,
    std::string_view node_model,
    std::string_view fw_version
) {
    return job.dynamic && (job.node_type.empty() || job.node_type == node_type) &&
           (job.node_model.empty() || job.node_model == node_model) &&
           (job.node_fw_version.empty() || job.node_fw_version == fw_version);
}

OtaDelivery::OtaDelivery(
    storage::Database& db,
    nodes::NodePublisher& publisher,
    const ImageUrlSource& urls,
    const core::Clock& clock,
    OtaDeliveryConfig config
)
    : db_(db), publisher_(publisher), urls_(urls), clock_(clock), config_(config) {}

void OtaDelivery::RegisterIngest(nodes::NodeIngest& ingest) {
    ingest.On("otafetch", kMaxOtaFetchBytes, [this](auto node_id, auto, const auto& payload) {
        OnFetch(node_id, ParseOtaFetch(node_id, payload));
    });
    ingest.On("otastatus", kMaxOtaStatusBytes, [this](auto node_id, auto, const auto& payload) {
        OtaStatusReport report;
        try {
            report = ParseOtaStatus(payload);
        } catch (const std::invalid_argument&) {
            ++counters_.statuses_refused;
            throw;
        }
        OnStatus(node_id, report);
    });
}

OfferChoice OtaDelivery::Choose(
    const storage::NodeRow& node, std::string_view fw_version, OfferMode mode
) {
    const std::string fw(fw_version.empty() ? std::string_view(node.fw_version) : fw_version);
    OfferChoice choice;
    for (auto& offer : db_.OtaJobs().Offers(node.node_id, node.node_type, node.model, fw)) {
        if (offer.node && IsTerminal(offer.node->status)) {
            continue;  // §6.2: never again after success, failed, rejected (or its timeout)
        }
        if (mode == OfferMode::kApproval) {
            if (!offer.job.user_approval) {
                continue;
            }
        } else if (offer.job.user_approval && !offer.job.force_push && !(offer.node && offer.node->approved)) {
            continue;  // waits for a user's approval (#42)
        }
        if (!fw.empty() && offer.image.fw_version == fw) {
            choice.up_to_date.push_back(std::move(offer));
            continue;
        }
        if (!choice.best || Before(offer, *choice.best)) {
            choice.best = std::move(offer);
        }
    }
    return choice;
}

void OtaDelivery::Offer(const storage::NodeRow& node, const storage::OtaOfferRow& offer) {
    auto& jobs = db_.OtaJobs();
    const std::int64_t now = clock_.NowMilliseconds();
    if (offer.node) {
        jobs.SetNodeStatus(offer.job.ota_job_id, node.node_id, kNodeTriggered, "", now);
    } else {
        storage::OtaJobNodeRow row;
        row.ota_job_id = offer.job.ota_job_id;
        row.node_id = node.node_id;
        row.status = std::string(kNodeTriggered);
        row.updated_at = now;
        jobs.InsertNode(row);
    }
    SendAfterCommit(node, offer);
}

void OtaDelivery::SendAfterCommit(const storage::NodeRow& node, const storage::OtaOfferRow& offer) {
    const std::string payload = OtaUrlPayload(offer);
    const std::string node_id = node.node_id;
    const std::string job_id = offer.job.ota_job_id;
    db_.AfterCommit([this, node_id, job_id, payload] {
        if (publisher_.Publish(node_id, "otaurl", payload)) {
            ++counters_.offered;
        } else {
            // The node asks again (otafetch) when it next starts.
            ++counters_.publish_failures;
            core::log::Warn(
                "ota: the broker link refused the otaurl of job " + job_id + " to node " + node_id
            );
        }
    });
}

void OtaDelivery::RecordUpToDate(const storage::NodeRow& node, const OfferChoice& choice) {
    auto& jobs = db_.OtaJobs();
    const std::int64_t now = clock_.NowMilliseconds();
    for (const auto& offer : choice.up_to_date) {
        const std::string info = "The node runs fw_version " + offer.image.fw_version + " already";
        if (offer.node) {
            jobs.SetNodeStatus(offer.job.ota_job_id, node.node_id, kNodeRejected, info, now);
        } else {
            storage::OtaJobNodeRow row;
            row.ota_job_id = offer.job.ota_job_id;
            row.node_id = node.node_id;
            row.status = std::string(kNodeRejected);
            row.additional_info = info;
            row.updated_at = now;
            jobs.InsertNode(row);
        }
        CompleteIfDone(offer.job.ota_job_id);
    }
}

void OtaDelivery::CompleteIfDone(std::string_view ota_job_id) {
    auto& jobs = db_.OtaJobs();
    const auto job = jobs.Find(ota_job_id);
    // A dynamic job never completes: nodes may match it later.
    if (!job || job->dynamic || job->status != "active") {
        return;
    }
    if (jobs.AnyNodeIn(ota_job_id, UnfinishedStatuses())) {
        return;
    }
    jobs.MoveStatus(ota_job_id, "active", "completed", clock_.NowSeconds());
}

int OtaDelivery::DrainQueue() {
    int offered = 0;
    db_.Transaction([&] {
        offered = 0;
        for (const auto& node_id : db_.OtaJobs().TakeQueued(config_.push_per_second)) {
            const auto node = db_.Nodes().Find(node_id);
            if (!node || !node->connected || node->revoked) {
                continue;  // it asks (otafetch) when it connects
            }
            const auto choice = Choose(*node, "", OfferMode::kDeliver);
            RecordUpToDate(*node, choice);
            // A node that has the job already (its otafetch got it first) is not pushed it
            // again: it would ignore the URL while it downloads, or reject it ("Same version")
            // once it runs the new image. It asks again itself (otafetch) when it restarts.
            if (choice.best && (!choice.best->node || choice.best->node->status == kNodePending)) {
                Offer(*node, *choice.best);
                ++offered;
            }
        }
    });
    return offered;
}

void OtaDelivery::OnFetch(std::string_view node_id, const OtaFetch& fetch) {
    ++counters_.fetches;
    const auto node = db_.Nodes().Find(node_id);
    if (!node) {
        return;  // no job targets a node the server does not know
    }
    const auto choice = Choose(*node, fetch.fw_version, OfferMode::kDeliver);
    RecordUpToDate(*node, choice);
    if (!choice.best) {
        return;
    }
    const auto& held = choice.best->node;
    if (!held || held->status == kNodePending) {
        Offer(*node, *choice.best);
        return;
    }
    // The node holds this job already (triggered, started, in_progress, delayed): its status
    // stands (a new offer would knock in_progress back to triggered), and the otaurl is sent
    // again (a node that restarted lost it) at most once per refetch_interval, so that otafetch
    // spam costs neither a write nor a publish each time.
    const std::int64_t now = clock_.NowMilliseconds();
    const auto interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.refetch_interval).count();
    if (now - held->updated_at < interval) {
        ++counters_.fetches_throttled;
        return;
    }
    db_.OtaJobs().SetNodeStatus(
        held->ota_job_id, node->node_id, held->status, held->additional_info, now
    );
    SendAfterCommit(*node, *choice.best);
}

void OtaDelivery::OnStatus(std::string_view node_id, const OtaStatusReport& report) {
    auto& jobs = db_.OtaJobs();
    const auto row = jobs.FindNode(report.ota_job_id, node_id);
    if (!row) {
        ++counters_.statuses_refused;
        throw std::invalid_argument("otastatus for a job that does not target this node");
    }
    if (row->status == kNodeSuccess || row->status == kNodeFailed || row->status == kNodeRejected) {
        ++counters_.statuses_stale;  // what the node said last about the job stands
        return;
    }
    const auto next = NodeStatusAfter(row->status, report.status);
    if (row->status == kNodePending && !IsTerminal(next)) {
        // Never sent to the node (offline since the job started, or awaiting a user's
        // approval): it cannot be downloading it. How it ended (e.g. rejected) is kept.
        ++counters_.statuses_refused;
        throw std::invalid_argument("otastatus progress for a job the node was never offered");
    }
    // After timed_out, and in a job that is no longer active (cancelled, expired), only how the
    // node ended is recorded (a late success or failure is worth knowing); nothing moves it
    // back to a status that is left to update.
    if (!IsTerminal(next)) {
        const auto job = jobs.Find(report.ota_job_id);
        if (row->status == kNodeTimedOut || !job || job->status != "active") {
            ++counters_.statuses_stale;
            return;
        }
    }
    jobs.SetNodeStatus(
        report.ota_job_id, node_id, next, report.additional_info, clock_.NowMilliseconds()
    );
    ++counters_.statuses;
    if (IsTerminal(next)) {
        CompleteIfDone(report.ota_job_id);
    }
    if (next == kNodeFailed || next == kNodeRejected) {
        // Another job may be waiting for this one to end (priority): the node gets it in turn
        // (after a success the node reboots and asks itself).
        if (const auto node = db_.Nodes().Find(node_id); node && node->connected) {
            jobs.QueueNode(node_id);
        }
    }
}

std::string OtaDelivery::OtaUrlPayload(const storage::OtaOfferRow& offer) const {
    OtaUrl message;
    message.ota_job_id = offer.job.ota_job_id;
    message.url = ImageUrl(offer.image);
    message.file_size = offer.image.file_size;
    message.file_md5 = offer.image.file_md5;
    message.fw_version = offer.image.fw_version;
    if (!offer.job.metadata.empty()) {
        // Validated and stored by the job service.
        if (const auto parsed = core::ParseUntrustedJson(offer.job.metadata, core::kMaxJsonDepth);
            parsed && parsed->is_object()) {
            message.metadata = parsed->as_object();
        }
    }
    return SerializeOtaUrl(message);
}

std::string OtaDelivery::ImageUrl(const storage::OtaImageRow& image) const {
    return urls_.DownloadUrl(image.blob_key, FileName(image), config_.url_valid_for);
}

std::string OtaDelivery::RenderMetrics() const {
    std::string out;
    const auto line = [&](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    line("rainmaker_ota_offered_total", "otaurl messages sent to nodes.", counters_.offered);
    line("rainmaker_ota_fetches_total", "otafetch messages of nodes.", counters_.fetches);
    line("rainmaker_ota_statuses_total", "otastatus reports applied.", counters_.statuses);
    line(
        "rainmaker_ota_statuses_refused_total",
        "otastatus reports refused (malformed, or not a job of the node).",
        counters_.statuses_refused
    );
    line(
        "rainmaker_ota_statuses_stale_total",
        "otastatus reports after the node's terminal status for the job (ignored).",
        counters_.statuses_stale
    );
    line(
        "rainmaker_ota_fetches_throttled_total",
        "otafetch messages answered by nothing (the node holds the job, sent recently).",
        counters_.fetches_throttled
    );
    line(
        "rainmaker_ota_publish_failures_total",
        "otaurl messages the broker link refused.",
        counters_.publish_failures
    );
    return out;
}

}  // namespace rainmaker::domain::ota

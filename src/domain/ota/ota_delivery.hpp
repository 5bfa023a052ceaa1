// Getting OTA jobs to nodes (device-protocol §6): which job a node is offered (the active jobs
// that target it, by priority; never one it reported a terminal status for, nor one whose
// image it already runs, nor a user-approval job no user approved unless it is force-pushed),
// the otaurl it gets (URL from the ImageUrlSource), the paced push of a job that starts (a
// queue in the store drained at `push_per_second`), the answer to otafetch, and the otastatus
// reports that move a node's status in a job.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "domain/ota/image_url.hpp"
#include "domain/ota/ota_messages.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::ota {

struct OtaDeliveryConfig {
    // otaurl pushes per second when a job starts (the queue's pace): nodes that download at
    // once share the server's uplink and the firmware host.
    int push_per_second = 100;
    // How long a URL in an otaurl stays valid: a node outside its download window asks again
    // later and gets a new one.
    std::chrono::seconds url_valid_for{std::chrono::hours(24)};
    // An otafetch of a node that holds its best job already (not pending) gets that job's
    // otaurl again at most this often (since the row last changed), its status unchanged. No
    // longer than 5 s: stock firmware asks 5 s after it connects, so a node that restarted
    // (and lost an otaurl, or stopped mid-download after a progress report) always asks later
    // than this after the row's last change, and is answered; only spam falls within it.
    std::chrono::seconds refetch_interval{5};
};

// Counters for /metrics.
struct OtaDeliveryCounters {
    std::atomic<std::uint64_t> offered{0};            // otaurl messages sent
    std::atomic<std::uint64_t> fetches{0};            // otafetch messages handled
    std::atomic<std::uint64_t> statuses{0};           // otastatus reports applied
    std::atomic<std::uint64_t> statuses_refused{0};   // not a job of the node, malformed
    std::atomic<std::uint64_t> statuses_stale{0};     // after the node's terminal status
    std::atomic<std::uint64_t> publish_failures{0};   // the broker link refused an otaurl
    std::atomic<std::uint64_t> fetches_throttled{0};  // otafetch within refetch_interval
};

// Which jobs a choice considers.
enum class OfferMode {
    kDeliver,   // what the node may be sent now (approval jobs only once approved or forced)
    kApproval,  // what a user may approve (#41): user-approval jobs, approved or not
};

struct OfferChoice {
    std::optional<storage::OtaOfferRow> best;  // by priority (1 first), then the oldest job
    // Jobs the node was not offered because it runs their image's version already.
    std::vector<storage::OtaOfferRow> up_to_date;
};

class OtaDelivery {
public:
    OtaDelivery(
        storage::Database& db,
        nodes::NodePublisher& publisher,
        const ImageUrlSource& urls,
        const core::Clock& clock,
        OtaDeliveryConfig config = {}
    );

    // Registers otafetch and otastatus (size limits of ota_messages.hpp). Call before the link
    // starts.
    void RegisterIngest(nodes::NodeIngest& ingest);

    // The job the node would be offered now, running `fw_version` ("": the version it last
    // reported in its config). Reads only.
    OfferChoice Choose(const storage::NodeRow& node, std::string_view fw_version, OfferMode mode);

    // Inside a transaction: records that `node` is offered the job (its row triggered; a
    // dynamic job's row made) and sends the otaurl once the transaction commits.
    void Offer(const storage::NodeRow& node, const storage::OtaOfferRow& offer);

    // Inside a transaction: the jobs of `choice.up_to_date` end for the node (rejected: it
    // runs that version already), and a job left without nodes to update completes.
    void RecordUpToDate(const storage::NodeRow& node, const OfferChoice& choice);

    // Completes the job (active → completed) when it is not dynamic and none of its nodes is
    // left to update. Inside a transaction.
    void CompleteIfDone(std::string_view ota_job_id);

    // Pushes to up to push_per_second queued nodes (each its best offer, if it is still
    // connected); returns how many otaurl messages were sent. The ota-push job, every second.
    int DrainQueue();

    // The otafetch of node `node_id` (inside the ingest transaction): its best job offered
    // (pending → triggered), or, when it holds that job already, its otaurl sent again with the
    // status unchanged (nothing within refetch_interval of the row's last change).
    void OnFetch(std::string_view node_id, const OtaFetch& fetch);
    // The otastatus of node `node_id` (inside the ingest transaction). Throws
    // std::invalid_argument (the message is refused, nothing changes) when the job does not
    // target the node, or is progress (in-progress, delayed) for a job never offered to it (its
    // row pending). Ignored (stale): any
    // report after success/failed/rejected; after timed_out, or in a job that is not active,
    // any report but success/failed/rejected.
    void OnStatus(std::string_view node_id, const OtaStatusReport& report);

    // The otaurl of `offer`.
    std::string OtaUrlPayload(const storage::OtaOfferRow& offer) const;
    // Where the image is downloaded from (valid for url_valid_for).
    std::string ImageUrl(const storage::OtaImageRow& image) const;

    const OtaDeliveryCounters& counters() const { return counters_; }

    std::string RenderMetrics() const;

private:
    // Sends the otaurl of `offer` to `node` once the transaction commits.
    void SendAfterCommit(const storage::NodeRow& node, const storage::OtaOfferRow& offer);

    storage::Database& db_;
    nodes::NodePublisher& publisher_;
    const ImageUrlSource& urls_;
    const core::Clock& clock_;
    OtaDeliveryConfig config_;
    OtaDeliveryCounters counters_;
};

// Whether a node of this type, model and firmware version matches a dynamic job's filters (an
// empty filter matches anything).
bool MatchesDynamic(
    const storage::OtaJobRow& job,
    std::string_view node_type,
    std::string_view node_model,
    std::string_view fw_version
);

}  // namespace rainmaker::domain::ota

// OTA jobs in the store (#35-#39, #41-#43): the job rows, the nodes each job targets with the
// node's status for it, the groups a job named, and the queue of nodes waiting for an otaurl
// push (drained at a configured pace).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/ota_image_store.hpp"

namespace rainmaker::storage {

struct OtaJobRow {
    std::string ota_job_id;
    std::string ota_job_name;
    std::string description;
    std::string ota_image_id;
    int priority = 5;  // 1 (highest) .. 10
    std::int64_t timeout_seconds = 0;
    std::int64_t expires_at = 0;  // unix seconds; 0: never
    bool user_approval = false;
    bool force_push = false;
    bool notify = false;
    bool user_image_access = false;  // user_ota_image_acccess
    std::string metadata;            // JSON object text; "" for none
    std::string nodes = "[]";        // the node ids the request listed (JSON array text)
    bool all_nodes = false;          // FFFF-FFFF
    bool dynamic = false;            // targets nodes by type/model/fw_version
    std::string node_type;
    std::string node_model;
    std::string node_fw_version;
    std::string status = "active";  // active | completed | cancelled | expired
    bool archived = false;
    std::string created_by;
    std::int64_t created_at = 0;  // unix seconds
    std::int64_t ended_at = 0;    // unix seconds; 0 while active
    // secure_boot jobs: the signed firmware (SigningStore) delivered in place of the image's
    // bytes; "" for a job that delivers the image.
    std::string signed_image_id;
};

struct OtaJobGroupRow {
    std::string group_id;
    std::string group_name;
};

// One node of a job and the node's status for it.
struct OtaJobNodeRow {
    std::string ota_job_id;
    std::string node_id;
    std::string status = "pending";
    std::string additional_info;
    std::int64_t updated_at = 0;  // unix ms
    bool approved = false;        // a user approved it (#42)
};

// What #36 filters on; each absent filter matches every job.
struct OtaJobFilter {
    std::optional<std::string> ota_job_id;
    std::optional<std::string> name_contains;
    std::optional<std::string> ota_image_id;
    std::optional<bool> archived;  // nullopt: both
};

// An active job that may be offered to a node, with its image and the node's row (none yet
// for a dynamic job the node was never offered).
struct OtaOfferRow {
    OtaJobRow job;
    // The image the job delivers; for a secure boot job, with the signed firmware's blob_key,
    // file_size and file_md5.
    OtaImageRow image;
    std::optional<OtaJobNodeRow> node;
};

class OtaJobStore {
public:
    virtual ~OtaJobStore() = default;

    // Inserts; false when the id or the name exists (nothing changed).
    virtual bool Insert(const OtaJobRow& job) = 0;
    virtual std::optional<OtaJobRow> Find(std::string_view ota_job_id) = 0;
    virtual std::optional<OtaJobRow> FindByName(std::string_view ota_job_name) = 0;
    // Up to `limit` jobs matching `filter` ordered by id, from the first id >= start_id.
    virtual std::vector<OtaJobRow> List(
        const OtaJobFilter& filter, std::string_view start_id, int limit
    ) = 0;
    virtual std::int64_t Count(const OtaJobFilter& filter) = 0;
    // The newest job of the image that is archived or not, as asked.
    virtual std::optional<OtaJobRow> LatestForImage(
        std::string_view ota_image_id, bool archived
    ) = 0;
    // Moves the job from status `from` to `to` at `at` (ended_at); false when it is not in
    // `from` (someone else moved it first).
    virtual bool MoveStatus(
        std::string_view ota_job_id, std::string_view from, std::string_view to, std::int64_t at
    ) = 0;
    // Archives the job; false when there is none or it is archived already.
    virtual bool Archive(std::string_view ota_job_id) = 0;
    // Active jobs whose expiry passed before `now`, at most `limit`.
    virtual std::vector<std::string> DueJobs(std::int64_t now, int limit) = 0;
    // Active dynamic jobs.
    virtual std::vector<OtaJobRow> ActiveDynamic() = 0;
    // How many jobs name the image: every job, or those that are not cancelled.
    virtual std::int64_t CountUsingImage(std::string_view ota_image_id, bool not_cancelled) = 0;

    virtual void AddGroup(std::string_view ota_job_id, const OtaJobGroupRow& group) = 0;
    virtual std::vector<OtaJobGroupRow> Groups(std::string_view ota_job_id) = 0;
    // Whether an active job names the group.
    virtual bool GroupTargetedByActiveJob(std::string_view group_id) = 0;

    // Adds the nodes (pending, at `at_ms`) that are not in the job yet; returns how many.
    virtual int AddNodes(
        std::string_view ota_job_id, const std::vector<std::string>& node_ids, std::int64_t at_ms
    ) = 0;
    // Adds every node the server knows (FFFF-FFFF); returns how many were added.
    virtual int AddAllNodes(std::string_view ota_job_id, std::int64_t at_ms) = 0;
    // Inserts the row unless the job holds the node already; false then.
    virtual bool InsertNode(const OtaJobNodeRow& row) = 0;
    virtual std::optional<OtaJobNodeRow> FindNode(
        std::string_view ota_job_id, std::string_view node_id
    ) = 0;
    // Up to `limit` node rows of the job ordered by node id, from the first id >= start_id;
    // only `node_id`'s when given.
    virtual std::vector<OtaJobNodeRow> ListNodes(
        std::string_view ota_job_id,
        const std::optional<std::string>& node_id,
        std::string_view start_id,
        int limit
    ) = 0;
    virtual std::int64_t CountNodes(
        std::string_view ota_job_id, const std::optional<std::string>& node_id
    ) = 0;
    // Every node id of the job, in id order.
    virtual std::vector<std::string> NodeIds(std::string_view ota_job_id) = 0;
    // The job's nodes per status (statuses no node has are absent).
    virtual std::map<std::string, std::int64_t> CountByStatus(std::string_view ota_job_id) = 0;
    // Whether a node of the job is in one of `statuses` (one index probe per status).
    virtual bool AnyNodeIn(
        std::string_view ota_job_id, const std::vector<std::string>& statuses
    ) = 0;
    // Sets the node's status for the job; false when the job does not hold the node.
    virtual bool SetNodeStatus(
        std::string_view ota_job_id,
        std::string_view node_id,
        std::string_view status,
        std::string_view additional_info,
        std::int64_t at_ms
    ) = 0;
    virtual void SetApproved(std::string_view ota_job_id, std::string_view node_id) = 0;
    // Every node of the job in one of `from` moves to `to` at `at_ms`; returns how many.
    virtual int MoveNodes(
        std::string_view ota_job_id,
        const std::vector<std::string>& from,
        std::string_view to,
        std::string_view additional_info,
        std::int64_t at_ms
    ) = 0;

    // The active jobs that hold the node, and the active dynamic jobs whose filters match a
    // node of this type, model and firmware version (an empty filter matches anything), each
    // with its image as DeliveredImage gives it (jobs whose image, or signed firmware, is gone
    // are left out).
    virtual std::vector<OtaOfferRow> Offers(
        std::string_view node_id,
        std::string_view node_type,
        std::string_view node_model,
        std::string_view fw_version
    ) = 0;
    // The image `job` delivers: its OTA image, with the blob_key, file_size and file_md5 of its
    // signed firmware for a secure boot job; nullopt when the image or that firmware is gone
    // (never the unsigned bytes in place of the signed ones).
    virtual std::optional<OtaImageRow> DeliveredImage(const OtaJobRow& job) = 0;

    // Queues, for an otaurl push, the nodes of the job that are connected (and not
    // deactivated); returns how many were queued (a node queued already stays in its place).
    virtual int QueueConnected(std::string_view ota_job_id) = 0;
    // Queues the connected (and not deactivated) nodes whose type, model and firmware version
    // equal the given ones (an empty one matches any); returns how many were queued.
    virtual int QueueConnectedMatching(
        std::string_view node_type, std::string_view node_model, std::string_view fw_version
    ) = 0;
    // Queues one node (unless it is queued).
    virtual void QueueNode(std::string_view node_id) = 0;
    // Takes up to `limit` nodes off the front of the queue, in the order they were queued.
    virtual std::vector<std::string> TakeQueued(int limit) = 0;
    virtual std::int64_t CountQueued() = 0;
};

}  // namespace rainmaker::storage

// OTA jobs (#35-#39): an admin targets an image at up to 100 nodes and/or 10 admin groups (or
// FFFF-FFFF: every node the server knows), or at every node of a type/model/firmware version
// (a dynamic job, which never completes); the job starts at once: its connected nodes are
// queued for a paced otaurl push (user-approval jobs wait for a user, #42, unless
// force_push), the others ask when they connect (ota_delivery.hpp). Jobs are listed with
// per-status counters, cancelled, archived, and followed node by node. Jobs belong to the
// deployment: an admin whose RBAC roles reach only some nodes creates, reads and changes only
// jobs whose every node they reach (never FFFF-FFFF or dynamic jobs).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::signing {
class SigningService;
}

namespace rainmaker::domain::ota {

inline constexpr std::string_view kAllNodesGroup = "FFFF-FFFF";
inline constexpr std::size_t kMaxJobNodes = 100;
inline constexpr std::size_t kMaxJobGroups = 10;
inline constexpr std::int64_t kMaxJobTimeoutSeconds = 30LL * 24 * 3600;
inline constexpr std::size_t kMaxJobNameLength = 128;
inline constexpr std::size_t kMaxJobDescriptionLength = 1024;
inline constexpr std::size_t kMaxFilterLength = 64;  // node_type, node_model, node_fw_version

// #35's body and query flags, each member as given (nullopt when absent or null).
struct JobInput {
    std::optional<std::string> ota_job_name;
    std::optional<std::string> description;
    std::optional<std::string> ota_image_id;
    std::optional<std::vector<std::string>> nodes;
    std::optional<std::vector<std::string>> groups;
    std::optional<boost::json::value> priority;
    std::optional<boost::json::value> timeout;
    std::optional<std::string> node_type;
    std::optional<std::string> node_model;
    std::optional<std::string> node_fw_version;
    std::optional<boost::json::value> metadata;
    std::optional<boost::json::value> secure_boot;
    std::optional<bool> user_ota_image_access;  // user_ota_image_acccess
    bool force_push = false;
    bool user_approval = false;
    bool notify = false;
};

// A node's statuses in a job, counted (the summary of #39 and the counters of #36/#37).
struct JobCounts {
    std::int64_t pending = 0;
    std::int64_t triggered = 0;
    std::int64_t started = 0;
    std::int64_t in_progress = 0;
    std::int64_t delayed = 0;
    std::int64_t success = 0;
    std::int64_t failed = 0;
    std::int64_t rejected = 0;
    std::int64_t timed_out = 0;
    std::int64_t total = 0;

    std::int64_t Completed() const { return success + failed + rejected + timed_out; }
};

struct JobView {
    storage::OtaJobRow job;
    std::vector<storage::OtaJobGroupRow> groups;
    JobCounts counts;
};

// #36's query.
struct JobQuery {
    std::optional<std::string> ota_job_id;
    std::optional<std::string> ota_job_name;
    std::optional<std::string> ota_image_id;
    bool archived = false;
    bool all = false;
    std::string start_id;
    int num_records = 25;
};

struct JobPage {
    std::vector<JobView> jobs;
    std::int64_t total = 0;
    std::string next_id;
};

// #38's query.
struct NodeStatusQuery {
    std::string ota_job_id;
    std::optional<std::string> node_id;
    bool summary = false;
    std::string start_id;
    int num_records = 25;
};

struct NodeStatusPage {
    std::vector<storage::OtaJobNodeRow> nodes;
    std::int64_t total = 0;
    std::string next_id;
    std::vector<storage::OtaJobGroupRow> groups;
    std::optional<JobCounts> summary;
};

class OtaJobService {
public:
    OtaJobService(storage::Database& db, const core::Clock& clock);

    // What signs the images of secure_boot jobs; without it secure_boot answers 100012.
    void SetSigning(signing::SigningService* signing) { signing_ = signing; }

    // #35: the new job's id. Throws (in this order) 105001, 100036 (a text too long), 104018,
    // 105068/105069/100012 (secure_boot: auto_select_key, or no signing service), 105054,
    // 105056, 105055, then for secure_boot.key_names 136025/136020/136022/136005/136032/136021
    // and 105070 (force_push, or an admin who is not a superadmin, and no firmware signed with
    // those keys before) or 136004 (signing failed),
    // 105057, 105073, 100006 (metadata), 105052, 105002, 105029, 105028; then 104015, 104034,
    // 100004 (FFFF-FFFF or dynamic for an admin whose roles reach only some nodes, or a group
    // holding a node out of their reach), 108023 (not an admin group of the caller), 100015 (a
    // listed node unknown or out of reach), 105005 (the name is taken), 105002 (the groups hold
    // no node).
    // Nothing changes when it throws.
    std::string Create(const auth::AuthContext& caller, const JobInput& input);

    // #36. Throws kInvalidQuery (num_records < 1), kOtaJobNotFound (ota_job_id unknown).
    JobPage List(const auth::AuthContext& caller, const JobQuery& query);

    // #37: cancels the active job, or archives the ended one (`archive`); returns the job as
    // it is now. Throws kOtaJobIdMissing, kOtaJobNotActive (cancel: not active or unknown),
    // kOtaJobNotArchivable (archive: active, archived or unknown).
    JobView CancelOrArchive(
        const auth::AuthContext& caller, std::string_view ota_job_id, bool archive
    );

    // #38. Throws kOtaJobIdMissing, kOtaJobNotFound, kInvalidQuery.
    NodeStatusPage NodeStatuses(const auth::AuthContext& caller, const NodeStatusQuery& query);

    // #39. Throws kOtaJobIdMissing, kOtaJobNotFound.
    JobCounts Summary(const auth::AuthContext& caller, std::string_view ota_job_id);

    // Jobs past their timeout expire; their nodes not done yet time out. Returns how many jobs
    // expired. The ota-job-timeouts job.
    int ExpireDue();

    // The job's counts per status (for the views).
    JobCounts Counts(std::string_view ota_job_id);

private:
    // The job when the caller reaches it (unknown or out of their reach: kOtaJobNotFound, or
    // `missing` when given).
    storage::OtaJobRow RequireJob(
        const auth::AuthContext& caller, std::string_view ota_job_id, core::ErrorCode missing
    );
    // Whether an admin restricted by RBAC reaches every node of the job.
    bool Reaches(const auth::AuthContext& caller, const storage::OtaJobRow& job);
    JobView View(storage::OtaJobRow job);

    storage::Database& db_;
    const core::Clock& clock_;
    signing::SigningService* signing_ = nullptr;
};

// The metadata of #35 checked: an object with at most download_window {start, end} (minutes
// of the day, 0..1439) and validity {start, end} (unix seconds, start < end), both integers.
// Throws kInvalidBody naming what is wrong. Returns its compact JSON ("" for null/absent).
std::string CheckedMetadata(const std::optional<boost::json::value>& metadata);

}  // namespace rainmaker::domain::ota

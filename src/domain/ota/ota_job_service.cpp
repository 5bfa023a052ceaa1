// The rules of #35-#39 over the OtaJobStore; delivery (offers, pushes, statuses) is
// OtaDelivery's.
#include "domain/ota/ota_job_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/ota/ota_messages.hpp"
#include "domain/paging.hpp"
#include "domain/signing/signing_service.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::ota {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kJobIdLength = 22;

// {start, end} of metadata member `name`: both integers in [min, max].
void CheckRange(
    const boost::json::object& metadata,
    const char* name,
    std::int64_t min,
    std::int64_t max,
    bool ordered
) {
    const auto* v = metadata.if_contains(name);
    if (v == nullptr) {
        return;
    }
    const auto refuse = [name](const std::string& what) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: metadata." + std::string(name) + what
        );
    };
    if (!v->is_object()) {
        refuse(" must be an object {start, end}");
    }
    const auto& range = v->as_object();
    std::int64_t bounds[2] = {0, 0};
    int i = 0;
    for (const char* key : {"start", "end"}) {
        const auto* member = range.if_contains(key);
        const auto number = member != nullptr ? core::IntegerOf(*member) : std::nullopt;
        if (!number || *number < min || *number > max) {
            refuse(
                "." + std::string(key) + " must be an integer from " + std::to_string(min) +
                " to " + std::to_string(max)
            );
        }
        bounds[i++] = *number;
    }
    if (range.size() != 2) {
        refuse(" may hold start and end only");
    }
    if (ordered && bounds[0] >= bounds[1]) {
        refuse(".start must be before its end");
    }
}

JobCounts CountsOf(const std::map<std::string, std::int64_t>& by_status) {
    JobCounts c;
    for (const auto& [status, n] : by_status) {
        c.total += n;
        if (status == kNodePending) {
            c.pending = n;
        } else if (status == kNodeTriggered) {
            c.triggered = n;
        } else if (status == kNodeStarted) {
            c.started = n;
        } else if (status == kNodeInProgress) {
            c.in_progress = n;
        } else if (status == kNodeDelayed) {
            c.delayed = n;
        } else if (status == kNodeSuccess) {
            c.success = n;
        } else if (status == kNodeFailed) {
            c.failed = n;
        } else if (status == kNodeRejected) {
            c.rejected = n;
        } else if (status == kNodeTimedOut) {
            c.timed_out = n;
        }
    }
    return c;
}

}  // namespace

std::string CheckedMetadata(const std::optional<boost::json::value>& metadata) {
    if (!metadata || metadata->is_null()) {
        return "";
    }
    if (!metadata->is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: metadata must be an object");
    }
    const auto& object = metadata->as_object();
    for (const auto& [key, value] : object) {
        if (key != "download_window" && key != "validity") {
            throw ApiError(
                ErrorCode::kInvalidBody,
                "Invalid request body: metadata may hold download_window and validity only"
            );
        }
    }
    // The firmware reads the window in minutes of the day (it may wrap past midnight) and the
    // validity in unix seconds.
    CheckRange(object, "download_window", 0, 1439, false);
    CheckRange(object, "validity", 0, INT64_MAX / 2, true);
    return object.empty() ? "" : core::Serialize(object);
}

OtaJobService::OtaJobService(storage::Database& db, const core::Clock& clock)
    : db_(db), clock_(clock) {}

std::string OtaJobService::Create(const auth::AuthContext& caller, const JobInput& in) {
    if (!Given(in.ota_job_name)) {
        throw ApiError(ErrorCode::kOtaJobNameMissing);
    }
    CheckLength(in.ota_job_name, kMaxJobNameLength, "ota_job_name");
    CheckLength(in.description, kMaxJobDescriptionLength, "description");
    CheckLength(in.node_type, kMaxFilterLength, "node_type");
    CheckLength(in.node_model, kMaxFilterLength, "node_model");
    CheckLength(in.node_fw_version, kMaxFilterLength, "node_fw_version");
    if (!Given(in.ota_image_id)) {
        throw ApiError(ErrorCode::kOtaImageIdMissing);
    }
    if (in.secure_boot && !in.secure_boot->is_null()) {
        const auto* sb = in.secure_boot->if_object();
        const bool auto_key = sb != nullptr && sb->contains("auto_select_key");
        if (auto_key && sb->contains("key_names")) {
            throw ApiError(ErrorCode::kOtaSigningKeysExclusive);
        }
        if (auto_key && in.force_push) {
            throw ApiError(ErrorCode::kOtaForcePushAutoKey);
        }
        if (auto_key || signing_ == nullptr) {
            throw ApiError(
                ErrorCode::kNotSupportedYet,
                "Invalid Request: choosing the signing key by the nodes' digests is not supported "
                "yet; name the keys in secure_boot.key_names"
            );
        }
        if (sb == nullptr) {
            throw ApiError(ErrorCode::kInvalidBody, "secure_boot must be an object");
        }
    }
    int priority = 5;
    if (in.priority && !in.priority->is_null()) {
        const auto p = core::IntegerOf(*in.priority);
        if (!p || *p < 1 || *p > 10) {
            throw ApiError(ErrorCode::kOtaJobPriority);
        }
        priority = static_cast<int>(*p);
    }
    std::int64_t timeout = 0;
    if (in.timeout && !in.timeout->is_null()) {
        if (in.user_approval) {
            throw ApiError(ErrorCode::kOtaJobTimeoutWithApproval);
        }
        const auto t = core::IntegerOf(*in.timeout);
        if (!t || *t < 1 || *t > kMaxJobTimeoutSeconds) {
            throw ApiError(ErrorCode::kOtaJobTimeout);
        }
        timeout = *t;
    }
    if (in.notify && !in.user_approval) {
        throw ApiError(ErrorCode::kOtaJobNotifyNeedsApproval);
    }
    if (in.user_ota_image_access.value_or(false) && !in.user_approval) {
        throw ApiError(ErrorCode::kOtaImageAccessNeedsApproval);
    }
    const std::string metadata = CheckedMetadata(in.metadata);
    const bool dynamic = Given(in.node_type) || Given(in.node_model) || Given(in.node_fw_version);
    // Repeated ids count once.
    std::vector<std::string> node_ids;
    if (in.nodes) {
        const std::set<std::string> distinct(in.nodes->begin(), in.nodes->end());
        node_ids.assign(distinct.begin(), distinct.end());
    }
    std::vector<std::string> group_ids;
    if (in.groups) {
        const std::set<std::string> distinct(in.groups->begin(), in.groups->end());
        group_ids.assign(distinct.begin(), distinct.end());
    }
    if (dynamic && (!node_ids.empty() || !group_ids.empty())) {
        throw ApiError(ErrorCode::kOtaDynamicWithTargets);
    }
    if (!dynamic && node_ids.empty() && group_ids.empty()) {
        throw ApiError(ErrorCode::kOtaJobTargetsMissing);
    }
    if (node_ids.size() > kMaxJobNodes) {
        throw ApiError(ErrorCode::kOtaJobTooManyNodes);
    }
    if (group_ids.size() > kMaxJobGroups) {
        throw ApiError(ErrorCode::kOtaJobTooManyGroups);
    }

    storage::OtaJobRow job;
    job.ota_job_id = core::RandomAlnum(kJobIdLength);
    job.ota_job_name = *in.ota_job_name;
    job.description = in.description.value_or("");
    job.ota_image_id = *in.ota_image_id;
    job.priority = priority;
    job.timeout_seconds = timeout;
    job.created_at = clock_.NowSeconds();
    job.expires_at = timeout > 0 ? job.created_at + timeout : 0;
    job.user_approval = in.user_approval;
    job.force_push = in.force_push;
    job.notify = in.notify;
    job.user_image_access = in.user_ota_image_access.value_or(false);
    job.metadata = metadata;
    boost::json::array listed;
    for (const auto& id : node_ids) {
        listed.emplace_back(id);
    }
    job.nodes = core::Serialize(listed);
    job.all_nodes =
        std::find(group_ids.begin(), group_ids.end(), kAllNodesGroup) != group_ids.end();
    job.dynamic = dynamic;
    job.node_type = in.node_type.value_or("");
    job.node_model = in.node_model.value_or("");
    job.node_fw_version = in.node_fw_version.value_or("");
    job.status = "active";
    job.created_by = caller.user_id;

    if (const auto* sb = in.secure_boot ? in.secure_boot->if_object() : nullptr) {
        // The firmware signed with the keys named, in their order: made before (always so for
        // force_push, and for an admin who is not a superadmin: 105070) or signed now. Stays
        // made if the job is refused below.
        if (const auto image = db_.OtaImages().Find(job.ota_image_id); image && !image->archived) {
            std::optional<std::vector<std::string>> names;
            if (const auto* list = sb->if_contains("key_names"); list && list->is_array()) {
                names.emplace();
                for (const auto& name : list->as_array()) {
                    names->emplace_back(name.is_string() ? std::string(name.as_string()) : "");
                }
            }
            // Signing with a key is a superadmin's (#110): another admin's job takes firmware
            // a superadmin signed before, as a force_push job does.
            job.signed_image_id =
                signing_
                    ->SignedFirmwareFor(
                        caller, job.ota_image_id, names, in.force_push || !caller.IsSuperAdmin()
                    )
                    .signed_image_id;
        }
    }
    db_.Transaction([&] {
        auto& jobs = db_.OtaJobs();
        const auto image = db_.OtaImages().Find(job.ota_image_id);
        if (!image) {
            throw ApiError(ErrorCode::kOtaImageNotFound);
        }
        if (image->archived) {
            throw ApiError(ErrorCode::kOtaImageArchived);
        }
        if (dynamic || job.all_nodes) {
            nodes::RequireEveryNode(
                caller, dynamic ? "A dynamic OTA job" : "An OTA job for every node (FFFF-FFFF)"
            );
        }
        std::vector<storage::OtaJobGroupRow> groups;
        std::vector<std::string> targets = node_ids;
        for (const auto& group_id : group_ids) {
            if (group_id == kAllNodesGroup) {
                groups.push_back({group_id, "All nodes"});
                continue;
            }
            const auto group = db_.Groups().Find(group_id);
            // Admin groups are their maker's (docs/access-model.md).
            if (!group || group->kind != "admin" || group->owner_id != caller.user_id) {
                throw ApiError(ErrorCode::kGroupNotFound, "Group does not exist: " + group_id);
            }
            groups.push_back({group->group_id, group->group_name});
            for (auto& node : db_.Groups().Nodes(group_id)) {
                if (caller.node_scope && !nodes::FindForAdmin(db_, caller, node)) {
                    throw ApiError(
                        ErrorCode::kNotPermitted,
                        "Group " + group_id + " holds nodes your roles do not reach"
                    );
                }
                targets.push_back(std::move(node));
            }
        }
        for (const auto& node : node_ids) {
            // A node out of the caller's RBAC reach answers like one that does not exist.
            if (!nodes::FindForAdmin(db_, caller, node)) {
                throw ApiError(ErrorCode::kNodesNotFound, "Node does not exist: " + node);
            }
        }
        if (jobs.FindByName(job.ota_job_name) || !jobs.Insert(job)) {
            throw ApiError(ErrorCode::kOtaJobNameExists);
        }
        for (const auto& group : groups) {
            jobs.AddGroup(job.ota_job_id, group);
        }
        const std::int64_t now = clock_.NowMilliseconds();
        int added = 0;
        if (job.all_nodes) {
            added = jobs.AddAllNodes(job.ota_job_id, now);
        } else if (!dynamic) {
            std::sort(targets.begin(), targets.end());
            targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
            added = jobs.AddNodes(job.ota_job_id, targets, now);
        }
        if (!dynamic && added == 0) {
            throw ApiError(ErrorCode::kOtaJobTargetsMissing, "The groups hold no nodes");
        }
        // The job starts now: its connected nodes are pushed to at the configured pace (the
        // others ask when they connect). A user-approval job waits for its users.
        if (!job.user_approval || job.force_push) {
            if (dynamic) {
                jobs.QueueConnectedMatching(job.node_type, job.node_model, job.node_fw_version);
            } else {
                jobs.QueueConnected(job.ota_job_id);
            }
        }
    });
    return job.ota_job_id;
}

bool OtaJobService::Reaches(const auth::AuthContext& caller, const storage::OtaJobRow& job) {
    if (!caller.node_scope) {
        return true;
    }
    if (job.dynamic || job.all_nodes) {
        return false;
    }
    // The nodes it holds, and the nodes its request listed: a listed node deleted since is
    // out of reach (FindForAdmin finds nothing), so a job that once targeted a node beyond the
    // caller's scope stays hidden. A job with no node left is hidden too (not seen vacuously).
    auto node_ids = db_.OtaJobs().NodeIds(job.ota_job_id);
    if (node_ids.empty()) {
        return false;
    }
    for (const auto& id : ParseArray(job.nodes)) {
        if (id.is_string()) {
            node_ids.emplace_back(id.as_string());
        }
    }
    for (const auto& node : node_ids) {
        if (!nodes::FindForAdmin(db_, caller, node)) {
            return false;
        }
    }
    return true;
}

storage::OtaJobRow OtaJobService::RequireJob(
    const auth::AuthContext& caller, std::string_view ota_job_id, ErrorCode missing
) {
    if (ota_job_id.empty()) {
        throw ApiError(ErrorCode::kOtaJobIdMissing);
    }
    auto job = db_.OtaJobs().Find(ota_job_id);
    // A job reaching nodes out of the caller's RBAC reach is not there for them.
    if (!job || !Reaches(caller, *job)) {
        throw ApiError(missing);
    }
    return *job;
}

JobCounts OtaJobService::Counts(std::string_view ota_job_id) {
    return CountsOf(db_.OtaJobs().CountByStatus(ota_job_id));
}

JobView OtaJobService::View(storage::OtaJobRow job) {
    JobView view;
    view.groups = db_.OtaJobs().Groups(job.ota_job_id);
    view.counts = Counts(job.ota_job_id);
    view.job = std::move(job);
    return view;
}

JobPage OtaJobService::List(const auth::AuthContext& caller, const JobQuery& q) {
    const int page_size = PageSize(q.num_records);
    storage::OtaJobFilter filter;
    const auto given = [](const std::optional<std::string>& v) {
        return v && !v->empty() ? v : std::nullopt;
    };
    filter.ota_job_id = given(q.ota_job_id);
    filter.name_contains = given(q.ota_job_name);
    // A job asked for by id or name is listed whether archived or not.
    if (!filter.ota_job_id && !filter.name_contains && !q.all) {
        filter.archived = q.archived;
    }
    return storage::ReadSnapshot(db_, [&] {
        auto& jobs = db_.OtaJobs();
        JobPage page;
        if (const auto image = given(q.ota_image_id)) {
            // The newest job of the image (archived or not, as asked).
            if (auto job = jobs.LatestForImage(*image, q.archived); job && Reaches(caller, *job)) {
                page.jobs.push_back(View(std::move(*job)));
                page.total = 1;
            }
            return page;
        }
        std::vector<storage::OtaJobRow> rows;
        if (caller.node_scope) {
            // An admin restricted by RBAC: the jobs they reach, counted and paged here.
            for (auto& job : jobs.List(filter, "", INT32_MAX)) {
                if (!Reaches(caller, job)) {
                    continue;
                }
                ++page.total;
                if (job.ota_job_id >= q.start_id && static_cast<int>(rows.size()) <= page_size) {
                    rows.push_back(std::move(job));
                }
            }
        } else {
            rows = jobs.List(filter, q.start_id, page_size + 1);
            page.total = jobs.Count(filter);
        }
        if (filter.ota_job_id && rows.empty() && q.start_id.empty()) {
            throw ApiError(ErrorCode::kOtaJobNotFound);
        }
        if (static_cast<int>(rows.size()) > page_size) {
            page.next_id = rows.back().ota_job_id;
            rows.pop_back();
        }
        for (auto& row : rows) {
            page.jobs.push_back(View(std::move(row)));
        }
        return page;
    });
}

JobView OtaJobService::CancelOrArchive(
    const auth::AuthContext& caller, std::string_view ota_job_id, bool archive
) {
    std::optional<storage::OtaJobRow> done;
    db_.Transaction([&] {
        auto job = RequireJob(
            caller,
            ota_job_id,
            archive ? ErrorCode::kOtaJobNotArchivable : ErrorCode::kOtaJobNotActive
        );
        auto& jobs = db_.OtaJobs();
        if (archive) {
            // Only a job that ended (completed, cancelled, expired) is archived.
            if (job.status == "active" || !jobs.Archive(job.ota_job_id)) {
                throw ApiError(ErrorCode::kOtaJobNotArchivable);
            }
        } else if (!jobs.MoveStatus(job.ota_job_id, "active", "cancelled", clock_.NowSeconds())) {
            throw ApiError(ErrorCode::kOtaJobNotActive);
        }
        done = jobs.Find(job.ota_job_id);
    });
    return View(std::move(*done));
}

NodeStatusPage OtaJobService::NodeStatuses(
    const auth::AuthContext& caller, const NodeStatusQuery& q
) {
    const int page_size = PageSize(q.num_records);
    return storage::ReadSnapshot(db_, [&] {
        const auto job = RequireJob(caller, q.ota_job_id, ErrorCode::kOtaJobNotFound);
        auto& jobs = db_.OtaJobs();
        NodeStatusPage page;
        const auto node = q.node_id && !q.node_id->empty() ? q.node_id : std::nullopt;
        page.nodes = jobs.ListNodes(job.ota_job_id, node, q.start_id, page_size + 1);
        page.total = jobs.CountNodes(job.ota_job_id, node);
        if (static_cast<int>(page.nodes.size()) > page_size) {
            page.next_id = page.nodes.back().node_id;
            page.nodes.pop_back();
        }
        page.groups = jobs.Groups(job.ota_job_id);
        if (q.summary) {
            page.summary = Counts(job.ota_job_id);
        }
        return page;
    });
}

JobCounts OtaJobService::Summary(const auth::AuthContext& caller, std::string_view ota_job_id) {
    return storage::ReadSnapshot(db_, [&] {
        const auto job = RequireJob(caller, ota_job_id, ErrorCode::kOtaJobNotFound);
        return Counts(job.ota_job_id);
    });
}

int OtaJobService::ExpireDue() {
    const std::int64_t now = clock_.NowSeconds();
    // A read first: the write transaction only when a job is due.
    if (db_.OtaJobs().DueJobs(now, 1).empty()) {
        return 0;
    }
    int expired = 0;
    db_.Transaction([&] {
        expired = 0;
        auto& jobs = db_.OtaJobs();
        for (const auto& id : jobs.DueJobs(now, 100)) {
            if (!jobs.MoveStatus(id, "active", "expired", now)) {
                continue;
            }
            ++expired;
            jobs.MoveNodes(
                id,
                UnfinishedStatuses(),
                kNodeTimedOut,
                "The OTA job timed out",
                clock_.NowMilliseconds()
            );
        }
    });
    return expired;
}

}  // namespace rainmaker::domain::ota

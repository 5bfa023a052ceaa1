// Thin handlers over the OTA job and user OTA services.
#include "http/api/ota_job_routes.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using domain::ota::OtaJobService;
using domain::ota::OtaUserService;

namespace {

boost::json::object Counters(const domain::ota::JobCounts& c) {
    return boost::json::object{
        {"total_count", c.total},
        {"total_node_count", c.total},
        {"completed_count", c.Completed()},
        {"triggered_count", c.triggered},
        {"started_count", c.started},
        {"in_progress_count", c.in_progress},
        {"delayed_count", c.delayed},
        {"success_count", c.success},
        {"failed_count", c.failed},
        {"rejected_count", c.rejected},
        // Beyond the reference: not offered yet, and timed out; other_count holds both.
        {"pending_count", c.pending},
        {"timed_out_count", c.timed_out},
        {"other_count", c.pending + c.timed_out}};
}

boost::json::array GroupIds(const std::vector<storage::OtaJobGroupRow>& groups) {
    boost::json::array out;
    for (const auto& g : groups) {
        out.emplace_back(g.group_id);
    }
    return out;
}

boost::json::object Describe(const domain::ota::JobView& view) {
    const auto& job = view.job;
    auto out = Counters(view.counts);
    out["ota_job_id"] = job.ota_job_id;
    out["ota_job_name"] = job.ota_job_name;
    out["ota_image_id"] = job.ota_image_id;
    out["description"] = job.description;
    out["status"] = job.status;
    out["archived"] = job.archived;
    out["priority"] = job.priority;
    out["triggered_timestamp"] = job.created_at;
    if (job.expires_at > 0) {
        out["expiry_timestamp_num"] = job.expires_at;
        out["timeout"] = job.timeout_seconds;
    }
    if (job.status == "cancelled") {
        out["cancelled_timestamp"] = job.ended_at;
    } else if (job.ended_at > 0) {
        out["ended_timestamp"] = job.ended_at;
    }
    out["force_push"] = job.force_push;
    out["user_approval"] = job.user_approval;
    out["notify"] = job.notify;
    out["user_ota_image_acccess"] = job.user_image_access;
    const auto nodes = core::ParseUntrustedJson(job.nodes, 4);
    out["nodes"] = nodes && nodes->is_array() ? *nodes : boost::json::array{};
    out["groups"] = GroupIds(view.groups);
    if (!job.metadata.empty()) {
        if (const auto metadata = core::ParseUntrustedJson(job.metadata, core::kMaxJsonDepth)) {
            out["metadata"] = *metadata;
        }
    }
    if (job.dynamic) {
        boost::json::object query;
        for (const auto& [key, value] :
             {std::pair{"node_type", &job.node_type},
              std::pair{"node_model", &job.node_model},
              std::pair{"node_fw_version", &job.node_fw_version}}) {
            if (!value->empty()) {
                query[key] = *value;
            }
        }
        out["group_query"] = std::move(query);
    }
    return out;
}

// A query flag of #35 ("true"/"false"; absent: false).
bool Flag(const ApiRequest& r, std::string_view key) {
    return r.query.Bool(key, false);
}

// Catalog #35 POST /{version}/admin/otajob ?force_push &user_approval &notify: {ota_job_name,
// ota_image_id, description?, nodes?, groups?, priority?, timeout?, node_type?, node_model?,
// node_fw_version?, metadata?, secure_boot?, user_ota_image_acccess?} → {ota_job_id, status}.
ApiResponse Create(const ApiRequest& r, OtaJobService& jobs) {
    const auto body = r.JsonObject();
    domain::ota::JobInput in;
    in.force_push = Flag(r, "force_push");
    in.user_approval = Flag(r, "user_approval");
    in.notify = Flag(r, "notify");
    in.ota_job_name = OptionalString(body, "ota_job_name");
    in.description = OptionalString(body, "description");
    in.ota_image_id = OptionalString(body, "ota_image_id");
    in.nodes = OptionalStrings(body, "nodes");
    in.groups = OptionalStrings(body, "groups");
    in.priority = OptionalMember(body, "priority");
    in.timeout = OptionalMember(body, "timeout");
    in.node_type = OptionalString(body, "node_type");
    in.node_model = OptionalString(body, "node_model");
    in.node_fw_version = OptionalString(body, "node_fw_version");
    in.metadata = OptionalMember(body, "metadata");
    in.secure_boot = OptionalMember(body, "secure_boot");
    // The reference's spelling (three c's), and the word spelt right.
    in.user_ota_image_access = OptionalBool(body, "user_ota_image_acccess");
    if (!in.user_ota_image_access) {
        in.user_ota_image_access = OptionalBool(body, "user_ota_image_access");
    }
    const auto id = jobs.Create(r.Caller(), in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"description", "OTA job created successfully"}, {"ota_job_id", id}}
    );
}

// Catalog #36 GET /{version}/admin/otajob ?ota_job_id &ota_job_name &ota_image_id &num_records
// &start_id &archived &all → {ota_jobs, total, next_id}.
ApiResponse List(const ApiRequest& r, OtaJobService& jobs) {
    domain::ota::JobQuery q;
    q.ota_job_id = Given(r, "ota_job_id");
    q.ota_job_name = Given(r, "ota_job_name");
    q.ota_image_id = Given(r, "ota_image_id");
    q.archived = r.query.Bool("archived", false);
    q.all = r.query.Bool("all", false);
    q.start_id = Given(r, "start_id").value_or("");
    q.num_records = r.query.Int("num_records", q.num_records);
    const auto page = jobs.List(r.Caller(), q);
    boost::json::array list;
    for (const auto& view : page.jobs) {
        list.push_back(Describe(view));
    }
    boost::json::object out{{"ota_jobs", std::move(list)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #37 PUT /{version}/admin/otajob {ota_job_id, archive?}: cancels, or archives
// ("true"); answers the job with its counters.
ApiResponse CancelOrArchive(const ApiRequest& r, OtaJobService& jobs) {
    const auto body = r.JsonObject();
    const auto id = OptionalString(body, "ota_job_id").value_or("");
    // The reference types archive as a string; a boolean is taken too.
    const auto archive = OptionalBool(body, "archive").value_or(false);
    const auto view = jobs.CancelOrArchive(r.Caller(), id, archive);
    return ApiResponse::Json(Describe(view));
}

boost::json::object Summary(const domain::ota::JobCounts& c) {
    return boost::json::object{
        {"triggered", c.triggered},
        {"started", c.started},
        {"in_progress", c.in_progress},
        {"rejected", c.rejected},
        {"delayed", c.delayed},
        {"success", c.success},
        {"failed", c.failed},
        {"total", c.total},
        // Beyond the reference: not offered yet, and timed out.
        {"pending", c.pending},
        {"timed_out", c.timed_out}};
}

// Catalog #38 GET /{version}/admin/otajob/status ?ota_job_id &node_id &summary &num_records
// &start_id → {node_ota_status, total, node_groups, next_id[, summary]}.
ApiResponse NodeStatuses(const ApiRequest& r, OtaJobService& jobs) {
    domain::ota::NodeStatusQuery q;
    q.ota_job_id = Given(r, "ota_job_id").value_or("");
    q.node_id = Given(r, "node_id");
    q.summary = r.query.Bool("summary", false);
    q.start_id = Given(r, "start_id").value_or("");
    q.num_records = r.query.Int("num_records", q.num_records);
    const auto page = jobs.NodeStatuses(r.Caller(), q);
    boost::json::array statuses;
    for (const auto& node : page.nodes) {
        statuses.push_back(boost::json::object{
            {"node_id", node.node_id},
            {"status", node.status},
            {"timestamp", node.updated_at},
            {"additional_info", node.additional_info}});
    }
    boost::json::array groups;
    for (const auto& g : page.groups) {
        groups.push_back(boost::json::object{{"group_id", g.group_id}, {"group_name", g.group_name}}
        );
    }
    boost::json::object out{
        {"node_ota_status", std::move(statuses)},
        {"total", page.total},
        {"node_groups", std::move(groups)}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    if (page.summary) {
        out["summary"] = Summary(*page.summary);
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #39 GET /{version}/admin/otajob/status/summary ?ota_job_id → {triggered, started,
// in_progress, rejected, delayed, success, failed, total}.
ApiResponse JobSummary(const ApiRequest& r, OtaJobService& jobs) {
    return ApiResponse::Json(Summary(jobs.Summary(r.Caller(), Given(r, "ota_job_id").value_or("")))
    );
}

// The node id of a user OTA request: node_id (or nodeid, as for the other node routes).
std::string NodeIdOf(const ApiRequest& r) {
    const auto* v = r.query.FindAny({"node_id", "nodeid"});
    return v != nullptr ? *v : "";
}

// Catalog #41 GET /{version}/user/nodes/ota_update ?node_id → {status, ota_available,
// description, fw_version, ota_job_id, file_size[, url, file_md5, metadata]}.
ApiResponse CheckUpdate(const ApiRequest& r, OtaUserService& ota) {
    const auto check = ota.Check(r.Caller(), NodeIdOf(r));
    if (!check.ota_available) {
        return ApiResponse::Json(boost::json::object{
            {"status", "success"},
            {"ota_available", false},
            {"description", "No OTA update available for the node"}});
    }
    boost::json::object out{
        {"status", "success"},
        {"ota_available", true},
        {"description", check.description},
        {"fw_version", check.fw_version},
        {"ota_job_id", check.ota_job_id},
        {"file_size", check.file_size},
        {"file_md5", check.file_md5}};
    if (check.url) {
        out["url"] = *check.url;
    }
    if (check.metadata) {
        out["metadata"] = *check.metadata;
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #42 POST /{version}/user/nodes/ota_update {ota_job_id, node_id}.
ApiResponse ApproveUpdate(const ApiRequest& r, OtaUserService& ota) {
    const auto body = r.JsonObject();
    const auto job = OptionalString(body, "ota_job_id").value_or("");
    const auto node = OptionalString(body, "node_id").value_or("");
    ota.Approve(r.Caller(), job, node);
    return ApiResponse::Success("OTA update pushed to the node successfully");
}

// Catalog #43 GET /{version}/user/nodes/ota_status ?node_id &ota_job_id → {node_id, status,
// additional_info, timestamp}.
ApiResponse NodeStatus(const ApiRequest& r, OtaUserService& ota) {
    const auto status = ota.Status(r.Caller(), NodeIdOf(r), Given(r, "ota_job_id").value_or(""));
    return ApiResponse::Json(boost::json::object{
        {"node_id", status.node_id},
        {"status", status.status},
        {"additional_info", status.additional_info},
        {"timestamp", status.timestamp}});
}

}  // namespace

void AddOtaJobRoutes(Router& router, OtaJobService& jobs) {
    auto& j = jobs;
    const auto admin = Access::kAdmin;
    router.Add("POST", "/v1/admin/otajob", admin, [&j](const ApiRequest& r) {
        return Create(r, j);
    });
    router.Add("GET", "/v1/admin/otajob", admin, [&j](const ApiRequest& r) { return List(r, j); });
    router.Add("PUT", "/v1/admin/otajob", admin, [&j](const ApiRequest& r) {
        return CancelOrArchive(r, j);
    });
    router.Add("GET", "/v1/admin/otajob/status", admin, [&j](const ApiRequest& r) {
        return NodeStatuses(r, j);
    });
    router.Add("GET", "/v1/admin/otajob/status/summary", admin, [&j](const ApiRequest& r) {
        return JobSummary(r, j);
    });
}

void AddUserOtaRoutes(Router& router, OtaUserService& ota) {
    auto& o = ota;
    const auto user = Access::kUser;
    router.Add("GET", "/v1/user/nodes/ota_update", user, [&o](const ApiRequest& r) {
        return CheckUpdate(r, o);
    });
    router.Add("POST", "/v1/user/nodes/ota_update", user, [&o](const ApiRequest& r) {
        return ApproveUpdate(r, o);
    });
    router.Add("GET", "/v1/user/nodes/ota_status", user, [&o](const ApiRequest& r) {
        return NodeStatus(r, o);
    });
}

}  // namespace rainmaker::http::api

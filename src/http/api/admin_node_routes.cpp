// Thin handlers for admin nodes and admin tags: parse, call the domain, build the JSON.
#include "http/api/admin_node_routes.hpp"

#include <string>

#include "core/error.hpp"
#include "domain/stored_json.hpp"
#include "domain/tags/tags.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::nodes::AdminNodeInfo;
using domain::nodes::AdminNodeService;
using domain::tags::TagService;

namespace {

int NumRecords(const ApiRequest& r) {
    return r.query.Int("num_records", 1000);
}

std::string StartId(const ApiRequest& r) {
    return r.query.Text("start_id").value_or("");
}

// A query value given non-empty, else nullopt.
std::optional<std::string> NonEmpty(const ApiRequest& r, std::string_view key) {
    auto v = r.query.Text(key);
    if (v && v->empty()) {
        return std::nullopt;
    }
    return v;
}

std::string InfoText(const boost::json::value& config, std::string_view key) {
    if (!config.is_object()) {
        return "";
    }
    const auto* info = config.as_object().if_contains("info");
    if (info == nullptr || !info->is_object()) {
        return "";
    }
    const auto* v = info->as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

// One node_info entry (reference sample of #23).
boost::json::object NodeInfoJson(const AdminNodeInfo& info) {
    const auto& n = info.node;
    const auto config = domain::ParseOr(n.config, boost::json::object{});
    boost::json::array tags;
    for (const auto& t : info.tags) {
        tags.emplace_back(t);
    }
    boost::json::object connectivity{{"connected", n.connected}};
    if (n.connectivity_at > 0) {
        connectivity["timestamp"] = n.connectivity_at;
    }
    boost::json::object out{
        {"node_id", n.node_id},
        {"name", InfoText(config, "name")},
        {"fw_version", n.fw_version},
        {"type", n.node_type},
        {"model", n.model},
        {"subtype", InfoText(config, "subtype")},
        {"project_name", InfoText(config, "project_name")},
        {"node_status", info.node_status},
        {"registration_timestamp", n.created_at},
        {"tags", std::move(tags)},
        {"status", boost::json::object{{"connectivity", std::move(connectivity)}}},
        {"laststatusupdate_timestamp", n.connectivity_at / 1000},
    };
    if (info.with_config) {
        out["config"] = config;
        out["params"] = domain::ParseOr(n.params, boost::json::object{});
    }
    return out;
}

// Catalog #23 GET /{version}/admin/nodes.
ApiResponse GetNodes(const ApiRequest& r, AdminNodeService& nodes) {
    if (r.query.Bool("summary", false)) {
        const auto c = nodes.Summary(r.Caller(), r.query.Text("start_time"));
        return ApiResponse::Json(boost::json::object{
            {"active_count", c.active},
            {"inactive_count", c.inactive},
            {"not_activated_count", c.not_activated},
            {"deactivated_count", c.deactivated}});
    }
    if (const auto id = NonEmpty(r, "node_id")) {
        const auto info = nodes.One(r.Caller(), *id);
        return ApiResponse::Json(boost::json::object{
            {"nodes", boost::json::array{boost::json::value(info.node.node_id)}},
            {"node_info", boost::json::array{NodeInfoJson(info)}},
            {"total", 1}});
    }
    domain::nodes::AdminNodeQuery q;
    q.type = NonEmpty(r, "type");
    q.model = NonEmpty(r, "model");
    q.fw_version = NonEmpty(r, "fw_version");
    q.tags = NonEmpty(r, "tags");
    q.node_status = NonEmpty(r, "node_status");
    q.subtype = NonEmpty(r, "subtype");
    q.project_name = NonEmpty(r, "project_name");
    q.start_time = NonEmpty(r, "start_time");
    q.start_id = StartId(r);
    q.num_records = NumRecords(r);
    const auto page = nodes.Search(r.Caller(), q);
    boost::json::array ids;
    boost::json::array infos;
    for (const auto& info : page.nodes) {
        ids.emplace_back(info.node.node_id);
        infos.push_back(NodeInfoJson(info));
    }
    boost::json::object out{
        {"nodes", std::move(ids)}, {"node_info", std::move(infos)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(out);
}

// The "tags" member of a body: absent -> nullopt; anything but an array of strings -> `bad`.
std::optional<std::vector<std::string>> BodyTags(
    const boost::json::object& body, ErrorCode bad, std::string_view what
) {
    const auto* v = body.if_contains("tags");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_array()) {
        throw ApiError(bad, std::string(what));
    }
    std::vector<std::string> out;
    for (const auto& item : v->as_array()) {
        if (!item.is_string()) {
            throw ApiError(bad, std::string(what));
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

// Catalog #24 PUT /{version}/admin/nodes. All nodes done: 200. Some done: 207 with one entry
// per node {"node_id","status":"success"|"failure","description"[,"error_code"]}. None done:
// the failure of the first node.
ApiResponse PutNodes(const ApiRequest& r, AdminNodeService& nodes) {
    const auto ids = r.query.Text("node_id").value_or("");
    std::optional<std::vector<std::string>> tags;
    if (!r.body.empty()) {
        tags = BodyTags(
            r.JsonObject(),
            ErrorCode::kInvalidNodeTag,
            "Invalid tag, tags must be a list of key:value strings"
        );
    }
    // A body without "tags" (`{}`) is no body: activate alone is then the whole request.
    const auto results =
        nodes.Update(r.Caller(), ids, r.query.Text("activate"), tags, tags.has_value());
    int failed = 0;
    boost::json::array entries;
    for (const auto& res : results) {
        boost::json::object e{{"node_id", res.node_id}, {"description", res.description}};
        if (res.error) {
            ++failed;
            e["status"] = "failure";
            e["error_code"] = core::Info(*res.error).code;
        } else {
            e["status"] = "success";
        }
        entries.push_back(std::move(e));
    }
    if (failed == 0) {
        return ApiResponse::Success("Node(s) updated successfully");
    }
    if (failed == static_cast<int>(results.size())) {
        throw ApiError(*results.front().error, results.front().description);
    }
    return ApiResponse::Json(
        boost::json::object{
            {"status", "partial_success"},
            {"description", "Some nodes were not updated"},
            {"nodes", std::move(entries)}},
        207
    );
}

// Catalog #25 GET /{version}/admin/nodes/tags.
ApiResponse GetNodeTags(const ApiRequest& r, AdminNodeService& nodes) {
    const auto name = NonEmpty(r, "tag_name");
    const auto page = nodes.NodeTagNames(r.Caller(), name, StartId(r), NumRecords(r));
    boost::json::array items;
    for (const auto& i : page.items) {
        items.emplace_back(i);
    }
    boost::json::object out{
        {name ? "tag_values" : "tags", std::move(items)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(out);
}

// Catalog #26 GET /{version}/admin/user/nodes (superadmins).
ApiResponse GetUserNodes(const ApiRequest& r, AdminNodeService& nodes) {
    domain::nodes::UserNodesQuery q;
    q.user_id = NonEmpty(r, "user_id");
    q.user_name = NonEmpty(r, "user_name");
    q.node_id = NonEmpty(r, "node_id");
    q.role = NamedRoleOf(NonEmpty(r, "role"));
    q.node_details = r.query.Bool("node_details", false);
    q.start_id = StartId(r);
    q.num_records = NumRecords(r);
    if (q.node_id && !q.user_id && !q.user_name) {
        const auto users = nodes.UsersOfNode(q);
        const auto list = [](const std::vector<domain::nodes::NodeUser>& us) {
            boost::json::array a;
            for (const auto& u : us) {
                a.push_back(boost::json::object{{"user_id", u.user_id}, {"user_name", u.user_name}}
                );
            }
            return boost::json::object{{"users", std::move(a)}, {"total", us.size()}};
        };
        return ApiResponse::Json(boost::json::object{
            {"primary", list(users.primary)},
            {"secondary", list(users.secondary)},
            {"total", users.primary.size() + users.secondary.size()}});
    }
    const auto found = nodes.NodesOfUser(q);
    const auto list = [](const std::vector<std::string>& ids, int total) {
        boost::json::array a;
        for (const auto& id : ids) {
            a.emplace_back(id);
        }
        return boost::json::object{{"nodes", std::move(a)}, {"total", total}};
    };
    boost::json::object out{
        {"primary", list(found.primary, found.primary_total)},
        {"secondary", list(found.secondary, found.secondary_total)},
        {"total", found.primary_total + found.secondary_total}};
    if (!found.next_id.empty()) {
        out["next_id"] = found.next_id;
    }
    if (q.node_details) {
        boost::json::array infos;
        for (const auto& info : found.details) {
            infos.push_back(NodeInfoJson(info));
        }
        out["node_info"] = std::move(infos);
    }
    return ApiResponse::Json(out);
}

boost::json::object ResourceJson(const domain::tags::ResourceEntry& e) {
    boost::json::object o{
        {"tenant_id", "*"},
        {"resource_type", domain::tags::ResourceTypeName(e.type)},
        {"resource_id", e.resource_id}};
    if (e.tags) {
        boost::json::array tags;
        for (const auto& t : *e.tags) {
            tags.emplace_back(t);
        }
        o["tags"] = std::move(tags);
    }
    if (e.custom_data) {
        o["custom_data"] = *e.custom_data;
    }
    if (e.node_count) {
        o["node_count"] = *e.node_count;
    }
    return o;
}

// Catalog #106 GET /{version}/admin/tags.
ApiResponse GetTags(const ApiRequest& r, TagService& tags) {
    domain::tags::TagLookup q;
    q.tag_name = r.query.Text("tag_name");
    q.tag_value = r.query.Text("tag_value");
    q.resource_type = r.query.Text("resource_type");
    q.resource_id = r.query.Text("resource_id");
    q.tags = r.query.Text("tags");
    q.custom_data = r.query.Bool("custom_data", false);
    q.node_counts = r.query.Bool("node_counts", false);
    q.start_id = StartId(r);
    q.num_records = NumRecords(r);
    const auto page = tags.Lookup(r.Caller(), q);
    boost::json::array resources;
    for (const auto& e : page.resources) {
        resources.push_back(ResourceJson(e));
    }
    boost::json::object out{{"resources", std::move(resources)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(out);
}

// Catalog #107 PUT and #108 DELETE /{version}/admin/tags.
ApiResponse ChangeTags(const ApiRequest& r, TagService& tags, bool attach) {
    const auto type = r.query.Text("resource_type");
    const auto id = r.query.Text("resource_id");
    const auto body = r.JsonObject();
    const auto list = BodyTags(
        body, ErrorCode::kInvalidTags, "Please enter valid Tags: tags must be a list of strings"
    );
    if (attach) {
        tags.Attach(r.Caller(), type, id, list);
        return ApiResponse::Success("Tags attached successfully");
    }
    tags.Detach(r.Caller(), type, id, list);
    return ApiResponse::Success("Tags detached successfully");
}

// Catalog #109 GET /{version}/admin/tags/names.
ApiResponse GetTagNames(const ApiRequest& r, TagService& tags) {
    const auto name = NonEmpty(r, "tag_name");
    const auto page =
        tags.Names(r.Caller(), name, r.query.Text("resource_type"), StartId(r), NumRecords(r));
    boost::json::array items;
    for (const auto& i : page.items) {
        items.emplace_back(i);
    }
    boost::json::object out{
        {name ? "tag_values" : "tags", std::move(items)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(out);
}

}  // namespace

void AddAdminNodeRoutes(Router& router, AdminNodeService& nodes, TagService& tags) {
    auto& n = nodes;
    auto& t = tags;
    const auto admin = Access::kAdmin;
    router.Add("GET", "/v1/admin/nodes", admin, [&n](const ApiRequest& r) {
        return GetNodes(r, n);
    });
    router.Add("PUT", "/v1/admin/nodes", admin, [&n](const ApiRequest& r) {
        return PutNodes(r, n);
    });
    router.Add("GET", "/v1/admin/nodes/tags", admin, [&n](const ApiRequest& r) {
        return GetNodeTags(r, n);
    });
    router.Add("GET", "/v1/admin/user/nodes", Access::kSuperAdmin, [&n](const ApiRequest& r) {
        return GetUserNodes(r, n);
    });
    router.Add("GET", "/v1/admin/tags", admin, [&t](const ApiRequest& r) { return GetTags(r, t); });
    router.Add("PUT", "/v1/admin/tags", admin, [&t](const ApiRequest& r) {
        return ChangeTags(r, t, true);
    });
    router.Add("DELETE", "/v1/admin/tags", admin, [&t](const ApiRequest& r) {
        return ChangeTags(r, t, false);
    });
    router.Add("GET", "/v1/admin/tags/names", admin, [&t](const ApiRequest& r) {
        return GetTagNames(r, t);
    });
}

}  // namespace rainmaker::http::api

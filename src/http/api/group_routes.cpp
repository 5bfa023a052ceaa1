// Thin handlers over the group service.
#include "http/api/group_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::groups::FabricService;
using domain::groups::GroupFields;
using domain::groups::GroupService;

namespace {

GroupFields Fields(const boost::json::object& body) {
    GroupFields f;
    f.group_name = OptionalString(body, "group_name");
    f.parent_group_id = OptionalString(body, "parent_group_id");
    f.type = OptionalString(body, "type");
    f.mutually_exclusive = OptionalBool(body, "mutually_exclusive");
    f.nodes = OptionalStrings(body, "nodes");
    f.operation = OptionalString(body, "operation");
    f.description = OptionalString(body, "description");
    if (const auto* v = body.if_contains("group_metadata")) {
        f.group_metadata = *v;
    }
    if (const auto* v = body.if_contains("custom_data")) {
        f.custom_data = *v;
    }
    // The Matter-fabric members of these bodies (refused on admin groups).
    f.is_matter = OptionalBool(body, "is_matter");
    f.matter = f.is_matter.value_or(false) || body.contains("csr_requests") ||
               body.contains("csr_type") || body.contains("rainmaker_node_id") ||
               body.contains("challenge_response");
    f.node_type = OptionalString(body, "node_type");
    f.node_model = OptionalString(body, "node_model");
    f.node_fw_version = OptionalString(body, "node_fw_version");
    f.regroup = OptionalBool(body, "regroup");
    return f;
}

// Catalog #56 POST /{version}/user/node_group; a Matter fabric's answer also carries its
// fabric id and details.
ApiResponse CreateGroup(const ApiRequest& r, GroupService& groups) {
    const auto fields = Fields(r.JsonObject());
    const auto id = groups.Create(r.Caller(), fields);
    boost::json::object out{
        {"status", "success"}, {"description", "Group created successfully"}, {"group_id", id}};
    if (fields.is_matter.value_or(false)) {
        for (auto& [key, value] : groups.FabricSummary(r.Caller(), id)) {
            out[key] = value;
        }
    }
    return ApiResponse::Json(std::move(out));
}

ApiResponse UpdateGroup(const ApiRequest& r, GroupService& groups);

// The csr_requests of #57.
domain::groups::NocBatch CsrBatch(const boost::json::object& body) {
    domain::groups::NocBatch batch;
    batch.operation = OptionalString(body, "operation").value_or("");
    batch.csr_type = OptionalString(body, "csr_type").value_or("");
    batch.has_tags = body.contains("tags");
    batch.has_metadata = body.contains("metadata");
    const auto* list = body.if_contains("csr_requests");
    if (list == nullptr || list->is_null()) {
        return batch;
    }
    if (!list->is_array()) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: csr_requests must be an array"
        );
    }
    if (list->as_array().size() > domain::groups::kMaxCsrRequests) {
        throw ApiError(ErrorCode::kInputTooLarge, domain::groups::CsrRequestsTooMany());
    }
    for (const auto& value : list->as_array()) {
        if (!value.is_object()) {
            throw ApiError(ErrorCode::kCsrItemFields);
        }
        const auto& item = value.as_object();
        domain::groups::CsrItem parsed;
        parsed.csr = OptionalString(item, "csr").value_or("");
        parsed.group_id = OptionalString(item, "group_id").value_or("");
        parsed.role = OptionalRole(item, "role");
        parsed.matter_node_id = OptionalString(item, "matter_node_id");
        batch.items.push_back(std::move(parsed));
    }
    return batch;
}

// #57 with csr_requests: only the CSR members may come with them.
bool OnlyCsrMembers(const boost::json::object& body) {
    for (const auto& [key, value] : body) {
        if (key != "operation" && key != "csr_type" && key != "csr_requests" && key != "tags" &&
            key != "metadata") {
            return false;
        }
    }
    return true;
}

// Catalog #57 PUT /{version}/user/node_group: the Matter modes (NOCs, commissioning,
// controllers) go to the fabric service, the rest to the group service.
ApiResponse UpdateUserGroup(const ApiRequest& r, GroupService& groups, FabricService& fabrics) {
    const auto& body = r.JsonObject();
    if (r.query.Find("matter_controller") != nullptr && r.query.Bool("matter_controller", false)) {
        if (r.query.Find("group_id") != nullptr) {
            throw ApiError(ErrorCode::kInvalidQuery, "Invalid query param: group_id");
        }
        const auto group_id = OptionalString(body, "group_id").value_or("");
        const auto node_id = OptionalString(body, "node_id").value_or("");
        if (group_id.empty()) {
            throw ApiError(ErrorCode::kControllerGroupMissing);
        }
        if (node_id.empty()) {
            throw ApiError(ErrorCode::kControllerNodeMissing);
        }
        const auto matter_node_id = fabrics.CreateController(r.Caller(), group_id, node_id);
        return ApiResponse::Json(boost::json::object{
            {"status", "success"},
            {"description", "Matter controller created successfully"},
            {"matter_node_id", matter_node_id}});
    }
    if (body.contains("csr_requests") || body.contains("csr_type")) {
        if (r.query.Find("group_id") != nullptr) {
            throw ApiError(ErrorCode::kGroupIdWithCsr);
        }
        if (!OnlyCsrMembers(body)) {
            throw ApiError(ErrorCode::kCsrWithOthers);
        }
        return ApiResponse::Json(fabrics.IssueNocs(r.Caller(), CsrBatch(body)));
    }
    if (body.contains("request_id") || (body.contains("status") && !body.contains("group_name"))) {
        domain::groups::CommissioningConfirm confirm;
        confirm.request_id = OptionalString(body, "request_id").value_or("");
        confirm.status = OptionalString(body, "status").value_or("");
        confirm.rainmaker_node_id = OptionalString(body, "rainmaker_node_id");
        confirm.challenge = OptionalString(body, "challenge");
        confirm.challenge_response = OptionalString(body, "challenge_response");
        if (const auto* id = r.query.Find("group_id"); id != nullptr && !id->empty()) {
            confirm.group_id = *id;  // the apps name the fabric; it must be the request's
        }
        fabrics.Confirm(r.Caller(), confirm);
        return ApiResponse::Success("Node commissioning confirmed successfully");
    }
    return UpdateGroup(r, groups);
}

// Catalog #57 PUT /{version}/user/node_group.
ApiResponse UpdateGroup(const ApiRequest& r, GroupService& groups) {
    if (r.query.Find("matter_controller") != nullptr) {
        throw ApiError(
            ErrorCode::kNotSupportedYet, "Invalid Request: Matter controllers are not supported yet"
        );
    }
    const auto* id = r.query.Find("group_id");
    groups.Update(r.Caller(), id != nullptr ? *id : "", Fields(r.JsonObject()));
    return ApiResponse::Success("Group updated successfully");
}

// Catalog #58 GET /{version}/user/node_group.
ApiResponse GetGroups(const ApiRequest& r, GroupService& groups) {
    domain::groups::GroupQuery q;
    if (const auto* id = r.query.Find("group_id"); id != nullptr && !id->empty()) {
        q.group_id = *id;
    }
    // The reference text names the parameter "optional group_name" (a spec bug).
    if (const auto* name = r.query.FindAny({"group_name", "optional group_name"});
        name != nullptr && !name->empty()) {
        q.group_name = *name;
    }
    q.node_list = r.query.Bool("node_list", false);
    q.sub_groups = r.query.Bool("sub_groups", false);
    q.node_details = r.query.Bool("node_details", false);
    q.is_matter = r.query.Bool("is_matter", false);
    q.fabric_details = r.query.Bool("fabric_details", false);
    q.matter_node_list = r.query.Bool("matter_node_list", false);
    for (auto [name, field] :
         {std::pair{"node_type", &q.node_type},
          std::pair{"node_model", &q.node_model},
          std::pair{"node_fw_version", &q.node_fw_version}}) {
        if (const auto* value = r.query.Find(name); value != nullptr && !value->empty()) {
            *field = *value;
        }
    }
    if (const auto* start = r.query.Find("start_id")) {
        q.start_id = *start;
    }
    q.num_records = r.query.Int("num_records", q.num_records);
    return ApiResponse::Json(groups.Get(r.Caller(), q));
}

// Catalog #65 GET /{version}/user/node_group/node_acl.
ApiResponse GetNodeAcl(const ApiRequest& r, FabricService& fabrics) {
    std::optional<std::string> group_id;
    std::optional<std::string> type_entity;
    if (const auto* id = r.query.Find("group_id"); id != nullptr && !id->empty()) {
        group_id = *id;
    }
    if (const auto* entity = r.query.Find("type_entity"); entity != nullptr && !entity->empty()) {
        type_entity = *entity;
    }
    return ApiResponse::Json(fabrics.NodeAcl(r.Caller(), group_id, type_entity));
}

// Catalog #55 DELETE /{version}/admin/node_group.
ApiResponse DeleteAdminGroup(const ApiRequest& r, GroupService& groups) {
    const auto* id = r.query.Find("group_id");
    groups.Delete(r.Caller(), id != nullptr ? *id : "", false);
    return ApiResponse::Success("Group deleted successfully");
}

// Catalog #59 DELETE /{version}/user/node_group: delete, leave, or remove another user's
// share (remove_sharing with user_name).
ApiResponse DeleteGroup(
    const ApiRequest& r, GroupService& groups, domain::sharing::GroupSharingService& sharing
) {
    const auto* id = r.query.Find("group_id");
    const std::string group_id = id != nullptr ? *id : "";
    const bool leave = r.query.Bool("leave", false);
    const bool remove_sharing = r.query.Bool("remove_sharing", false);
    const auto* user_name = r.query.Find("user_name");
    if (leave && remove_sharing) {
        throw ApiError(ErrorCode::kLeaveAndRemove);
    }
    if (remove_sharing) {
        if (user_name == nullptr || user_name->empty()) {
            throw ApiError(ErrorCode::kRemoveSharingNeedsUser);
        }
        if (group_id.empty()) {
            throw ApiError(ErrorCode::kGroupIdMissing);
        }
        sharing.RemoveFromGroup(r.Caller(), group_id, *user_name);
        return ApiResponse::Success("Group sharing removed successfully");
    }
    groups.Delete(r.Caller(), group_id, leave);
    return ApiResponse::Success(leave ? "Group left successfully" : "Group deleted successfully");
}

}  // namespace

void AddAdminGroupRoutes(Router& router, GroupService& groups) {
    auto& g = groups;
    const auto admin = Access::kAdmin;
    // Catalog #52-#54: the same rules as the user operations, over admin groups.
    router.Add("POST", "/v1/admin/node_group", admin, [&g](const ApiRequest& r) {
        return CreateGroup(r, g);
    });
    router.Add("PUT", "/v1/admin/node_group", admin, [&g](const ApiRequest& r) {
        return UpdateGroup(r, g);
    });
    router.Add("GET", "/v1/admin/node_group", admin, [&g](const ApiRequest& r) {
        return GetGroups(r, g);
    });
    router.Add("DELETE", "/v1/admin/node_group", admin, [&g](const ApiRequest& r) {
        return DeleteAdminGroup(r, g);
    });
}

void AddGroupRoutes(
    Router& router,
    GroupService& groups,
    domain::sharing::GroupSharingService& sharing,
    FabricService& fabrics
) {
    auto& g = groups;
    auto& s = sharing;
    auto& f = fabrics;
    const auto user = Access::kUser;
    router.Add("POST", "/v1/user/node_group", user, [&g](const ApiRequest& r) {
        return CreateGroup(r, g);
    });
    router.Add("PUT", "/v1/user/node_group", user, [&g, &f](const ApiRequest& r) {
        return UpdateUserGroup(r, g, f);
    });
    router.Add("GET", "/v1/user/node_group", user, [&g](const ApiRequest& r) {
        return GetGroups(r, g);
    });
    router.Add("DELETE", "/v1/user/node_group", user, [&g, &s](const ApiRequest& r) {
        return DeleteGroup(r, g, s);
    });
    router.Add("GET", "/v1/user/node_group/node_acl", user, [&f](const ApiRequest& r) {
        return GetNodeAcl(r, f);
    });
}

}  // namespace rainmaker::http::api

// Thin handlers over the node sharing service.
#include "http/api/sharing_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::sharing::NodeSharingService;

namespace {

// Catalog #16 PUT /{version}/user/nodes/sharing and #21 PUT .../sharing/requests: create a
// request, or (receiver) {accept, request_id}.
ApiResponse PutSharing(const ApiRequest& r, NodeSharingService& sharing) {
    const auto body = r.JsonObject();
    if (const auto* accept = body.if_contains("accept")) {
        if (!accept->is_bool()) {
            throw ApiError(ErrorCode::kShareBadAccept);
        }
        sharing.Respond(
            r.Caller(), OptionalString(body, "request_id").value_or(""), accept->as_bool()
        );
        return ApiResponse::Success(
            accept->as_bool() ? "Sharing request accepted" : "Sharing request declined"
        );
    }
    domain::sharing::ShareRequest request;
    // The reference schema says node_ids; the sample and every client send nodes.
    request.nodes =
        OptionalStrings(body, "nodes")
            .value_or(OptionalStrings(body, "node_ids").value_or(std::vector<std::string>{}));
    request.user_name = OptionalString(body, "user_name").value_or("");
    request.primary = OptionalBool(body, "primary").value_or(false);
    request.transfer = OptionalBool(body, "transfer").value_or(false);
    request.new_role = OptionalString(body, "new_role");
    if (const auto* metadata = body.if_contains("metadata")) {
        request.metadata = *metadata;
    }
    const auto id = sharing.Share(r.Caller(), request);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"description", "Sharing request created"}, {"request_id", id}});
}

std::vector<std::string> SplitComma(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        std::string item =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) {
            out.push_back(item);
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

// Catalog #17 DELETE /{version}/user/nodes/sharing?nodes=a,b&user_name=x.
ApiResponse DeleteSharing(const ApiRequest& r, NodeSharingService& sharing) {
    const auto* nodes = r.query.Find("nodes");
    const auto* user = r.query.Find("user_name");
    sharing.Remove(
        r.Caller(),
        nodes != nullptr ? SplitComma(*nodes) : std::vector<std::string>{},
        user != nullptr ? *user : ""
    );
    return ApiResponse::Success("Node sharing removed successfully");
}

// Catalog #18 GET /{version}/user/nodes/sharing.
ApiResponse GetSharing(const ApiRequest& r, NodeSharingService& sharing) {
    std::optional<std::string> node_id;
    if (const auto* id = r.query.FindAny({"node_id", "nodeid"}); id != nullptr && !id->empty()) {
        node_id = *id;
    }
    return ApiResponse::Json(sharing.Details(r.Caller(), node_id));
}

// Catalog #19 GET /{version}/user/nodes/sharing/requests.
ApiResponse GetRequests(const ApiRequest& r, NodeSharingService& sharing) {
    domain::sharing::RequestQuery q;
    if (const auto* id = r.query.Find("request_id"); id != nullptr && !id->empty()) {
        q.request_id = *id;
    }
    if (const auto* flag = r.query.Find("primary_user")) {
        q.primary_user = *flag;
    }
    if (const auto* start = r.query.Find("start_request_id")) {
        q.start_request_id = *start;
    }
    if (const auto* n = r.query.Find("num_records")) {
        try {
            q.num_records = std::stoi(*n);
        } catch (const std::exception&) {
            q.num_records = 10;  // an invalid value gets the default
        }
    }
    return ApiResponse::Json(sharing.Requests(r.Caller(), q));
}

// Catalog #20 DELETE /{version}/user/nodes/sharing/requests.
ApiResponse DeleteRequest(const ApiRequest& r, NodeSharingService& sharing) {
    const auto* id = r.query.Find("request_id");
    sharing.Cancel(r.Caller(), id != nullptr ? *id : "");
    return ApiResponse::Success("Sharing request removed successfully");
}

}  // namespace

void AddSharingRoutes(Router& router, NodeSharingService& sharing) {
    auto& s = sharing;
    const auto user = Access::kUser;
    router.Add("PUT", "/v1/user/nodes/sharing", user, [&s](const ApiRequest& r) {
        return PutSharing(r, s);
    });
    router.Add("PUT", "/v1/user/nodes/sharing/requests", user, [&s](const ApiRequest& r) {
        return PutSharing(r, s);
    });
    router.Add("DELETE", "/v1/user/nodes/sharing", user, [&s](const ApiRequest& r) {
        return DeleteSharing(r, s);
    });
    router.Add("GET", "/v1/user/nodes/sharing", user, [&s](const ApiRequest& r) {
        return GetSharing(r, s);
    });
    router.Add("GET", "/v1/user/nodes/sharing/requests", user, [&s](const ApiRequest& r) {
        return GetRequests(r, s);
    });
    router.Add("DELETE", "/v1/user/nodes/sharing/requests", user, [&s](const ApiRequest& r) {
        return DeleteRequest(r, s);
    });
}

}  // namespace rainmaker::http::api

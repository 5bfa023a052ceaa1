// Thin handlers over the node and group sharing services; both kinds share the request
// handlers (list, accept/decline, withdraw).
#include "http/api/sharing_routes.hpp"

#include <functional>

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::sharing::GroupSharingService;
using domain::sharing::NodeSharingService;
using domain::sharing::ShareRequest;
using domain::sharing::SharingFlow;

namespace {

using ShareFn = std::function<std::string(const ShareRequest&)>;
using ItemsFn = std::function<std::vector<std::string>(const boost::json::object&)>;
// What an accepted request's answer carries beside status and description (the fabrics of an
// accepted group request).
using AcceptedFn = std::function<boost::json::object(const std::string& request_id)>;

// PUT of a sharing or sharing/requests path: {accept, request_id} answers a request (the
// receiver); anything else creates one from the items `items` reads from the body (node or
// group ids).
ApiResponse PutSharing(
    const ApiRequest& r,
    SharingFlow& flow,
    ErrorCode bad_accept,
    const ItemsFn& items,
    const ShareFn& share,
    const AcceptedFn& accepted = nullptr
) {
    const auto body = r.JsonObject();
    // confirm_sharing is the older name of accept.
    const auto* accept = body.if_contains("accept");
    if (accept == nullptr) {
        accept = body.if_contains("confirm_sharing");
    }
    if (accept != nullptr) {
        if (!accept->is_bool()) {
            throw ApiError(bad_accept);
        }
        const auto request_id = OptionalString(body, "request_id").value_or("");
        flow.Respond(r.Caller(), request_id, accept->as_bool());
        if (accept->as_bool() && accepted) {
            auto out = accepted(request_id);
            out["status"] = "success";
            out["description"] = "Sharing request accepted";
            return ApiResponse::Json(std::move(out));
        }
        return ApiResponse::Success(
            accept->as_bool() ? "Sharing request accepted" : "Sharing request declined"
        );
    }
    ShareRequest request;
    request.items = items(body);
    request.user_name = OptionalString(body, "user_name").value_or("");
    request.primary = OptionalBool(body, "primary").value_or(false);
    request.transfer = OptionalBool(body, "transfer").value_or(false);
    request.new_role = OptionalRole(body, "new_role");
    if (const auto* metadata = body.if_contains("metadata")) {
        request.metadata = *metadata;
    }
    const auto id = share(request);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"description", "Sharing request created"}, {"request_id", id}});
}

// Catalog #16 PUT /{version}/user/nodes/sharing and #21 PUT .../sharing/requests.
ApiResponse PutNodeSharing(const ApiRequest& r, NodeSharingService& sharing) {
    const auto nodes = [](const boost::json::object& body) {
        // The reference schema says node_ids; the sample and every client send nodes.
        auto list = OptionalStrings(body, "nodes");
        if (!list) {
            list = OptionalStrings(body, "node_ids");
        }
        return list.value_or(std::vector<std::string>{});
    };
    return PutSharing(r, sharing, ErrorCode::kShareBadAccept, nodes, [&](const auto& q) {
        return sharing.Share(r.Caller(), q);
    });
}

// Catalog #60 PUT /{version}/user/node_group/sharing and #64 PUT .../sharing/requests.
ApiResponse PutGroupSharing(const ApiRequest& r, GroupSharingService& sharing) {
    const auto groups = [](const boost::json::object& body) {
        return OptionalStrings(body, "groups").value_or(std::vector<std::string>{});
    };
    return PutSharing(
        r,
        sharing,
        ErrorCode::kGroupShareBadAccept,
        groups,
        [&](const auto& q) { return sharing.Share(r.Caller(), q); },
        [&](const std::string& request_id) {
            return boost::json::object{{"groups", sharing.AcceptedFabrics(r.Caller(), request_id)}};
        }
    );
}

std::vector<std::string> SplitComma(const std::string* text) {
    std::vector<std::string> out;
    if (text == nullptr) {
        return out;
    }
    std::size_t start = 0;
    while (start <= text->size()) {
        const auto comma = text->find(',', start);
        std::string item =
            text->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
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

std::string UserName(const ApiRequest& r) {
    const auto* user = r.query.Find("user_name");
    return user != nullptr ? *user : "";
}

// Catalog #17 DELETE /{version}/user/nodes/sharing?nodes=a,b&user_name=x.
ApiResponse DeleteNodeSharing(const ApiRequest& r, NodeSharingService& sharing) {
    sharing.Remove(r.Caller(), SplitComma(r.query.Find("nodes")), UserName(r));
    return ApiResponse::Success("Node sharing removed successfully");
}

// Catalog #131 DELETE /{version}/user/node_group/sharing?groups=a,b&user_name=x.
ApiResponse DeleteGroupSharing(const ApiRequest& r, GroupSharingService& sharing) {
    sharing.Remove(r.Caller(), SplitComma(r.query.Find("groups")), UserName(r));
    return ApiResponse::Success("Group sharing removed successfully");
}

// Catalog #18 GET /{version}/user/nodes/sharing.
ApiResponse GetNodeSharing(const ApiRequest& r, NodeSharingService& sharing) {
    std::optional<std::string> node_id;
    if (const auto* id = r.query.FindAny({"node_id", "nodeid"}); id != nullptr && !id->empty()) {
        node_id = *id;
    }
    return ApiResponse::Json(sharing.Details(r.Caller(), node_id));
}

// Catalog #61 GET /{version}/user/node_group/sharing.
ApiResponse GetGroupSharing(const ApiRequest& r, GroupSharingService& sharing) {
    domain::sharing::GroupSharingQuery q;
    if (const auto* id = r.query.Find("group_id"); id != nullptr && !id->empty()) {
        q.group_id = *id;
    }
    q.sub_groups = r.query.Bool("sub_groups", false);
    q.parent_groups = r.query.Bool("parent_groups", false);
    q.metadata = r.query.Bool("metadata", false);
    return ApiResponse::Json(sharing.Details(r.Caller(), q));
}

// Catalog #19 / #62 GET .../sharing/requests.
ApiResponse GetRequests(const ApiRequest& r, SharingFlow& flow) {
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
    try {
        q.num_records = r.query.Int("num_records", q.num_records);
    } catch (const ApiError&) {
        // An invalid value gets the default (the service also maps 1..10 only).
    }
    return ApiResponse::Json(flow.Requests(r.Caller(), q));
}

// Catalog #20 / #63 DELETE .../sharing/requests.
ApiResponse DeleteRequest(const ApiRequest& r, SharingFlow& flow) {
    const auto* id = r.query.Find("request_id");
    flow.Cancel(r.Caller(), id != nullptr ? *id : "");
    return ApiResponse::Success("Sharing request removed successfully");
}

}  // namespace

void AddSharingRoutes(Router& router, NodeSharingService& nodes, GroupSharingService& groups) {
    auto& n = nodes;
    auto& g = groups;
    const auto user = Access::kUser;
    const auto put_nodes = [&n](const ApiRequest& r) { return PutNodeSharing(r, n); };
    router.Add("PUT", "/v1/user/nodes/sharing", user, put_nodes);
    router.Add("PUT", "/v1/user/nodes/sharing/requests", user, put_nodes);
    router.Add("DELETE", "/v1/user/nodes/sharing", user, [&n](const ApiRequest& r) {
        return DeleteNodeSharing(r, n);
    });
    router.Add("GET", "/v1/user/nodes/sharing", user, [&n](const ApiRequest& r) {
        return GetNodeSharing(r, n);
    });
    router.Add("GET", "/v1/user/nodes/sharing/requests", user, [&n](const ApiRequest& r) {
        return GetRequests(r, n);
    });
    router.Add("DELETE", "/v1/user/nodes/sharing/requests", user, [&n](const ApiRequest& r) {
        return DeleteRequest(r, n);
    });

    const auto put_groups = [&g](const ApiRequest& r) { return PutGroupSharing(r, g); };
    router.Add("PUT", "/v1/user/node_group/sharing", user, put_groups);
    router.Add("PUT", "/v1/user/node_group/sharing/requests", user, put_groups);
    router.Add("DELETE", "/v1/user/node_group/sharing", user, [&g](const ApiRequest& r) {
        return DeleteGroupSharing(r, g);
    });
    router.Add("GET", "/v1/user/node_group/sharing", user, [&g](const ApiRequest& r) {
        return GetGroupSharing(r, g);
    });
    router.Add("GET", "/v1/user/node_group/sharing/requests", user, [&g](const ApiRequest& r) {
        return GetRequests(r, g);
    });
    router.Add("DELETE", "/v1/user/node_group/sharing/requests", user, [&g](const ApiRequest& r) {
        return DeleteRequest(r, g);
    });
}

}  // namespace rainmaker::http::api

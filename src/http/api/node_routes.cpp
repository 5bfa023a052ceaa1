// Thin handlers over the node, mapping and claim services.
#include "http/api/node_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::nodes::MappingExtras;
using domain::nodes::MappingService;
using domain::nodes::NodeService;

namespace {

// client-compat.md: some clients send nodeid instead of node_id.
std::string NodeIdQuery(const ApiRequest& r) {
    const auto* id = r.query.FindAny({"node_id", "nodeid"});
    if (id == nullptr || id->empty()) {
        throw ApiError(ErrorCode::kNodeIdMissing);
    }
    return *id;
}

MappingExtras Extras(const boost::json::object& body) {
    MappingExtras extras;
    extras.tags = OptionalStrings(body, "tags");
    if (const auto* metadata = body.if_contains("metadata")) {
        extras.metadata = *metadata;
    }
    extras.group_id = OptionalString(body, "group_id").value_or("");
    return extras;
}

// Catalog #9 GET /{version}/user/nodes.
ApiResponse ListNodes(const ApiRequest& r, NodeService& nodes) {
    domain::nodes::NodeListQuery q;
    if (const auto* id = r.query.FindAny({"node_id", "nodeid"}); id != nullptr && !id->empty()) {
        q.node_id = *id;
    }
    q.node_details = r.query.Bool("node_details", false);
    q.status = r.query.Bool("status", true);
    q.config = r.query.Bool("config", true);
    q.params = r.query.Bool("params", true);
    q.show_tags = r.query.Bool("show_tags", true);
    q.is_matter = r.query.Bool("is_matter", false);
    if (const auto* start = r.query.Find("start_id")) {
        q.start_id = *start;
    }
    q.num_records = r.query.Int("num_records", q.num_records);
    if (const auto* tags = r.query.Find("tags"); tags != nullptr && !tags->empty()) {
        q.tags = *tags;
    }
    return ApiResponse::Json(nodes.ListNodes(r.Caller(), q));
}

// Catalog #10 PUT /{version}/user/nodes (also DELETE: remove tags, client-compat.md).
ApiResponse UpdateNode(const ApiRequest& r, NodeService& nodes, bool remove) {
    const std::string node_id = NodeIdQuery(r);
    const auto body = r.JsonObject();
    const auto tags = OptionalStrings(body, "tags");
    const auto* metadata = body.if_contains("metadata");
    const auto grant = OptionalString(body, "grant_admin_access");
    if (remove) {
        nodes.UpdateNode(r.Caller(), node_id, std::nullopt, tags, nullptr, std::nullopt);
        return ApiResponse::Success("Node tags removed successfully");
    }
    nodes.UpdateNode(r.Caller(), node_id, tags, std::nullopt, metadata, grant);
    return ApiResponse::Success("Node updated successfully");
}

// Catalog #11 GET /{version}/user/nodes/config.
ApiResponse GetConfig(const ApiRequest& r, NodeService& nodes) {
    return ApiResponse::Json(nodes.GetConfig(r.Caller(), NodeIdQuery(r)));
}

// Catalog #22 GET /{version}/user/nodes/status.
ApiResponse GetStatus(const ApiRequest& r, NodeService& nodes) {
    return ApiResponse::Json(nodes.GetStatus(r.Caller(), NodeIdQuery(r)));
}

// Catalog #28 GET /{version}/user/nodes/params.
ApiResponse GetParams(const ApiRequest& r, NodeService& nodes) {
    return ApiResponse::Json(nodes.GetParams(r.Caller(), NodeIdQuery(r)));
}

// Catalog #27 PUT /{version}/user/nodes/params: ?node_id= with {"<device>": {...}}, or an
// array [{node_id, payload}] answered per node (207 when not all succeeded).
ApiResponse SetParams(const ApiRequest& r, NodeService& nodes) {
    const auto body = r.Json();
    if (const auto* id = r.query.FindAny({"node_id", "nodeid"}); id != nullptr && !id->empty()) {
        if (!body.is_object()) {
            throw ApiError(
                ErrorCode::kInvalidBody,
                "Invalid request body: with node_id the body is an object of params"
            );
        }
        nodes.SetParams(r.Caller(), *id, body.as_object());
        return ApiResponse::Success("Node params updated successfully");
    }
    if (!body.is_array()) {
        throw ApiError(ErrorCode::kNodeIdMissing);
    }
    if (body.as_array().empty() || body.as_array().size() > 25) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: give 1 to 25 {node_id, payload} items"
        );
    }
    boost::json::array results;
    bool all_ok = true;
    for (const auto& item : body.as_array()) {
        boost::json::object result;
        std::string node_id;
        try {
            if (!item.is_object()) {
                throw ApiError(
                    ErrorCode::kInvalidBody, "Invalid request body: each item is {node_id, payload}"
                );
            }
            node_id = OptionalString(item.as_object(), "node_id").value_or("");
            if (node_id.empty()) {
                throw ApiError(ErrorCode::kNodeIdMissing);
            }
            const auto* payload = item.as_object().if_contains("payload");
            if (payload == nullptr || !payload->is_object()) {
                throw ApiError(
                    ErrorCode::kInvalidBody,
                    "Invalid request body: payload must be an object of params"
                );
            }
            nodes.SetParams(r.Caller(), node_id, payload->as_object());
            result = {
                {"node_id", node_id},
                {"status", "success"},
                {"description", "Node params updated successfully"}};
        } catch (const ApiError& e) {
            all_ok = false;
            result = {
                {"node_id", node_id},
                {"status", "failure"},
                {"error_code", e.wire_code()},
                {"description", e.description()}};
        }
        results.push_back(std::move(result));
    }
    return ApiResponse::Json(results, all_ok ? 200 : 207);
}

// Catalog #12 PUT /{version}/user/nodes/mapping.
ApiResponse PutMapping(const ApiRequest& r, MappingService& mapping) {
    const auto body = r.JsonObject();
    const auto node_id = OptionalString(body, "node_id").value_or("");
    const auto operation = OptionalString(body, "operation").value_or("add");
    if (operation == "remove") {
        mapping.RemoveMapping(r.Caller(), node_id);
        return ApiResponse::Success("User node mapping removed successfully");
    }
    if (operation != "add") {
        throw ApiError(ErrorCode::kMappingOperation);
    }
    const auto request_id = mapping.RequestSecretMapping(
        r.Caller(), node_id, OptionalString(body, "secret_key").value_or(""), Extras(body)
    );
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"description", "User node mapping requested"},
        {"request_id", request_id}});
}

// Catalog #13 GET /{version}/user/nodes/mapping.
ApiResponse GetMapping(const ApiRequest& r, MappingService& mapping) {
    const auto* id = r.query.Find("request_id");
    return ApiResponse::Json(boost::json::object{
        {"request_id", id != nullptr ? *id : std::string{}},
        {"request_status", mapping.RequestStatus(r.Caller(), id != nullptr ? *id : "")}});
}

// Catalog #14 POST /{version}/user/nodes/mapping/initiate.
ApiResponse InitiateMapping(const ApiRequest& r, MappingService& mapping) {
    const auto body = r.JsonObject();
    std::optional<std::int64_t> timeout;
    if (const auto* t = body.if_contains("timeout"); t != nullptr && !t->is_null()) {
        if (!t->is_number()) {
            throw ApiError(ErrorCode::kTimeoutRange);
        }
        const double seconds = t->to_number<double>();
        if (seconds < 0 || seconds > 4.0e9) {
            throw ApiError(ErrorCode::kTimeoutRange);
        }
        timeout = static_cast<std::int64_t>(seconds);
    }
    const auto [request_id, challenge] = mapping.InitiateChallenge(r.Caller(), timeout);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"description", "Challenge created"},
        {"request_id", request_id},
        {"challenge", challenge}});
}

// Catalog #15 POST /{version}/user/nodes/mapping/verify.
ApiResponse VerifyMapping(const ApiRequest& r, MappingService& mapping) {
    const auto body = r.JsonObject();
    const auto request_id = RequiredString(body, "request_id", ErrorCode::kRequestIdMissing);
    const auto response = RequiredString(body, "challenge_response", ErrorCode::kChallengeInvalid);
    mapping.VerifyChallenge(
        r.Caller(), request_id, OptionalString(body, "node_id").value_or(""), response, Extras(body)
    );
    return ApiResponse::Success("User node mapping added successfully");
}

// Where nodes connect. mqtt_cred_host is the official cloud's AWS IoT credentials endpoint
// (used only for video streaming); this server has none, so it names the broker host too,
// which keeps the CLI's output and its NVS credentials file complete.
boost::json::object BrokerHosts(const std::string& mqtt_host) {
    return boost::json::object{{"mqtt_host", mqtt_host}, {"mqtt_cred_host", mqtt_host}};
}

}  // namespace

void AddNodeRoutes(Router& router, NodeService& nodes, MappingService& mapping) {
    auto& n = nodes;
    auto& m = mapping;
    const auto user = Access::kUser;
    router.Add("GET", "/v1/user/nodes", user, [&n](const ApiRequest& r) {
        return ListNodes(r, n);
    });
    router.Add("PUT", "/v1/user/nodes", user, [&n](const ApiRequest& r) {
        return UpdateNode(r, n, false);
    });
    router.Add("DELETE", "/v1/user/nodes", user, [&n](const ApiRequest& r) {
        return UpdateNode(r, n, true);
    });
    router.Add("GET", "/v1/user/nodes/config", user, [&n](const ApiRequest& r) {
        return GetConfig(r, n);
    });
    router.Add("GET", "/v1/user/nodes/status", user, [&n](const ApiRequest& r) {
        return GetStatus(r, n);
    });
    router.Add("GET", "/v1/user/nodes/params", user, [&n](const ApiRequest& r) {
        return GetParams(r, n);
    });
    router.Add("PUT", "/v1/user/nodes/params", user, [&n](const ApiRequest& r) {
        return SetParams(r, n);
    });
    router.Add("PUT", "/v1/user/nodes/mapping", user, [&m](const ApiRequest& r) {
        return PutMapping(r, m);
    });
    router.Add("GET", "/v1/user/nodes/mapping", user, [&m](const ApiRequest& r) {
        return GetMapping(r, m);
    });
    router.Add("POST", "/v1/user/nodes/mapping/initiate", user, [&m](const ApiRequest& r) {
        return InitiateMapping(r, m);
    });
    router.Add("POST", "/v1/user/nodes/mapping/verify", user, [&m](const ApiRequest& r) {
        return VerifyMapping(r, m);
    });
}

void AddClaimRoutes(Router& router, domain::nodes::ClaimService& claims) {
    auto& c = claims;
    // POST /claim/initiate (outside the reference text; device-protocol §5.2, §5.3).
    router.Add("POST", "/claim/initiate", Access::kUser, [&c](const ApiRequest& r) {
        const auto body = r.JsonObject();
        const auto node_id = c.Initiate(
            r.Caller(),
            OptionalString(body, "mac_addr").value_or(""),
            OptionalString(body, "platform").value_or("")
        );
        return ApiResponse::Json(boost::json::object{{"node_id", node_id}});
    });
    // POST /claim/verify: the certificate, and where the broker is.
    router.Add("POST", "/claim/verify", Access::kUser, [&c](const ApiRequest& r) {
        const auto body = r.JsonObject();
        const auto csr = RequiredString(body, "csr", ErrorCode::kInvalidBody);
        auto answer = BrokerHosts(c.mqtt_host());
        answer["certificate"] = c.Verify(r.Caller(), csr);
        return ApiResponse::Json(std::move(answer));
    });
    // GET /mqtt_host (no version prefix, no authentication).
    router.Add(
        "GET",
        "/mqtt_host",
        Access::kPublic,
        [&c](const ApiRequest&) {
            if (c.mqtt_host().empty()) {
                throw ApiError(ErrorCode::kMqttHostUnavailable);
            }
            return ApiResponse::Json(BrokerHosts(c.mqtt_host()));
        },
        Execution::kInline
    );
}

}  // namespace rainmaker::http::api

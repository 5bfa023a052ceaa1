// Thin handlers over the passthrough service; the external answer goes back as it came.
#include "http/api/passthrough_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::passthrough::CallInput;
using domain::passthrough::ExternalAnswer;
using domain::passthrough::PassthroughService;

namespace {

// Catalog #120 GET /{version}/user/passthrough/config
// ?service_id=&service_name=&start_id=&num_records=
ApiResponse ListServices(const ApiRequest& r, const PassthroughService& p) {
    const auto page = p.List(
        Given(r, "service_id"),
        Given(r, "service_name"),
        Given(r, "start_id"),
        Given(r, "num_records")
    );
    boost::json::array list;
    for (const auto& s : page.services) {
        list.push_back(boost::json::object{
            {"service_id", s.service_id}, {"service_name", s.service_name}});
    }
    boost::json::object out{{"api_config_list", std::move(list)}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

// The external answer unchanged: its status (a status HTTP cannot carry back is a failure),
// its body and its content type.
ApiResponse Relay(const ExternalAnswer& answer, ErrorCode failure) {
    if (answer.status < 200 || answer.status > 599) {
        throw ApiError(failure, {}, "external status " + std::to_string(answer.status));
    }
    auto response = ApiResponse::Text(
        answer.body,
        answer.content_type.empty() ? "application/octet-stream" : answer.content_type,
        answer.status
    );
    // Another server's bytes under our origin: never sniffed, never run as a page of ours.
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Content-Security-Policy", "sandbox");
    return response;
}

// Catalog #121 GET /{version}/user/passthrough
// ?service_id=&query_params_json=&headers_json=&path_params_string=
ApiResponse Get(const ApiRequest& r, PassthroughService& p) {
    CallInput in;
    in.service_id = Given(r, "service_id");
    in.query_params_json = Given(r, "query_params_json");
    in.headers_json = Given(r, "headers_json");
    in.path_params_string = Given(r, "path_params_string");
    return Relay(p.Call(r.Caller(), "GET", in), ErrorCode::kPassthroughResultFailed);
}

// Catalog #122 POST /{version}/user/passthrough?service_id= with
// {query_params_json, headers_json, path_params_string, body_json}, each a string.
ApiResponse Post(const ApiRequest& r, PassthroughService& p) {
    const auto body = r.JsonObject();
    CallInput in;
    in.service_id = Given(r, "service_id");
    in.query_params_json = OptionalString(body, "query_params_json");
    in.headers_json = OptionalString(body, "headers_json");
    in.path_params_string = OptionalString(body, "path_params_string");
    in.body_json = OptionalString(body, "body_json");
    return Relay(p.Call(r.Caller(), "POST", in), ErrorCode::kPassthroughPostFailed);
}

}  // namespace

void AddPassthroughRoutes(Router& router, PassthroughService& passthrough) {
    auto& p = passthrough;
    const auto user = Access::kUser;
    router.Add("GET", "/v1/user/passthrough/config", user, [&p](const ApiRequest& r) {
        return ListServices(r, p);
    });
    // The calls wait on other servers: on the outbound pool, never holding the workers.
    const auto outbound = Execution::kOutbound;
    router.Add(
        "GET",
        "/v1/user/passthrough",
        user,
        [&p](const ApiRequest& r) { return Get(r, p); },
        outbound
    );
    router.Add(
        "POST",
        "/v1/user/passthrough",
        user,
        [&p](const ApiRequest& r) { return Post(r, p); },
        outbound
    );
}

}  // namespace rainmaker::http::api

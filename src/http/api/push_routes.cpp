// Thin handlers over the push service.
#include "http/api/push_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using domain::push::PushService;

namespace {

// Catalog #84 POST /{version}/user/push_notification/mobile_platform_endpoint: 201 with the
// endpoint's ARN.
ApiResponse CreateEndpoint(const ApiRequest& r, PushService& push) {
    const auto body = r.JsonObject();
    domain::push::EndpointInput in;
    in.platform = OptionalString(body, "platform");
    in.mobile_device_token = OptionalString(body, "mobile_device_token");
    in.platform_type = OptionalString(body, "platform_type");
    const auto registered = push.Register(r.Caller(), in);
    return ApiResponse::Json(
        boost::json::object{
            {"status", "success"}, {"platform_endpoint_arn", registered.endpoint.endpoint_arn}},
        201
    );
}

// Catalog #85 GET /{version}/user/push_notification/mobile_platform_endpoint. The reference's
// members, plus platform (the SDK reads it) and platform_type when one was given.
ApiResponse GetEndpoints(const ApiRequest& r, PushService& push) {
    boost::json::array list;
    for (const auto& e : push.List(r.Caller())) {
        boost::json::object item{
            {"mobile_device_token", e.device_token},
            {"platform_endpoint_arn", e.endpoint_arn},
            {"platform_application_arn", e.application_arn},
            {"platform", e.platform}};
        if (!e.platform_type.empty()) {
            item["platform_type"] = e.platform_type;
        }
        list.push_back(std::move(item));
    }
    return ApiResponse::Json(boost::json::object{{"platform_endpoints", std::move(list)}});
}

// Catalog #86 DELETE /{version}/user/push_notification/mobile_platform_endpoint
// ?mobile_device_token=&endpoint= (one of them; both: the endpoint must have both). The same
// keys in a JSON body are read when the query has neither.
ApiResponse DeleteEndpoint(const ApiRequest& r, PushService& push) {
    std::string token;
    std::string endpoint;
    if (const auto* v = r.query.Find("mobile_device_token")) {
        token = *v;
    }
    if (const auto* v = r.query.Find("endpoint")) {
        endpoint = *v;
    }
    if (token.empty() && endpoint.empty()) {
        const auto body = r.JsonObject();
        token = OptionalString(body, "mobile_device_token").value_or("");
        endpoint = OptionalString(body, "endpoint").value_or("");
    }
    push.Delete(r.Caller(), token, endpoint);
    return ApiResponse::Success("Platform endpoint deleted successfully");
}

}  // namespace

void AddPushRoutes(Router& router, PushService& push) {
    auto& p = push;
    const auto user = Access::kUser;
    router.Add(
        "POST",
        "/v1/user/push_notification/mobile_platform_endpoint",
        user,
        [&p](const ApiRequest& r) { return CreateEndpoint(r, p); }
    );
    router.Add(
        "GET",
        "/v1/user/push_notification/mobile_platform_endpoint",
        user,
        [&p](const ApiRequest& r) { return GetEndpoints(r, p); }
    );
    router.Add(
        "DELETE",
        "/v1/user/push_notification/mobile_platform_endpoint",
        user,
        [&p](const ApiRequest& r) { return DeleteEndpoint(r, p); }
    );
}

}  // namespace rainmaker::http::api

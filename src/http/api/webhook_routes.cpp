// Thin handlers over the webhook service. These operations are beta in the reference, whose
// samples answer a failure of the server with the non-standard status 520: they do here too.
#include "http/api/webhook_routes.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/json.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::events::WebhookEventInput;
using domain::events::WebhookInput;
using domain::events::WebhookService;

namespace {

// The integer member `key`; nullopt when absent or null, kInvalidBody when not an integer.
std::optional<std::int64_t> OptionalInt(const boost::json::object& body, std::string_view key) {
    const auto* v = body.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (const auto n = core::IntegerOf(*v)) {
        return n;
    }
    throw ApiError(ErrorCode::kInvalidBody, std::string(key) + " must be an integer");
}

// A failure of the server answers 520 on these routes; the caller's errors keep their status.
template <typename Handler>
auto Beta(Handler handler) {
    return [handler](const ApiRequest& r) -> ApiResponse {
        try {
            return handler(r);
        } catch (const ApiError& e) {
            if (e.http_status() < 500) {
                throw;
            }
            throw ApiError(ErrorCode::kWebhookServerError, {}, e.internal());
        } catch (const std::exception& e) {
            throw ApiError(ErrorCode::kWebhookServerError, {}, e.what());
        }
    };
}

// Catalog #72 GET /{version}/admin/webhook_user_node_integration ?webhook_name=
ApiResponse List(const ApiRequest& r, WebhookService& webhooks) {
    boost::json::array list;
    for (const auto& w : webhooks.List(r.Caller(), Given(r, "webhook_name"))) {
        boost::json::array nodes;
        for (const auto& n : w.nodes) {
            nodes.emplace_back(n);
        }
        boost::json::array events;
        for (const auto& e : w.events) {
            events.push_back(boost::json::object{
                {"event_name", e.event_name}, {"event_active_timestamp", e.event_active_timestamp}}
            );
        }
        list.push_back(boost::json::object{
            {"webhook_name", w.name},
            {"enabled", w.enabled},
            {"nodes_list", std::move(nodes)},
            {"events", std::move(events)},
            {"active_timestamp", w.active_timestamp},
            {"url", w.url}});
    }
    return ApiResponse::Json(boost::json::object{
        {"webhook_user_node_integrations", std::move(list)}});
}

// Catalog #73 POST /{version}/admin/webhook_user_node_integration
ApiResponse Add(const ApiRequest& r, WebhookService& webhooks) {
    webhooks.Add(r.Caller(), WebhookInputOf(r.JsonObject()));
    return ApiResponse::Success("Webhook user node integration added successfully");
}

// Catalog #74 PUT /{version}/admin/webhook_user_node_integration ?operation=
ApiResponse Update(const ApiRequest& r, WebhookService& webhooks) {
    const auto operation = Given(r, "operation");
    if (!operation) {
        throw ApiError(ErrorCode::kWebhookOperationInvalid);
    }
    webhooks.Update(r.Caller(), *operation, WebhookInputOf(r.JsonObject()));
    return ApiResponse::Success("Webhook user node integration updated successfully");
}

// Catalog #75 DELETE /{version}/admin/webhook_user_node_integration ?webhook_name=
ApiResponse Remove(const ApiRequest& r, WebhookService& webhooks) {
    webhooks.Remove(r.Caller(), Given(r, "webhook_name"));
    return ApiResponse::Success("Webhook user node integration deleted successfully");
}

// This server's: GET /v1/admin/webhook_user_node_integration/deliveries ?webhook_name=
// &state=waiting|dead (default dead) &start_id= &num_records= (1..500, default 100)
ApiResponse Deliveries(const ApiRequest& r, WebhookService& webhooks) {
    const auto state = Given(r, "state").value_or("dead");
    if (state != "dead" && state != "waiting") {
        throw ApiError(ErrorCode::kInvalidQuery, "state must be waiting or dead");
    }
    const int limit = r.query.Int("num_records", 100);
    std::int64_t after = 0;
    if (const auto start = Given(r, "start_id")) {
        const auto* end = start->data() + start->size();
        if (std::from_chars(start->data(), end, after).ptr != end) {
            throw ApiError(ErrorCode::kInvalidQuery, "start_id must be a delivery id");
        }
    }
    if (limit < 1 || limit > 500 || after < 0) {
        throw ApiError(
            ErrorCode::kInvalidQuery, "num_records must be 1 to 500 and start_id not negative"
        );
    }
    const auto list =
        webhooks.Deliveries(r.Caller(), Given(r, "webhook_name"), state == "dead", after, limit);
    boost::json::array out;
    for (const auto& d : list) {
        out.push_back(boost::json::object{
            {"delivery_id", d.id},
            {"webhook_name", d.webhook_name},
            {"node_id", d.node_id},
            {"event_id", d.event_id},
            {"event_type", d.event_type},
            {"attempts", d.attempts},
            {"last_error", d.last_error},
            {"created_at", d.created_at}});
    }
    boost::json::object answer{{"deliveries", std::move(out)}};
    if (static_cast<int>(list.size()) == limit) {
        answer["next_id"] = list.back().id;
    }
    return ApiResponse::Json(std::move(answer));
}

// This server's: POST /v1/admin/webhook_user_node_integration/deliveries/replay
// {"webhook_name": ..., "delivery_ids": [...] (absent: every dead delivery of the webhook)}
ApiResponse Replay(const ApiRequest& r, WebhookService& webhooks) {
    const auto& body = r.JsonObject();
    std::vector<std::int64_t> ids;
    if (const auto* v = body.if_contains("delivery_ids"); v != nullptr && !v->is_null()) {
        if (!v->is_array() || v->as_array().size() > 1000) {
            throw ApiError(
                ErrorCode::kInvalidBody, "delivery_ids must be an array of ids (1000 at most)"
            );
        }
        for (const auto& id : v->as_array()) {
            if (!id.is_int64() || id.as_int64() <= 0) {
                throw ApiError(ErrorCode::kInvalidBody, "delivery_ids must be positive integers");
            }
            ids.push_back(id.as_int64());
        }
        if (ids.empty()) {
            throw ApiError(ErrorCode::kInvalidBody, "delivery_ids is empty");
        }
    }
    const int n = webhooks.Replay(r.Caller(), OptionalString(body, "webhook_name"), ids);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"description", "Dead deliveries queued again"}, {"replayed", n}});
}

}  // namespace

WebhookInput WebhookInputOf(const boost::json::object& body) {
    WebhookInput in;
    in.webhook_name = OptionalString(body, "webhook_name");
    in.enabled = OptionalBool(body, "enabled");
    in.nodes_list = OptionalStrings(body, "nodes_list");
    in.active_timestamp = OptionalInt(body, "active_timestamp");
    in.url = OptionalString(body, "url");
    in.secret = OptionalString(body, "secret");
    if (const auto* events = body.if_contains("events"); events != nullptr && !events->is_null()) {
        if (!events->is_array()) {
            throw ApiError(ErrorCode::kInvalidBody, "events must be an array");
        }
        in.events.emplace();
        for (const auto& item : events->as_array()) {
            if (!item.is_object()) {
                throw ApiError(ErrorCode::kWebhookEventInvalid);
            }
            in.events->push_back(WebhookEventInput{
                OptionalString(item.as_object(), "event_name"),
                OptionalInt(item.as_object(), "event_active_timestamp")});
        }
    }
    return in;
}

void AddWebhookRoutes(Router& router, WebhookService& webhooks) {
    const auto admin = Access::kAdmin;
    const auto on = [&webhooks](auto handler) {
        return Beta([&webhooks, handler](const ApiRequest& r) { return handler(r, webhooks); });
    };
    router.Add("GET", "/v1/admin/webhook_user_node_integration", admin, on(List));
    router.Add("POST", "/v1/admin/webhook_user_node_integration", admin, on(Add));
    router.Add("PUT", "/v1/admin/webhook_user_node_integration", admin, on(Update));
    router.Add("DELETE", "/v1/admin/webhook_user_node_integration", admin, on(Remove));
    router.Add("GET", "/v1/admin/webhook_user_node_integration/deliveries", admin, on(Deliveries));
    router.Add(
        "POST", "/v1/admin/webhook_user_node_integration/deliveries/replay", admin, on(Replay)
    );
}

}  // namespace rainmaker::http::api

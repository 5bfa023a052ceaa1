// Thin handlers over the event filter service; the admin and user routes differ only in the
// filter scope.
#include "http/api/event_filter_routes.hpp"

#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using domain::events::EntityTypeName;
using domain::events::EventFilterService;
using domain::events::FilterInput;
using domain::events::FilterQuery;
using domain::events::FilterScope;

namespace {

FilterInput InputOf(const boost::json::object& body) {
    FilterInput in;
    in.event_type = OptionalString(body, "event_type");
    in.entity_id = OptionalString(body, "entity_id");
    in.entity_type = OptionalString(body, "entity_type");
    in.enabled = OptionalBool(body, "enabled");
    in.enabled_for_integrations = OptionalStrings(body, "enabled_for_integrations");
    return in;
}

// Catalog #76 POST /{version}/admin/event_filter, #80 POST /{version}/user/event_filter
ApiResponse Add(const ApiRequest& r, EventFilterService& filters, FilterScope scope) {
    filters.Add(r.Caller(), scope, InputOf(r.JsonObject()));
    return ApiResponse::Success("Event filter added successfully");
}

// Catalog #77 PUT /{version}/admin/event_filter, #81 PUT /{version}/user/event_filter
ApiResponse Update(const ApiRequest& r, EventFilterService& filters, FilterScope scope) {
    filters.Update(r.Caller(), scope, InputOf(r.JsonObject()));
    return ApiResponse::Success("Event filter updated successfully");
}

// Catalog #78 GET /{version}/admin/event_filter, #82 GET /{version}/user/event_filter
// ?event_type=&entity_type=&entity_id=
ApiResponse Get(const ApiRequest& r, EventFilterService& filters, FilterScope scope) {
    FilterQuery query;
    query.event_type = Given(r, "event_type");
    query.entity_type = Given(r, "entity_type");
    query.entity_id = Given(r, "entity_id");
    boost::json::array list;
    for (const auto& f : filters.Get(r.Caller(), scope, query)) {
        boost::json::array integrations;
        for (const auto& name : f.enabled_for_integrations) {
            integrations.emplace_back(name);
        }
        list.push_back(boost::json::object{
            {"event_type", f.event_type},
            {"entity_id", f.entity_id},
            {"entity_type", EntityTypeName(f.entity_type)},
            {"enabled", f.enabled},
            {"enabled_for_integrations", std::move(integrations)}});
    }
    const auto total = static_cast<std::int64_t>(list.size());
    return ApiResponse::Json(boost::json::object{
        {"event_entity_mapping_list", std::move(list)}, {"total", total}});
}

// Catalog #79 DELETE /{version}/admin/event_filter, #83 DELETE /{version}/user/event_filter:
// {event_type, entity_id[, entity_type]} in a JSON body, as the reference says; the same keys
// in the query for clients that send no body with DELETE.
ApiResponse Remove(const ApiRequest& r, EventFilterService& filters, FilterScope scope) {
    FilterInput in;
    if (r.body.empty()) {
        in.event_type = Given(r, "event_type");
        in.entity_id = Given(r, "entity_id");
        in.entity_type = Given(r, "entity_type");
    } else {
        in = InputOf(r.JsonObject());
    }
    filters.Remove(r.Caller(), scope, in);
    return ApiResponse::Success("Event filter removed successfully");
}

}  // namespace

void AddEventFilterRoutes(Router& router, EventFilterService& filters) {
    auto& f = filters;
    const auto admin = Access::kAdmin;
    const auto user = Access::kUser;
    router.Add("POST", "/v1/admin/event_filter", admin, [&f](const ApiRequest& r) {
        return Add(r, f, FilterScope::kAdmin);
    });
    router.Add("PUT", "/v1/admin/event_filter", admin, [&f](const ApiRequest& r) {
        return Update(r, f, FilterScope::kAdmin);
    });
    router.Add("GET", "/v1/admin/event_filter", admin, [&f](const ApiRequest& r) {
        return Get(r, f, FilterScope::kAdmin);
    });
    router.Add("DELETE", "/v1/admin/event_filter", admin, [&f](const ApiRequest& r) {
        return Remove(r, f, FilterScope::kAdmin);
    });
    router.Add("POST", "/v1/user/event_filter", user, [&f](const ApiRequest& r) {
        return Add(r, f, FilterScope::kUser);
    });
    router.Add("PUT", "/v1/user/event_filter", user, [&f](const ApiRequest& r) {
        return Update(r, f, FilterScope::kUser);
    });
    router.Add("GET", "/v1/user/event_filter", user, [&f](const ApiRequest& r) {
        return Get(r, f, FilterScope::kUser);
    });
    router.Add("DELETE", "/v1/user/event_filter", user, [&f](const ApiRequest& r) {
        return Remove(r, f, FilterScope::kUser);
    });
}

}  // namespace rainmaker::http::api

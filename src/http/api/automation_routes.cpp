// Thin handlers over the automation service: the body's members in, the automation's JSON out.
#include "http/api/automation_routes.hpp"

#include "core/error.hpp"
#include "domain/automations/automation_rules.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using domain::automations::Automation;
using domain::automations::AutomationInput;
using domain::automations::AutomationService;

namespace {

AutomationInput Input(const boost::json::object& body) {
    AutomationInput in;
    in.name = OptionalString(body, "name");
    in.node_id = OptionalString(body, "node_id");
    in.event_type = OptionalString(body, "event_type");
    in.metadata = OptionalMember(body, "metadata");
    // null is "not given" for all but metadata (which null clears).
    if (auto location = OptionalMember(body, "location"); location && !location->is_null()) {
        in.location = std::move(location);
    }
    if (auto events = OptionalMember(body, "events"); events && !events->is_null()) {
        in.events = std::move(events);
    }
    in.event_operator = OptionalString(body, "event_operator");
    if (auto actions = OptionalMember(body, "actions"); actions && !actions->is_null()) {
        in.actions = std::move(actions);
    }
    in.retrigger = OptionalBool(body, "retrigger");
    in.enabled = OptionalBool(body, "enabled");
    return in;
}

// One automation as #89 answers it. The reference's sample names it automation_name; the SDK
// reads name: both are given.
boost::json::object Json(const Automation& a) {
    boost::json::object out{
        {"automation_id", a.automation_id},
        {"name", a.name},
        {"automation_name", a.name},
        {"enabled", a.enabled},
        {"event_type", domain::automations::EventTypeName(a.event_type)},
        {"events", domain::automations::EventsJson(a.events)},
        {"actions", domain::automations::ActionsJson(a.actions)},
        {"retrigger", a.retrigger}};
    if (!a.node_id.empty()) {
        out["node_id"] = a.node_id;
    }
    if (a.location) {
        out["location"] = a.location->given;
    }
    if (!a.event_operator.empty()) {
        out["event_operator"] = a.event_operator;
    }
    if (a.metadata) {
        out["metadata"] = *a.metadata;
    }
    return out;
}

// Catalog #87 POST /{version}/user/node_automation.
ApiResponse AddAutomation(const ApiRequest& r, AutomationService& automations) {
    const auto id = automations.Create(r.Caller(), Input(r.JsonObject()));
    return ApiResponse::Json(boost::json::object{{"automation_id", id}, {"status", "success"}});
}

// Catalog #88 PUT /{version}/user/node_automation?automation_id=.
ApiResponse UpdateAutomation(const ApiRequest& r, AutomationService& automations) {
    automations.Update(
        r.Caller(), r.query.Text("automation_id").value_or(""), Input(r.JsonObject())
    );
    return ApiResponse::Success("Automation trigger updated successfully");
}

// Catalog #89 GET /{version}/user/node_automation: one (automation_id), a node's (node_id) or
// all, a page at a time (start_id, num_records; next_id when more follow).
ApiResponse GetAutomations(const ApiRequest& r, AutomationService& automations) {
    if (const auto* id = r.query.Find("automation_id"); id != nullptr && !id->empty()) {
        return ApiResponse::Json(Json(automations.Get(r.Caller(), *id)));
    }
    std::optional<int> num_records;
    if (r.query.Find("num_records") != nullptr) {
        num_records = r.query.Int("num_records", 0);
    }
    const auto* node = r.query.FindAny({"node_id", "nodeid"});
    const auto page = automations.List(
        r.Caller(), node != nullptr ? *node : "", r.query.Text("start_id").value_or(""), num_records
    );
    boost::json::array list;
    for (const auto& a : page.automations) {
        list.push_back(Json(a));
    }
    boost::json::object out{{"automation_trigger_actions", std::move(list)}};
    if (page.next_id) {
        out["next_id"] = *page.next_id;
    }
    return ApiResponse::Json(out);
}

// Catalog #90 DELETE /{version}/user/node_automation?automation_id=.
ApiResponse DeleteAutomation(const ApiRequest& r, AutomationService& automations) {
    automations.Delete(r.Caller(), r.query.Text("automation_id").value_or(""));
    return ApiResponse::Success("Automation trigger deleted successfully");
}

}  // namespace

void AddAutomationRoutes(Router& router, AutomationService& automations) {
    auto& a = automations;
    const auto user = Access::kUser;
    router.Add("POST", "/v1/user/node_automation", user, [&a](const ApiRequest& r) {
        return AddAutomation(r, a);
    });
    router.Add("PUT", "/v1/user/node_automation", user, [&a](const ApiRequest& r) {
        return UpdateAutomation(r, a);
    });
    router.Add("GET", "/v1/user/node_automation", user, [&a](const ApiRequest& r) {
        return GetAutomations(r, a);
    });
    router.Add("DELETE", "/v1/user/node_automation", user, [&a](const ApiRequest& r) {
        return DeleteAutomation(r, a);
    });
}

}  // namespace rainmaker::http::api

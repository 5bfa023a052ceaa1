// Webhooks as a delivery channel: an event goes to each enabled integration that takes it
// (type listed and active, node listed or none listed, integration active, event filters
// allowing the integration by its name for the event's user — for a node's event, the node's
// primary user); each delivery is posted with the integration's signature.
//
// Each POST carries the JSON body, `X-Rainmaker-Signature: sha256=<hex HMAC-SHA256 of the exact
// body under the integration's secret>`, `X-Rainmaker-Event` (the event type) and
// `X-Rainmaker-Delivery` (the delivery's id; the body's event_id and webhook_name identify the
// event for receivers that de-duplicate). Only a 2xx answer counts as sent.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/events/delivery_dispatcher.hpp"
#include "domain/events/event_filter_service.hpp"
#include "domain/events/webhook_service.hpp"

namespace rainmaker::domain::events {

class WebhookChannel final : public DeliveryChannel {
public:
    WebhookChannel(storage::Database& db, WebhookService& webhooks, EventFilterService& filters)
        : db_(db), webhooks_(webhooks), filters_(filters) {}

    // DeliveryChannel
    bool Owns(std::string_view destination) const override;
    void BeginPlan() override;
    std::vector<std::string> Streams() override;           // the enabled integrations
    bool Keeps(const std::string& stream) const override;  // a disabled integration
    void Plan(
        const storage::EventRow& event,
        const std::string& type,
        const std::set<std::string>& streams,
        std::vector<storage::DeliveryRow>& out
    ) override;
    Destination Open(const std::string& destination, Poster& poster) override;

private:
    struct Target {
        Webhook webhook;
        std::unordered_set<std::string> nodes;
    };

    // The user whose filters count for `event`.
    const std::string& UserOf(const storage::EventRow& event);
    // The filters of `event` (read once per type, user and node in a pass).
    const FilterLevels& LevelsOf(const storage::EventRow& event, const std::string& type);

    storage::Database& db_;
    WebhookService& webhooks_;
    EventFilterService& filters_;
    std::vector<Target> targets_;  // every integration, for this planner pass
    // Kept across passes while the versions of the mappings and the filters stay the same
    // (read in the planner's transaction), at most kMaxCached entries each.
    std::unordered_map<std::string, std::string> primary_of_;  // node → its primary user
    std::unordered_map<std::string, FilterLevels> levels_;     // type/user/node → filters
    std::int64_t mappings_version_ = -1;
    std::int64_t filters_version_ = -1;
};

}  // namespace rainmaker::domain::events

// Push notifications as a delivery channel: a node's alert (node/<id>/alert: the firmware's
// esp_rmaker_raise_alert text, or the params it notifies with esp_rmaker_param_update_and_notify)
// goes to every phone each user of the node registered (#84), as the event filters allow the
// "mobile_push" integration for that user and node, on the platforms with a sender configured.
// A token the service calls invalid is forgotten: its endpoint is removed.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>

#include "domain/events/delivery_dispatcher.hpp"
#include "domain/events/event_filter_service.hpp"
#include "domain/push/push_sender.hpp"

namespace rainmaker::domain::push {

// The integration name event filters enable pushes with.
inline constexpr std::string_view kPushIntegration = "mobile_push";
// The events pushed.
inline constexpr std::string_view kPushedEvent = "rmaker.event.alert";

class PushChannel final : public events::DeliveryChannel {
public:
    PushChannel(storage::Database& db, events::EventFilterService& filters, PushSenders senders)
        : db_(db), filters_(filters), senders_(senders) {}

    // Whether any platform has a sender (else nothing is planned).
    bool Enabled() const { return senders_.fcm != nullptr || senders_.apns != nullptr; }

    // events::DeliveryChannel
    bool Owns(std::string_view destination) const override;

    void BeginPlan() override { titles_.clear(); }

    // One stream for every endpoint ("push:"), never held back by its waiting deliveries:
    // each endpoint is a destination of its own.
    std::vector<std::string> Streams() override;

    bool Capped() const override { return false; }

    void Plan(
        const storage::EventRow& event,
        const std::string& type,
        const std::set<std::string>& streams,
        std::vector<storage::DeliveryRow>& out
    ) override;
    events::Destination Open(const std::string& destination, events::Poster& poster) override;
    void Forget(const std::string& destination) override;

private:
    PushSender* SenderFor(const std::string& platform) const;
    // The node's name from its config, else its id.
    const std::string& TitleOf(const std::string& node_id);

    storage::Database& db_;
    events::EventFilterService& filters_;
    PushSenders senders_;
    std::unordered_map<std::string, std::string> titles_;  // of this planner pass
};

// The text of an alert payload: its esp.alert.str, else the params it notifies
// ("Light: Brightness 40, Power true"), at most 256 bytes.
std::string AlertText(const boost::json::value& alert);

}  // namespace rainmaker::domain::push

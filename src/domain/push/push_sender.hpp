// A push notification service (FCM, APNs) as the push channel sends through it. The
// notification is the JSON the channel queued: {"title", "body", "node_id", "event_type",
// "event_id", "data"}; each sender turns it into its service's message.
#pragma once

#include <string>

#include "domain/events/delivery_dispatcher.hpp"
#include "storage/push_store.hpp"

namespace rainmaker::domain::push {

class PushSender {
public:
    virtual ~PushSender() = default;
    // Sends `notification` to `endpoint` through `poster`: kSent when the service accepted it,
    // kGone when it says the device token is not (any more) valid, kFailed otherwise.
    virtual events::SendResult Send(
        events::Poster& poster,
        const storage::PushEndpointRow& endpoint,
        const std::string& notification
    ) = 0;
};

// The senders configured (null: that platform's endpoints get no pushes).
struct PushSenders {
    PushSender* fcm = nullptr;   // GCM endpoints
    PushSender* apns = nullptr;  // APNS and APNS_SANDBOX endpoints
};

}  // namespace rainmaker::domain::push

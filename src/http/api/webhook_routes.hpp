// Webhook integrations (#72-#75) and this server's routes for their deliveries.
#pragma once

#include "domain/events/webhook_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddWebhookRoutes(Router& router, domain::events::WebhookService& webhooks);

// What a #73/#74 body holds, read as typed members (a wrong type is kInvalidBody, an events
// item that is not an object kWebhookEventInvalid); checked by the service.
domain::events::WebhookInput WebhookInputOf(const boost::json::object& body);

}  // namespace rainmaker::http::api

// Webhook integrations (#72-#75) and this server's routes for their deliveries.
#pragma once

#include "domain/events/webhook_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddWebhookRoutes(Router& router, domain::events::WebhookService& webhooks);

}  // namespace rainmaker::http::api

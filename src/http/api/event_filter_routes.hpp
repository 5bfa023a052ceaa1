// Event filters: the admin operations (#76-#79) and the user ones (#80-#83).
#pragma once

#include "domain/events/event_filter_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddEventFilterRoutes(Router& router, domain::events::EventFilterService& filters);

}  // namespace rainmaker::http::api

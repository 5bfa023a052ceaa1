// The push-notification endpoint operations (#84-#86): registration only; delivery is the
// next slice of issue 12.
#pragma once

#include "domain/push/push_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddPushRoutes(Router& router, domain::push::PushService& push);

}  // namespace rainmaker::http::api

// OAuth sign-in: GET /authorize, GET and POST /cognitocallback (#116), POST /token (#117).
#pragma once

#include "domain/users/oauth_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddOAuthRoutes(Router& router, domain::users::OAuthService& oauth);

}  // namespace rainmaker::http::api

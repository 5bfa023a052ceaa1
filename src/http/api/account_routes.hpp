// The "Users & auth" operations (#1-#8 and their deprecated twins #123-#130), custom user data
// (#70, #71) and the public profile (#132, #133).
#pragma once

#include "domain/auth/token_service.hpp"
#include "domain/users/account_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddAccountRoutes(
    Router& router, domain::users::AccountService& accounts, domain::auth::TokenService& tokens
);

}  // namespace rainmaker::http::api

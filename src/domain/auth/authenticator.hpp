// Turns the raw Authorization header into a caller; the HTTP router depends only on this.
#pragma once

#include <string_view>

#include "domain/auth/auth_context.hpp"

namespace rainmaker::domain::auth {

class Authenticator {
public:
    virtual ~Authenticator() = default;
    // The caller behind `token` (raw JWT, a `Bearer ` prefix tolerated). Throws
    // ApiError(kUnauthorized) when the token is missing, malformed, expired or revoked.
    virtual AuthContext Authenticate(std::string_view token) = 0;
};

}  // namespace rainmaker::domain::auth

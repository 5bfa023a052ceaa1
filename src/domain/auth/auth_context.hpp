// Who is calling: the result of verifying an access or id token.
#pragma once

#include <cstdint>
#include <string>

namespace rainmaker::domain::auth {

struct AuthContext {
    std::string user_id;
    std::string user_name;
    std::string session_id;
    bool super_admin = false;
    bool admin = false;
};

}  // namespace rainmaker::domain::auth

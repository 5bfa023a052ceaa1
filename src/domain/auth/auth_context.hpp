// Who is calling: the result of verifying an access or id token.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/auth/platform_role.hpp"
#include "domain/rbac/node_scope.hpp"

namespace rainmaker::domain::auth {

struct AuthContext {
    std::string user_id;
    std::string user_name;
    std::string session_id;
    PlatformRole role = PlatformRole::kUser;
    // The nodes an admin restricted by RBAC roles may reach on the admin route being served
    // (set by the route guard; null: every node — users, unrestricted admins, superadmins).
    std::shared_ptr<const rbac::NodeScope> node_scope = nullptr;

    bool IsAdmin() const { return role != PlatformRole::kUser; }  // admin or superadmin

    bool IsSuperAdmin() const { return role == PlatformRole::kSuperAdmin; }
};

}  // namespace rainmaker::domain::auth

// A user's role on the platform (not on a resource): what their tokens claim.
#pragma once

#include <optional>
#include <string_view>

namespace rainmaker::domain::auth {

enum class PlatformRole { kUser, kAdmin, kSuperAdmin };

// The role the two stored flags give: superadmin wins over admin.
constexpr PlatformRole PlatformRoleOf(bool super_admin, bool admin) {
    return super_admin ? PlatformRole::kSuperAdmin
                       : (admin ? PlatformRole::kAdmin : PlatformRole::kUser);
}

constexpr std::string_view Name(PlatformRole role) {
    switch (role) {
        case PlatformRole::kSuperAdmin:
            return "superadmin";
        case PlatformRole::kAdmin:
            return "admin";
        case PlatformRole::kUser:
            break;
    }
    return "user";
}

// "user", "admin" or "superadmin"; nullopt for anything else.
constexpr std::optional<PlatformRole> ParsePlatformRole(std::string_view text) {
    for (const auto role : {PlatformRole::kUser, PlatformRole::kAdmin, PlatformRole::kSuperAdmin}) {
        if (text == Name(role)) {
            return role;
        }
    }
    return std::nullopt;
}

}  // namespace rainmaker::domain::auth

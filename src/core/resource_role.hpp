// A user's role on a resource they hold (a node, a group or home, a share of one, a Matter
// fabric's member), as opposed to their role on the platform (domain/auth/platform_role.hpp).
// The names are the wire's and the store's text: they are read and written only there, at
// the HTTP and storage edges; everything between takes and returns the type.
#pragma once

#include <cstdlib>
#include <optional>
#include <string_view>

namespace rainmaker::core {

// Primary users administer and share what they hold; secondary users use it.
enum class ResourceRole { kPrimary, kSecondary };

// "primary" or "secondary". Any other value is a memory error, never a role: it stops the
// process rather than being named (least of all as the privileged role).
constexpr std::string_view Name(ResourceRole role) {
    switch (role) {
        case ResourceRole::kPrimary:
            return "primary";
        case ResourceRole::kSecondary:
            return "secondary";
    }
    std::abort();
}

// "primary" or "secondary" (exactly); nullopt for anything else.
constexpr std::optional<ResourceRole> ParseResourceRole(std::string_view text) {
    for (const auto role : {ResourceRole::kPrimary, ResourceRole::kSecondary}) {
        if (text == Name(role)) {
            return role;
        }
    }
    return std::nullopt;
}

// A role as a request names it: the role, or none when the name is no role. A request keeps
// "a name was given" (an engaged std::optional<NamedRole>) apart from "it names a role", so
// that each service refuses an unknown name with its own error code, in its own order of
// checks.
struct NamedRole {
    std::optional<ResourceRole> role;
};

}  // namespace rainmaker::core

// Resource roles in SQLite columns: stored as their names ("primary", "secondary"), and "" in
// the columns where a role may be absent. A column holding anything else is a corrupt row,
// never read as some role.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/resource_role.hpp"

namespace rainmaker::storage::sql {

// The role stored as `text` in `column` (named for the log). Throws kInternal when the text
// names no role.
core::ResourceRole StoredRole(std::string_view text, std::string_view column);

// The same for a column where "" means no role.
std::optional<core::ResourceRole> StoredOptionalRole(
    std::string_view text, std::string_view column
);

// What a column where "" means no role holds for `role`.
inline std::string_view OptionalRoleText(const std::optional<core::ResourceRole>& role) {
    return role ? core::Name(*role) : std::string_view();
}

}  // namespace rainmaker::storage::sql

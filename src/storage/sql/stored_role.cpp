// Reading resource roles back from their columns.
#include "storage/sql/stored_role.hpp"

#include "core/error.hpp"

namespace rainmaker::storage::sql {

core::ResourceRole StoredRole(std::string_view text, std::string_view column) {
    if (const auto role = core::ParseResourceRole(text)) {
        return *role;
    }
    // Only this server writes these columns: another text is a damaged or foreign database,
    // and guessing a role from it could hand someone rights they were never given.
    throw core::ApiError(
        core::ErrorCode::kInternal,
        {},
        "stored resource role in " + std::string(column) + " is not a role: '" +
            std::string(text.substr(0, 64)) + "'"
    );
}

std::optional<core::ResourceRole> StoredOptionalRole(
    std::string_view text, std::string_view column
) {
    if (text.empty()) {
        return std::nullopt;
    }
    return StoredRole(text, column);
}

}  // namespace rainmaker::storage::sql

// Roles and policies in the store (#91-#100): policies (named JSON documents), roles (named
// lists of policies with an optional level) and the roles of each user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rainmaker::storage {

struct PolicyRow {
    std::string policy_name;
    std::string policy_json;  // as validated and serialized by the domain
    bool is_default = false;  // RM_DEFAULT_*: never changed or deleted
    std::int64_t created_at = 0;
};

struct RoleRow {
    std::string role_name;
    std::optional<int> role_level;      // 0 = highest; nullopt = none
    std::vector<std::string> policies;  // in the order given
    bool is_default = false;
    std::int64_t created_at = 0;
};

class RbacStore {
public:
    virtual ~RbacStore() = default;

    virtual std::optional<PolicyRow> FindPolicy(std::string_view policy_name) = 0;
    // Every policy, by name.
    virtual std::vector<PolicyRow> Policies() = 0;
    // Inserts; false when the name exists (nothing changed).
    virtual bool InsertPolicy(const PolicyRow& policy) = 0;
    virtual void SetPolicyJson(std::string_view policy_name, std::string_view policy_json) = 0;
    virtual void DeletePolicy(std::string_view policy_name) = 0;
    // The roles holding the policy, by name.
    virtual std::vector<std::string> RolesWithPolicy(std::string_view policy_name) = 0;

    virtual std::optional<RoleRow> FindRole(std::string_view role_name) = 0;
    // Every role with its policies, by name.
    virtual std::vector<RoleRow> Roles() = 0;
    // Inserts the role and its policies; false when the name exists (nothing changed).
    virtual bool InsertRole(const RoleRow& role) = 0;
    // Replaces the role's policies (in this order).
    virtual void SetRolePolicies(
        std::string_view role_name, const std::vector<std::string>& policies
    ) = 0;
    virtual void SetRoleLevel(std::string_view role_name, std::optional<int> role_level) = 0;
    virtual void DeleteRole(std::string_view role_name) = 0;

    // The user's roles, by name.
    virtual std::vector<std::string> RolesOfUser(std::string_view user_id) = 0;
    // The ids of the users holding the role, in id order.
    virtual std::vector<std::string> UsersWithRole(std::string_view role_name) = 0;
    // Every (user_id, role_name) assignment, for the in-memory view the route guard reads.
    virtual std::vector<std::pair<std::string, std::string>> UserRoles() = 0;
    // Adding a role the user holds, or removing one they do not, changes nothing.
    virtual void AddUserRole(std::string_view user_id, std::string_view role_name) = 0;
    virtual void RemoveUserRole(std::string_view user_id, std::string_view role_name) = 0;
};

}  // namespace rainmaker::storage

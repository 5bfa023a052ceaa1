// The SQLite implementation of RbacStore.
#pragma once

#include "storage/rbac_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlRbacStore final : public RbacStore {
public:
    explicit SqlRbacStore(SqlDatabase& db) : db_(db) {}

    // storage::RbacStore
    std::optional<PolicyRow> FindPolicy(std::string_view policy_name) override;
    std::vector<PolicyRow> Policies() override;
    bool InsertPolicy(const PolicyRow& policy) override;
    void SetPolicyJson(std::string_view policy_name, std::string_view policy_json) override;
    void DeletePolicy(std::string_view policy_name) override;
    std::vector<std::string> RolesWithPolicy(std::string_view policy_name) override;
    std::optional<RoleRow> FindRole(std::string_view role_name) override;
    std::vector<RoleRow> Roles() override;
    bool InsertRole(const RoleRow& role) override;
    void SetRolePolicies(std::string_view role_name, const std::vector<std::string>& policies)
        override;
    void SetRoleLevel(std::string_view role_name, std::optional<int> role_level) override;
    void DeleteRole(std::string_view role_name) override;
    std::vector<std::string> RolesOfUser(std::string_view user_id) override;
    std::vector<std::string> UsersWithRole(std::string_view role_name) override;
    std::vector<std::pair<std::string, std::string>> UserRoles() override;
    void AddUserRole(std::string_view user_id, std::string_view role_name) override;
    void RemoveUserRole(std::string_view user_id, std::string_view role_name) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

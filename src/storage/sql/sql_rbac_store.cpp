// Roles and policies in SQLite (V018): a role's level is NULL when it has none.
#include "storage/sql/sql_rbac_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

PolicyRow ReadPolicy(const Statement& s) {
    return PolicyRow{s.Text(0), s.Text(1), s.Bool(2), s.Int(3)};
}

constexpr const char* kPolicySelect =
    "SELECT policy_name, policy_json, is_default, created_at FROM rbac_policies ";

// A role without its policies; COALESCE(role_level, -1) reads NULL as -1.
RoleRow ReadRole(const Statement& s) {
    RoleRow role;
    role.role_name = s.Text(0);
    if (const auto level = s.Int(1); level >= 0) {
        role.role_level = static_cast<int>(level);
    }
    role.is_default = s.Bool(2);
    role.created_at = s.Int(3);
    return role;
}

constexpr const char* kRoleSelect =
    "SELECT role_name, COALESCE(role_level, -1), is_default, created_at FROM rbac_roles ";

std::string ReadText(const Statement& s) {
    return s.Text(0);
}

}  // namespace

std::optional<PolicyRow> SqlRbacStore::FindPolicy(std::string_view policy_name) {
    return db_.FindOne(
        std::string(kPolicySelect) + "WHERE policy_name = ?", policy_name, ReadPolicy
    );
}

std::vector<PolicyRow> SqlRbacStore::Policies() {
    return db_.FindAll(std::string(kPolicySelect) + "ORDER BY policy_name", ReadPolicy);
}

bool SqlRbacStore::InsertPolicy(const PolicyRow& p) {
    return db_.Unique([&] {
        db_.Execute(
            "INSERT INTO rbac_policies(policy_name, policy_json, is_default, created_at) "
            "VALUES (?,?,?,?)",
            p.policy_name,
            p.policy_json,
            p.is_default,
            p.created_at
        );
    });
}

void SqlRbacStore::SetPolicyJson(std::string_view policy_name, std::string_view policy_json) {
    db_.Execute(
        "UPDATE rbac_policies SET policy_json = ? WHERE policy_name = ?", policy_json, policy_name
    );
}

void SqlRbacStore::DeletePolicy(std::string_view policy_name) {
    db_.Execute("DELETE FROM rbac_policies WHERE policy_name = ?", policy_name);
}

std::vector<std::string> SqlRbacStore::RolesWithPolicy(std::string_view policy_name) {
    return db_.FindAll(
        "SELECT role_name FROM rbac_role_policies WHERE policy_name = ? ORDER BY role_name",
        ReadText,
        policy_name
    );
}

std::optional<RoleRow> SqlRbacStore::FindRole(std::string_view role_name) {
    auto role = db_.FindOne(std::string(kRoleSelect) + "WHERE role_name = ?", role_name, ReadRole);
    if (role) {
        role->policies = db_.FindAll(
            "SELECT policy_name FROM rbac_role_policies WHERE role_name = ? ORDER BY position",
            ReadText,
            role_name
        );
    }
    return role;
}

std::vector<RoleRow> SqlRbacStore::Roles() {
    auto roles = db_.FindAll(std::string(kRoleSelect) + "ORDER BY role_name", ReadRole);
    std::size_t at = 0;
    db_.ForEachRow(
        "SELECT role_name, policy_name FROM rbac_role_policies ORDER BY role_name, position",
        [&](const Statement& s) {
            const auto role = s.Text(0);
            while (at < roles.size() && roles[at].role_name < role) {
                ++at;
            }
            if (at < roles.size() && roles[at].role_name == role) {
                roles[at].policies.push_back(s.Text(1));
            }
            return true;
        }
    );
    return roles;
}

bool SqlRbacStore::InsertRole(const RoleRow& role) {
    const bool inserted = db_.Unique([&] {
        db_.Execute(
            "INSERT INTO rbac_roles(role_name, role_level, is_default, created_at) "
            "VALUES (?, NULLIF(?, -1), ?, ?)",
            role.role_name,
            role.role_level.value_or(-1),
            role.is_default,
            role.created_at
        );
    });
    if (inserted) {
        SetRolePolicies(role.role_name, role.policies);
    }
    return inserted;
}

void SqlRbacStore::SetRolePolicies(
    std::string_view role_name, const std::vector<std::string>& policies
) {
    db_.Transaction([&] {
        db_.Execute("DELETE FROM rbac_role_policies WHERE role_name = ?", role_name);
        int position = 0;
        for (const auto& policy : policies) {
            db_.Execute(
                "INSERT INTO rbac_role_policies(role_name, policy_name, position) VALUES (?,?,?)",
                role_name,
                policy,
                position++
            );
        }
    });
}

void SqlRbacStore::SetRoleLevel(std::string_view role_name, std::optional<int> role_level) {
    db_.Execute(
        "UPDATE rbac_roles SET role_level = NULLIF(?, -1) WHERE role_name = ?",
        role_level.value_or(-1),
        role_name
    );
}

void SqlRbacStore::DeleteRole(std::string_view role_name) {
    db_.Execute("DELETE FROM rbac_roles WHERE role_name = ?", role_name);
}

std::vector<std::string> SqlRbacStore::RolesOfUser(std::string_view user_id) {
    return db_.FindAll(
        "SELECT role_name FROM rbac_user_roles WHERE user_id = ? ORDER BY role_name",
        ReadText,
        user_id
    );
}

std::vector<std::string> SqlRbacStore::UsersWithRole(std::string_view role_name) {
    return db_.FindAll(
        "SELECT user_id FROM rbac_user_roles WHERE role_name = ? ORDER BY user_id",
        ReadText,
        role_name
    );
}

std::vector<std::pair<std::string, std::string>> SqlRbacStore::UserRoles() {
    return db_.FindAll(
        "SELECT user_id, role_name FROM rbac_user_roles ORDER BY user_id, role_name",
        [](const Statement& s) { return std::make_pair(s.Text(0), s.Text(1)); }
    );
}

void SqlRbacStore::AddUserRole(std::string_view user_id, std::string_view role_name) {
    db_.Execute(
        "INSERT INTO rbac_user_roles(user_id, role_name) VALUES (?,?) ON CONFLICT DO NOTHING",
        user_id,
        role_name
    );
}

void SqlRbacStore::RemoveUserRole(std::string_view user_id, std::string_view role_name) {
    db_.Execute(
        "DELETE FROM rbac_user_roles WHERE user_id = ? AND role_name = ?", user_id, role_name
    );
}

}  // namespace rainmaker::storage::sql

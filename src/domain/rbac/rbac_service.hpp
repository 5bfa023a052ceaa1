// Roles and policies (#91-#100) and their enforcement on admin routes.
//
// An admin holding roles may call only the admin routes their roles' policies allow (an
// allowing statement and no denying one), on the nodes those policies' filters allow (routes
// that reach no node are governed by the statements alone). An admin with no role keeps every
// admin right; a superadmin is never restricted; users never reach admin routes.
//
// Only unrestricted callers (superadmins, admins with no role) create, change or delete
// policies and roles: a restricted admin can never write rights they do not hold. Roles have
// levels (0 = highest): a restricted admin assigns and removes only roles whose level is
// greater than their own best (smallest) level, never their own roles, and never someone's last
// role (which would leave an unrestricted admin). The RM_DEFAULT_* roles and policies are never
// changed or deleted. With RBAC disabled every route here answers 129036 and no admin is
// restricted.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/auth/route_guard.hpp"
#include "domain/rbac/policy.hpp"
#include "domain/users/account_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::rbac {

struct RbacConfig {
    bool enabled = true;
};

constexpr std::size_t kMaxRolePolicies = 10;
constexpr std::size_t kMinNameLength = 2;
constexpr std::size_t kMaxNameLength = 256;
constexpr std::size_t kMaxRolesPerRequest = 50;  // roles[] of PUT /admin/user_role

enum class Operation { kAdd, kRemove };

struct PolicyInfo {
    std::string policy_name;
    boost::json::value policy_json;
};

struct RoleInfo {
    std::string role_name;
    std::vector<std::string> policies;
    std::optional<int> role_level;
};

struct RoleUpdate {
    std::optional<Operation> operation;  // required (129041)
    std::vector<std::string> policies;   // to add or remove; may be empty
    std::optional<int> role_level;       // a new level
    bool remove_role_level = false;      // clear the level (not with role_level: 129044)
};

class RbacService final : public auth::RouteGuard {
public:
    RbacService(
        storage::Database& db,
        users::AccountService& accounts,
        core::Clock& clock,
        RbacConfig config
    );

    bool Enabled() const { return config_.enabled; }

    // #91-#94
    void AddPolicy(
        const auth::AuthContext& caller, std::string_view name, const boost::json::value& json
    );
    void UpdatePolicy(
        const auth::AuthContext& caller, std::string_view name, const boost::json::value& json
    );
    // Every policy, or the one named (129008 when unknown).
    std::vector<PolicyInfo> GetPolicies(const std::optional<std::string>& name);
    void DeletePolicy(const auth::AuthContext& caller, std::string_view name);

    // #95-#98
    void AddRole(const auth::AuthContext& caller, const RoleInfo& role);
    void UpdateRole(
        const auth::AuthContext& caller, std::string_view name, const RoleUpdate& update
    );
    std::vector<RoleInfo> GetRoles(const std::optional<std::string>& name);
    void DeleteRole(const auth::AuthContext& caller, std::string_view name);

    // #99: adds or removes `roles` for the user `target` selects.
    void UpdateUserRoles(
        const auth::AuthContext& caller,
        const users::UserSelector& target,
        Operation operation,
        const std::vector<std::string>& roles
    );
    // #100: the user's roles (129018 when none).
    std::vector<std::string> RolesOfUser(const users::UserSelector& target);
    // #100: the names of the users holding the role (129017 unknown, 129030 when none).
    std::vector<std::string> UsersWithRole(std::string_view role_name);

    // auth::RouteGuard
    std::shared_ptr<const NodeScope> Authorize(
        const auth::AuthContext& caller, std::string_view method, std::string_view route
    ) override;

private:
    // What the route guard reads: every policy compiled, every role, every assignment; rebuilt
    // from the store after a change committed.
    struct View {
        std::uint64_t generation = 0;  // of the changes it includes
        std::map<std::string, Policy, std::less<>> policies;
        std::set<std::string, std::less<>> broken;  // stored policies that no longer parse
        std::map<std::string, storage::RoleRow, std::less<>> roles;
        std::unordered_map<std::string, std::vector<std::string>> user_roles;

        // The guard's answers for (user, method, route), computed once per view.
        struct Decision {
            std::shared_ptr<const NodeScope> scope;  // null: every node
            std::string refusal;                     // non-empty: refused, with this reason
        };

        mutable std::mutex memo_mutex;
        mutable std::unordered_map<std::string, Decision> memo;
    };

    static constexpr std::size_t kMaxMemo = 10000;  // answers kept per view, then forgotten

    // The guard's answer for a restricted caller, from `view`.
    static View::Decision Decide(
        const View& view,
        const std::vector<std::string>& roles,
        std::string_view method,
        std::string_view route
    );

    // Where a caller stands for the level rules.
    struct Standing {
        bool unrestricted = false;  // superadmin, or an admin with no role
        std::optional<int> level;   // the smallest level of the caller's roles
    };

    std::shared_ptr<const View> CurrentView();
    void Changed();  // after a write: the view is rebuilt at its next read
    Standing StandingOf(const auth::AuthContext& caller);
    // Throws unless a restricted `caller` may assign/remove/change `role` (129038, 129037,
    // 129033); nothing for unrestricted callers.
    void RequireAbove(const auth::AuthContext& caller, const storage::RoleRow& role);
    // Throws 100004 unless `caller` is unrestricted (a superadmin, or an admin with no role).
    void RequireUnrestricted(const auth::AuthContext& caller);
    void RequireEnabled() const;

    storage::Database& db_;
    users::AccountService& accounts_;
    core::Clock& clock_;
    RbacConfig config_;
    std::atomic<std::uint64_t> generation_{1};
    std::mutex rebuild_mutex_;  // one rebuild at a time
    std::atomic<std::shared_ptr<const View>> view_;
};

}  // namespace rainmaker::domain::rbac

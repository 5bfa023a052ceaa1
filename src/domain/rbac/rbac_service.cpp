// Roles and policies: the rules of #91-#100, and the route guard reading a cached view of them.
#include "domain/rbac/rbac_service.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::rbac {

using core::ApiError;
using core::ErrorCode;
using storage::PolicyRow;
using storage::RoleRow;

namespace {

constexpr std::string_view kDefaultPrefix = "RM_DEFAULT_";

bool IsDefaultName(std::string_view name) {
    return name.starts_with(kDefaultPrefix);
}

void RequireName(std::string_view name, ErrorCode missing, std::string_view what) {
    if (name.empty()) {
        throw ApiError(missing);
    }
    const bool control = std::any_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (name.size() < kMinNameLength || name.size() > kMaxNameLength || control) {
        throw ApiError(
            missing,
            std::string(what) + " must be " + std::to_string(kMinNameLength) + " to " +
                std::to_string(kMaxNameLength) + " characters, without control characters"
        );
    }
}

// The row `name` names (`not_found` when there is none), or every row when no name is given.
template <typename Find, typename All>
auto OneOrAll(const std::optional<std::string>& name, Find find, All all, ErrorCode not_found)
    -> decltype(all()) {
    if (!name) {
        return all();
    }
    auto row = find(*name);
    if (!row) {
        throw ApiError(not_found);
    }
    decltype(all()) rows;
    rows.push_back(std::move(*row));
    return rows;
}

void RequireLevel(std::optional<int> level) {
    if (level && *level < 0) {
        throw ApiError(ErrorCode::kRbacBadLevel);
    }
}

}  // namespace

RbacService::RbacService(
    storage::Database& db, users::AccountService& accounts, core::Clock& clock, RbacConfig config
)
    : db_(db), accounts_(accounts), clock_(clock), config_(config) {}

void RbacService::RequireEnabled() const {
    if (!config_.enabled) {
        throw ApiError(ErrorCode::kRbacDisabled);
    }
}

void RbacService::Changed() {
    db_.AfterCommit([this] { generation_.fetch_add(1); });
}

std::shared_ptr<const RbacService::View> RbacService::CurrentView() {
    if (auto view = view_.load(); view && view->generation == generation_.load()) {
        return view;
    }
    std::lock_guard lock(rebuild_mutex_);
    const auto generation = generation_.load();
    if (auto view = view_.load(); view && view->generation == generation) {
        return view;  // another thread rebuilt it meanwhile
    }
    auto view = std::make_shared<View>();
    // A change committed while this view is read bumps the generation past `generation`: the
    // next read rebuilds again.
    view->generation = generation;
    db_.Snapshot([&] {
        for (const auto& row : db_.Rbac().Policies()) {
            try {
                view->policies.emplace(
                    row.policy_name, ParsePolicy(ParseOr(row.policy_json, nullptr))
                );
            } catch (const std::exception& e) {
                // Stored policies were checked when written; one that no longer parses (a
                // damaged row, a stricter parser) fails closed: its holders are refused every
                // admin route until it is fixed.
                core::log::Error(
                    "rbac: stored policy " + row.policy_name + " cannot be read: " + e.what()
                );
                view->broken.insert(row.policy_name);
            }
        }
        for (auto& role : db_.Rbac().Roles()) {
            auto name = role.role_name;
            view->roles.emplace(std::move(name), std::move(role));
        }
        for (auto& [user, role] : db_.Rbac().UserRoles()) {
            view->user_roles[user].push_back(std::move(role));
        }
    });
    view_.store(view);
    return view;
}

RbacService::View::Decision RbacService::Decide(
    const View& view,
    const std::vector<std::string>& roles,
    std::string_view method,
    std::string_view route
) {
    const auto path = WithoutVersion(route);
    auto scope = std::make_shared<NodeScope>();
    bool every_node = false;
    std::set<std::string_view> seen;  // a policy held through two roles counts once
    for (const auto& role_name : roles) {
        const auto role = view.roles.find(role_name);
        if (role == view.roles.end()) {
            continue;
        }
        for (const auto& policy_name : role->second.policies) {
            if (view.broken.contains(policy_name)) {
                return {nullptr, "Policy " + policy_name + " of your roles cannot be read"};
            }
            const auto policy = view.policies.find(policy_name);
            if (policy == view.policies.end() || !seen.insert(policy->first).second) {
                continue;
            }
            bool allows = false;
            bool denies = false;
            for (const auto& statement : policy->second.statements) {
                if (MatchesPath(statement, method, path)) {
                    (statement.effect == Effect::kDeny ? denies : allows) = true;
                }
            }
            if (denies) {
                if (policy->second.filters.empty()) {
                    return {nullptr, "Your roles deny " + std::string(method) + " " + path};
                }
                scope->deny.push_back(policy->second.filters);
            }
            if (allows) {
                every_node = every_node || policy->second.filters.empty();
                scope->allow.push_back(policy->second.filters);
            }
        }
    }
    if (scope->allow.empty()) {
        return {nullptr, "Your roles do not allow " + std::string(method) + " " + path};
    }
    if (every_node && scope->deny.empty()) {
        return {nullptr, {}};
    }
    return {std::move(scope), {}};
}

std::shared_ptr<const NodeScope> RbacService::Authorize(
    const auth::AuthContext& caller, std::string_view method, std::string_view route
) {
    if (!config_.enabled || caller.IsSuperAdmin() || !caller.IsAdmin()) {
        return nullptr;
    }
    const auto view = CurrentView();
    const auto held = view->user_roles.find(caller.user_id);
    if (held == view->user_roles.end() || held->second.empty()) {
        return nullptr;  // an admin with no role keeps every admin right
    }
    std::string key = caller.user_id;
    key.append(1, '\n').append(method).append(1, ' ').append(route);
    std::optional<View::Decision> memoized;
    {
        std::lock_guard lock(view->memo_mutex);
        if (const auto it = view->memo.find(key); it != view->memo.end()) {
            memoized = it->second;
        }
    }
    View::Decision decision;
    if (memoized) {
        decision = std::move(*memoized);
    } else {
        decision = Decide(*view, held->second, method, route);
        std::lock_guard lock(view->memo_mutex);
        if (view->memo.size() >= kMaxMemo) {
            view->memo.clear();
        }
        view->memo.emplace(std::move(key), decision);
    }
    if (!decision.refusal.empty()) {
        throw ApiError(ErrorCode::kNotPermitted, decision.refusal);
    }
    return decision.scope;
}

RbacService::Standing RbacService::StandingOf(const auth::AuthContext& caller) {
    Standing standing;
    if (caller.IsSuperAdmin()) {
        standing.unrestricted = true;
        return standing;
    }
    const auto roles = db_.Rbac().RolesOfUser(caller.user_id);
    standing.unrestricted = roles.empty();
    for (const auto& name : roles) {
        if (const auto role = db_.Rbac().FindRole(name); role && role->role_level) {
            standing.level =
                std::min(standing.level.value_or(*role->role_level), *role->role_level);
        }
    }
    return standing;
}

void RbacService::RequireAbove(const auth::AuthContext& caller, const RoleRow& role) {
    const auto standing = StandingOf(caller);
    if (standing.unrestricted) {
        return;
    }
    if (!standing.level) {
        throw ApiError(ErrorCode::kRbacCallerWithoutLevel);
    }
    if (!role.role_level) {
        throw ApiError(
            ErrorCode::kRbacRoleWithoutLevel, "Role " + role.role_name + " has no role level"
        );
    }
    if (*role.role_level <= *standing.level) {
        throw ApiError(
            ErrorCode::kRbacLevelTooLow,
            "Role " + role.role_name + " has level " + std::to_string(*role.role_level) +
                "; your roles allow only levels greater than " + std::to_string(*standing.level)
        );
    }
}

void RbacService::RequireUnrestricted(const auth::AuthContext& caller) {
    if (!StandingOf(caller).unrestricted) {
        throw ApiError(
            ErrorCode::kNotPermitted,
            "Only superadmins and admins without roles create, change or delete policies and roles"
        );
    }
}

// ---- policies

void RbacService::AddPolicy(
    const auth::AuthContext& caller, std::string_view name, const boost::json::value& json
) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(name, ErrorCode::kRbacPolicyNameMissing, "policy_name");
    if (IsDefaultName(name)) {
        throw ApiError(ErrorCode::kRbacDefaultPolicy);
    }
    ParsePolicy(json);
    db_.Transaction([&] {
        const PolicyRow row{std::string(name), core::Serialize(json), false, clock_.NowSeconds()};
        if (!db_.Rbac().InsertPolicy(row)) {
            throw ApiError(ErrorCode::kRbacPolicyExists);
        }
        Changed();
    });
}

void RbacService::UpdatePolicy(
    const auth::AuthContext& caller, std::string_view name, const boost::json::value& json
) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(name, ErrorCode::kRbacPolicyNameMissing, "policy_name");
    ParsePolicy(json);
    db_.Transaction([&] {
        const auto policy = db_.Rbac().FindPolicy(name);
        if (!policy) {
            throw ApiError(ErrorCode::kRbacPolicyNotFound);
        }
        if (policy->is_default) {
            throw ApiError(ErrorCode::kRbacDefaultPolicy);
        }
        db_.Rbac().SetPolicyJson(name, core::Serialize(json));
        Changed();
    });
}

std::vector<PolicyInfo> RbacService::GetPolicies(const std::optional<std::string>& name) {
    RequireEnabled();
    auto& store = db_.Rbac();
    std::vector<PolicyInfo> out;
    for (auto& row : OneOrAll(
             name,
             [&](std::string_view n) { return store.FindPolicy(n); },
             [&] { return store.Policies(); },
             ErrorCode::kRbacPolicyNotFound
         )) {
        out.push_back(PolicyInfo{std::move(row.policy_name), ParseObject(row.policy_json)});
    }
    return out;
}

void RbacService::DeletePolicy(const auth::AuthContext& caller, std::string_view name) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(name, ErrorCode::kRbacPolicyNameMissing, "policy_name");
    db_.Transaction([&] {
        const auto policy = db_.Rbac().FindPolicy(name);
        if (!policy) {
            throw ApiError(ErrorCode::kRbacPolicyNotFound);
        }
        if (policy->is_default) {
            throw ApiError(ErrorCode::kRbacDefaultPolicy);
        }
        if (const auto roles = db_.Rbac().RolesWithPolicy(name); !roles.empty()) {
            throw ApiError(
                ErrorCode::kRbacPolicyAttached,
                "Policy is attached to role " + roles.front() + ", it cannot be deleted"
            );
        }
        db_.Rbac().DeletePolicy(name);
        Changed();
    });
}

// ---- roles

void RbacService::AddRole(const auth::AuthContext& caller, const RoleInfo& info) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(info.role_name, ErrorCode::kRbacRoleNameMissing, "role_name");
    if (IsDefaultName(info.role_name)) {
        throw ApiError(ErrorCode::kRbacDefaultRole);
    }
    RequireLevel(info.role_level);
    if (info.policies.empty()) {
        throw ApiError(ErrorCode::kRbacPolicyNameMissing, "A role needs 1 to 10 policies");
    }
    if (info.policies.size() > kMaxRolePolicies) {
        throw ApiError(ErrorCode::kRbacTooManyPolicies);
    }
    std::vector<std::string> policies;
    for (const auto& p : info.policies) {
        if (std::find(policies.begin(), policies.end(), p) == policies.end()) {
            policies.push_back(p);
        }
    }
    db_.Transaction([&] {
        for (const auto& p : policies) {
            if (!db_.Rbac().FindPolicy(p)) {
                throw ApiError(ErrorCode::kRbacPolicyInvalid, "Policy " + p + " does not exist");
            }
        }
        RoleRow row;
        row.role_name = info.role_name;
        row.role_level = info.role_level;
        row.policies = policies;
        row.created_at = clock_.NowSeconds();
        if (!db_.Rbac().InsertRole(row)) {
            throw ApiError(ErrorCode::kRbacRoleExists);
        }
        Changed();
    });
}

void RbacService::UpdateRole(
    const auth::AuthContext& caller, std::string_view name, const RoleUpdate& update
) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(name, ErrorCode::kRbacRoleNameMissing, "role_name");
    if (!update.operation) {
        throw ApiError(ErrorCode::kRbacOperationMissing);
    }
    if (update.role_level && update.remove_role_level) {
        throw ApiError(ErrorCode::kRbacLevelExclusive);
    }
    RequireLevel(update.role_level);
    if (update.policies.empty() && !update.role_level && !update.remove_role_level) {
        throw ApiError(
            ErrorCode::kRbacPolicyNameMissing, "Give policies, role_level or remove_role_level"
        );
    }
    db_.Transaction([&] {
        auto role = db_.Rbac().FindRole(name);
        if (!role) {
            throw ApiError(ErrorCode::kRbacRoleNotFound);
        }
        if (role->is_default) {
            throw ApiError(ErrorCode::kRbacDefaultRole);
        }
        if (update.remove_role_level && !role->role_level) {
            throw ApiError(ErrorCode::kRbacRoleHasNoLevel);
        }
        auto policies = role->policies;
        for (const auto& p : update.policies) {
            const auto at = std::find(policies.begin(), policies.end(), p);
            if (*update.operation == Operation::kAdd) {
                if (!db_.Rbac().FindPolicy(p)) {
                    throw ApiError(
                        ErrorCode::kRbacPolicyInvalid, "Policy " + p + " does not exist"
                    );
                }
                if (at == policies.end()) {
                    policies.push_back(p);
                }
            } else {
                if (at == policies.end()) {
                    throw ApiError(
                        ErrorCode::kRbacPolicyInvalid, "Policy " + p + " is not in the role"
                    );
                }
                policies.erase(at);
            }
        }
        if (policies.empty()) {
            throw ApiError(ErrorCode::kRbacPolicyInvalid, "A role keeps at least one policy");
        }
        if (policies.size() > kMaxRolePolicies) {
            throw ApiError(ErrorCode::kRbacTooManyPolicies);
        }
        if (update.role_level || update.remove_role_level) {
            db_.Rbac().SetRoleLevel(name, update.role_level);  // nullopt: removed
        }
        if (policies != role->policies) {
            db_.Rbac().SetRolePolicies(name, policies);
        }
        Changed();
    });
}

std::vector<RoleInfo> RbacService::GetRoles(const std::optional<std::string>& name) {
    RequireEnabled();
    auto& store = db_.Rbac();
    std::vector<RoleInfo> out;
    for (auto& row : OneOrAll(
             name,
             [&](std::string_view n) { return store.FindRole(n); },
             [&] { return store.Roles(); },
             ErrorCode::kRbacRoleNotFound
         )) {
        out.push_back(RoleInfo{std::move(row.role_name), std::move(row.policies), row.role_level});
    }
    return out;
}

void RbacService::DeleteRole(const auth::AuthContext& caller, std::string_view name) {
    RequireEnabled();
    RequireUnrestricted(caller);
    RequireName(name, ErrorCode::kRbacRoleNameMissing, "role_name");
    db_.Transaction([&] {
        const auto role = db_.Rbac().FindRole(name);
        if (!role) {
            throw ApiError(ErrorCode::kRbacRoleNotFound);
        }
        if (role->is_default) {
            throw ApiError(ErrorCode::kRbacDefaultRole);
        }
        if (!db_.Rbac().UsersWithRole(name).empty()) {
            throw ApiError(ErrorCode::kRbacRoleAssigned);
        }
        db_.Rbac().DeleteRole(name);
        Changed();
    });
}

// ---- user roles

void RbacService::UpdateUserRoles(
    const auth::AuthContext& caller,
    const users::UserSelector& target,
    Operation operation,
    const std::vector<std::string>& roles
) {
    RequireEnabled();
    if (roles.empty()) {
        throw ApiError(ErrorCode::kRbacRolesMissing);
    }
    if (roles.size() > kMaxRolesPerRequest) {
        throw ApiError(
            ErrorCode::kRbacInvalidRoleName,
            "At most " + std::to_string(kMaxRolesPerRequest) + " roles in one request"
        );
    }
    db_.Transaction([&] {
        const auto user = accounts_.FindConfirmedUser(target);
        const auto standing = StandingOf(caller);
        if (!standing.unrestricted && user.user_id == caller.user_id) {
            throw ApiError(ErrorCode::kRbacLevelTooLow, "You cannot change your own roles");
        }
        auto held = db_.Rbac().RolesOfUser(user.user_id);
        for (const auto& name : roles) {
            const auto role = db_.Rbac().FindRole(name);
            if (!role) {
                throw ApiError(ErrorCode::kRbacInvalidRoleName, "Role " + name + " does not exist");
            }
            RequireAbove(caller, *role);
            const auto at = std::find(held.begin(), held.end(), name);
            if (operation == Operation::kAdd && at == held.end()) {
                db_.Rbac().AddUserRole(user.user_id, name);
                held.push_back(name);
            } else if (operation == Operation::kRemove && at != held.end()) {
                db_.Rbac().RemoveUserRole(user.user_id, name);
                held.erase(at);
            }
        }
        // An admin left without roles has every admin right: only an unrestricted caller may
        // lift someone's restrictions entirely.
        if (held.empty() && !standing.unrestricted && (user.admin || user.super_admin)) {
            throw ApiError(
                ErrorCode::kRbacLevelTooLow,
                "Removing these roles would leave the admin unrestricted; only an admin without "
                "roles or a superadmin may do that"
            );
        }
        Changed();
    });
}

std::vector<std::string> RbacService::RolesOfUser(const users::UserSelector& target) {
    RequireEnabled();
    const auto user = accounts_.FindConfirmedUser(target);
    auto roles = db_.Rbac().RolesOfUser(user.user_id);
    if (roles.empty()) {
        throw ApiError(ErrorCode::kRbacUserHasNoRoles);
    }
    return roles;
}

std::vector<std::string> RbacService::UsersWithRole(std::string_view role_name) {
    RequireEnabled();
    std::vector<std::string> names;
    db_.Snapshot([&] {
        if (!db_.Rbac().FindRole(role_name)) {
            throw ApiError(ErrorCode::kRbacRoleNotFound);
        }
        for (const auto& id : db_.Rbac().UsersWithRole(role_name)) {
            if (const auto user = db_.Users().FindById(id)) {
                names.push_back(user->user_name);
            }
        }
    });
    if (names.empty()) {
        throw ApiError(ErrorCode::kRbacRoleHasNoUsers);
    }
    return names;
}

}  // namespace rainmaker::domain::rbac

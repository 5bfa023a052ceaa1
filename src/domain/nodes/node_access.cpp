// Effective role = the best of the direct role and what the shared groups give, where a
// group gives only what its owner holds in their own right (a share's role capped by the
// owner's). Computed as the least fixed point over the users who can pass the node on, so a
// loop of users sharing groups with each other gives nothing, and in polynomial time.
#include "domain/nodes/node_access.hpp"

#include <deque>
#include <map>
#include <optional>
#include <set>

#include "core/log.hpp"

namespace rainmaker::domain::nodes {

using core::ResourceRole;

namespace {

// Guards against a store that says something impossible: the users looked at for one node,
// and the users re-checked after one change. Real homes stay far below both.
constexpr std::size_t kMaxClosure = 10000;
constexpr std::size_t kMaxSteps = 100000;

// A user's role on the node while it is worked out; nullopt: none (yet).
using MaybeRole = std::optional<ResourceRole>;

MaybeRole Best(const MaybeRole& a, const MaybeRole& b) {
    if (a == ResourceRole::kPrimary || b == ResourceRole::kPrimary) {
        return ResourceRole::kPrimary;
    }
    return a ? a : b;
}

// What a share gives: its role, capped by the owner's.
MaybeRole Given(ResourceRole share_role, const MaybeRole& owner_role) {
    if (!owner_role) {
        return std::nullopt;
    }
    return share_role == ResourceRole::kPrimary && owner_role == ResourceRole::kPrimary
               ? ResourceRole::kPrimary
               : ResourceRole::kSecondary;
}

// Everyone who can pass the node on to `user_id` (through groups shared with them, and so on
// back), with the shares each holds and the role each ends up with.
struct Closure {
    std::map<std::string, std::vector<storage::SharedNodeSource>> sources;
    std::map<std::string, MaybeRole> role;
};

Closure Close(storage::Database& db, std::string_view user_id, std::string_view node_id) {
    Closure c;
    std::deque<std::string> todo{std::string(user_id)};
    while (!todo.empty() && c.role.size() < kMaxClosure) {
        const std::string user = std::move(todo.front());
        todo.pop_front();
        if (c.role.contains(user)) {
            continue;
        }
        const auto mapping = db.Nodes().FindMapping(user, node_id);
        c.role[user] = mapping ? mapping->direct_role : std::nullopt;
        if (c.role[user] == ResourceRole::kPrimary && user != user_id) {
            continue;  // nothing can give them more (the asking user's sources are listed)
        }
        auto& sources = c.sources[user];
        sources = db.Groups().SharedNodeSources(user, node_id);
        for (const auto& source : sources) {
            if (!c.role.contains(source.owner_id)) {
                todo.push_back(source.owner_id);
            }
        }
    }
    // The least fixed point from the direct roles: roles only rise, at most twice each.
    for (bool changed = true; changed;) {
        changed = false;
        for (const auto& [user, sources] : c.sources) {
            for (const auto& source : sources) {
                const auto owner = c.role.find(source.owner_id);
                if (owner == c.role.end()) {
                    continue;
                }
                auto& role = c.role[user];
                const auto best = Best(role, Given(source.role, owner->second));
                if (best != role) {
                    role = best;
                    changed = true;
                }
            }
        }
    }
    return c;
}

// Recomputes each queued user's access to the node; a change re-queues the users the
// changed user's own groups are shared with. A user left without access loses the mapping
// and the node leaves their groups (node_left_group for each); a node left without any user
// is released (node_released), here and only here for access changes.
void Settle(
    storage::Database& db, std::string_view node_id, std::deque<std::string> queue, std::int64_t now
) {
    // A user waits in the queue once: more reasons to look again change nothing.
    std::set<std::string> queued(queue.begin(), queue.end());
    const auto& hooks = db.AccessHooks();
    bool deleted = false;
    const auto enqueue = [&](const std::string& user) {
        if (queued.insert(user).second) {
            queue.push_back(user);
        }
    };
    for (std::size_t steps = 0; !queue.empty() && steps < kMaxSteps; ++steps) {
        const std::string user = std::move(queue.front());
        queue.pop_front();
        queued.erase(user);
        const auto mapping = db.Nodes().FindMapping(user, node_id);
        const MaybeRole role = Close(db, user, node_id).role[user];
        if (mapping && mapping->role == role) {
            continue;
        }
        if (!role && !mapping) {
            continue;
        }
        if (!role) {
            db.Nodes().DeleteMapping(user, node_id);
            deleted = true;
        } else {
            storage::UserNodeRow row;
            if (mapping) {
                row = *mapping;
            } else {
                row.user_id = user;
                row.node_id = std::string(node_id);
                row.direct_role.reset();
                row.created_at = now;
            }
            row.role = *role;
            db.Nodes().PutMapping(row);
        }
        if (!mapping) {
            continue;  // new access: none of the user's groups holds the node yet
        }
        for (const auto& group : db.Groups().GroupsOfNode("user", user, node_id)) {
            if (!role) {
                db.Groups().RemoveNode(group.group_id, node_id);
                if (hooks.node_left_group) {
                    hooks.node_left_group(group.group_id, node_id);
                }
            }
            for (const auto& share : db.Groups().SharesOfGroup(group.group_id)) {
                enqueue(share.user_id);
            }
        }
    }
    if (!queue.empty()) {
        core::log::Error(
            "node access of " + std::string(node_id) + " not settled after " +
            std::to_string(kMaxSteps) + " steps: " + std::to_string(queue.size()) +
            " user(s) left unchecked"
        );
    }
    if (deleted) {
        ReleaseIfUnmapped(db, node_id);
    }
}

}  // namespace

void ReleaseIfUnmapped(storage::Database& db, std::string_view node_id) {
    const auto& released = db.AccessHooks().node_released;
    if (released && db.Nodes().CountMappingsOfNode(node_id) == 0) {
        released(node_id);
    }
}

void SyncAccess(
    storage::Database& db, std::string_view user_id, std::string_view node_id, std::int64_t now
) {
    Settle(db, node_id, {std::string(user_id)}, now);
}

void SetDirectRole(
    storage::Database& db,
    std::string_view user_id,
    std::string_view node_id,
    std::optional<ResourceRole> role,
    std::int64_t now
) {
    auto mapping = db.Nodes().FindMapping(user_id, node_id);
    if (!mapping && !role) {
        return;
    }
    if (!mapping) {
        mapping.emplace();
        mapping->user_id = std::string(user_id);
        mapping->node_id = std::string(node_id);
        mapping->role = *role;
        mapping->created_at = now;
    }
    mapping->direct_role = role;
    db.Nodes().PutMapping(*mapping);
    Settle(db, node_id, {std::string(user_id)}, now);
}

void SyncGroupShares(
    storage::Database& db,
    std::string_view group_id,
    const std::vector<std::string>& node_ids,
    std::int64_t now
) {
    const auto shares = db.Groups().SharesOfGroup(group_id);
    for (const auto& node : node_ids) {
        std::deque<std::string> queue;
        for (const auto& share : shares) {
            queue.push_back(share.user_id);
        }
        Settle(db, node, std::move(queue), now);
    }
}

std::vector<storage::SharedNodeSource> GroupSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
) {
    auto closure = Close(db, user_id, node_id);
    std::vector<storage::SharedNodeSource> giving;
    for (auto source : closure.sources[std::string(user_id)]) {
        if (const auto given = Given(source.role, closure.role[source.owner_id])) {
            source.role = *given;
            giving.push_back(std::move(source));
        }
    }
    return giving;
}

std::vector<std::string> AccessSources(
    storage::Database& db, std::string_view user_id, std::string_view node_id
) {
    std::vector<std::string> sources;
    const auto mapping = db.Nodes().FindMapping(user_id, node_id);
    if (mapping && mapping->direct_role) {
        sources.emplace_back("NODE");
    }
    for (auto& source : GroupSources(db, user_id, node_id)) {
        sources.push_back(std::move(source.group_id));
    }
    return sources;
}

}  // namespace rainmaker::domain::nodes

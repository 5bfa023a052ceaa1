// Event filters (#76-#83): whether an event of a type is sent, and to which integrations, for
// the whole system, for a user, or for a node. Admins set filters of any level (System and User
// filters only admins whose RBAC roles reach every node: they span every node of a user);
// users set filters of the connection and configuration events for themselves and the nodes
// they are primary of. One filter per (event type, entity): an admin's and a user's filter of
// the same entity are the same filter, which either may change. When an event is delivered the
// levels are examined in order — System, then User, then Node — and each filter present must let it
// through (Allows); an event without filters is sent (enabled by default). A node's filter applies
// to every user of the node, so among users only its primary sets one.
//
// The reference lists the events with markers ("not eligible for User and Node", "enabled by
// default") whose placement was lost in its rendering; the table in event_filter_service.cpp is
// this server's reading, kept in one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {

enum class EntityType { kSystem, kUser, kNode };

// What #76/#77/#80/#81 read from the body: each member as given, nullopt when absent.
struct FilterInput {
    std::optional<std::string> event_type;
    std::optional<std::string> entity_id;
    std::optional<std::string> entity_type;  // System | User | Node, any case
    std::optional<bool> enabled;             // also "true"/"false" strings (the reference's sample)
    std::optional<std::vector<std::string>> enabled_for_integrations;
};

// The queries of #78/#82 (nullopt when absent).
struct FilterQuery {
    std::optional<std::string> event_type;
    std::optional<std::string> entity_type;
    std::optional<std::string> entity_id;
};

struct EventFilter {
    std::string event_type;
    std::string entity_id;
    EntityType entity_type = EntityType::kSystem;
    bool enabled = true;
    std::vector<std::string> enabled_for_integrations;
};

// Who sets filters: admins (every level, every entity their scope reaches) or users (their own
// user and nodes, the events users may filter).
enum class FilterScope { kAdmin, kUser };

struct EventFilterLimits {
    std::size_t max_integrations = 10;  // enabled_for_integrations items; more → 100036
    std::size_t max_integration_length = 64;
    int max_listed = 1000;  // filters one GET answers
};

// The name of `type` as answers spell it ("SYSTEM", "USER", "NODE").
std::string_view EntityTypeName(EntityType type);

// Whether `event_type` is a RainMaker event ("rmaker.event.*" of the reference's list).
bool IsKnownEvent(std::string_view event_type);
// The position of a RainMaker event in that list (nullopt: not one), below kKnownEvents.
std::optional<std::size_t> EventNumber(std::string_view event_type);
inline constexpr std::size_t kKnownEvents = 14;
// The RainMaker event at position `n` (below kKnownEvents).
std::string_view KnownEventName(std::size_t n);

// The filters of an event at each level (nullopt when absent).
struct FilterLevels {
    std::optional<EventFilter> system;
    std::optional<EventFilter> user;
    std::optional<EventFilter> node;
};

// Whether an event may pass the filters of its system, user and node (each nullopt when
// absent): each present filter must be enabled and list `integration`.
bool Allows(
    const std::optional<EventFilter>& system,
    const std::optional<EventFilter>& user,
    const std::optional<EventFilter>& node,
    std::string_view integration
);

class EventFilterService {
public:
    EventFilterService(
        storage::Database& db, const core::Clock& clock, EventFilterLimits limits = {}
    );

    // #76/#80. Throws kEventTypeMissing, kEntityIdMissing, kEntityTypeMissing,
    // kEventFilterEnabledMissing, kEventFilterIntegrationsMissing, kEventFilterNoIntegration
    // (an empty list), kEntityTypeInvalid, kInvalidBody (an unknown event, an event this entity
    // type or scope may not filter, a System entity_id other than "system.<event_type>", an
    // entity that is not there or not the caller's), kInputTooLarge, kEventFilterExists.
    void Add(const auth::AuthContext& caller, FilterScope scope, const FilterInput& input);
    // #77/#81: replaces enabled and enabled_for_integrations. Throws what Add throws but
    // kEventFilterExists, and kEventFilterNotFound.
    void Update(const auth::AuthContext& caller, FilterScope scope, const FilterInput& input);
    // #78/#82: the filter of (event_type, entity_id), the filters of an event (of an entity
    // type), or those of an entity — for users only their own. Throws kEventTypeMissing
    // (nothing to look for), kInvalidQuery (entity_type alone), kEntityTypeInvalid,
    // kEventFilterNotFound (event_type and entity_id given, no such filter of the caller's).
    std::vector<EventFilter> Get(
        const auth::AuthContext& caller, FilterScope scope, const FilterQuery& query
    );
    // #79/#83: deletes the filter of (event_type, entity_id). Throws kEventTypeMissing,
    // kEntityIdMissing, kEntityTypeInvalid, kEventFilterNotFound (none, or not the caller's).
    void Remove(const auth::AuthContext& caller, FilterScope scope, const FilterInput& input);

    // Forgets the filters of a user whose account is gone, or of a node released by its last
    // user (its next owner starts without them).
    void ForgetUser(std::string_view user_id);
    void ForgetNode(std::string_view node_id);

    // The stored filters of an event of `event_type` about `node_id` ("" for none) for
    // `user_id` ("" for none), read once for several integrations.
    FilterLevels LevelsOf(
        std::string_view event_type, std::string_view user_id, std::string_view node_id
    );
    // Whether such an event goes to `integration` (Allows over LevelsOf).
    bool Allows(
        std::string_view event_type,
        std::string_view user_id,
        std::string_view node_id,
        std::string_view integration
    );

private:
    // The validated filter of an Add/Update body.
    EventFilter Checked(
        const auth::AuthContext& caller, FilterScope scope, const FilterInput& input
    );
    // Whether the caller may see and change filters of this entity.
    bool Owns(
        const auth::AuthContext& caller,
        FilterScope scope,
        EntityType type,
        const std::string& entity_id
    );
    // Whether the caller may see and remove this filter: theirs (Owns), and for users of an
    // event users filter.
    bool Visible(const auth::AuthContext& caller, FilterScope scope, const EventFilter& filter);
    // The filters of `event_type` the caller may see (users: their own user and primary nodes,
    // looked up one by one; admins: up to max_listed, then those in scope).
    std::vector<EventFilter> OfEvent(
        const auth::AuthContext& caller,
        FilterScope scope,
        const std::string& event_type,
        std::optional<EntityType> type
    );

    storage::Database& db_;
    const core::Clock& clock_;
    EventFilterLimits limits_;
};

}  // namespace rainmaker::domain::events

// The event table, the checks of a filter body, and the System → User → Node evaluation.
#include "domain/events/event_filter_service.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::events {

using core::ApiError;
using core::ErrorCode;
using ota::Given;

namespace {

struct EventKind {
    std::string_view type;
    bool per_entity;    // admins may filter it per user and per node (not only system-wide)
    bool users_filter;  // users may filter it for themselves and their nodes (#80-#83)
};

// The reference's events. Group creation and removal and time series are system-wide only;
// users filter the connection and configuration events, as the user API's list says.
constexpr std::array<EventKind, kKnownEvents> kEvents{{
    {"rmaker.event.user_node_added", true, false},
    {"rmaker.event.user_node_removed", true, false},
    {"rmaker.event.user_node_sharing_add", true, false},
    {"rmaker.event.node_connected", true, true},
    {"rmaker.event.node_disconnected", true, true},
    {"rmaker.event.node_params_changed", true, false},
    {"rmaker.event.node_automation_trigger", true, false},
    {"rmaker.event.user_node_group_sharing_add", true, false},
    {"rmaker.event.user_node_group_added", false, false},
    {"rmaker.event.user_node_group_removed", false, false},
    {"rmaker.event.alert", true, false},
    {"rmaker.event.node_config_changed", true, true},
    {"rmaker.event.user_node_ota", true, false},
    {"rmaker.event.node_ts_data", false, false},
}};

const EventKind* KindOf(std::string_view event_type) {
    for (const auto& kind : kEvents) {
        if (kind.type == event_type) {
            return &kind;
        }
    }
    return nullptr;
}

EntityType ParseEntityType(std::string_view text) {
    const auto lower = core::AsciiLower(text);
    if (lower == "system") {
        return EntityType::kSystem;
    }
    if (lower == "user") {
        return EntityType::kUser;
    }
    if (lower == "node") {
        return EntityType::kNode;
    }
    throw ApiError(ErrorCode::kEntityTypeInvalid);
}

// How rows store an entity type.
std::string StoredName(EntityType type) {
    switch (type) {
        case EntityType::kSystem:
            return "System";
        case EntityType::kUser:
            return "User";
        case EntityType::kNode:
            break;
    }
    return "Node";
}

std::string SystemEntityOf(std::string_view event_type) {
    return "system." + std::string(event_type);
}

bool IsIntegrationName(std::string_view name, std::size_t max_length) {
    return !name.empty() && name.size() <= max_length &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
           });
}

EventFilter FromRow(const storage::EventFilterRow& row) {
    EventFilter f;
    f.event_type = row.event_type;
    f.entity_id = row.entity_id;
    f.entity_type = ParseEntityType(row.entity_type);
    f.enabled = row.enabled;
    for (const auto& item : ParseArray(row.integrations)) {
        if (item.is_string()) {
            f.enabled_for_integrations.emplace_back(item.as_string());
        }
    }
    return f;
}

std::optional<EventFilter> FromRow(const std::optional<storage::EventFilterRow>& row) {
    return row ? std::optional(FromRow(*row)) : std::nullopt;
}

}  // namespace

std::string_view EntityTypeName(EntityType type) {
    switch (type) {
        case EntityType::kSystem:
            return "SYSTEM";
        case EntityType::kUser:
            return "USER";
        case EntityType::kNode:
            break;
    }
    return "NODE";
}

bool IsKnownEvent(std::string_view event_type) {
    return KindOf(event_type) != nullptr;
}

std::string_view KnownEventName(std::size_t n) {
    return kEvents.at(n).type;
}

std::optional<std::size_t> EventNumber(std::string_view event_type) {
    const auto* kind = KindOf(event_type);
    if (kind == nullptr) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(kind - kEvents.data());
}

bool Allows(
    const std::optional<EventFilter>& system,
    const std::optional<EventFilter>& user,
    const std::optional<EventFilter>& node,
    std::string_view integration
) {
    for (const auto* filter : {&system, &user, &node}) {
        if (!filter->has_value()) {
            continue;
        }
        const auto& list = (*filter)->enabled_for_integrations;
        if (!(*filter)->enabled || std::find(list.begin(), list.end(), integration) == list.end()) {
            return false;
        }
    }
    return true;
}

EventFilterService::EventFilterService(
    storage::Database& db, const core::Clock& clock, EventFilterLimits limits
)
    : db_(db), clock_(clock), limits_(limits) {}

bool EventFilterService::Owns(
    const auth::AuthContext& caller,
    FilterScope scope,
    EntityType type,
    const std::string& entity_id
) {
    switch (type) {
        case EntityType::kSystem:
            return scope == FilterScope::kAdmin && !caller.node_scope;
        case EntityType::kUser:
            // A user's filter spans every node of the user: not for scoped admins.
            return scope == FilterScope::kAdmin
                       ? !caller.node_scope && db_.Users().FindById(entity_id).has_value()
                       : entity_id == caller.user_id;
        case EntityType::kNode:
            break;
    }
    if (scope == FilterScope::kAdmin) {
        return nodes::FindForAdmin(db_, caller, entity_id).has_value();
    }
    // A node's filter decides for every user of the node: only its primary user sets it.
    const auto mapping = db_.Nodes().FindMapping(caller.user_id, entity_id);
    return mapping && mapping->role == core::ResourceRole::kPrimary;
}

EventFilter EventFilterService::Checked(
    const auth::AuthContext& caller, FilterScope scope, const FilterInput& input
) {
    if (!Given(input.event_type)) {
        throw ApiError(ErrorCode::kEventTypeMissing);
    }
    if (!Given(input.entity_id)) {
        throw ApiError(ErrorCode::kEntityIdMissing);
    }
    if (!Given(input.entity_type)) {
        throw ApiError(ErrorCode::kEntityTypeMissing);
    }
    EventFilter f;
    f.event_type = *input.event_type;
    f.entity_id = *input.entity_id;
    f.entity_type = ParseEntityType(*input.entity_type);
    if (scope == FilterScope::kUser && f.entity_type == EntityType::kSystem) {
        throw ApiError(ErrorCode::kEntityTypeInvalid, "Invalid Entity Type: User or Node");
    }
    if (!input.enabled) {
        throw ApiError(ErrorCode::kEventFilterEnabledMissing);
    }
    f.enabled = *input.enabled;
    if (!input.enabled_for_integrations) {
        throw ApiError(ErrorCode::kEventFilterIntegrationsMissing);
    }
    if (input.enabled_for_integrations->empty()) {
        throw ApiError(ErrorCode::kEventFilterNoIntegration);
    }
    if (input.enabled_for_integrations->size() > limits_.max_integrations) {
        throw ApiError(
            ErrorCode::kInputTooLarge,
            "enabled_for_integrations holds at most " + std::to_string(limits_.max_integrations) +
                " integrations"
        );
    }
    for (const auto& name : *input.enabled_for_integrations) {
        if (!IsIntegrationName(name, limits_.max_integration_length)) {
            throw ApiError(
                ErrorCode::kInvalidBody,
                "Invalid request body: an integration is 1 to " +
                    std::to_string(limits_.max_integration_length) + " letters, digits, _ or -"
            );
        }
        if (std::find(f.enabled_for_integrations.begin(), f.enabled_for_integrations.end(), name) ==
            f.enabled_for_integrations.end()) {
            f.enabled_for_integrations.push_back(name);
        }
    }
    const EventKind* kind = KindOf(f.event_type);
    if (kind == nullptr) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: event_type is not a RainMaker event"
        );
    }
    if (f.entity_type == EntityType::kSystem) {
        if (f.entity_id != SystemEntityOf(f.event_type)) {
            throw ApiError(
                ErrorCode::kInvalidBody,
                "Invalid request body: the entity_id of a System filter is " +
                    SystemEntityOf(f.event_type)
            );
        }
        nodes::RequireEveryNode(caller, "System event filters");
        return f;
    }
    // Ids of the other kinds' shape could take a System filter's key.
    if (f.entity_id.starts_with("system.")) {
        throw ApiError(
            ErrorCode::kInvalidBody, "Invalid request body: entity_id names no user or node"
        );
    }
    if (scope == FilterScope::kAdmin && f.entity_type == EntityType::kUser) {
        nodes::RequireEveryNode(caller, "User event filters");
    }
    const bool eligible = scope == FilterScope::kAdmin ? kind->per_entity : kind->users_filter;
    if (!eligible) {
        throw ApiError(
            ErrorCode::kInvalidBody,
            "Invalid request body: " + f.event_type + " cannot be filtered per " +
                (f.entity_type == EntityType::kUser ? "user" : "node")
        );
    }
    if (!Owns(caller, scope, f.entity_type, f.entity_id)) {
        throw ApiError(
            ErrorCode::kInvalidBody,
            std::string("Invalid request body: entity_id names no ") +
                (f.entity_type == EntityType::kUser ? "user" : "node") +
                (scope == FilterScope::kUser ? " of yours" : "")
        );
    }
    return f;
}

namespace {

storage::EventFilterRow RowOf(
    const EventFilter& f, const auth::AuthContext& caller, std::int64_t now
) {
    storage::EventFilterRow row;
    row.event_type = f.event_type;
    row.entity_id = f.entity_id;
    row.entity_type = StoredName(f.entity_type);
    row.enabled = f.enabled;
    boost::json::array list;
    for (const auto& name : f.enabled_for_integrations) {
        list.emplace_back(name);
    }
    row.integrations = core::Serialize(list);
    row.created_by = caller.user_id;
    row.updated_at = now;
    return row;
}

}  // namespace

void EventFilterService::Add(
    const auth::AuthContext& caller, FilterScope scope, const FilterInput& input
) {
    // Checked with the write: a user who stops being a node's primary meanwhile writes nothing.
    db_.Transaction([&] {
        const auto filter = Checked(caller, scope, input);
        if (!db_.EventFilters().Insert(RowOf(filter, caller, clock_.NowSeconds()))) {
            throw ApiError(ErrorCode::kEventFilterExists);
        }
    });
}

void EventFilterService::Update(
    const auth::AuthContext& caller, FilterScope scope, const FilterInput& input
) {
    db_.Transaction([&] {
        const auto filter = Checked(caller, scope, input);
        auto& store = db_.EventFilters();
        const auto row = store.Find(filter.event_type, filter.entity_id);
        if (!row || row->entity_type != StoredName(filter.entity_type)) {
            throw ApiError(ErrorCode::kEventFilterNotFound);
        }
        store.Update(RowOf(filter, caller, clock_.NowSeconds()));
    });
}

bool EventFilterService::Visible(
    const auth::AuthContext& caller, FilterScope scope, const EventFilter& filter
) {
    if (scope == FilterScope::kUser) {
        const EventKind* kind = KindOf(filter.event_type);
        if (kind == nullptr || !kind->users_filter) {
            return false;  // an admin's filter of an event users do not filter
        }
    }
    return Owns(caller, scope, filter.entity_type, filter.entity_id);
}

std::vector<EventFilter> EventFilterService::OfEvent(
    const auth::AuthContext& caller,
    FilterScope scope,
    const std::string& event_type,
    std::optional<EntityType> type
) {
    auto& store = db_.EventFilters();
    std::vector<EventFilter> out;
    const auto keep = [&](const std::optional<storage::EventFilterRow>& row) {
        if (!row) {
            return;
        }
        auto filter = FromRow(*row);
        if ((!type || filter.entity_type == *type) && Visible(caller, scope, filter)) {
            out.push_back(std::move(filter));
        }
    };
    if (scope == FilterScope::kUser) {
        // The caller's own entities: their user id and the nodes they are primary of.
        keep(store.Find(event_type, caller.user_id));
        constexpr int kPage = 500;
        std::string start;
        for (;;) {
            const auto page = db_.Nodes().ListMappings(caller.user_id, start, kPage + 1);
            const std::size_t n = std::min<std::size_t>(page.size(), kPage);
            for (std::size_t i = 0; i < n; ++i) {
                if (page[i].role == core::ResourceRole::kPrimary) {
                    keep(store.Find(event_type, page[i].node_id));
                }
            }
            if (page.size() <= kPage) {
                break;
            }
            start = page[kPage].node_id;
        }
        return out;
    }
    for (const auto& row :
         store.OfEvent(event_type, type ? StoredName(*type) : std::string(), limits_.max_listed)) {
        keep(row);
    }
    return out;
}

void EventFilterService::ForgetUser(std::string_view user_id) {
    db_.EventFilters().DeleteOfEntity(StoredName(EntityType::kUser), user_id);
}

void EventFilterService::ForgetNode(std::string_view node_id) {
    db_.EventFilters().DeleteOfEntity(StoredName(EntityType::kNode), node_id);
}

std::vector<EventFilter> EventFilterService::Get(
    const auth::AuthContext& caller, FilterScope scope, const FilterQuery& query
) {
    std::optional<EntityType> type;
    if (Given(query.entity_type)) {
        type = ParseEntityType(*query.entity_type);
    }
    if (!Given(query.event_type) && !Given(query.entity_id)) {
        if (type) {
            throw ApiError(
                ErrorCode::kInvalidQuery, "Invalid query param: entity_type needs event_type"
            );
        }
        throw ApiError(ErrorCode::kEventTypeMissing, "Give event_type or entity_id");
    }
    auto& store = db_.EventFilters();
    std::vector<storage::EventFilterRow> rows;
    if (Given(query.event_type) && Given(query.entity_id)) {
        if (auto row = store.Find(*query.event_type, *query.entity_id)) {
            rows.push_back(std::move(*row));
        }
    } else if (Given(query.event_type)) {
        return OfEvent(caller, scope, *query.event_type, type);
    } else {
        rows = store.OfEntity(*query.entity_id, limits_.max_listed);
    }
    std::vector<EventFilter> out;
    for (const auto& row : rows) {
        auto filter = FromRow(row);
        if ((type && filter.entity_type != *type) || !Visible(caller, scope, filter)) {
            continue;
        }
        out.push_back(std::move(filter));
    }
    if (out.empty() && Given(query.event_type) && Given(query.entity_id)) {
        throw ApiError(ErrorCode::kEventFilterNotFound);
    }
    return out;
}

void EventFilterService::Remove(
    const auth::AuthContext& caller, FilterScope scope, const FilterInput& input
) {
    if (!Given(input.event_type)) {
        throw ApiError(ErrorCode::kEventTypeMissing);
    }
    if (!Given(input.entity_id)) {
        throw ApiError(ErrorCode::kEntityIdMissing);
    }
    std::optional<EntityType> type;
    if (Given(input.entity_type)) {
        type = ParseEntityType(*input.entity_type);
    }
    db_.Transaction([&] {
        auto& store = db_.EventFilters();
        const auto row = store.Find(*input.event_type, *input.entity_id);
        if (!row) {
            throw ApiError(ErrorCode::kEventFilterNotFound);
        }
        const auto filter = FromRow(*row);
        if ((type && filter.entity_type != *type) || !Visible(caller, scope, filter)) {
            throw ApiError(ErrorCode::kEventFilterNotFound);
        }
        store.Delete(row->event_type, row->entity_id);
    });
}

FilterLevels EventFilterService::LevelsOf(
    std::string_view event_type, std::string_view user_id, std::string_view node_id
) {
    auto& store = db_.EventFilters();
    FilterLevels levels;
    levels.system = FromRow(store.Find(event_type, SystemEntityOf(event_type)));
    if (levels.system && levels.system->entity_type != EntityType::kSystem) {
        levels.system.reset();
    }
    // The filter of (event_type, id) when it is of that entity type.
    const auto of = [&](std::string_view id, EntityType type) -> std::optional<EventFilter> {
        auto filter = id.empty() ? std::nullopt : FromRow(store.Find(event_type, id));
        return filter && filter->entity_type == type ? filter : std::nullopt;
    };
    levels.user = of(user_id, EntityType::kUser);
    levels.node = of(node_id, EntityType::kNode);
    return levels;
}

bool EventFilterService::Allows(
    std::string_view event_type,
    std::string_view user_id,
    std::string_view node_id,
    std::string_view integration
) {
    const auto levels = LevelsOf(event_type, user_id, node_id);
    return events::Allows(levels.system, levels.user, levels.node, integration);
}

}  // namespace rainmaker::domain::events

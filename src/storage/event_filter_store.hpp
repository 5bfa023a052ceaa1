// Event filters (#76-#83): whether an event of a type is sent for an entity (the whole system,
// a user, a node), and to which integrations. One row per (event_type, entity_id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct EventFilterRow {
    std::string event_type;   // "rmaker.event.node_connected"
    std::string entity_type;  // "System", "User" or "Node"
    std::string entity_id;    // "system.<event_type>", a user id, a node id
    bool enabled = true;
    std::string integrations;  // enabled_for_integrations: a JSON array of strings
    std::string created_by;    // the user who wrote it last
    std::int64_t updated_at = 0;
};

class EventFilterStore {
public:
    virtual ~EventFilterStore() = default;

    // Inserts; false when a filter of (event_type, entity_id) exists.
    virtual bool Insert(const EventFilterRow& filter) = 0;
    // Replaces enabled, integrations, created_by and updated_at of the filter of
    // (event_type, entity_id); false when there is none.
    virtual bool Update(const EventFilterRow& filter) = 0;
    // The filter of (event_type, entity_id).
    virtual std::optional<EventFilterRow> Find(
        std::string_view event_type, std::string_view entity_id
    ) = 0;
    // Deletes the filter of (event_type, entity_id); false when there was none.
    virtual bool Delete(std::string_view event_type, std::string_view entity_id) = 0;
    // Up to `limit` filters of `event_type` ("" entity_type: of any entity type), by entity id.
    virtual std::vector<EventFilterRow> OfEvent(
        std::string_view event_type, std::string_view entity_type, int limit
    ) = 0;
    // Up to `limit` filters of `entity_id`, by event type.
    virtual std::vector<EventFilterRow> OfEntity(std::string_view entity_id, int limit) = 0;
    // Deletes the filters of `entity_id` of `entity_type` (a user or node that is gone);
    // returns how many.
    virtual int DeleteOfEntity(std::string_view entity_type, std::string_view entity_id) = 0;
    // A number that changes with every change of any filter, in the changing transaction.
    virtual std::int64_t Version() = 0;
};

}  // namespace rainmaker::storage

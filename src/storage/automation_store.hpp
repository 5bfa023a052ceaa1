// Automations in the store: a user's triggers (node params, daylight, weather) with the params
// they set on nodes, found by owner, by the node they watch, by their next daylight event and
// by weather location; each keeps whether its events held at the last evaluation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rainmaker::storage {

struct AutomationRow {
    std::string automation_id;
    std::string user_id;  // the owner: actions run with this user's access
    std::string name;
    std::string event_type;  // node_params | daylight | weather
    std::string node_id;     // node_params: the watched node; "" otherwise
    std::string location;    // JSON {latitude, longitude} as given; "" for node_params
    double latitude = 0;
    double longitude = 0;
    std::string events;          // JSON array
    std::string event_operator;  // "and" | "or" | ""
    std::string actions;         // JSON array of {node_id, params}
    std::string metadata;        // JSON; "" = none given
    bool retrigger = false;
    bool enabled = true;
    bool last_state = false;       // the events held at the last evaluation
    std::int64_t next_run_at = 0;  // daylight: unix seconds of the next event; 0 = none
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

class AutomationStore {
public:
    virtual ~AutomationStore() = default;

    // Inserts; false when the user already has an automation of that name (or the id exists).
    virtual bool Insert(const AutomationRow& automation) = 0;
    // Replaces every column but the id, owner and creation time; false when the user has
    // another automation of the new name (nothing changed) or the id is gone.
    virtual bool Update(const AutomationRow& automation) = 0;
    // Deletes the user's automation; false when the user has none of that id.
    virtual bool Delete(std::string_view user_id, std::string_view automation_id) = 0;
    // The automation of that id if `user_id` owns it.
    virtual std::optional<AutomationRow> Find(
        std::string_view user_id, std::string_view automation_id
    ) = 0;
    // The user's automations (those watching `node_id` when it is not empty), by id from the
    // first id >= `start_id`, at most `limit`.
    virtual std::vector<AutomationRow> List(
        std::string_view user_id, std::string_view node_id, std::string_view start_id, int limit
    ) = 0;
    virtual int CountForUser(std::string_view user_id) = 0;
    // The user's node_params automations watching `node_id`.
    virtual int CountForUserNode(std::string_view user_id, std::string_view node_id) = 0;
    // The distinct {latitude, longitude} of weather automations (enabled or not), the user's
    // when `user_id` is not empty, everyone's otherwise.
    virtual std::vector<std::pair<double, double>> WeatherLocations(std::string_view user_id) = 0;

    // The enabled node_params automations watching `node_id` (any owner).
    virtual std::vector<AutomationRow> ForNode(std::string_view node_id) = 0;
    // Enabled daylight automations whose next event is due at `now`, earliest first, at most
    // `limit`.
    virtual std::vector<AutomationRow> DueDaylight(std::int64_t now, int limit) = 0;
    // Every enabled weather automation, by location.
    virtual std::vector<AutomationRow> Weather() = 0;

    // Records whether the automation's events hold now.
    virtual void SetState(std::string_view automation_id, bool state) = 0;
    // Moves a daylight automation's next event from `due` to `next`; false when it is no
    // longer `due` (another runner took this run, or it was changed meanwhile).
    virtual bool ClaimDaylight(
        std::string_view automation_id, std::int64_t due, std::int64_t next
    ) = 0;
};

}  // namespace rainmaker::storage

// Due times of the periodic jobs, kept in the store: a restart keeps the schedule, and with
// several instances on one database each run is taken by one of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rainmaker::storage {

class JobStore {
public:
    virtual ~JobStore() = default;
    // Takes the run of `name` that is due at `now` (a job never seen before is due at once,
    // and so is one whose due time lies beyond `next`: the clock went back): moves its due
    // time to `next` and returns true; false when it is not due yet or another runner took it.
    virtual bool ClaimDue(std::string_view name, std::int64_t now, std::int64_t next) = 0;
    // The job's next due time; nullopt for a job never scheduled.
    virtual std::optional<std::int64_t> DueAt(std::string_view name) = 0;
};

}  // namespace rainmaker::storage

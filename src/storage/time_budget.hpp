// A time budget on store calls (Database::WithTimeBudget): what a call throws when it runs past
// it. The statement stops where it is, so no request holds a connection and its read snapshot
// (and with it the WAL, which cannot be checkpointed past it) longer than its budget.
#pragma once

#include <stdexcept>

namespace rainmaker::storage {

class TimeBudgetSpent : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace rainmaker::storage

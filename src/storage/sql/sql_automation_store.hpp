// The SQLite implementation of AutomationStore.
#pragma once

#include <string>

#include "storage/automation_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlAutomationStore final : public AutomationStore {
public:
    explicit SqlAutomationStore(SqlDatabase& db) : db_(db) {}

    // storage::AutomationStore
    bool Insert(const AutomationRow& automation) override;
    bool Update(const AutomationRow& automation) override;
    bool Delete(std::string_view user_id, std::string_view automation_id) override;
    std::optional<AutomationRow> Find(std::string_view user_id, std::string_view automation_id)
        override;
    std::vector<AutomationRow> List(
        std::string_view user_id, std::string_view node_id, std::string_view start_id, int limit
    ) override;
    int CountForUser(std::string_view user_id) override;
    int CountForUserNode(std::string_view user_id, std::string_view node_id) override;
    std::vector<std::pair<double, double>> WeatherLocations(std::string_view user_id) override;
    std::vector<AutomationRow> ForNode(std::string_view node_id) override;
    std::vector<AutomationRow> DueDaylight(std::int64_t now, int limit) override;
    std::vector<AutomationRow> Weather() override;
    void SetState(std::string_view automation_id, bool state) override;
    bool ClaimDaylight(std::string_view automation_id, std::int64_t due, std::int64_t next)
        override;

private:
    // Runs `sql` with the written columns of `a` bound first, then `tail`; false when it
    // changed no row or hit a unique constraint (the name).
    template <typename... Tail>
    bool Write(const std::string& sql, const AutomationRow& a, const Tail&... tail);

    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

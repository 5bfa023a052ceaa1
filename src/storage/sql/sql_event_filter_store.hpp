// The SQLite implementation of EventFilterStore.
#pragma once

#include "storage/event_filter_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlEventFilterStore final : public EventFilterStore {
public:
    explicit SqlEventFilterStore(SqlDatabase& db) : db_(db) {}

    // storage::EventFilterStore
    bool Insert(const EventFilterRow& filter) override;
    bool Update(const EventFilterRow& filter) override;
    std::optional<EventFilterRow> Find(std::string_view event_type, std::string_view entity_id)
        override;
    bool Delete(std::string_view event_type, std::string_view entity_id) override;
    std::vector<EventFilterRow> OfEvent(
        std::string_view event_type, std::string_view entity_type, int limit
    ) override;
    std::vector<EventFilterRow> OfEntity(std::string_view entity_id, int limit) override;
    int DeleteOfEntity(std::string_view entity_type, std::string_view entity_id) override;
    std::int64_t Version() override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

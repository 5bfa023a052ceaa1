// The SQLite implementation of CommandStore.
#pragma once

#include "storage/command_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlCommandStore final : public CommandStore {
public:
    explicit SqlCommandStore(SqlDatabase& db) : db_(db) {}

    // storage::CommandStore
    bool Insert(const CommandRow& row) override;
    std::optional<CommandRow> Find(std::string_view request_id, std::string_view node_id) override;
    std::vector<CommandRow> List(const CommandFilter& filter, int limit) override;
    int Count(const CommandFilter& filter) override;
    std::vector<CommandRow> Pending(std::string_view node_id) override;
    std::vector<CommandRow> Unsent(std::string_view node_id) override;
    int CountPending(std::string_view node_id) override;
    int CountPendingOf(std::string_view user_id, std::string_view node_id) override;
    std::vector<CommandRow> PendingOf(std::string_view user_id, std::string_view node_id, int cmd)
        override;
    void SetRole(std::string_view request_id, std::string_view node_id, int role) override;
    bool MarkDelivered(std::string_view request_id, std::string_view node_id) override;
    bool Finish(
        std::string_view request_id,
        std::string_view node_id,
        std::string_view status,
        std::optional<int> device_status,
        std::string_view description,
        const std::optional<std::string>& response,
        std::int64_t at
    ) override;
    int FailPendingOfUser(std::string_view user_id, std::string_view description, std::int64_t at)
        override;
    int ExpireDue(std::int64_t now) override;
    std::optional<std::int64_t> NextExpiry() override;
    int DeleteEndedBefore(std::int64_t before) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

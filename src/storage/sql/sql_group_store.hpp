// The SQLite implementation of GroupStore.
#pragma once

#include "storage/group_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlGroupStore final : public GroupStore {
public:
    explicit SqlGroupStore(SqlDatabase& db) : db_(db) {}

    // storage::GroupStore
    std::optional<GroupRow> Find(std::string_view group_id) override;
    std::optional<GroupRow> FindByName(
        std::string_view kind,
        std::string_view owner_id,
        std::string_view parent_id,
        std::string_view name
    ) override;
    std::optional<GroupRow> FindSharedByName(std::string_view user_id, std::string_view name)
        override;
    void Insert(const GroupRow& group) override;
    void Update(const GroupRow& group) override;
    void Delete(std::string_view group_id) override;
    std::vector<GroupRow> ListTopLevel(
        std::string_view kind, std::string_view user_id, std::string_view start_id, int limit
    ) override;
    int CountTopLevel(std::string_view kind, std::string_view user_id) override;
    std::vector<GroupRow> ListByQuery(std::string_view owner_id, std::string_view group_query)
        override;
    std::vector<GroupRow> Owned(std::string_view kind, std::string_view owner_id) override;
    int CountOwned(std::string_view kind, std::string_view owner_id) override;
    void SetOwner(std::string_view group_id, std::string_view owner_id) override;
    std::vector<GroupRow> Children(std::string_view group_id) override;
    std::vector<std::string> Nodes(std::string_view group_id) override;
    void AddNode(std::string_view group_id, std::string_view node_id) override;
    void RemoveNode(std::string_view group_id, std::string_view node_id) override;
    void RemoveNodeFromUserGroups(std::string_view node_id) override;
    std::vector<GroupRow> GroupsOfNode(
        std::string_view kind, std::string_view owner_id, std::string_view node_id
    ) override;
    void PutShare(const GroupShareRow& share) override;
    std::optional<GroupShareRow> FindShare(std::string_view group_id, std::string_view user_id)
        override;
    void DeleteShare(std::string_view group_id, std::string_view user_id) override;
    std::vector<GroupShareRow> SharesOfGroup(std::string_view group_id) override;
    std::vector<SharedNodeSource> SharedNodeSources(
        std::string_view user_id, std::string_view node_id
    ) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

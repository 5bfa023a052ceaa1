// The SQLite implementation of MatterStore.
#pragma once

#include "storage/matter_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlMatterStore final : public MatterStore {
public:
    explicit SqlMatterStore(SqlDatabase& db) : db_(db) {}

    // The statements of FindByRainmakerNode (`devices_only`) and NodesOfRainmakerNode, one
    // argument: the RainMaker node id. They repeat the partial index's condition
    // (rainmaker_node_id <> '') so that SQLite may use matter_nodes_rainmaker (tests check
    // the plan).
    static std::string ByRainmakerNodeSql(bool devices_only);

    // storage::MatterStore
    bool InsertFabric(const FabricRow& fabric) override;
    std::optional<FabricRow> FindFabric(std::string_view group_id) override;
    bool DeleteFabric(std::string_view group_id) override;
    void UpdateCats(
        std::string_view group_id, std::string_view cat_admin, std::string_view cat_operate
    ) override;
    int CountFabrics() override;
    int CountFabricsOwnedBy(std::string_view owner_id) override;
    std::optional<FabricRow> AnyFabric() override;
    AclRevision FindAclRevision(std::string_view group_id) override;
    void BumpAclRevision(std::string_view group_id, std::int64_t now) override;
    bool InsertMember(const MatterMemberRow& member) override;
    std::optional<MatterMemberRow> FindMember(std::string_view group_id, std::string_view user_id)
        override;
    void DeleteMember(std::string_view group_id, std::string_view user_id) override;
    std::vector<std::string> FabricsOfMember(std::string_view user_id) override;
    bool NodeIdTaken(std::string_view group_id, std::string_view matter_id) override;
    bool InsertNode(const MatterNodeRow& node) override;
    std::optional<MatterNodeRow> FindNode(
        std::string_view group_id, std::string_view matter_node_id
    ) override;
    std::optional<MatterNodeRow> FindRequest(std::string_view request_id) override;
    void UpdateNode(const MatterNodeRow& node) override;
    void DeleteNode(std::string_view group_id, std::string_view matter_node_id) override;
    std::vector<MatterNodeRow> Nodes(std::string_view group_id, std::string_view kind) override;
    std::optional<MatterNodeRow> FindByRainmakerNode(std::string_view node_id) override;
    std::vector<MatterNodeRow> NodesOfRainmakerNode(std::string_view node_id) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

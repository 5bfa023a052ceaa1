// The SQLite implementation of NodeStore.
#pragma once

#include "storage/node_store.hpp"
#include "storage/sql/dynamic_query.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlNodeStore final : public NodeStore {
public:
    explicit SqlNodeStore(SqlDatabase& db) : db_(db) {}

    // storage::NodeStore
    std::optional<NodeRow> Find(std::string_view node_id) override;
    std::optional<NodeRow> FindByMac(std::string_view mac_addr) override;
    std::vector<std::string> NodeIdsMatching(
        std::string_view node_type, std::string_view model, std::string_view fw_version
    ) override;
    bool Insert(const NodeRow& node) override;
    void SetClaimer(std::string_view node_id, std::string_view user_id, std::int64_t at) override;
    void ClearMac(std::string_view node_id) override;
    void DeleteNode(std::string_view node_id) override;
    void AddCertificate(
        std::string_view node_id,
        std::string_view cert_pem,
        std::string_view serial,
        std::int64_t at
    ) override;
    int RevokeCertificates(std::string_view node_id, std::string_view keep_serial, std::int64_t at)
        override;
    void MarkMapped(std::string_view node_id, std::int64_t at) override;
    int CountPendingClaims(std::string_view user_id) override;
    int CountClaims(std::string_view user_id) override;
    std::vector<std::string> ExpiredClaims(std::int64_t claimed_before, int limit) override;
    void PutConfig(
        std::string_view node_id,
        std::string_view config,
        std::string_view type,
        std::string_view model,
        std::string_view fw_version
    ) override;
    void PutParams(std::string_view node_id, std::string_view params, std::int64_t at) override;
    bool ApplyPresence(
        std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
    ) override;
    int ResetPresence(std::int64_t at_ms) override;
    int EndEarlierRuns(std::int64_t at_ms, std::int64_t run_order) override;
    std::vector<std::string> RevokedSerials() override;
    std::vector<NodeRow> SearchNodes(
        const AdminNodeFilter& filter, std::string_view start_id, int limit
    ) override;
    int CountNodes(const AdminNodeFilter& filter) override;
    bool SetDeactivated(std::string_view node_id, bool deactivated) override;
    std::optional<UserNodeRow> FindMapping(std::string_view user_id, std::string_view node_id)
        override;
    void PutMapping(const UserNodeRow& mapping) override;
    void DeleteMapping(std::string_view user_id, std::string_view node_id) override;
    int DeleteAllMappings(std::string_view node_id) override;
    int CountMappingsOfNode(std::string_view node_id) override;
    std::vector<UserNodeRow> MappingsOfNode(std::string_view node_id) override;
    std::int64_t MappingsVersion() override;
    std::vector<UserNodeRow> ListMappings(
        std::string_view user_id, std::string_view start_id, int limit
    ) override;
    int CountMappings(std::string_view user_id) override;
    void PutRequest(const MappingRequestRow& request) override;
    std::optional<MappingRequestRow> FindRequest(std::string_view request_id) override;
    bool MoveRequest(std::string_view request_id, std::string_view from, std::string_view to)
        override;
    int CountOpenRequests(std::string_view user_id) override;
    std::vector<MappingRequestRow> OpenRequests(std::string_view node_id, std::string_view kind)
        override;
    void PutReport(const NodeMappingReport& report) override;
    std::optional<NodeMappingReport> FindReport(std::string_view node_id) override;
    void DeleteReport(std::string_view node_id) override;
    int SweepMappingRequests(
        std::int64_t now, std::int64_t closed_before, std::int64_t reports_before
    ) override;
    void AddAlert(std::string_view node_id, std::string_view payload, std::int64_t at, int keep)
        override;
    int DeleteAlerts(std::int64_t before) override;

    // The statements SearchNodes and CountNodes run (their EXPLAIN QUERY PLAN in the tests and
    // bench/admin_nodes_query).
    static DynamicQuery SearchQuery(
        const AdminNodeFilter& filter,
        std::string_view start_id,
        int limit,
        Dialect dialect = Dialect::kSqlite
    );
    static DynamicQuery CountQuery(
        const AdminNodeFilter& filter, Dialect dialect = Dialect::kSqlite
    );

private:
    std::optional<NodeRow> FindWhere(const std::string& sql, std::string_view value);
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

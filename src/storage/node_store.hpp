// Nodes in the store: identity and certificate, last reported config and params, presence,
// user-node mappings and pending mapping requests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct NodeRow {
    std::string node_id;
    std::int64_t created_at = 0;
    std::string mac_addr;
    std::string platform;
    std::string claimed_by;  // user id that claimed it ("" for manufactured nodes)
    std::string cert_pem;
    std::string cert_serial;
    std::string config;  // JSON text, "" until reported
    std::string node_type;
    std::string model;
    std::string fw_version;
    std::string params;  // JSON text, "" until reported
    std::int64_t params_updated_at = 0;
    bool connected = false;
    std::int64_t connectivity_at = 0;  // unix ms
    std::int64_t presence_version = 0;
    bool revoked = false;
};

struct UserNodeRow {
    std::string user_id;
    std::string node_id;
    std::string role = "primary";  // effective: the best of direct_role and shared groups
    std::string tags = "[]";
    std::string metadata = "{}";
    std::string group_id;
    std::string admin_access;  // READ | WRITE | NONE | ""
    std::int64_t created_at = 0;
    std::string direct_role = "primary";  // from mapping or node sharing; "" = groups only
};

struct MappingRequestRow {
    std::string request_id;
    std::string user_id;
    std::string node_id;
    std::string kind;  // "secret" | "challenge"
    std::string secret_hash;
    std::string challenge;
    std::string status;    // requested | confirmed | timedout | discarded
    std::string tags;      // "" when not given
    std::string metadata;  // "" when not given
    std::string group_id;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;  // 0 = never
};

struct NodeMappingReport {
    std::string node_id;
    std::string user_id;
    std::string secret_hash;
    std::int64_t reported_at = 0;
};

class NodeStore {
public:
    virtual ~NodeStore() = default;

    virtual std::optional<NodeRow> Find(std::string_view node_id) = 0;
    virtual std::optional<NodeRow> FindByMac(std::string_view mac_addr) = 0;
    // Ids of the nodes whose reported type, model and firmware version equal the given ones
    // (an empty one matches any), in id order.
    virtual std::vector<std::string> NodeIdsMatching(
        std::string_view node_type, std::string_view model, std::string_view fw_version
    ) = 0;
    // Inserts; false when the id (or MAC) exists.
    virtual bool Insert(const NodeRow& node) = 0;
    virtual void SetClaimer(std::string_view node_id, std::string_view user_id) = 0;
    // Detaches the MAC address from the node (its chip now belongs to a new identity).
    virtual void ClearMac(std::string_view node_id) = 0;
    virtual void SetCertificate(
        std::string_view node_id, std::string_view cert_pem, std::string_view serial
    ) = 0;
    virtual void PutConfig(
        std::string_view node_id,
        std::string_view config,
        std::string_view type,
        std::string_view model,
        std::string_view fw_version
    ) = 0;
    virtual void PutParams(std::string_view node_id, std::string_view params, std::int64_t at) = 0;
    // Applies a presence event unless an event of a later connection was applied already.
    // Returns true when it changed the stored state.
    virtual bool ApplyPresence(
        std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
    ) = 0;
    // Marks every node offline at `at_ms` (the broker restarted: its earlier disconnects were
    // never delivered). Returns how many nodes changed.
    virtual int ResetPresence(std::int64_t at_ms) = 0;
    // Serials of revoked node certificates (for the broker's CRL).
    virtual std::vector<std::string> RevokedSerials() = 0;

    virtual std::optional<UserNodeRow> FindMapping(
        std::string_view user_id, std::string_view node_id
    ) = 0;
    virtual void PutMapping(const UserNodeRow& mapping) = 0;  // insert or replace
    virtual void DeleteMapping(std::string_view user_id, std::string_view node_id) = 0;
    // Removes every user of the node; returns how many mappings there were.
    virtual int DeleteAllMappings(std::string_view node_id) = 0;
    virtual int CountMappingsOfNode(std::string_view node_id) = 0;
    // Every mapping of the node (its primary and secondary users).
    virtual std::vector<UserNodeRow> MappingsOfNode(std::string_view node_id) = 0;
    // The user's mappings ordered by node id, from the first id >= start_id, at most `limit`.
    virtual std::vector<UserNodeRow> ListMappings(
        std::string_view user_id, std::string_view start_id, int limit
    ) = 0;
    virtual int CountMappings(std::string_view user_id) = 0;

    virtual void PutRequest(const MappingRequestRow& request) = 0;  // insert or replace
    virtual std::optional<MappingRequestRow> FindRequest(std::string_view request_id) = 0;
    // Moves the request from status `from` to `to`; false when it is no longer in `from`
    // (someone else moved it first).
    virtual bool MoveRequest(
        std::string_view request_id, std::string_view from, std::string_view to
    ) = 0;
    // Requests of `kind` for the node still in "requested".
    virtual std::vector<MappingRequestRow> OpenRequests(
        std::string_view node_id, std::string_view kind
    ) = 0;

    virtual void PutReport(const NodeMappingReport& report) = 0;
    virtual std::optional<NodeMappingReport> FindReport(std::string_view node_id) = 0;
    virtual void DeleteReport(std::string_view node_id) = 0;

    virtual void AddAlert(std::string_view node_id, std::string_view payload, std::int64_t at) = 0;
};

}  // namespace rainmaker::storage

// Nodes in the store: identity and certificate, last reported config and params, presence,
// user-node mappings and pending mapping requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource_role.hpp"
#include "storage/tag_store.hpp"

namespace rainmaker::storage {

struct NodeRow {
    std::string node_id;
    std::int64_t created_at = 0;
    std::string mac_addr;
    std::string platform;
    std::string claimed_by;  // user id that claimed it ("" for manufactured nodes)
    std::string cert_pem;    // the valid certificate (earlier ones are revoked)
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
    bool revoked = false;         // deactivated: every certificate of the node is refused
    std::int64_t claimed_at = 0;  // unix seconds of the last claim (0 for manufactured nodes)
    std::int64_t mapped_at = 0;   // unix seconds of the last confirmed mapping, 0 = never
};

struct UserNodeRow {
    std::string user_id;
    std::string node_id;
    // Effective: the best of direct_role and what shared groups give.
    core::ResourceRole role = core::ResourceRole::kPrimary;
    std::string tags = "[]";
    std::string metadata = "{}";
    std::string group_id;
    std::string admin_access;  // READ | WRITE | NONE | ""
    std::int64_t created_at = 0;
    // From mapping or node sharing; nullopt: groups only.
    std::optional<core::ResourceRole> direct_role = core::ResourceRole::kPrimary;
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

// The admin node search (#23). Empty strings match anything; model is only compared with a
// type, fw_version only with a type and a model (the route refuses the other combinations).
enum class NodeStatusFilter {
    kAny,
    kNotActivated,  // not deactivated, never connected (no presence ever recorded)
    kOnline,        // not deactivated, connected now
    kOffline,       // not deactivated, disconnected, connected at some time before
    kDeactivated,   // deactivated by an admin (#24 activate=false)
    kActive,        // not deactivated, connected now or at some time since `active_since_ms`
    kInactive,      // not deactivated, connected once, but not since `active_since_ms`
};

// One node filter of an RBAC policy: a node matches when it has one of `tags` ("name:value",
// compared whole with the node's admin tags; any, when empty) and its type is one of `types`
// (any, when empty). Both empty: every node matches.
struct NodeRule {
    std::vector<std::string> tags;
    std::vector<std::string> types;
};

// The nodes an admin restricted by RBAC roles reaches: those matching one of `allow` (every
// node, with allow_all) and none of `deny`.
struct NodeScopeFilter {
    bool allow_all = false;
    std::vector<NodeRule> allow;
    std::vector<NodeRule> deny;
};

struct AdminNodeFilter {
    std::string node_type;
    std::string model;
    std::string fw_version;
    std::optional<TagQuery> tags;  // admin tags (TagStore) of the node
    NodeStatusFilter status = NodeStatusFilter::kAny;
    std::int64_t active_since_ms = 0;      // for kActive / kInactive
    std::string subtype;                   // the reported config's info.subtype
    std::string project_name;              // the reported config's info.project_name
    std::optional<NodeScopeFilter> scope;  // RBAC: only the nodes it allows
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
    // Records a (re-)claim of the node by `user_id` at `at`.
    virtual void SetClaimer(
        std::string_view node_id, std::string_view user_id, std::int64_t at
    ) = 0;
    // Detaches the MAC address from the node (its chip now belongs to a new identity).
    virtual void ClearMac(std::string_view node_id) = 0;
    // Deletes the node with its mappings, group memberships, mapping requests and reports,
    // and alerts. Its certificates stay recorded (revoke them first).
    virtual void DeleteNode(std::string_view node_id) = 0;
    // Records a certificate issued to the node at `at` and makes it the node's current one.
    virtual void AddCertificate(
        std::string_view node_id,
        std::string_view cert_pem,
        std::string_view serial,
        std::int64_t at
    ) = 0;
    // Revokes at `at` every valid certificate of the node but `keep_serial` ("" = all);
    // returns how many were revoked.
    virtual int RevokeCertificates(
        std::string_view node_id, std::string_view keep_serial, std::int64_t at
    ) = 0;
    // Records that a user was mapped to the node at `at` (its claim is no longer pending).
    virtual void MarkMapped(std::string_view node_id, std::int64_t at) = 0;
    // Nodes `user_id` claimed that were never mapped.
    virtual int CountPendingClaims(std::string_view user_id) = 0;
    // Nodes whose claimer (or last primary user to map them) is `user_id`.
    virtual int CountClaims(std::string_view user_id) = 0;
    // Up to `limit` nodes a user who is not an admin claimed before `claimed_before` that were
    // never mapped and never connected (no config, no presence), oldest first.
    virtual std::vector<std::string> ExpiredClaims(std::int64_t claimed_before, int limit) = 0;
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
    // Marks every node offline at `at_ms` (a presence source whose events were lost: EMQX's).
    // Returns how many nodes changed.
    virtual int ResetPresence(std::int64_t at_ms) = 0;
    // A broker run whose events are ordered from `run_order` on began: every node last reported
    // by an earlier run is offline (at `at_ms` if it was connected), and its presence version
    // becomes `run_order`, so that a late event of an earlier run changes nothing. Returns how
    // many connected nodes went offline.
    virtual int EndEarlierRuns(std::int64_t at_ms, std::int64_t run_order) = 0;
    // Nodes matching `filter` in node id order, those with an id > `start_id`, at most `limit`
    // (the page reads no further than its limit needs); and how many match in all.
    virtual std::vector<NodeRow> SearchNodes(
        const AdminNodeFilter& filter, std::string_view start_id, int limit
    ) = 0;
    virtual int CountNodes(const AdminNodeFilter& filter) = 0;
    // Deactivates (every certificate of the node refused, RevokedSerials) or activates the node;
    // false when it was so already or does not exist.
    virtual bool SetDeactivated(std::string_view node_id, bool deactivated) = 0;
    // Serials the broker must refuse (its CRL): revoked certificates, and every certificate
    // of a deactivated node.
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
    // A number that changes with every change of any mapping, in the changing transaction.
    virtual std::int64_t MappingsVersion() = 0;
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
    // How many of the user's requests are still "requested".
    virtual int CountOpenRequests(std::string_view user_id) = 0;
    // Requests of `kind` for the node still in "requested".
    virtual std::vector<MappingRequestRow> OpenRequests(
        std::string_view node_id, std::string_view kind
    ) = 0;

    virtual void PutReport(const NodeMappingReport& report) = 0;
    virtual std::optional<NodeMappingReport> FindReport(std::string_view node_id) = 0;
    virtual void DeleteReport(std::string_view node_id) = 0;

    // Times out the requests still "requested" whose expiry passed before `now`, deletes the
    // ones no longer requested (and those that never expire) created before `closed_before`,
    // and the node reports made before `reports_before`; returns how many rows changed.
    virtual int SweepMappingRequests(
        std::int64_t now, std::int64_t closed_before, std::int64_t reports_before
    ) = 0;

    // Keeps an alert, and of the node's alerts only the newest `keep` (0: all).
    virtual void AddAlert(
        std::string_view node_id, std::string_view payload, std::int64_t at, int keep
    ) = 0;
    // Deletes the alerts raised before `before`; returns how many.
    virtual int DeleteAlerts(std::int64_t before) = 0;
};

}  // namespace rainmaker::storage

// Matter fabrics in the store (#9): one per Matter home (a top-level user group), the members'
// Matter identities, and the operational node ids handed out to devices and controllers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct FabricRow {
    std::string group_id;
    std::string fabric_id;  // 16 upper-case hex digits
    std::string rcac_id;
    std::string root_ca;          // PEM
    std::string root_key_sealed;  // never the clear key
    std::string ipk;              // 32 upper-case hex digits
    std::string cat_admin;        // 8 hex digits
    std::string cat_operate;
    std::int64_t created_at = 0;
};

struct MatterMemberRow {
    std::string group_id;
    std::string user_id;
    std::string matter_user_id;  // 16 hex digits
    std::string user_cat_id;     // 8 hex digits
};

struct MatterNodeRow {
    std::string group_id;
    std::string matter_node_id;  // 16 hex digits
    std::string kind = "node";   // node | controller
    std::string request_id;      // the commissioning request of a device NOC
    std::string status;          // pending | success | failure ("" for controllers)
    std::string rainmaker_node_id;
    std::string requested_by;
    std::int64_t created_at = 0;
};

// The revision of a fabric's node ACLs (#65).
struct AclRevision {
    std::int64_t sequence = 1;
    std::int64_t modified_at = 0;
};

class MatterStore {
public:
    virtual ~MatterStore() = default;

    // Inserts; false when the group already has a fabric or the fabric id is taken.
    virtual bool InsertFabric(const FabricRow& fabric) = 0;
    virtual std::optional<FabricRow> FindFabric(std::string_view group_id) = 0;
    // Deletes the fabric with its members and nodes; false when there is none.
    virtual bool DeleteFabric(std::string_view group_id) = 0;
    // Sets the fabric's admin and operate CATs (8 hex digits each).
    virtual void UpdateCats(
        std::string_view group_id, std::string_view cat_admin, std::string_view cat_operate
    ) = 0;
    // How many fabrics there are in all / whose home `owner_id` owns.
    virtual int CountFabrics() = 0;
    virtual int CountFabricsOwnedBy(std::string_view owner_id) = 0;
    // The sealed root key of one fabric, if there is any (the start-up check of the sealing key).
    virtual std::optional<FabricRow> AnyFabric() = 0;

    // The fabric's ACL revision (sequence 1 when it never changed).
    virtual AclRevision FindAclRevision(std::string_view group_id) = 0;
    // Adds 1 to the fabric's ACL sequence and sets its modification time.
    virtual void BumpAclRevision(std::string_view group_id, std::int64_t now) = 0;

    // Inserts; false when the user already has an identity in the fabric or the ids are taken.
    virtual bool InsertMember(const MatterMemberRow& member) = 0;
    virtual std::optional<MatterMemberRow> FindMember(
        std::string_view group_id, std::string_view user_id
    ) = 0;
    virtual void DeleteMember(std::string_view group_id, std::string_view user_id) = 0;
    // The fabrics (group ids) where `user_id` has an identity.
    virtual std::vector<std::string> FabricsOfMember(std::string_view user_id) = 0;
    // Whether `matter_id` is any member's or node's id in the fabric.
    virtual bool NodeIdTaken(std::string_view group_id, std::string_view matter_id) = 0;

    // Inserts; false when the node id (or the request id) is taken.
    virtual bool InsertNode(const MatterNodeRow& node) = 0;
    virtual std::optional<MatterNodeRow> FindNode(
        std::string_view group_id, std::string_view matter_node_id
    ) = 0;
    virtual std::optional<MatterNodeRow> FindRequest(std::string_view request_id) = 0;
    virtual void UpdateNode(const MatterNodeRow& node) = 0;
    virtual void DeleteNode(std::string_view group_id, std::string_view matter_node_id) = 0;
    // The fabric's nodes of `kind` in id order.
    virtual std::vector<MatterNodeRow> Nodes(std::string_view group_id, std::string_view kind) = 0;
    // The fabric node (kind node) a RainMaker node is, if it was commissioned into one.
    virtual std::optional<MatterNodeRow> FindByRainmakerNode(std::string_view node_id) = 0;
    // Every fabric node a RainMaker node is: the device it was commissioned as and the
    // controllers it is, in any fabric.
    virtual std::vector<MatterNodeRow> NodesOfRainmakerNode(std::string_view node_id) = 0;
};

}  // namespace rainmaker::storage

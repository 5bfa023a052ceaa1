// Matter fabrics in SQLite (V019): fabrics, members' Matter identities, fabric nodes; the
// revisions of their node ACLs (V017).
#include "storage/sql/sql_matter_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kFabricColumns =
    "group_id, fabric_id, rcac_id, root_ca, root_key_sealed, ipk, cat_admin, cat_operate, "
    "created_at";
constexpr const char* kNodeColumns =
    "group_id, matter_node_id, kind, request_id, status, rainmaker_node_id, requested_by, "
    "created_at";

FabricRow ReadFabric(const Statement& s) {
    FabricRow f;
    f.group_id = s.Text(0);
    f.fabric_id = s.Text(1);
    f.rcac_id = s.Text(2);
    f.root_ca = s.Text(3);
    f.root_key_sealed = s.Text(4);
    f.ipk = s.Text(5);
    f.cat_admin = s.Text(6);
    f.cat_operate = s.Text(7);
    f.created_at = s.Int(8);
    return f;
}

MatterMemberRow ReadMember(const Statement& s) {
    return MatterMemberRow{s.Text(0), s.Text(1), s.Text(2), s.Text(3)};
}

MatterNodeRow ReadNode(const Statement& s) {
    MatterNodeRow n;
    n.group_id = s.Text(0);
    n.matter_node_id = s.Text(1);
    n.kind = s.Text(2);
    n.request_id = s.Text(3);
    n.status = s.Text(4);
    n.rainmaker_node_id = s.Text(5);
    n.requested_by = s.Text(6);
    n.created_at = s.Int(7);
    return n;
}

std::string SelectNodes(const std::string& rest) {
    return std::string("SELECT ") + kNodeColumns + " FROM matter_nodes " + rest;
}

}  // namespace

bool SqlMatterStore::InsertFabric(const FabricRow& f) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO matter_fabrics(") + kFabricColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?)",
            f.group_id,
            f.fabric_id,
            f.rcac_id,
            f.root_ca,
            f.root_key_sealed,
            f.ipk,
            f.cat_admin,
            f.cat_operate,
            f.created_at
        );
    });
}

std::optional<FabricRow> SqlMatterStore::FindFabric(std::string_view group_id) {
    return db_.FindOne(
        std::string("SELECT ") + kFabricColumns + " FROM matter_fabrics WHERE group_id = ?",
        group_id,
        ReadFabric
    );
}

bool SqlMatterStore::DeleteFabric(std::string_view group_id) {
    return db_.Execute("DELETE FROM matter_fabrics WHERE group_id = ?", group_id) > 0;
}

void SqlMatterStore::UpdateCats(
    std::string_view group_id, std::string_view cat_admin, std::string_view cat_operate
) {
    db_.Execute(
        "UPDATE matter_fabrics SET cat_admin = ?, cat_operate = ? WHERE group_id = ?",
        cat_admin,
        cat_operate,
        group_id
    );
}

int SqlMatterStore::CountFabrics() {
    return static_cast<int>(db_.Count("SELECT COUNT(*) FROM matter_fabrics"));
}

int SqlMatterStore::CountFabricsOwnedBy(std::string_view owner_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM matter_fabrics f JOIN node_groups g ON g.group_id = f.group_id "
        "WHERE g.owner_id = ?",
        owner_id
    ));
}

std::optional<FabricRow> SqlMatterStore::AnyFabric() {
    return db_.FindFirst(
        std::string("SELECT ") + kFabricColumns + " FROM matter_fabrics LIMIT 1", ReadFabric
    );
}

AclRevision SqlMatterStore::FindAclRevision(std::string_view group_id) {
    return db_
        .FindOne(
            "SELECT sequence, modified_at FROM matter_acl_revisions WHERE group_id = ?",
            group_id,
            [](const Statement& s) {
                return AclRevision{s.Int(0), s.Int(1)};
            }
        )
        .value_or(AclRevision{});
}

void SqlMatterStore::BumpAclRevision(std::string_view group_id, std::int64_t now) {
    db_.Execute(
        "INSERT INTO matter_acl_revisions(group_id, sequence, modified_at) VALUES (?1, 2, ?2) "
        "ON CONFLICT(group_id) DO UPDATE SET sequence = matter_acl_revisions.sequence + 1, "
        "modified_at = ?2",
        group_id,
        now
    );
}

bool SqlMatterStore::InsertMember(const MatterMemberRow& m) {
    return db_.Unique([&] {
        db_.Execute(
            "INSERT INTO matter_members(group_id, user_id, matter_user_id, user_cat_id) "
            "VALUES (?,?,?,?)",
            m.group_id,
            m.user_id,
            m.matter_user_id,
            m.user_cat_id
        );
    });
}

std::optional<MatterMemberRow> SqlMatterStore::FindMember(
    std::string_view group_id, std::string_view user_id
) {
    return db_.FindFirst(
        "SELECT group_id, user_id, matter_user_id, user_cat_id FROM matter_members "
        "WHERE group_id = ? AND user_id = ?",
        ReadMember,
        group_id,
        user_id
    );
}

void SqlMatterStore::DeleteMember(std::string_view group_id, std::string_view user_id) {
    db_.Execute("DELETE FROM matter_members WHERE group_id = ? AND user_id = ?", group_id, user_id);
}

std::vector<std::string> SqlMatterStore::FabricsOfMember(std::string_view user_id) {
    return db_.FindAll(
        "SELECT group_id FROM matter_members WHERE user_id = ? ORDER BY group_id",
        [](const Statement& s) { return s.Text(0); },
        user_id
    );
}

bool SqlMatterStore::NodeIdTaken(std::string_view group_id, std::string_view matter_id) {
    return db_.Count(
               "SELECT (SELECT COUNT(*) FROM matter_members WHERE group_id = ?1 AND "
               "matter_user_id = ?2) + (SELECT COUNT(*) FROM matter_nodes WHERE group_id = ?1 "
               "AND matter_node_id = ?2)",
               group_id,
               matter_id
           ) > 0;
}

bool SqlMatterStore::InsertNode(const MatterNodeRow& n) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO matter_nodes(") + kNodeColumns + ") VALUES (?,?,?,?,?,?,?,?)",
            n.group_id,
            n.matter_node_id,
            n.kind,
            n.request_id,
            n.status,
            n.rainmaker_node_id,
            n.requested_by,
            n.created_at
        );
    });
}

std::optional<MatterNodeRow> SqlMatterStore::FindNode(
    std::string_view group_id, std::string_view matter_node_id
) {
    return db_.FindFirst(
        SelectNodes("WHERE group_id = ? AND matter_node_id = ?"), ReadNode, group_id, matter_node_id
    );
}

std::optional<MatterNodeRow> SqlMatterStore::FindRequest(std::string_view request_id) {
    return db_.FindOne(SelectNodes("WHERE request_id = ?"), request_id, ReadNode);
}

void SqlMatterStore::UpdateNode(const MatterNodeRow& n) {
    db_.Execute(
        "UPDATE matter_nodes SET status = ?, rainmaker_node_id = ? WHERE group_id = ? AND "
        "matter_node_id = ?",
        n.status,
        n.rainmaker_node_id,
        n.group_id,
        n.matter_node_id
    );
}

void SqlMatterStore::DeleteNode(std::string_view group_id, std::string_view matter_node_id) {
    db_.Execute(
        "DELETE FROM matter_nodes WHERE group_id = ? AND matter_node_id = ?",
        group_id,
        matter_node_id
    );
}

std::vector<MatterNodeRow> SqlMatterStore::Nodes(std::string_view group_id, std::string_view kind) {
    return db_.FindAll(
        SelectNodes("WHERE group_id = ? AND kind = ? ORDER BY matter_node_id"),
        ReadNode,
        group_id,
        kind
    );
}

std::string SqlMatterStore::ByRainmakerNodeSql(bool devices_only) {
    // A controller row names its RainMaker node too: `devices_only` keeps the device it was
    // commissioned as.
    return SelectNodes(
        std::string("WHERE rainmaker_node_id = ? AND rainmaker_node_id <> ''") +
        (devices_only ? " AND kind = 'node'" : " ORDER BY group_id, matter_node_id")
    );
}

std::optional<MatterNodeRow> SqlMatterStore::FindByRainmakerNode(std::string_view node_id) {
    return db_.FindOne(ByRainmakerNodeSql(true), node_id, ReadNode);
}

std::vector<MatterNodeRow> SqlMatterStore::NodesOfRainmakerNode(std::string_view node_id) {
    return db_.FindAll(ByRainmakerNodeSql(false), ReadNode, node_id);
}

}  // namespace rainmaker::storage::sql

// Groups and their node lists in SQLite.
#include "storage/sql/sql_group_store.hpp"

#include "storage/sql/sql_database.hpp"
#include "storage/sql/stored_role.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kColumns =
    "group_id, owner_id, COALESCE(parent_id, ''), group_name, type, description, "
    "mutually_exclusive, group_metadata, custom_data, level, created_at, kind, group_query";

GroupRow ReadGroup(const Statement& s) {
    GroupRow g;
    g.group_id = s.Text(0);
    g.owner_id = s.Text(1);
    g.parent_id = s.Text(2);
    g.group_name = s.Text(3);
    g.type = s.Text(4);
    g.description = s.Text(5);
    g.mutually_exclusive = s.Bool(6);
    g.group_metadata = s.Text(7);
    g.custom_data = s.Text(8);
    g.level = static_cast<int>(s.Int(9));
    g.created_at = s.Int(10);
    g.kind = s.Text(11);
    g.group_query = s.Text(12);
    return g;
}

std::string Query(const char* where) {
    return std::string("SELECT ") + kColumns + " FROM node_groups WHERE " + where;
}

constexpr const char* kShareColumns = "group_id, user_id, role, metadata, created_at";

GroupShareRow ReadShare(const Statement& s) {
    return GroupShareRow{
        s.Text(0), s.Text(1), StoredRole(s.Text(2), "group_shares.role"), s.Text(3), s.Int(4)};
}

}  // namespace

std::optional<GroupRow> SqlGroupStore::Find(std::string_view group_id) {
    static const std::string kSql = Query("group_id = ?");
    return db_.FindOne(kSql, group_id, ReadGroup);
}

std::optional<GroupRow> SqlGroupStore::FindByName(
    std::string_view kind,
    std::string_view owner_id,
    std::string_view parent_id,
    std::string_view name
) {
    static const std::string kSql =
        Query("owner_id = ? AND kind = ? AND COALESCE(parent_id, '') = ? AND group_name = ?");
    return db_.FindFirst(kSql, ReadGroup, owner_id, kind, parent_id, name);
}

std::optional<GroupRow> SqlGroupStore::FindSharedByName(
    std::string_view user_id, std::string_view name
) {
    static const std::string kSql = Query(
        "group_id IN (SELECT group_id FROM group_shares WHERE user_id = ?) AND group_name = ? "
        "ORDER BY group_id LIMIT 1"
    );
    return db_.FindFirst(kSql, ReadGroup, user_id, name);
}

void SqlGroupStore::Insert(const GroupRow& g) {
    db_.WithWriteConnection([&](Connection& c) {
        auto s = c.Prepare(
            "INSERT INTO node_groups(group_id, owner_id, parent_id, group_name, type, "
            "description, mutually_exclusive, group_metadata, custom_data, level, created_at, "
            "kind, group_query) VALUES (?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        s.Bind(1, g.group_id)
            .Bind(2, g.owner_id)
            .Bind(3, g.parent_id)
            .Bind(4, g.group_name)
            .Bind(5, g.type)
            .Bind(6, g.description)
            .Bind(7, g.mutually_exclusive)
            .Bind(8, g.group_metadata)
            .Bind(9, g.custom_data)
            .Bind(10, g.level)
            .Bind(11, g.created_at)
            .Bind(12, g.kind)
            .Bind(13, g.group_query)
            .Run();
    });
}

void SqlGroupStore::Update(const GroupRow& g) {
    db_.Execute(
        "UPDATE node_groups SET group_name = ?, type = ?, description = ?, mutually_exclusive = ?, "
        "group_metadata = ?, custom_data = ? WHERE group_id = ?",
        g.group_name,
        g.type,
        g.description,
        g.mutually_exclusive,
        g.group_metadata,
        g.custom_data,
        g.group_id
    );
}

void SqlGroupStore::Delete(std::string_view group_id) {
    db_.Execute("DELETE FROM node_groups WHERE group_id = ?", group_id);
}

std::vector<GroupRow> SqlGroupStore::ListTopLevel(
    std::string_view kind, std::string_view user_id, std::string_view start_id, int limit
) {
    // Two index ranges (owner_id, then group_shares by user) merged by id.
    static const std::string kSql =
        Query("owner_id = ?1 AND kind = ?4 AND parent_id IS NULL AND group_id >= ?2") +
        " UNION ALL " +
        Query(
            "group_id IN (SELECT group_id FROM group_shares WHERE user_id = ?1 AND group_id "
            ">= ?2) AND owner_id <> ?1 AND kind = ?4"
        ) +
        " ORDER BY 1 LIMIT ?3";
    return db_.FindAll(kSql, ReadGroup, user_id, start_id, limit, kind);
}

int SqlGroupStore::CountTopLevel(std::string_view kind, std::string_view user_id) {
    const auto count = db_.FindFirst(
        "SELECT (SELECT COUNT(*) FROM node_groups WHERE owner_id = ?1 AND kind = ?2 AND "
        "parent_id IS NULL) + (SELECT COUNT(*) FROM group_shares s JOIN node_groups g USING "
        "(group_id) WHERE s.user_id = ?1 AND g.owner_id <> ?1 AND g.kind = ?2)",
        [](const Statement& st) { return static_cast<int>(st.Int(0)); },
        user_id,
        kind
    );
    return count.value_or(0);
}

std::vector<GroupRow> SqlGroupStore::Owned(std::string_view kind, std::string_view owner_id) {
    static const std::string kSql = Query("owner_id = ? AND kind = ? ORDER BY group_id");
    return db_.FindAll(kSql, ReadGroup, owner_id, kind);
}

int SqlGroupStore::CountOwned(std::string_view kind, std::string_view owner_id) {
    return db_
        .FindFirst(
            "SELECT COUNT(*) FROM node_groups WHERE owner_id = ? AND kind = ?",
            [](const Statement& st) { return static_cast<int>(st.Int(0)); },
            owner_id,
            kind
        )
        .value_or(0);
}

std::vector<GroupRow> SqlGroupStore::ListByQuery(
    std::string_view owner_id, std::string_view group_query
) {
    static const std::string kSql =
        Query("owner_id = ? AND kind = 'admin' AND group_query = ? ORDER BY group_id");
    return db_.FindAll(kSql, ReadGroup, owner_id, group_query);
}

void SqlGroupStore::SetOwner(std::string_view group_id, std::string_view owner_id) {
    db_.Execute(
        "WITH RECURSIVE tree(id) AS (SELECT group_id FROM node_groups WHERE group_id = ?1 UNION "
        "ALL SELECT g.group_id FROM "
        "node_groups g "
        "JOIN tree ON g.parent_id = tree.id) UPDATE node_groups SET owner_id = ?2 WHERE group_id "
        "IN (SELECT id FROM tree)",
        group_id,
        owner_id
    );
}

std::vector<GroupRow> SqlGroupStore::Children(std::string_view group_id) {
    static const std::string kSql = Query("parent_id = ? ORDER BY group_id");
    return db_.FindAll(kSql, ReadGroup, group_id);
}

std::vector<std::string> SqlGroupStore::Nodes(std::string_view group_id) {
    return db_.FindAll(
        "SELECT node_id FROM node_group_nodes WHERE group_id = ? ORDER BY node_id",
        [](const Statement& st) { return st.Text(0); },
        group_id
    );
}

void SqlGroupStore::AddNode(std::string_view group_id, std::string_view node_id) {
    db_.Execute(
        "INSERT INTO node_group_nodes(group_id, node_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        group_id,
        node_id
    );
}

void SqlGroupStore::RemoveNode(std::string_view group_id, std::string_view node_id) {
    db_.Execute(
        "DELETE FROM node_group_nodes WHERE group_id = ? AND node_id = ?", group_id, node_id
    );
}

void SqlGroupStore::RemoveNodeFromUserGroups(std::string_view node_id) {
    db_.Execute(
        "DELETE FROM node_group_nodes WHERE node_id = ? AND group_id IN (SELECT group_id FROM "
        "node_groups WHERE kind = 'user')",
        node_id
    );
}

std::vector<GroupRow> SqlGroupStore::GroupsOfNode(
    std::string_view kind, std::string_view owner_id, std::string_view node_id
) {
    static const std::string kSql = Query(
        "owner_id = ?1 AND kind = ?3 AND group_id IN (SELECT group_id FROM node_group_nodes "
        "WHERE node_id = ?2)"
    );
    return db_.FindAll(kSql, ReadGroup, owner_id, node_id, kind);
}

void SqlGroupStore::PutShare(const GroupShareRow& share) {
    db_.Execute(
        UpsertSql("group_shares", kShareColumns, "group_id, user_id"),
        share.group_id,
        share.user_id,
        core::Name(share.role),
        share.metadata,
        share.created_at
    );
}

std::optional<GroupShareRow> SqlGroupStore::FindShare(
    std::string_view group_id, std::string_view user_id
) {
    static const std::string kSql = std::string("SELECT ") + kShareColumns +
                                    " FROM group_shares WHERE group_id = ? AND user_id = ?";
    return db_.FindFirst(kSql, ReadShare, group_id, user_id);
}

void SqlGroupStore::DeleteShare(std::string_view group_id, std::string_view user_id) {
    db_.Execute("DELETE FROM group_shares WHERE group_id = ? AND user_id = ?", group_id, user_id);
}

std::vector<GroupShareRow> SqlGroupStore::SharesOfGroup(std::string_view group_id) {
    static const std::string kSql = std::string("SELECT ") + kShareColumns +
                                    " FROM group_shares WHERE group_id = ? ORDER BY created_at, "
                                    "user_id";
    return db_.FindAll(kSql, ReadShare, group_id);
}

std::vector<SharedNodeSource> SqlGroupStore::SharedNodeSources(
    std::string_view user_id, std::string_view node_id
) {
    return db_.FindAll(
        "SELECT s.group_id, s.role, g.owner_id FROM group_shares s JOIN node_group_nodes n ON "
        "n.group_id = s.group_id AND n.node_id = ?2 JOIN node_groups g ON g.group_id = "
        "s.group_id WHERE s.user_id = ?1 ORDER BY s.group_id",
        [](const Statement& st) {
            return SharedNodeSource{
                st.Text(0), StoredRole(st.Text(1), "group_shares.role"), st.Text(2)};
        },
        user_id,
        node_id
    );
}

}  // namespace rainmaker::storage::sql

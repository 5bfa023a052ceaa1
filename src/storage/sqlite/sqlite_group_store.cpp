// Groups and their node lists in SQLite.
#include "storage/sqlite/sqlite_group_store.hpp"

#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::storage::sqlite {

namespace {

constexpr const char* kColumns =
    "group_id, owner_id, COALESCE(parent_id, ''), group_name, type, description, "
    "mutually_exclusive, group_metadata, custom_data, level, created_at";

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
    return g;
}

std::string Query(const char* where) {
    return std::string("SELECT ") + kColumns + " FROM node_groups WHERE " + where;
}

}  // namespace

std::optional<GroupRow> SqliteGroupStore::Find(std::string_view group_id) {
    static const std::string kSql = Query("group_id = ?");
    return db_.FindOne(kSql, group_id, ReadGroup);
}

std::optional<GroupRow> SqliteGroupStore::FindByName(
    std::string_view owner_id, std::string_view parent_id, std::string_view name
) {
    std::optional<GroupRow> row;
    db_.WithConnection([&](Connection& c) {
        static const std::string kSql =
            Query("owner_id = ? AND COALESCE(parent_id, '') = ? AND group_name = ?");
        auto s = c.Prepare(kSql);
        s.Bind(1, owner_id).Bind(2, parent_id).Bind(3, name);
        if (s.Step()) {
            row = ReadGroup(s);
        }
    });
    return row;
}

void SqliteGroupStore::Insert(const GroupRow& g) {
    db_.WithConnection([&](Connection& c) {
        auto s = c.Prepare(
            "INSERT INTO node_groups(group_id, owner_id, parent_id, group_name, type, "
            "description, mutually_exclusive, group_metadata, custom_data, level, created_at) "
            "VALUES (?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?)"
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
            .Run();
    });
}

void SqliteGroupStore::Update(const GroupRow& g) {
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

void SqliteGroupStore::Delete(std::string_view group_id) {
    db_.Execute("DELETE FROM node_groups WHERE group_id = ?", group_id);
}

std::vector<GroupRow> SqliteGroupStore::ListTopLevel(
    std::string_view owner_id, std::string_view start_id, int limit
) {
    std::vector<GroupRow> rows;
    db_.WithConnection([&](Connection& c) {
        static const std::string kSql =
            Query("owner_id = ? AND parent_id IS NULL AND group_id >= ? ORDER BY group_id LIMIT ?");
        auto s = c.Prepare(kSql);
        s.Bind(1, owner_id).Bind(2, start_id).Bind(3, limit);
        while (s.Step()) {
            rows.push_back(ReadGroup(s));
        }
    });
    return rows;
}

int SqliteGroupStore::CountTopLevel(std::string_view owner_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM node_groups WHERE owner_id = ? AND parent_id IS NULL", owner_id
    ));
}

std::vector<GroupRow> SqliteGroupStore::Children(std::string_view group_id) {
    std::vector<GroupRow> rows;
    db_.WithConnection([&](Connection& c) {
        static const std::string kSql = Query("parent_id = ? ORDER BY group_id");
        auto s = c.Prepare(kSql);
        s.Bind(1, group_id);
        while (s.Step()) {
            rows.push_back(ReadGroup(s));
        }
    });
    return rows;
}

std::vector<std::string> SqliteGroupStore::Nodes(std::string_view group_id) {
    std::vector<std::string> nodes;
    db_.WithConnection([&](Connection& c) {
        auto s =
            c.Prepare("SELECT node_id FROM node_group_nodes WHERE group_id = ? ORDER BY node_id");
        s.Bind(1, group_id);
        while (s.Step()) {
            nodes.push_back(s.Text(0));
        }
    });
    return nodes;
}

void SqliteGroupStore::AddNode(std::string_view group_id, std::string_view node_id) {
    db_.Execute(
        "INSERT OR IGNORE INTO node_group_nodes(group_id, node_id) VALUES (?, ?)", group_id, node_id
    );
}

void SqliteGroupStore::RemoveNode(std::string_view group_id, std::string_view node_id) {
    db_.Execute(
        "DELETE FROM node_group_nodes WHERE group_id = ? AND node_id = ?", group_id, node_id
    );
}

void SqliteGroupStore::RemoveNodeFromGroups(std::string_view owner_id, std::string_view node_id) {
    db_.Execute(
        "DELETE FROM node_group_nodes WHERE node_id = ?1 AND (?2 = '' OR group_id IN (SELECT "
        "group_id FROM node_groups WHERE owner_id = ?2))",
        node_id,
        owner_id
    );
}

std::vector<GroupRow> SqliteGroupStore::GroupsOfNode(
    std::string_view owner_id, std::string_view node_id
) {
    std::vector<GroupRow> rows;
    db_.WithConnection([&](Connection& c) {
        static const std::string kSql = std::string("SELECT ") + kColumns +
                                        " FROM node_groups WHERE owner_id = ? AND group_id IN "
                                        "(SELECT group_id FROM node_group_nodes WHERE node_id = ?)";
        auto s = c.Prepare(kSql);
        s.Bind(1, owner_id).Bind(2, node_id);
        while (s.Step()) {
            rows.push_back(ReadGroup(s));
        }
    });
    return rows;
}

}  // namespace rainmaker::storage::sqlite

// User node groups (homes and rooms) and their nodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct GroupRow {
    std::string group_id;
    std::string owner_id;
    std::string parent_id;  // "" for a top-level group
    std::string group_name;
    std::string type;
    std::string description;
    bool mutually_exclusive = false;
    std::string group_metadata = "{}";
    std::string custom_data = "{}";
    int level = 1;
    std::int64_t created_at = 0;
};

class GroupStore {
public:
    virtual ~GroupStore() = default;
    virtual std::optional<GroupRow> Find(std::string_view group_id) = 0;
    // The owner's group called `name` under `parent_id` ("" = top level).
    virtual std::optional<GroupRow> FindByName(
        std::string_view owner_id, std::string_view parent_id, std::string_view name
    ) = 0;
    virtual void Insert(const GroupRow& group) = 0;
    virtual void Update(const GroupRow& group) = 0;
    // Deletes the group, its sub-groups and their node lists.
    virtual void Delete(std::string_view group_id) = 0;
    // The owner's top-level groups ordered by id, from the first id >= start_id.
    virtual std::vector<GroupRow> ListTopLevel(
        std::string_view owner_id, std::string_view start_id, int limit
    ) = 0;
    virtual int CountTopLevel(std::string_view owner_id) = 0;
    virtual std::vector<GroupRow> Children(std::string_view group_id) = 0;
    virtual std::vector<std::string> Nodes(std::string_view group_id) = 0;
    virtual void AddNode(std::string_view group_id, std::string_view node_id) = 0;
    virtual void RemoveNode(std::string_view group_id, std::string_view node_id) = 0;
    // Takes the node out of every group of `owner_id` (its mapping to that user ended), or of
    // every group at all when `owner_id` is empty (the node was reset).
    virtual void RemoveNodeFromGroups(std::string_view owner_id, std::string_view node_id) = 0;
    // The owner's groups that hold the node.
    virtual std::vector<GroupRow> GroupsOfNode(
        std::string_view owner_id, std::string_view node_id
    ) = 0;
};

}  // namespace rainmaker::storage

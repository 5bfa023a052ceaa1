// User node groups (homes and rooms) and their nodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource_role.hpp"

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
    std::string kind = "user";  // user | admin
    std::string group_query;    // admin dynamic groups: {node_type, node_model, node_fw_version}
};

// A group shared with a user; its sub-groups come with it.
struct GroupShareRow {
    std::string group_id;
    std::string user_id;
    core::ResourceRole role = core::ResourceRole::kSecondary;
    std::string metadata = "{}";
    std::int64_t created_at = 0;
};

// A group shared with a user that holds a node: the share's role and the group's owner.
struct SharedNodeSource {
    std::string group_id;
    core::ResourceRole role = core::ResourceRole::kSecondary;  // of the share
    std::string owner_id;
};

class GroupStore {
public:
    virtual ~GroupStore() = default;
    virtual std::optional<GroupRow> Find(std::string_view group_id) = 0;
    // The owner's group of `kind` called `name` under `parent_id` ("" = top level).
    virtual std::optional<GroupRow> FindByName(
        std::string_view kind,
        std::string_view owner_id,
        std::string_view parent_id,
        std::string_view name
    ) = 0;
    // A group called `name` shared with the user.
    virtual std::optional<GroupRow> FindSharedByName(
        std::string_view user_id, std::string_view name
    ) = 0;
    virtual void Insert(const GroupRow& group) = 0;
    virtual void Update(const GroupRow& group) = 0;
    // Deletes the group, its sub-groups and their node lists.
    virtual void Delete(std::string_view group_id) = 0;
    // The user's top-level groups of `kind` and the groups shared with the user, ordered by
    // id, from the first id >= start_id.
    virtual std::vector<GroupRow> ListTopLevel(
        std::string_view kind, std::string_view user_id, std::string_view start_id, int limit
    ) = 0;
    virtual int CountTopLevel(std::string_view kind, std::string_view user_id) = 0;
    // Every group of `kind` the user owns, at any level.
    virtual std::vector<GroupRow> Owned(std::string_view kind, std::string_view owner_id) = 0;
    // How many groups of `kind` the user owns, at any level.
    virtual int CountOwned(std::string_view kind, std::string_view owner_id) = 0;
    // The owner's dynamic groups made from exactly `group_query`.
    virtual std::vector<GroupRow> ListByQuery(
        std::string_view owner_id, std::string_view group_query
    ) = 0;
    // Gives the group and its sub-groups to `owner_id`.
    virtual void SetOwner(std::string_view group_id, std::string_view owner_id) = 0;
    virtual std::vector<GroupRow> Children(std::string_view group_id) = 0;
    virtual std::vector<std::string> Nodes(std::string_view group_id) = 0;
    virtual void AddNode(std::string_view group_id, std::string_view node_id) = 0;
    virtual void RemoveNode(std::string_view group_id, std::string_view node_id) = 0;
    // Takes the node out of every user group (it was reset; admin groups keep it).
    virtual void RemoveNodeFromUserGroups(std::string_view node_id) = 0;
    // The owner's groups of `kind` that hold the node.
    virtual std::vector<GroupRow> GroupsOfNode(
        std::string_view kind, std::string_view owner_id, std::string_view node_id
    ) = 0;

    virtual void PutShare(const GroupShareRow& share) = 0;  // insert or replace
    virtual std::optional<GroupShareRow> FindShare(
        std::string_view group_id, std::string_view user_id
    ) = 0;
    virtual void DeleteShare(std::string_view group_id, std::string_view user_id) = 0;
    // Oldest first.
    virtual std::vector<GroupShareRow> SharesOfGroup(std::string_view group_id) = 0;
    // The groups shared with the user that hold the node (what each gives depends on its
    // owner's access: domain/nodes/node_access.cpp).
    virtual std::vector<SharedNodeSource> SharedNodeSources(
        std::string_view user_id, std::string_view node_id
    ) = 0;
};

}  // namespace rainmaker::storage

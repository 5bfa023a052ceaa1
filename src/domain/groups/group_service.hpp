// User node groups (#56-#59): homes, rooms and sub-rooms of one owner, at most three levels,
// a sub-group's nodes a subset of its parent's, and mutually exclusive groups per (type,
// parent). Sharing groups with other users is built with group sharing; Matter fabrics are
// refused as not supported yet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/node_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::groups {

struct GroupFields {
    std::optional<std::string> group_name;
    std::optional<std::string> parent_group_id;  // create only
    std::optional<std::string> type;
    std::optional<bool> mutually_exclusive;
    std::optional<std::vector<std::string>> nodes;
    std::optional<std::string> operation;  // update only: add | remove
    std::optional<std::string> description;
    std::optional<boost::json::value> group_metadata;
    std::optional<boost::json::value> custom_data;
    bool matter = false;  // is_matter or any fabric member in the body
};

struct GroupQuery {
    std::optional<std::string> group_id;
    std::optional<std::string> group_name;
    bool node_list = false;
    bool sub_groups = false;
    bool node_details = false;
    bool is_matter = false;
    std::string start_id;
    int num_records = 25;
};

class GroupService {
public:
    GroupService(storage::Database& db, nodes::NodeService& nodes, const core::Clock& clock);

    // #56: returns the new group id.
    std::string Create(const auth::AuthContext& caller, const GroupFields& fields);
    // #57
    void Update(
        const auth::AuthContext& caller, std::string_view group_id, const GroupFields& fields
    );
    // #58: {"groups": [...]} (+ next_id and total when listing).
    boost::json::object Get(const auth::AuthContext& caller, const GroupQuery& query);
    // #59
    void Delete(
        const auth::AuthContext& caller, std::string_view group_id, bool leave, bool remove_sharing
    );

    // Mapping with group_id: adds a node the user was just mapped to. Throws ApiError when
    // the group is not the user's or the node cannot join it.
    void AddMappedNode(
        std::string_view user_id, std::string_view group_id, std::string_view node_id
    );

private:
    storage::GroupRow RequireOwned(const auth::AuthContext& caller, std::string_view group_id);
    void CheckNodesMapped(std::string_view user_id, const std::vector<std::string>& nodes);
    void CheckInParent(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    void CheckExclusive(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    void AddNodes(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    void RemoveNodes(const storage::GroupRow& group, const std::vector<std::string>& nodes);
    boost::json::object Describe(
        const auth::AuthContext& caller, const storage::GroupRow& group, const GroupQuery& query
    );

    storage::Database& db_;
    nodes::NodeService& nodes_;
    const core::Clock& clock_;
};

}  // namespace rainmaker::domain::groups

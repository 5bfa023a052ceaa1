// Group sharing (#60-#64, #131): a primary of a group offers it (with its sub-groups) to
// another user as primary or secondary, or transfers it; the request flow is node sharing's.
// An accepted share gives the receiver every node of the group in that role for as long as
// the share lasts (domain/nodes/node_access.hpp); removing, leaving or deleting it takes them
// away at once. Such nodes cannot be removed or transferred one by one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "domain/groups/group_service.hpp"
#include "domain/sharing/sharing_flow.hpp"

namespace rainmaker::domain::sharing {

struct GroupSharingQuery {
    std::optional<std::string> group_id;
    bool sub_groups = false;
    bool parent_groups = false;
    bool metadata = false;
};

class GroupSharingService final : public SharingFlow {
public:
    GroupSharingService(
        storage::Database& db,
        const core::Clock& clock,
        groups::GroupService& groups,
        SharingLimits limits = {}
    );

    // #60: returns the request id (accepted at once when the receiver already holds a share
    // of every group, except for a transfer).
    std::string Share(const auth::AuthContext& caller, const ShareRequest& request);
    // #131: a primary removes `user_name`'s shares of the groups; a secondary their own.
    void Remove(
        const auth::AuthContext& caller,
        const std::vector<std::string>& group_ids,
        std::string_view user_name
    );
    // #59 with remove_sharing: a primary removes another user's share of one group.
    void RemoveFromGroup(
        const auth::AuthContext& caller, std::string_view group_id, std::string_view user_name
    );
    // #64 accepted: [{group_id, fabric_id, root_ca, ipk, group_cat_id_admin,
    // group_cat_id_operate, matter_user_id, user_cat_id}] for the Matter fabrics of the request
    // the caller can now see (empty for plain groups).
    boost::json::array AcceptedFabrics(
        const auth::AuthContext& caller, std::string_view request_id
    );
    // #61
    boost::json::object Details(const auth::AuthContext& caller, const GroupSharingQuery& query);

private:
    std::vector<storage::GroupRow> CheckGroups(const std::vector<std::string>& group_ids);
    void CheckSender(const std::string& sender, const storage::GroupRow& group, bool transfer);
    // 108055 when `user_id` reaches the group only through a parent, 108048 when not at all.
    void RequireShare(const storage::GroupRow& group, std::string_view user_id);
    boost::json::object Describe(
        const auth::AuthContext& caller,
        const storage::GroupRow& group,
        const GroupSharingQuery& query
    );
    void Apply(const storage::SharingRequestRow& request) override;
    void DescribeItems(const storage::SharingRequestRow& request, boost::json::object& out)
        override;

    groups::GroupService& groups_;
};

}  // namespace rainmaker::domain::sharing

// Node sharing (#16-#21): a primary user offers nodes to another user as primary or secondary
// (or transfers them); the receiver accepts or declines; the sender cancels; a primary removes
// another user's access. Accepted sharing becomes the receiver's direct ("NODE") role on each
// node (domain/nodes/node_access.hpp), which is what every node operation checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "domain/sharing/sharing_flow.hpp"

namespace rainmaker::domain::sharing {

class NodeSharingService final : public SharingFlow {
public:
    NodeSharingService(storage::Database& db, const core::Clock& clock, SharingLimits limits = {});

    // #16/#21 create: returns the request id. When the receiver already has every node the
    // change applies at once (the request is created accepted), except for a transfer.
    std::string Share(const auth::AuthContext& caller, const ShareRequest& request);
    // #17: a primary removes `user_name`'s access to `nodes`.
    void Remove(
        const auth::AuthContext& caller,
        const std::vector<std::string>& nodes,
        std::string_view user_name
    );
    // #18
    boost::json::object Details(
        const auth::AuthContext& caller, const std::optional<std::string>& node_id
    );

private:
    void CheckNodes(const std::vector<std::string>& nodes);
    void RequirePrimary(const auth::AuthContext& caller, const std::vector<std::string>& nodes);
    void Apply(const storage::SharingRequestRow& request) override;
    void DescribeItems(const storage::SharingRequestRow& request, boost::json::object& out)
        override;
};

}  // namespace rainmaker::domain::sharing

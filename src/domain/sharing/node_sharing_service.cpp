// Node sharing over the common request flow; access changes go through node_access.
#include "domain/sharing/node_sharing_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/json.hpp"
#include "domain/nodes/node_access.hpp"

namespace rainmaker::domain::sharing {

using core::ApiError;
using core::ErrorCode;
using core::ResourceRole;
using storage::SharingRequestRow;

namespace {

constexpr std::size_t kMaxNodes = 100;
// Sharing details list every node of the user (the contract has no paging there).
constexpr int kAllRows = 1000000;

constexpr SharingErrors kNodeErrors{
    ErrorCode::kShareUserNameMissing,
    ErrorCode::kShareUserNotFound,
    ErrorCode::kShareSelf,
    ErrorCode::kShareRequestIdMissing,
    ErrorCode::kShareRequestClosed,
    ErrorCode::kShareRequestNotFound,
    ErrorCode::kShareRequestDeclined,
    ErrorCode::kSharePrimaryUserFlag,
    ErrorCode::kShareBadNewRole,
    ErrorCode::kShareNewRoleNeedsTransfer};

ResourceRole OfferedRole(bool primary) {
    return primary ? ResourceRole::kPrimary : ResourceRole::kSecondary;
}

}  // namespace

NodeSharingService::NodeSharingService(
    storage::Database& db, const core::Clock& clock, SharingLimits limits
)
    : SharingFlow(db, clock, "node", kNodeErrors, limits) {}

void NodeSharingService::CheckNodes(const std::vector<std::string>& nodes) {
    if (nodes.empty()) {
        throw ApiError(ErrorCode::kShareNoNodes);
    }
    if (nodes.size() > kMaxNodes) {
        throw ApiError(ErrorCode::kShareTooManyNodes);
    }
    for (const auto& node : nodes) {
        if (node.size() > 36) {
            throw ApiError(ErrorCode::kShareNodeIdTooLong);
        }
    }
}

void NodeSharingService::RequirePrimary(
    const auth::AuthContext& caller, const std::vector<std::string>& nodes
) {
    for (const auto& node : nodes) {
        const auto mapping = db_.Nodes().FindMapping(caller.user_id, node);
        if (!mapping || mapping->role != ResourceRole::kPrimary) {
            throw ApiError(
                ErrorCode::kShareNotPrimary,
                "Caller must be primary on every node in the request: " + node
            );
        }
    }
}

// Accepted: the receiver gets each node in the offered role; a transfer hands over the
// sender's place (the sender stays as secondary when new_role says so).
void NodeSharingService::Apply(const SharingRequestRow& request) {
    const auto now = clock_.NowSeconds();
    for (const auto& node : Items(request)) {
        const auto sender = db_.Nodes().FindMapping(request.from_user, node);
        if (request.transfer && (!sender || sender->direct_role != ResourceRole::kPrimary)) {
            // Checked when the request is made and again here, when it is accepted: only what
            // the sender holds directly is handed over.
            throw ApiError(ErrorCode::kShareViaGroupTransfer);
        }
        if (!sender || sender->role != ResourceRole::kPrimary) {
            continue;  // the sender lost the node since: nothing to give
        }
        // Sharing never lowers what the receiver holds: a primary offered the secondary role stays
        // primary (nobody is demoted by someone else's request).
        const auto held = db_.Nodes().FindMapping(request.to_user, node);
        const auto role = held && held->direct_role == ResourceRole::kPrimary
                              ? ResourceRole::kPrimary
                              : OfferedRole(request.primary || request.transfer);
        nodes::SetDirectRole(db_, request.to_user, node, role, now);
        const std::string event = core::Serialize(boost::json::object{
            {"node_id", node}, {"role", core::Name(role)}, {"request_id", request.request_id}});
        db_.Events().Append("user_node_sharing_add", request.to_user, node, event, now);
        if (request.transfer) {
            // The sender keeps a secondary role when new_role says so, else nothing.
            const bool stays = request.new_role == ResourceRole::kSecondary;
            nodes::SetDirectRole(
                db_,
                request.from_user,
                node,
                stays ? std::optional(ResourceRole::kSecondary) : std::nullopt,
                now
            );
            // The device is the receiver's now: they, not its former claimer, may claim it
            // again once it is unmapped.
            db_.Nodes().SetClaimer(node, request.to_user, now);
        }
    }
}

std::string NodeSharingService::Share(const auth::AuthContext& caller, const ShareRequest& r) {
    CheckNodes(r.items);
    CheckRequestFields(r);
    std::string id;
    db_.Transaction([&] {
        const auto target = RequireTarget(caller, r.user_name);
        RequirePrimary(caller, r.items);
        const auto offered = OfferedRole(r.primary || r.transfer);
        for (const auto& node : r.items) {
            if (r.transfer) {
                // What came with a group goes with the group.
                const auto mine = db_.Nodes().FindMapping(caller.user_id, node);
                if (mine->direct_role != ResourceRole::kPrimary) {
                    throw ApiError(ErrorCode::kShareViaGroupTransfer);
                }
            }
            for (const auto& source : nodes::GroupSources(db_, target.user_id, node)) {
                if (source.role != offered) {
                    throw ApiError(
                        ErrorCode::kShareViaGroupRole,
                        "Error, the node " + node +
                            " is already shared via group sharing with a different role"
                    );
                }
            }
        }
        // A receiver who already has every node gets the change at once; a transfer always
        // waits for the receiver's acceptance.
        const bool has_all =
            !r.transfer && std::all_of(r.items.begin(), r.items.end(), [&](const auto& node) {
                return db_.Nodes().FindMapping(target.user_id, node).has_value();
            });
        id = Create(caller, target, r, has_all);
    });
    return id;
}

void NodeSharingService::Remove(
    const auth::AuthContext& caller,
    const std::vector<std::string>& nodes,
    std::string_view user_name
) {
    CheckNodes(nodes);
    db_.Transaction([&] {
        const auto target = RequireTarget(caller, user_name);
        RequirePrimary(caller, nodes);
        for (const auto& node : nodes) {
            const auto mapping = db_.Nodes().FindMapping(target.user_id, node);
            if (!mapping) {
                throw ApiError(
                    ErrorCode::kShareMappingMissing, "User to node mapping does not exist: " + node
                );
            }
            if (!mapping->direct_role) {
                // Only groups give it: the group's sharing is what to remove.
                throw ApiError(
                    ErrorCode::kShareViaGroupRemove,
                    "Error, cannot remove nodes that were shared via groups: " + node
                );
            }
        }
        for (const auto& node : nodes) {
            nodes::SetDirectRole(db_, target.user_id, node, std::nullopt, clock_.NowSeconds());
        }
    });
}

boost::json::object NodeSharingService::Details(
    const auth::AuthContext& caller, const std::optional<std::string>& node_id
) {
    // One snapshot: every read below sees the same state.
    return storage::ReadSnapshot(db_, [&] {
        std::vector<storage::UserNodeRow> mine;
        if (node_id) {
            const auto mapping = db_.Nodes().FindMapping(caller.user_id, *node_id);
            if (!mapping) {
                throw ApiError(ErrorCode::kNodeNotOwned);
            }
            mine.push_back(*mapping);
        } else {
            mine = db_.Nodes().ListMappings(caller.user_id, "", kAllRows);
        }
        boost::json::array out;
        for (const auto& own : mine) {
            boost::json::array primary;
            boost::json::array secondary;
            for (const auto& m : db_.Nodes().MappingsOfNode(own.node_id)) {
                if (m.role != ResourceRole::kPrimary && own.role != ResourceRole::kPrimary) {
                    continue;  // a secondary user does not see the other secondaries
                }
                const auto user = db_.Users().FindById(m.user_id);
                if (user) {
                    (m.role == ResourceRole::kPrimary ? primary : secondary)
                        .emplace_back(user->user_name);
                }
            }
            boost::json::object users{{"primary", std::move(primary)}};
            if (own.role == ResourceRole::kPrimary) {
                users["secondary"] = std::move(secondary);
            }
            boost::json::array sources;
            for (auto& source : nodes::AccessSources(db_, caller.user_id, own.node_id)) {
                sources.emplace_back(std::move(source));
            }
            out.push_back(boost::json::object{
                {"node_id", own.node_id},
                {"users", std::move(users)},
                {"sources", std::move(sources)}});
        }
        return boost::json::object{{"node_sharing", std::move(out)}};
    });
}

void NodeSharingService::DescribeItems(const SharingRequestRow& request, boost::json::object& out) {
    boost::json::array ids;
    for (const auto& node : Items(request)) {
        ids.emplace_back(node);
    }
    out["node_ids"] = std::move(ids);
}

}  // namespace rainmaker::domain::sharing

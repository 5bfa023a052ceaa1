// The node-sharing state machine: pending → accepted | declined, or withdrawn by the sender.
#include "domain/sharing/node_sharing_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/random.hpp"
#include "domain/users/validation.hpp"

namespace rainmaker::domain::sharing {

using core::ApiError;
using core::ErrorCode;
using storage::SharingRequestRow;

namespace {

constexpr std::size_t kMaxNodes = 100;

std::vector<std::string> NodeList(const std::string& json) {
    std::vector<std::string> nodes;
    boost::system::error_code ec;
    const auto v = boost::json::parse(json, ec);
    if (!ec && v.is_array()) {
        for (const auto& n : v.as_array()) {
            if (n.is_string()) {
                nodes.emplace_back(n.as_string());
            }
        }
    }
    return nodes;
}

}  // namespace

NodeSharingService::NodeSharingService(storage::Database& db, const core::Clock& clock)
    : db_(db), clock_(clock) {}

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
        if (!mapping || mapping->role != "primary") {
            throw ApiError(
                ErrorCode::kShareNotPrimary,
                "Caller must be primary on every node in the request: " + node
            );
        }
    }
}

storage::UserRow NodeSharingService::RequireTarget(
    const auth::AuthContext& caller, std::string_view user_name
) {
    if (user_name.empty()) {
        throw ApiError(ErrorCode::kShareUserNameMissing);
    }
    users::UserNameKind kind{};
    std::string canonical;
    try {
        canonical = users::CanonicalUserName(user_name, false, &kind);
    } catch (const ApiError&) {
        throw ApiError(ErrorCode::kShareUserNotFound);
    }
    const auto target = db_.Users().FindByName(canonical);
    if (!target || !target->confirmed) {
        throw ApiError(ErrorCode::kShareUserNotFound);
    }
    if (target->user_id == caller.user_id) {
        throw ApiError(ErrorCode::kShareSelf);
    }
    return *target;
}

// Accepted: the receiver gets each node in the offered role; a transfer hands over the
// sender's place (the sender stays as secondary when new_role says so).
void NodeSharingService::Apply(const SharingRequestRow& request) {
    const auto now = clock_.NowSeconds();
    for (const auto& node : NodeList(request.node_ids)) {
        const auto sender = db_.Nodes().FindMapping(request.from_user, node);
        if (!sender || sender->role != "primary") {
            continue;  // the sender lost the node since: nothing to give
        }
        storage::UserNodeRow mapping;
        if (const auto existing = db_.Nodes().FindMapping(request.to_user, node)) {
            mapping = *existing;
        } else {
            mapping.user_id = request.to_user;
            mapping.node_id = node;
            mapping.created_at = now;
        }
        mapping.role = request.primary || request.transfer ? "primary" : "secondary";
        db_.Nodes().PutMapping(mapping);
        const std::string event = boost::json::serialize(boost::json::object{
            {"node_id", node}, {"role", mapping.role}, {"request_id", request.request_id}});
        db_.Events().Append("user_node_sharing_add", request.to_user, event, now);
        if (request.transfer) {
            if (request.new_role == "secondary") {
                auto demoted = *sender;
                demoted.role = "secondary";
                db_.Nodes().PutMapping(demoted);
            } else {
                db_.Nodes().DeleteMapping(request.from_user, node);
                db_.Groups().RemoveNodeFromGroups(request.from_user, node);
            }
        }
    }
}

std::string NodeSharingService::Share(const auth::AuthContext& caller, const ShareRequest& r) {
    CheckNodes(r.nodes);
    if (r.new_role && !r.transfer) {
        throw ApiError(ErrorCode::kShareNewRoleNeedsTransfer);
    }
    if (r.new_role && *r.new_role != "secondary") {
        throw ApiError(ErrorCode::kShareBadNewRole);
    }
    if (r.metadata && !r.metadata->is_object() && !r.metadata->is_null()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: metadata must be an object");
    }
    SharingRequestRow request;
    db_.Transaction([&] {
        const auto target = RequireTarget(caller, r.user_name);
        RequirePrimary(caller, r.nodes);
        boost::json::array ids;
        for (const auto& node : r.nodes) {
            ids.emplace_back(node);
        }
        request.request_id = core::RandomAlnum(22);
        request.from_user = caller.user_id;
        request.to_user = target.user_id;
        request.node_ids = boost::json::serialize(ids);
        request.primary = r.primary;
        request.transfer = r.transfer;
        request.new_role = r.new_role.value_or("");
        if (r.metadata && r.metadata->is_object()) {
            request.metadata = boost::json::serialize(*r.metadata);
        }
        request.created_at = clock_.NowSeconds();
        // A receiver who already has every node gets the change at once.
        const bool has_all = std::all_of(r.nodes.begin(), r.nodes.end(), [&](const auto& node) {
            return db_.Nodes().FindMapping(target.user_id, node).has_value();
        });
        request.status = has_all ? "accepted" : "pending";
        db_.Sharing().Put(request);
        if (has_all) {
            Apply(request);
        }
    });
    return request.request_id;
}

void NodeSharingService::Respond(
    const auth::AuthContext& caller, std::string_view request_id, bool accept
) {
    if (request_id.empty()) {
        throw ApiError(ErrorCode::kShareRequestIdMissing);
    }
    db_.Transaction([&] {
        auto request = db_.Sharing().Find(request_id);
        if (!request || request->to_user != caller.user_id || request->status != "pending") {
            throw ApiError(ErrorCode::kShareRequestClosed);
        }
        request->status = accept ? "accepted" : "declined";
        db_.Sharing().Put(*request);
        if (accept) {
            Apply(*request);
        }
    });
}

void NodeSharingService::Cancel(const auth::AuthContext& caller, std::string_view request_id) {
    if (request_id.empty()) {
        throw ApiError(ErrorCode::kShareRequestIdMissing);
    }
    db_.Transaction([&] {
        const auto request = db_.Sharing().Find(request_id);
        if (!request || request->from_user != caller.user_id) {
            throw ApiError(ErrorCode::kShareRequestNotFound);
        }
        if (request->status == "declined") {
            throw ApiError(ErrorCode::kShareRequestDeclined);
        }
        if (request->status == "accepted") {
            throw ApiError(ErrorCode::kShareRequestClosed);
        }
        db_.Sharing().Delete(request_id);
    });
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
            if (!db_.Nodes().FindMapping(target.user_id, node)) {
                throw ApiError(
                    ErrorCode::kShareMappingMissing, "User to node mapping does not exist: " + node
                );
            }
        }
        for (const auto& node : nodes) {
            db_.Nodes().DeleteMapping(target.user_id, node);
            db_.Groups().RemoveNodeFromGroups(target.user_id, node);
        }
    });
}

boost::json::object NodeSharingService::Details(
    const auth::AuthContext& caller, const std::optional<std::string>& node_id
) {
    std::vector<storage::UserNodeRow> mine;
    if (node_id) {
        const auto mapping = db_.Nodes().FindMapping(caller.user_id, *node_id);
        if (!mapping) {
            throw ApiError(ErrorCode::kNodeNotOwned);
        }
        mine.push_back(*mapping);
    } else {
        mine = db_.Nodes().ListMappings(caller.user_id, "", 100000);
    }
    boost::json::array out;
    for (const auto& own : mine) {
        boost::json::array primary;
        boost::json::array secondary;
        for (const auto& m : db_.Nodes().MappingsOfNode(own.node_id)) {
            const auto user = db_.Users().FindById(m.user_id);
            if (!user) {
                continue;
            }
            if (m.role == "primary") {
                primary.emplace_back(user->user_name);
            } else if (own.role == "primary") {
                // A secondary user does not see the other secondaries.
                secondary.emplace_back(user->user_name);
            }
        }
        boost::json::object users{{"primary", std::move(primary)}};
        if (own.role == "primary") {
            users["secondary"] = std::move(secondary);
        }
        boost::json::object entry{{"node_id", own.node_id}, {"users", std::move(users)}};
        if (own.role != "primary") {
            // Access comes from node sharing (group sharing adds group ids here).
            entry["sources"] = boost::json::array{"NODE"};
        }
        out.push_back(std::move(entry));
    }
    return boost::json::object{{"node_sharing", std::move(out)}};
}

boost::json::object NodeSharingService::Describe(const SharingRequestRow& request) {
    const auto from = db_.Users().FindById(request.from_user);
    const auto to = db_.Users().FindById(request.to_user);
    boost::system::error_code ec;
    auto metadata = boost::json::parse(request.metadata, ec);
    boost::json::object out{
        {"request_id", request.request_id},
        {"request_status", request.status},
        {"request_timestamp", request.created_at},
        {"node_ids", boost::json::parse(request.node_ids)},
        {"user_name", to ? to->user_name : ""},
        {"primary_user_name", from ? from->user_name : ""},
        {"primary", request.primary},
        {"metadata", ec ? boost::json::object{} : metadata}};
    if (request.transfer) {
        out["transfer"] = true;
        if (!request.new_role.empty()) {
            out["new_role"] = request.new_role;
        }
    }
    return out;
}

boost::json::object NodeSharingService::Requests(
    const auth::AuthContext& caller, const RequestQuery& q
) {
    if (q.primary_user && *q.primary_user != "true" && *q.primary_user != "false") {
        throw ApiError(ErrorCode::kSharePrimaryUserFlag);
    }
    const bool sent = q.primary_user && *q.primary_user == "true";
    if (q.request_id) {
        const auto request = db_.Sharing().Find(*q.request_id);
        if (!request ||
            (request->from_user != caller.user_id && request->to_user != caller.user_id)) {
            throw ApiError(ErrorCode::kShareRequestNotFound);
        }
        return boost::json::object{{"sharing_requests", boost::json::array{Describe(*request)}}};
    }
    // 1..10 per page; anything else gets the default, as the reference text says.
    const int limit = q.num_records >= 1 && q.num_records <= 10 ? q.num_records : 10;
    auto page = db_.Sharing().List(caller.user_id, sent, q.start_request_id, limit + 1);
    boost::json::object out;
    if (static_cast<int>(page.size()) > limit) {
        const auto next = page.back();
        page.pop_back();
        out["next_request_id"] = next.request_id;
        const auto other = db_.Users().FindById(sent ? next.to_user : next.from_user);
        out["next_user_name"] = other ? other->user_name : "";
    }
    boost::json::array requests;
    for (const auto& request : page) {
        requests.push_back(Describe(request));
    }
    out["sharing_requests"] = std::move(requests);
    return out;
}

}  // namespace rainmaker::domain::sharing

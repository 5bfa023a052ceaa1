// Node sharing (#16-#21): a primary user offers nodes to another user as primary or secondary
// (or transfers them); the receiver accepts or declines; the sender cancels; a primary removes
// another user's access. Accepted sharing becomes a user-node mapping with its role, which is
// what every node operation checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::sharing {

struct ShareRequest {
    std::vector<std::string> nodes;
    std::string user_name;
    bool primary = false;
    bool transfer = false;
    std::optional<std::string> new_role;
    std::optional<boost::json::value> metadata;
};

struct RequestQuery {
    std::optional<std::string> request_id;
    std::optional<std::string> primary_user;  // "true" | "false"
    std::string start_request_id;
    int num_records = 10;
};

class NodeSharingService {
public:
    NodeSharingService(storage::Database& db, const core::Clock& clock);

    // #16/#21 create: returns the request id. When the receiver already has every node the
    // change applies at once (the request is created accepted).
    std::string Share(const auth::AuthContext& caller, const ShareRequest& request);
    // #16/#21 {accept, request_id}: the receiver accepts or declines.
    void Respond(const auth::AuthContext& caller, std::string_view request_id, bool accept);
    // #20: the sender withdraws a pending request.
    void Cancel(const auth::AuthContext& caller, std::string_view request_id);
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
    // #19
    boost::json::object Requests(const auth::AuthContext& caller, const RequestQuery& query);

private:
    void CheckNodes(const std::vector<std::string>& nodes);
    void RequirePrimary(const auth::AuthContext& caller, const std::vector<std::string>& nodes);
    storage::UserRow RequireTarget(const auth::AuthContext& caller, std::string_view user_name);
    void Apply(const storage::SharingRequestRow& request);
    boost::json::object Describe(const storage::SharingRequestRow& request);

    storage::Database& db_;
    const core::Clock& clock_;
};

}  // namespace rainmaker::domain::sharing

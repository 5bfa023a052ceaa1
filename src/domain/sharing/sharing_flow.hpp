// The sharing-request state machine node sharing and group sharing have in common: a primary
// offers items (nodes or groups) to another user; the request is pending until the receiver
// accepts or declines it, and the sender may withdraw it while pending. Each kind answers with
// its own error codes and applies an accepted request its own way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/resource_role.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::sharing {

struct ShareRequest {
    std::vector<std::string> items;  // node ids or group ids
    std::string user_name;
    bool primary = false;
    bool transfer = false;
    std::optional<core::NamedRole> new_role;  // transfer: the sender's role after it
    std::optional<boost::json::value> metadata;
};

struct RequestQuery {
    std::optional<std::string> request_id;
    std::optional<std::string> primary_user;  // a flag, read by core::ParseFlag
    std::string start_request_id;
    int num_records = 10;
};

struct SharingLimits {
    // Requests a user has sent that are still pending, all kinds together. 0 = no limit.
    int max_pending_per_user = 100;
};

// The codes one kind answers with (node sharing 1070xx, group sharing 1080xx).
struct SharingErrors {
    core::ErrorCode user_name_missing;
    core::ErrorCode user_not_found;
    core::ErrorCode self;
    core::ErrorCode request_id_missing;
    core::ErrorCode request_closed;
    core::ErrorCode request_not_found;
    core::ErrorCode request_declined;
    core::ErrorCode primary_user_flag;
    core::ErrorCode bad_new_role;
    core::ErrorCode new_role_needs_transfer;
};

class SharingFlow {
public:
    // {accept, request_id}: the receiver accepts or declines a pending request.
    void Respond(const auth::AuthContext& caller, std::string_view request_id, bool accept);
    // The sender withdraws a pending request.
    void Cancel(const auth::AuthContext& caller, std::string_view request_id);
    // One request (sender or receiver), or a page of those sent or received.
    boost::json::object Requests(const auth::AuthContext& caller, const RequestQuery& query);

protected:
    SharingFlow(
        storage::Database& db,
        const core::Clock& clock,
        std::string kind,
        SharingErrors errors,
        SharingLimits limits
    );
    ~SharingFlow() = default;

    // Checks new_role, transfer and metadata of a new request.
    void CheckRequestFields(const ShareRequest& request) const;
    // The confirmed user called `user_name`.
    storage::UserRow FindTarget(std::string_view user_name);
    // The same, and not the caller.
    storage::UserRow RequireTarget(const auth::AuthContext& caller, std::string_view user_name);
    // Stores a new request from the caller to `target` (accepted at once and applied when
    // `apply_now`); returns its id. A request that would repeat one still pending (same items,
    // role and transfer) is not stored again: the pending one's id is returned. Throws
    // kTooManyRequests past the limit of pending requests. Call inside a transaction.
    std::string Create(
        const auth::AuthContext& caller,
        const storage::UserRow& target,
        const ShareRequest& request,
        bool apply_now
    );
    static std::vector<std::string> Items(const storage::SharingRequestRow& request);

    // An accepted request takes effect.
    virtual void Apply(const storage::SharingRequestRow& request) = 0;
    // The kind's members of a request as listed (node_ids, or group_ids and group_names).
    virtual void DescribeItems(
        const storage::SharingRequestRow& request, boost::json::object& out
    ) = 0;

    storage::Database& db_;
    const core::Clock& clock_;

private:
    std::optional<storage::SharingRequestRow> FindOwn(std::string_view request_id);
    boost::json::object Describe(const storage::SharingRequestRow& request);

    std::string kind_;
    SharingErrors errors_;
    SharingLimits limits_;
};

}  // namespace rainmaker::domain::sharing

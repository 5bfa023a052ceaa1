// User-node mapping, both flows: secret-key (the app's request and the node's user/mapping
// message, matched in either order within a minute) and challenge-response (the node's
// signature over a challenge, checked with its certificate).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::nodes {

// Optional members of a mapping request (#12, #15).
struct MappingExtras {
    std::optional<std::vector<std::string>> tags;
    std::optional<boost::json::value> metadata;
    std::string group_id;
};

// A node's user/mapping message.
struct NodeMappingMessage {
    std::string user_id;
    std::string secret_key;
    bool reset = false;
};

class MappingService {
public:
    // `secret_timeout`: how long a secret-key request waits for the node (1 minute in the
    // public cloud).
    // `max_open_requests`: requests of one user waiting at once (0 = no limit).
    MappingService(
        storage::Database& db,
        const core::Clock& clock,
        std::chrono::seconds secret_timeout = std::chrono::seconds(60),
        int max_open_requests = 100
    );

    // #12 add: a pending request; returns its id. Confirmed at once when the node already
    // reported the same user and secret. Throws kNodeIdMissing, kNodeIdTooLong, kSecretBlank,
    // kSecretTooLong, kInvalidNodeTag.
    std::string RequestSecretMapping(
        const auth::AuthContext& caller,
        std::string_view node_id,
        std::string_view secret,
        const MappingExtras& extras
    );
    // #12 remove. Throws kMappingNotExist.
    void RemoveMapping(const auth::AuthContext& caller, std::string_view node_id);
    // #13: requested | confirmed | timedout | discarded. Throws kRequestIdMissing,
    // kRequestNotFound.
    std::string RequestStatus(const auth::AuthContext& caller, std::string_view request_id);
    // #14: {request_id, challenge}. `timeout` in seconds: absent = 300, 0 = never expires.
    // Throws kTimeoutRange.
    std::pair<std::string, std::string> InitiateChallenge(
        const auth::AuthContext& caller, std::optional<std::int64_t> timeout
    );
    // #15: checks the node's signature (hex) over the challenge and maps the node.
    // Throws kRequestNotFound, kMappingTimedOut, kAlreadyConfirmed, kNotConfirmable,
    // kNodeIdMissing, kNodesNotFound, kChallengeInvalid.
    void VerifyChallenge(
        const auth::AuthContext& caller,
        std::string_view request_id,
        std::string_view node_id,
        std::string_view response_hex,
        const MappingExtras& extras
    );

    // Called inside the confirming transaction when a mapping names a group_id: the groups
    // area adds the node to that group (it throws when the node cannot join).
    void SetGroupJoiner(
        std::function<
            void(std::string_view user_id, std::string_view group_id, std::string_view node_id)>
            joiner
    ) {
        group_joiner_ = std::move(joiner);
    }

    // Called inside the transaction in which a node lost its last user (the last mapping was
    // removed by any access change, the last user deleted, or the node reset): areas holding
    // the node's data (time series, fabrics) delete it. Installed as the store's
    // NodeAccessHooks::node_released (node_access calls it; once per loss).
    void SetNodeReleased(std::function<void(std::string_view node_id)> released) {
        db_.AccessHooks().node_released = std::move(released);
    }

    // Inside an account deletion's transaction: removes the user's mappings (the account's
    // row would cascade them) so that nodes left without users are released.
    void ForgetUser(std::string_view user_id);

    // The node's user/mapping message (node id from the topic), checked. Throws
    // std::invalid_argument for a malformed or foreign payload.
    static NodeMappingMessage ParseNodeReport(
        std::string_view node_id, const boost::json::object& payload
    );
    // Applies a checked report of an existing node: a reset removes every user; a user and
    // secret confirm the matching request, or wait for it.
    void OnNodeReport(std::string_view node_id, const NodeMappingMessage& report);

private:
    // True when a user other than `user_id` holds the node directly as primary.
    bool OwnedByAnother(std::string_view node_id, std::string_view user_id);
    // Maps the request's user as primary; false (nothing changed) when the node belongs to
    // another user.
    bool Confirm(storage::MappingRequestRow request, std::string_view node_id);
    std::string TagsFor(const storage::MappingRequestRow& request);

    storage::Database& db_;
    const core::Clock& clock_;
    std::chrono::seconds secret_timeout_;
    int max_open_requests_;
    // Throws kTooManyRequests when the user already has max_open_requests_ waiting.
    void CheckOpenRequests(std::string_view user_id);
    std::function<void(std::string_view, std::string_view, std::string_view)> group_joiner_;
    static thread_local inline bool group_failed_ = false;  // set by Confirm on this thread
};

}  // namespace rainmaker::domain::nodes

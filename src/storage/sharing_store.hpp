// Sharing requests: who offers which nodes or groups to whom, in which role, and their state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource_role.hpp"

namespace rainmaker::storage {

struct SharingRequestRow {
    std::string request_id;
    std::string from_user;
    std::string to_user;
    std::string kind = "node";    // node | group
    std::string item_ids = "[]";  // JSON array text of node or group ids
    bool primary = false;
    bool transfer = false;
    std::optional<core::ResourceRole> new_role;  // transfer: the sender's role after it
    std::string metadata = "{}";
    std::string status;  // pending | accepted | declined
    std::int64_t created_at = 0;
};

class SharingStore {
public:
    virtual ~SharingStore() = default;
    virtual void Put(const SharingRequestRow& request) = 0;  // insert or replace
    virtual std::optional<SharingRequestRow> Find(std::string_view request_id) = 0;
    virtual void Delete(std::string_view request_id) = 0;
    // The pending requests of `kind` from `from_user` to `to_user`.
    virtual std::vector<SharingRequestRow> Pending(
        std::string_view kind, std::string_view from_user, std::string_view to_user
    ) = 0;
    // How many requests (of any kind) the user has sent that are still pending.
    virtual int CountPendingFrom(std::string_view from_user) = 0;
    // Deletes the pending requests created before `pending_before` and the answered ones
    // (accepted, declined) created before `closed_before`; returns how many.
    virtual int DeleteExpired(std::int64_t pending_before, std::int64_t closed_before) = 0;
    // The user's requests of `kind` sent (`sent`) or received, ordered by id from `start_id`.
    virtual std::vector<SharingRequestRow> List(
        std::string_view kind,
        std::string_view user_id,
        bool sent,
        std::string_view start_id,
        int limit
    ) = 0;
};

}  // namespace rainmaker::storage

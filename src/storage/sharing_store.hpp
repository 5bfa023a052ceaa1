// Node sharing requests: who offers which nodes to whom, in which role, and their state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct SharingRequestRow {
    std::string request_id;
    std::string from_user;
    std::string to_user;
    std::string node_ids = "[]";  // JSON array text
    bool primary = false;
    bool transfer = false;
    std::string new_role;
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
    // Requests sent (`sent`) or received by the user, ordered by id from `start_id`.
    virtual std::vector<SharingRequestRow> List(
        std::string_view user_id, bool sent, std::string_view start_id, int limit
    ) = 0;
};

}  // namespace rainmaker::storage

// Admin tags on resources (#106-#109): attach, detach, find resources by tag or tags expression,
// a resource's tags, tag names and values. Rules of tags and expressions: domain/tags/tags.hpp.
// Resources: nodes (in the caller's RBAC reach), groups, users, OTA images and OTA jobs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::tags {

// The query of #106 as given (nullopt = absent).
struct TagLookup {
    std::optional<std::string> tag_name;
    std::optional<std::string> tag_value;
    std::optional<std::string> resource_type;
    std::optional<std::string> resource_id;
    std::optional<std::string> tags;
    bool custom_data = false;  // User resources: their custom data
    bool node_counts = false;  // User resources: how many nodes they are mapped to
    std::string start_id;      // exclusive: the next_id of the previous page
    int num_records = 1000;
};

struct ResourceEntry {
    storage::TagResource type = storage::TagResource::kNode;
    std::string resource_id;
    std::optional<std::vector<std::string>> tags;  // the resource's tags (resource mode)
    std::optional<boost::json::value> custom_data;
    std::optional<int> node_count;
};

struct ResourcePage {
    std::vector<ResourceEntry> resources;
    std::string next_id;  // "" = last page
    int total = 0;
};

struct NamePage {
    std::vector<std::string> items;  // tag names, or the values of one name
    std::string next_id;             // "" = last page
    int total = 0;
};

class TagService {
public:
    explicit TagService(storage::Database& db) : db_(db) {}

    // #107 / #108. Throws kMissingTagResourceType, kMissingTagResourceId, kInvalidTagResource
    // (unknown spelling, OTA resources, no such resource), kInvalidTags (not a non-empty list of
    // valid tags, more than kMaxTagsPerResource, or attaching past the per-resource cap).
    // A node out of the caller's RBAC reach is no resource for them (kInvalidTagResource); the
    // listing modes of Lookup and Names answer 100004 to an admin restricted to some nodes.
    void Attach(
        const auth::AuthContext& caller,
        std::optional<std::string> resource_type,
        std::optional<std::string> resource_id,
        const std::optional<std::vector<std::string>>& tags
    );
    void Detach(
        const auth::AuthContext& caller,
        std::optional<std::string> resource_type,
        std::optional<std::string> resource_id,
        const std::optional<std::vector<std::string>>& tags
    );
    // #106, modes: tag_name+tag_value (+resource_type) -> resources; resource_type+resource_id
    // (+tag_name) -> its tags; tags (+resource_type, required) -> resources. Throws the 135xxx
    // errors of the catalog (see the route for which).
    ResourcePage Lookup(const auth::AuthContext& caller, const TagLookup& query);
    // #109: tag names (of `resource_type` when given), or the values of `tag_name`.
    NamePage Names(
        const auth::AuthContext& caller,
        const std::optional<std::string>& tag_name,
        const std::optional<std::string>& resource_type,
        const std::string& start_id,
        int num_records
    );

    // The resource type a client spelt, served types only; throws kInvalidTagResource.
    static storage::TagResource ServedType(std::string_view text);

private:
    // The (type, id) of a resource that exists; throws the missing/invalid errors.
    std::pair<storage::TagResource, std::string> Resource(
        const auth::AuthContext& caller,
        const std::optional<std::string>& type,
        const std::optional<std::string>& id
    );
    bool Exists(const auth::AuthContext& caller, storage::TagResource type, std::string_view id);

    storage::Database& db_;
};

}  // namespace rainmaker::domain::tags

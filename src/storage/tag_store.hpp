// Admin tags on resources (#106-#109, #24, #25): "name:value" strings attached to a node, a
// group, an OTA image or job, or a user. One row per (resource, name, value); a resource keeps
// any number of values of one name. Tags of a node, user or group go when it is deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rainmaker::storage {

enum class TagResource { kNode, kGroup, kOtaImage, kOtaJob, kUser };

// A parsed tags expression: terms joined by one operator (AND or OR; never both).
struct TagQuery {
    std::vector<std::pair<std::string, std::string>> terms;  // (name, value), at least one
    bool all = false;  // true: AND (a resource has every term); false: OR (any term)
};

struct TaggedResource {
    TagResource type = TagResource::kNode;
    std::string resource_id;
};

class TagStore {
public:
    virtual ~TagStore() = default;
    // The "name:value" tags attached to the resource, sorted; empty when none.
    virtual std::vector<std::string> Of(TagResource type, std::string_view resource_id) = 0;
    // Attaches tags (already validated "name:value" strings); attaching one already there changes
    // nothing.
    virtual void Attach(
        TagResource type, std::string_view resource_id, const std::vector<std::string>& tags
    ) = 0;
    // Detaches those tags (validated "name:value"); returns how many were attached.
    virtual int Detach(
        TagResource type, std::string_view resource_id, const std::vector<std::string>& tags
    ) = 0;
    // How many tags the resource has.
    virtual int Count(TagResource type, std::string_view resource_id) = 0;
    // Resources (of `type` when given) matching `query`, ordered by (type, id), from the first
    // whose id is > `after_id` ("" = from the start; with no type, ids of every type are
    // compared), at most `limit`.
    virtual std::vector<TaggedResource> Matching(
        std::optional<TagResource> type, const TagQuery& query, std::string_view after_id, int limit
    ) = 0;
    virtual int CountMatching(std::optional<TagResource> type, const TagQuery& query) = 0;
    // Distinct tag names (of resources of `type` when given), sorted, those > `after`, at most
    // `limit`; and how many there are in all.
    virtual std::vector<std::string> Names(
        std::optional<TagResource> type, std::string_view after, int limit
    ) = 0;
    virtual int CountNames(std::optional<TagResource> type) = 0;
    // Distinct values of the tag `name` (on resources of `type` when given), sorted, those
    // > `after`, at most `limit`; and how many there are in all.
    virtual std::vector<std::string> Values(
        std::optional<TagResource> type, std::string_view name, std::string_view after, int limit
    ) = 0;
    virtual int CountValues(std::optional<TagResource> type, std::string_view name) = 0;
};

}  // namespace rainmaker::storage

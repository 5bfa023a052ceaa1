// The SQLite implementation of TagStore (V016 resource_tags).
#pragma once

#include "storage/tag_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlTagStore final : public TagStore {
public:
    explicit SqlTagStore(SqlDatabase& db) : db_(db) {}

    // storage::TagStore
    std::vector<std::string> Of(TagResource type, std::string_view resource_id) override;
    void Attach(
        TagResource type, std::string_view resource_id, const std::vector<std::string>& tags
    ) override;
    int Detach(TagResource type, std::string_view resource_id, const std::vector<std::string>& tags)
        override;
    int Count(TagResource type, std::string_view resource_id) override;
    std::vector<TaggedResource> Matching(
        std::optional<TagResource> type, const TagQuery& query, std::string_view after_id, int limit
    ) override;
    int CountMatching(std::optional<TagResource> type, const TagQuery& query) override;
    std::vector<std::string> Names(
        std::optional<TagResource> type, std::string_view after, int limit
    ) override;
    int CountNames(std::optional<TagResource> type) override;
    std::vector<std::string> Values(
        std::optional<TagResource> type, std::string_view name, std::string_view after, int limit
    ) override;
    int CountValues(std::optional<TagResource> type, std::string_view name) override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

// Admin tags in SQLite: one row per (resource, name, value) in resource_tags (V016).
#include "storage/sql/sql_tag_store.hpp"

#include <chrono>
#include <set>
#include <utility>

#include "storage/sql/dynamic_query.hpp"

namespace rainmaker::storage::sql {

namespace {

std::pair<std::string, std::string> Split(const std::string& tag) {
    const auto colon = tag.find(':');
    if (colon == std::string::npos) {
        return {tag, ""};
    }
    return {tag.substr(0, colon), tag.substr(colon + 1)};
}

std::optional<TagResource> ResourceOfKey(const std::string& key) {
    for (const auto type :
         {TagResource::kNode,
          TagResource::kGroup,
          TagResource::kOtaImage,
          TagResource::kOtaJob,
          TagResource::kUser}) {
        if (key == TagResourceKey(type)) {
            return type;
        }
    }
    return std::nullopt;
}

void AddType(DynamicQuery& q, std::optional<TagResource> type, const char* joiner) {
    if (type) {
        q.Add(joiner).Add("resource_type = ?").Arg(std::string(TagResourceKey(*type)));
    }
}

// " AND ((tag_name = ? AND tag_value = ?) OR ...)" and the HAVING count the query needs.
std::int64_t AddTerms(DynamicQuery& q, const TagQuery& query) {
    const std::set<std::pair<std::string, std::string>> distinct(
        query.terms.begin(), query.terms.end()
    );
    q.Add(" AND (");
    bool first = true;
    for (const auto& [name, value] : distinct) {
        q.Add(first ? "" : " OR ").Add("(tag_name = ? AND tag_value = ?)").Arg(name).Arg(value);
        first = false;
    }
    q.Add(")");
    return query.all ? static_cast<std::int64_t>(distinct.size()) : 1;
}

}  // namespace

std::vector<std::string> SqlTagStore::Of(TagResource type, std::string_view resource_id) {
    return db_.FindAll(
        "SELECT tag_name || ':' || tag_value FROM resource_tags WHERE resource_type = ? AND "
        "resource_id = ? ORDER BY 1",
        [](const Statement& s) { return s.Text(0); },
        std::string_view(TagResourceKey(type)),
        resource_id
    );
}

void SqlTagStore::Attach(
    TagResource type, std::string_view resource_id, const std::vector<std::string>& tags
) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()
    )
                                 .count();
    for (const auto& tag : tags) {
        const auto [name, value] = Split(tag);
        db_.Execute(
            "INSERT INTO resource_tags(resource_type, resource_id, tag_name, tag_value, "
            "created_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
            std::string_view(TagResourceKey(type)),
            resource_id,
            name,
            value,
            now
        );
    }
}

int SqlTagStore::Detach(
    TagResource type, std::string_view resource_id, const std::vector<std::string>& tags
) {
    int removed = 0;
    for (const auto& tag : tags) {
        const auto [name, value] = Split(tag);
        removed += db_.Execute(
            "DELETE FROM resource_tags WHERE resource_type = ? AND resource_id = ? AND tag_name = "
            "? AND tag_value = ?",
            std::string_view(TagResourceKey(type)),
            resource_id,
            name,
            value
        );
    }
    return removed;
}

int SqlTagStore::Count(TagResource type, std::string_view resource_id) {
    return static_cast<int>(db_.Count(
        "SELECT COUNT(*) FROM resource_tags WHERE resource_type = ? AND resource_id = ?",
        std::string_view(TagResourceKey(type)),
        resource_id
    ));
}

std::vector<TaggedResource> SqlTagStore::Matching(
    std::optional<TagResource> type, const TagQuery& query, std::string_view after_id, int limit
) {
    std::vector<TaggedResource> out;
    if (query.terms.empty()) {
        return out;
    }
    DynamicQuery q;
    q.Add("SELECT resource_type, resource_id FROM resource_tags WHERE 1 = 1");
    AddType(q, type, " AND ");
    const auto need = AddTerms(q, query);
    if (!after_id.empty()) {
        q.Add(" AND resource_id > ?").Arg(std::string(after_id));
    }
    q.Add(" GROUP BY resource_type, resource_id HAVING COUNT(*) >= ?").Arg(need);
    q.Add(" ORDER BY resource_id, resource_type LIMIT ?").Arg(static_cast<std::int64_t>(limit));
    q.ForEach(db_, [&](const Statement& s) {
        if (const auto t = ResourceOfKey(s.Text(0))) {
            out.push_back({*t, s.Text(1)});
        }
    });
    return out;
}

int SqlTagStore::CountMatching(std::optional<TagResource> type, const TagQuery& query) {
    if (query.terms.empty()) {
        return 0;
    }
    DynamicQuery q;
    q.Add("SELECT COUNT(*) FROM (SELECT 1 FROM resource_tags WHERE 1 = 1");
    AddType(q, type, " AND ");
    const auto need = AddTerms(q, query);
    q.Add(" GROUP BY resource_type, resource_id HAVING COUNT(*) >= ?) AS matching").Arg(need);
    return static_cast<int>(q.Count(db_));
}

std::vector<std::string> SqlTagStore::Names(
    std::optional<TagResource> type, std::string_view after, int limit
) {
    DynamicQuery q;
    q.Add("SELECT DISTINCT tag_name FROM resource_tags WHERE tag_name > ?").Arg(std::string(after));
    AddType(q, type, " AND ");
    q.Add(" ORDER BY tag_name LIMIT ?").Arg(static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    q.ForEach(db_, [&](const Statement& s) { out.push_back(s.Text(0)); });
    return out;
}

int SqlTagStore::CountNames(std::optional<TagResource> type) {
    DynamicQuery q;
    q.Add("SELECT COUNT(DISTINCT tag_name) FROM resource_tags WHERE 1 = 1");
    AddType(q, type, " AND ");
    return static_cast<int>(q.Count(db_));
}

std::vector<std::string> SqlTagStore::Values(
    std::optional<TagResource> type, std::string_view name, std::string_view after, int limit
) {
    DynamicQuery q;
    q.Add("SELECT DISTINCT tag_value FROM resource_tags WHERE tag_name = ? AND tag_value > ?")
        .Arg(std::string(name))
        .Arg(std::string(after));
    AddType(q, type, " AND ");
    q.Add(" ORDER BY tag_value LIMIT ?").Arg(static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    q.ForEach(db_, [&](const Statement& s) { out.push_back(s.Text(0)); });
    return out;
}

int SqlTagStore::CountValues(std::optional<TagResource> type, std::string_view name) {
    DynamicQuery q;
    q.Add("SELECT COUNT(DISTINCT tag_value) FROM resource_tags WHERE tag_name = ?")
        .Arg(std::string(name));
    AddType(q, type, " AND ");
    return static_cast<int>(q.Count(db_));
}

}  // namespace rainmaker::storage::sql

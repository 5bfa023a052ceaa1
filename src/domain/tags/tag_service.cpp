// Admin tags on resources over the tag store.
#include "domain/tags/tag_service.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"
#include "domain/tags/tags.hpp"
#include "domain/users/json_merge.hpp"

namespace rainmaker::domain::tags {

using core::ApiError;
using core::ErrorCode;
using storage::TagResource;

namespace {

constexpr std::size_t kMaxStartIdBytes = 256;

void CheckStartId(const std::string& start_id) {
    if (start_id.size() > kMaxStartIdBytes ||
        std::any_of(start_id.begin(), start_id.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20;
        })) {
        throw ApiError(ErrorCode::kInvalidTagStartId);
    }
}

// The tags of a body: a non-empty list of valid tags, at most kMaxTagsPerResource.
std::vector<std::string> CheckedTags(const std::optional<std::vector<std::string>>& tags) {
    if (!tags || tags->empty()) {
        throw ApiError(
            ErrorCode::kInvalidTags, "Please enter valid Tags: tags must be a non-empty list"
        );
    }
    if (tags->size() > kMaxTagsPerResource) {
        throw ApiError(
            ErrorCode::kInvalidTags,
            "Please enter valid Tags: at most " + std::to_string(kMaxTagsPerResource) +
                " tags per request"
        );
    }
    for (const auto& tag : *tags) {
        if (!IsValidTag(tag)) {
            throw ApiError(
                ErrorCode::kInvalidTags,
                "Please enter valid Tags: each tag must be name:value (name 1-64 bytes without "
                "':', "
                "value 1-128 bytes, no control characters)"
            );
        }
    }
    const std::set<std::string> distinct(tags->begin(), tags->end());
    return {distinct.begin(), distinct.end()};
}

template <typename T, typename Key>
std::string NextId(std::vector<T>& items, int limit, Key key) {
    if (static_cast<int>(items.size()) <= limit) {
        return "";
    }
    items.resize(static_cast<std::size_t>(limit));
    return key(items.back());
}

}  // namespace

TagResource TagService::ServedType(std::string_view text) {
    const auto type = ParseResourceType(text);
    if (!type) {
        throw ApiError(
            ErrorCode::kInvalidTagResource,
            "Please enter valid resource information: resource_type must be Node, Group, "
            "OTAImage, OTAJob or User"
        );
    }
    return *type;
}

bool TagService::Exists(const auth::AuthContext& caller, TagResource type, std::string_view id) {
    switch (type) {
        case TagResource::kNode:
            // A node out of the caller's RBAC reach is no resource for them.
            return nodes::FindForAdmin(db_, caller, id).has_value();
        case TagResource::kGroup:
            return db_.Groups().Find(id).has_value();
        case TagResource::kUser:
            return db_.Users().FindById(id).has_value();
        case TagResource::kOtaImage:
            return db_.OtaImages().Find(id).has_value();
        case TagResource::kOtaJob:
            return db_.OtaJobs().Find(id).has_value();
    }
    return false;
}

std::pair<TagResource, std::string> TagService::Resource(
    const auth::AuthContext& caller,
    const std::optional<std::string>& type,
    const std::optional<std::string>& id
) {
    if (!type || type->empty()) {
        throw ApiError(ErrorCode::kMissingTagResourceType);
    }
    if (!id || id->empty()) {
        throw ApiError(ErrorCode::kMissingTagResourceId);
    }
    const auto t = ServedType(*type);
    if (!Exists(caller, t, *id)) {
        throw ApiError(
            ErrorCode::kInvalidTagResource,
            "Please enter valid resource information: no " + core::AsciiLower(ResourceTypeName(t)) +
                " " + *id
        );
    }
    return {t, *id};
}

namespace {

// Admin tags on nodes decide what RBAC node filters reach: only an admin whose roles reach every
// node may write them (an admin limited to some nodes could pull more into their reach).
void RequireMayTagNodes(const auth::AuthContext& caller, TagResource type) {
    if (type == TagResource::kNode) {
        nodes::RequireEveryNode(caller, "Changing node tags");
    }
}

}  // namespace

void TagService::Attach(
    const auth::AuthContext& caller,
    std::optional<std::string> resource_type,
    std::optional<std::string> resource_id,
    const std::optional<std::vector<std::string>>& tags
) {
    const auto resource = Resource(caller, resource_type, resource_id);
    const auto type = resource.first;  // not a structured binding: the lambda below reads it
    const auto& id = resource.second;
    RequireMayTagNodes(caller, type);
    const auto checked = CheckedTags(tags);
    db_.Transaction([&] {
        auto& store = db_.Tags();
        const auto have = store.Of(type, id);
        const std::set<std::string> existing(have.begin(), have.end());
        std::size_t added = 0;
        for (const auto& tag : checked) {
            added += existing.count(tag) == 0 ? 1 : 0;
        }
        if (existing.size() + added > kMaxTagsPerResource) {
            throw ApiError(
                ErrorCode::kInvalidTags,
                "Please enter valid Tags: a resource carries at most " +
                    std::to_string(kMaxTagsPerResource) + " tags"
            );
        }
        store.Attach(type, id, checked);
    });
}

void TagService::Detach(
    const auth::AuthContext& caller,
    std::optional<std::string> resource_type,
    std::optional<std::string> resource_id,
    const std::optional<std::vector<std::string>>& tags
) {
    const auto [type, id] = Resource(caller, resource_type, resource_id);
    RequireMayTagNodes(caller, type);
    const auto checked = CheckedTags(tags);
    db_.Tags().Detach(type, id, checked);
}

ResourcePage TagService::Lookup(const auth::AuthContext& caller, const TagLookup& q) {
    if (!(q.resource_type && q.resource_id)) {
        nodes::RequireEveryNode(caller, "Looking resources up by tag");  // spans every node
    }
    CheckStartId(q.start_id);
    const int limit = PageSize(q.num_records);
    const bool name = q.tag_name.has_value();
    const bool value = q.tag_value.has_value();
    const bool type = q.resource_type.has_value();
    const bool id = q.resource_id.has_value();
    const bool expr = q.tags.has_value();
    ResourcePage page;
    std::optional<TagResource> served;
    if (type) {
        served = ServedType(*q.resource_type);
    }
    if ((q.custom_data || q.node_counts) && served != TagResource::kUser) {
        throw ApiError(
            ErrorCode::kTagQueryCombination,
            "Invalid combination of query params provided: custom_data and node_counts are for "
            "resource_type User"
        );
    }
    const auto extras = [&](std::vector<ResourceEntry>& entries) {
        for (auto& e : entries) {
            if (e.type != TagResource::kUser) {
                continue;
            }
            if (q.custom_data) {
                const auto user = db_.Users().FindById(e.resource_id);
                // What an admin may read of it (#118's rule: keys whose perms hide them stay
                // hidden).
                e.custom_data = users::VisibleCustomData(
                    ParseObject(user ? user->custom_data : "{}"), users::CustomDataActor::kAdmin
                );
            }
            if (q.node_counts) {
                e.node_count = db_.Nodes().CountMappings(e.resource_id);
            }
        }
    };
    if (expr) {
        // Mode 3: tags expression, resource_type required.
        if (name || value || id) {
            throw ApiError(ErrorCode::kTagQueryExtra);
        }
        if (!type) {
            throw ApiError(ErrorCode::kMissingTagResourceType);
        }
        const auto parsed = ParseExpression(*q.tags);
        if (parsed.error == ExpressionError::kMixedOperators) {
            throw ApiError(ErrorCode::kTagQueryOperators);
        }
        if (parsed.error != ExpressionError::kNone) {
            throw ApiError(
                ErrorCode::kInvalidTags,
                "Please enter valid Tags: name:value terms joined by AND or by OR (not both), at "
                "most 10 terms and 1024 bytes"
            );
        }
        ReadSnapshot(db_, [&] {
            auto rows = db_.Tags().Matching(served, parsed.query, q.start_id, limit + 1);
            page.next_id = NextId(rows, limit, [](const auto& r) { return r.resource_id; });
            for (auto& r : rows) {
                page.resources.push_back({r.type, std::move(r.resource_id), {}, {}, {}});
            }
            page.total = db_.Tags().CountMatching(served, parsed.query);
            extras(page.resources);
            return 0;
        });
        return page;
    }
    if (id) {
        // Mode 2: a resource's tags, optionally of one name.
        if (value) {
            throw ApiError(ErrorCode::kTagQueryExtra);
        }
        if (!type) {
            throw ApiError(ErrorCode::kMissingTagResourceType);
        }
        const auto [t, rid] = Resource(caller, q.resource_type, q.resource_id);
        auto tags = db_.Tags().Of(t, rid);
        if (name) {
            const std::string prefix = *q.tag_name + ":";
            std::erase_if(tags, [&](const std::string& tag) { return !tag.starts_with(prefix); });
        }
        page.resources.push_back({t, rid, std::move(tags), {}, {}});
        page.total = 1;
        return page;
    }
    if (name || value) {
        // Mode 1: resources carrying tag_name:tag_value.
        if (!name || q.tag_name->empty()) {
            throw ApiError(ErrorCode::kMissingTagName);
        }
        if (!value || q.tag_value->empty()) {
            throw ApiError(ErrorCode::kMissingTagValue);
        }
        if (!IsValidTag(*q.tag_name + ":" + *q.tag_value)) {
            throw ApiError(ErrorCode::kInvalidTags);
        }
        storage::TagQuery single;
        single.terms.emplace_back(*q.tag_name, *q.tag_value);
        ReadSnapshot(db_, [&] {
            auto rows = db_.Tags().Matching(served, single, q.start_id, limit + 1);
            page.next_id = NextId(rows, limit, [](const auto& r) { return r.resource_id; });
            for (auto& r : rows) {
                page.resources.push_back({r.type, std::move(r.resource_id), {}, {}, {}});
            }
            page.total = db_.Tags().CountMatching(served, single);
            extras(page.resources);
            return 0;
        });
        return page;
    }
    if (type) {
        throw ApiError(ErrorCode::kMissingTagResourceId);
    }
    throw ApiError(
        ErrorCode::kTagQueryCombination,
        "Invalid combination of query params provided: give tag_name and tag_value, "
        "resource_type and resource_id, or tags and resource_type"
    );
}

NamePage TagService::Names(
    const auth::AuthContext& caller,
    const std::optional<std::string>& tag_name,
    const std::optional<std::string>& resource_type,
    const std::string& start_id,
    int num_records
) {
    nodes::RequireEveryNode(caller, "Listing tag names");
    CheckStartId(start_id);
    const int limit = PageSize(num_records);
    std::optional<TagResource> type;
    if (resource_type) {
        type = ServedType(*resource_type);
    }
    if (tag_name && !IsValidTagName(*tag_name)) {
        throw ApiError(
            ErrorCode::kMissingTagName, "Missing Tag Name: tag_name must be a valid tag name"
        );
    }
    NamePage page;
    ReadSnapshot(db_, [&] {
        auto& store = db_.Tags();
        page.items = tag_name ? store.Values(type, *tag_name, start_id, limit + 1)
                              : store.Names(type, start_id, limit + 1);
        page.next_id = NextId(page.items, limit, [](const std::string& s) { return s; });
        page.total = tag_name ? store.CountValues(type, *tag_name) : store.CountNames(type);
        return 0;
    });
    return page;
}

}  // namespace rainmaker::domain::tags

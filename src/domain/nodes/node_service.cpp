// Node listing, details, params and tags over the node store and the publisher.
#include "domain/nodes/node_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/json.hpp"
#include "domain/nodes/params_validation.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/json_merge.hpp"
#include "domain/users/validation.hpp"

namespace rainmaker::domain::nodes {

using core::ApiError;
using core::ErrorCode;

namespace {

// A tag query: "k:v", "k:v OR k:v ...", "k:v AND k:v ..." (one operator kind per query).
struct TagQuery {
    std::vector<std::string> tags;
    bool all = false;  // AND
};

TagQuery ParseTagQuery(std::string_view text) {
    TagQuery query;
    bool saw_and = false;
    bool saw_or = false;
    std::string current;
    std::size_t i = 0;
    auto flush = [&] {
        while (!current.empty() && current.back() == ' ') {
            current.pop_back();
        }
        if (!users::IsValidTag(current)) {
            throw ApiError(ErrorCode::kInvalidNodeTag);
        }
        query.tags.push_back(current);
        current.clear();
    };
    while (i < text.size()) {
        if (text.substr(i, 5) == " AND " || text.substr(i, 4) == " OR ") {
            const bool is_and = text.substr(i, 5) == " AND ";
            (is_and ? saw_and : saw_or) = true;
            flush();
            i += is_and ? 5 : 4;
            continue;
        }
        if (!(current.empty() && text[i] == ' ')) {
            current.push_back(text[i]);
        }
        ++i;
    }
    flush();
    if (saw_and && saw_or) {
        throw ApiError(ErrorCode::kTagOperators);
    }
    query.all = saw_and;
    return query;
}

bool Matches(const TagQuery& query, const boost::json::value& tags) {
    const auto has = [&](const std::string& tag) {
        if (!tags.is_array()) {
            return false;
        }
        return std::any_of(
            tags.as_array().begin(),
            tags.as_array().end(),
            [&](const boost::json::value& t) { return t.is_string() && t.as_string() == tag; }
        );
    };
    if (query.all) {
        return std::all_of(query.tags.begin(), query.tags.end(), has);
    }
    return std::any_of(query.tags.begin(), query.tags.end(), has);
}

}  // namespace

boost::json::object Connectivity(const storage::NodeRow& node) {
    return boost::json::object{{"connected", node.connected}, {"timestamp", node.connectivity_at}};
}

NodeService::NodeService(storage::Database& db, NodePublisher& publisher)
    : db_(db), publisher_(publisher) {}

storage::UserNodeRow NodeService::RequireMapping(
    const auth::AuthContext& caller, std::string_view node_id, ErrorCode error
) {
    if (node_id.empty()) {
        throw ApiError(ErrorCode::kNodeIdMissing);
    }
    auto mapping = db_.Nodes().FindMapping(caller.user_id, node_id);
    if (!mapping) {
        throw ApiError(error);
    }
    return *mapping;
}

std::optional<boost::json::object> NodeService::DetailsFor(
    const auth::AuthContext& caller, std::string_view node_id, const NodeListQuery& query
) {
    const auto mapping = db_.Nodes().FindMapping(caller.user_id, node_id);
    const auto node = mapping ? db_.Nodes().Find(node_id) : std::nullopt;
    if (!node) {
        return std::nullopt;
    }
    return Details(*mapping, *node, query);
}

std::optional<boost::json::object> NodeService::Summary(std::string_view node_id) {
    const auto node = db_.Nodes().Find(node_id);
    if (!node) {
        return std::nullopt;
    }
    return boost::json::object{
        {"id", node->node_id},
        {"node_id", node->node_id},
        {"type", node->node_type},
        {"model", node->model},
        {"fw_version", node->fw_version},
        {"status", boost::json::object{{"connectivity", Connectivity(*node)}}}};
}

boost::json::object NodeService::Details(
    const storage::UserNodeRow& mapping, const storage::NodeRow& node, const NodeListQuery& query
) const {
    // Parsed once: the config is returned and also names the devices params must list.
    const auto config = query.config || query.params ? ParseOr(node.config, boost::json::object{})
                                                     : boost::json::value{};
    // Both id and node_id: the SDK reads one, the CLI the other.
    boost::json::object d{
        {"id", node.node_id},
        {"node_id", node.node_id},
        {"role", core::Name(mapping.role)},
        {"primary", mapping.role == core::ResourceRole::kPrimary},
        {"is_matter", false},
        {"node_type", "rainmaker"},
        {"mapping_timestamp", mapping.created_at}};
    // A RainMaker+Matter node: commissioned into a fabric (#9).
    if (const auto matter = db_.Matter().FindByRainmakerNode(node.node_id)) {
        d["is_matter"] = true;
        d["is_rainmaker_node"] = true;
        d["node_type"] = "rainmaker_matter";
        d["matter_node_id"] = matter->matter_node_id;
        d["fabric_group_id"] = matter->group_id;
    }
    if (query.status) {
        d["status"] = boost::json::object{{"connectivity", Connectivity(node)}};
    }
    if (query.config) {
        d["config"] = config;
    }
    if (query.params) {
        auto params = ParseOr(node.params, boost::json::object{});
        // Every device and service of the config gets an entry, even before the node reports
        // its params: SDK 2.1.1 reads params[<device>] for each of them without checking.
        for (const auto* list : {"devices", "services"}) {
            const auto* items = config.is_object() ? config.as_object().if_contains(list) : nullptr;
            if (items == nullptr || !items->is_array() || !params.is_object()) {
                continue;
            }
            for (const auto& item : items->as_array()) {
                const auto* name =
                    item.is_object() ? item.as_object().if_contains("name") : nullptr;
                if (name != nullptr && name->is_string() &&
                    !params.as_object().contains(name->as_string())) {
                    params.as_object()[name->as_string()] = boost::json::object{};
                }
            }
        }
        d["params"] = std::move(params);
    }
    if (query.show_tags) {
        d["tags"] = ParseOr(mapping.tags, boost::json::array{});
    }
    d["metadata"] = ParseOr(mapping.metadata, boost::json::object{});
    if (!mapping.admin_access.empty()) {
        d["admin_access"] = mapping.admin_access;
    }
    return d;
}

boost::json::object NodeService::ListNodes(
    const auth::AuthContext& caller, const NodeListQuery& query
) {
    // One snapshot: every read below sees the same state.
    return storage::ReadSnapshot(db_, [&] {
        const int page_size = PageSize(query.num_records);
        // One node: always in the node_details shape (client-compat.md).
        if (query.node_id) {
            const auto mapping = RequireMapping(caller, *query.node_id, ErrorCode::kNodeNotOwned);
            const auto node = db_.Nodes().Find(*query.node_id);
            if (!node) {
                throw ApiError(ErrorCode::kNodeNotOwned);
            }
            return boost::json::object{
                {"nodes", boost::json::array{boost::json::value(node->node_id)}},
                {"node_details", boost::json::array{Details(mapping, *node, query)}},
                {"total", 1}};
        }
        boost::json::array ids;
        boost::json::array details;
        std::string next_id;
        int total = 0;
        if (query.tags || query.is_matter) {
            // Filtered (by tags, or to the nodes commissioned into a Matter fabric): walk the
            // user's mappings in id order (indexes keep this a range scan).
            const TagQuery tags = query.tags ? ParseTagQuery(*query.tags) : TagQuery{};
            std::string start = query.start_id;
            for (;;) {
                const auto batch = db_.Nodes().ListMappings(caller.user_id, start, 500);
                for (const auto& m : batch) {
                    if (query.tags && !Matches(tags, ParseOr(m.tags, boost::json::array{}))) {
                        continue;
                    }
                    if (query.is_matter && !db_.Matter().FindByRainmakerNode(m.node_id)) {
                        continue;
                    }
                    ++total;
                    if (static_cast<int>(ids.size()) < page_size) {
                        ids.emplace_back(m.node_id);
                        if (query.node_details) {
                            if (const auto node = db_.Nodes().Find(m.node_id)) {
                                details.push_back(Details(m, *node, query));
                            }
                        }
                    } else if (next_id.empty()) {
                        next_id = m.node_id;
                    }
                }
                if (batch.size() < 500) {
                    break;
                }
                start = batch.back().node_id + '\x01';
            }
        } else {
            total = db_.Nodes().CountMappings(caller.user_id);
            auto page = db_.Nodes().ListMappings(caller.user_id, query.start_id, page_size + 1);
            if (static_cast<int>(page.size()) > page_size) {
                next_id = page.back().node_id;
                page.pop_back();
            }
            for (const auto& m : page) {
                ids.emplace_back(m.node_id);
                if (query.node_details) {
                    if (const auto node = db_.Nodes().Find(m.node_id)) {
                        details.push_back(Details(m, *node, query));
                    }
                }
            }
        }
        boost::json::object out{{"nodes", std::move(ids)}, {"total", total}};
        if (query.node_details) {
            out["node_details"] = std::move(details);
        }
        if (!next_id.empty()) {
            out["next_id"] = next_id;
        }
        return out;
    });
}

boost::json::value NodeService::GetConfig(
    const auth::AuthContext& caller, std::string_view node_id
) {
    RequireMapping(caller, node_id, ErrorCode::kNodeNotOwned);
    const auto node = db_.Nodes().Find(node_id);
    if (!node || node->config.empty()) {
        throw ApiError(ErrorCode::kConfigNotFound);
    }
    return ParseOr(node->config, boost::json::object{});
}

boost::json::object NodeService::GetStatus(
    const auth::AuthContext& caller, std::string_view node_id
) {
    RequireMapping(caller, node_id, ErrorCode::kNodeNotOwnedAlt);
    const auto node = db_.Nodes().Find(node_id);
    if (!node) {
        throw ApiError(ErrorCode::kNodeNotOwnedAlt);
    }
    return boost::json::object{{"connectivity", Connectivity(*node)}};
}

boost::json::value NodeService::GetParams(
    const auth::AuthContext& caller, std::string_view node_id
) {
    RequireMapping(caller, node_id, ErrorCode::kNodeNotOwned);
    const auto node = db_.Nodes().Find(node_id);
    if (!node || node->params.empty()) {
        throw ApiError(ErrorCode::kNoReportedState);
    }
    return ParseOr(node->params, boost::json::object{});
}

void NodeService::SetParams(
    const auth::AuthContext& caller, std::string_view node_id, const boost::json::object& delta
) {
    RequireMapping(caller, node_id, ErrorCode::kNodeNotOwned);
    const auto node = db_.Nodes().Find(node_id);
    if (!node || node->config.empty()) {
        throw ApiError(ErrorCode::kConfigNotFound);
    }
    const auto cast = ValidateParams(ParseOr(node->config, nullptr), delta);
    // The stored params change only when the node reports them (params/local).
    if (!publisher_.Publish(node_id, "params/remote", core::Serialize(cast))) {
        throw ApiError(ErrorCode::kParamsUpdateFailed, {}, "broker link refused the publish");
    }
}

void NodeService::UpdateNode(
    const auth::AuthContext& caller,
    std::string_view node_id,
    const std::optional<std::vector<std::string>>& add_tags,
    const std::optional<std::vector<std::string>>& remove_tags,
    const boost::json::value* metadata,
    const std::optional<std::string>& grant_admin_access
) {
    for (const auto* list : {&add_tags, &remove_tags}) {
        if (*list) {
            for (const auto& tag : **list) {
                if (!users::IsValidTag(tag)) {
                    throw ApiError(ErrorCode::kInvalidNodeTag);
                }
            }
        }
    }
    if (grant_admin_access && *grant_admin_access != "READ" && *grant_admin_access != "WRITE" &&
        *grant_admin_access != "NONE") {
        throw ApiError(
            ErrorCode::kInvalidBody,
            "Invalid request body: grant_admin_access must be READ, WRITE or NONE"
        );
    }
    if (metadata != nullptr && !metadata->is_null() && !metadata->is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: metadata must be an object");
    }
    db_.Transaction([&] {
        auto mapping = RequireMapping(caller, node_id, ErrorCode::kNodeNotOwnedAlt);
        if (grant_admin_access && mapping.role != core::ResourceRole::kPrimary) {
            throw ApiError(ErrorCode::kSecondaryGrant);
        }
        // Secondary users read and control; tags and metadata are the primary users'.
        if (mapping.role != core::ResourceRole::kPrimary) {
            throw ApiError(ErrorCode::kSecondaryNotAllowed);
        }
        auto tags = ParseOr(mapping.tags, boost::json::array{});
        auto& array = tags.as_array();
        if (add_tags) {
            for (const auto& tag : *add_tags) {
                if (std::find(array.begin(), array.end(), boost::json::value(tag)) == array.end()) {
                    array.emplace_back(tag);
                }
            }
        }
        if (remove_tags) {
            for (const auto& tag : *remove_tags) {
                const auto it = std::find(array.begin(), array.end(), boost::json::value(tag));
                if (it != array.end()) {
                    array.erase(it);
                }
            }
        }
        mapping.tags = SerializeBounded(tags, "the node's tags");
        if (metadata != nullptr) {
            mapping.metadata = SerializeBounded(
                users::ShadowMerge(ParseOr(mapping.metadata, boost::json::object{}), *metadata),
                "the node's metadata"
            );
        }
        if (grant_admin_access) {
            mapping.admin_access = *grant_admin_access;
        }
        db_.Nodes().PutMapping(mapping);
    });
}

}  // namespace rainmaker::domain::nodes

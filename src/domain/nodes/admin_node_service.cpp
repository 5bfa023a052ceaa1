// Admin nodes over the node and tag stores; deactivation through CertificateRevocations.
#include "domain/nodes/admin_node_service.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "core/log.hpp"
#include "core/text.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/paging.hpp"
#include "domain/tags/tags.hpp"

namespace rainmaker::domain::nodes {

using core::ApiError;
using core::ErrorCode;
using storage::NodeStatusFilter;
using storage::TagResource;

namespace {

constexpr std::size_t kMaxStartIdBytes = 256;
constexpr std::size_t kMaxFilterBytes = 256;

std::int64_t ParseStartTime(const std::string& text) {
    std::int64_t ms = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, ms);
    if (text.empty() || ec != std::errc() || ptr != end || ms < 0) {
        throw ApiError(ErrorCode::kInvalidStartTime);
    }
    return ms;
}

NodeStatusFilter ParseStatus(const std::string& text) {
    if (text == "not_activated") {
        return NodeStatusFilter::kNotActivated;
    }
    if (text == "online") {
        return NodeStatusFilter::kOnline;
    }
    if (text == "offline") {
        return NodeStatusFilter::kOffline;
    }
    if (text == "deactivated") {
        return NodeStatusFilter::kDeactivated;
    }
    if (text == "active") {
        return NodeStatusFilter::kActive;
    }
    if (text == "inactive") {
        return NodeStatusFilter::kInactive;
    }
    throw ApiError(ErrorCode::kInvalidNodeStatus);
}

std::string Given(const std::optional<std::string>& value) {
    if (value && value->size() > kMaxFilterBytes) {
        throw ApiError(
            ErrorCode::kInvalidQuery, "Invalid query param: filter values are at most 256 bytes"
        );
    }
    return value.value_or("");
}

void CheckStartId(const std::string& start_id) {
    if (start_id.size() > kMaxStartIdBytes) {
        throw ApiError(ErrorCode::kInvalidStartId);
    }
}

}  // namespace

std::string AdminNodeService::StatusOf(const storage::NodeRow& node) {
    if (node.revoked) {
        return "deactivated";
    }
    if (node.connected) {
        return "online";
    }
    return node.connectivity_at > 0 ? "offline" : "not_activated";
}

AdminNodeInfo AdminNodeService::Info(storage::NodeRow node, bool with_config) {
    AdminNodeInfo info;
    info.tags = db_.Tags().Of(TagResource::kNode, node.node_id);
    info.node_status = StatusOf(node);
    info.with_config = with_config;
    if (!with_config) {
        node.params.clear();
    }
    node.cert_pem.clear();
    info.node = std::move(node);
    return info;
}

AdminNodePage AdminNodeService::Search(const auth::AuthContext& caller, const AdminNodeQuery& q) {
    storage::AdminNodeFilter f;
    f.node_type = Given(q.type);
    f.model = Given(q.model);
    f.fw_version = Given(q.fw_version);
    if (!f.model.empty() && f.node_type.empty()) {
        throw ApiError(ErrorCode::kModelNeedsType);
    }
    if (!f.fw_version.empty() && (f.node_type.empty() || f.model.empty())) {
        throw ApiError(ErrorCode::kFwNeedsTypeModel);
    }
    if (q.tags) {
        const auto parsed = tags::ParseExpression(*q.tags);
        if (parsed.error == tags::ExpressionError::kMixedOperators) {
            throw ApiError(ErrorCode::kTagOperators);
        }
        if (parsed.error != tags::ExpressionError::kNone) {
            throw ApiError(
                ErrorCode::kInvalidNodeTag,
                "Invalid tag, the tags filter must be name:value terms joined by AND or by OR, at "
                "most 10 terms and 1024 bytes"
            );
        }
        f.tags = parsed.query;
    }
    std::int64_t since = 0;
    if (q.start_time) {
        since = ParseStartTime(*q.start_time);
    } else {
        since = std::chrono::duration_cast<std::chrono::milliseconds>(
                    (clock_.Now() - kDefaultActiveWindow).time_since_epoch()
        )
                    .count();
    }
    if (q.node_status) {
        f.status = ParseStatus(*q.node_status);
        f.active_since_ms = since;
    }
    f.subtype = Given(q.subtype);
    f.project_name = Given(q.project_name);
    CheckStartId(q.start_id);
    const int limit = PageSize(q.num_records);
    f.scope = ScopeFilterOf(caller);
    AdminNodePage page;
    // An RBAC scope is part of the store's query: the page stops at its limit and the total is
    // counted over the same index ranges. The budget bounds how long the request holds a
    // connection and its read snapshot, whatever the filters.
    try {
        db_.WithTimeBudget(clock_, config_.search_budget, [&] {
            db_.Snapshot([&] {
                auto rows = db_.Nodes().SearchNodes(f, q.start_id, limit + 1);
                if (static_cast<int>(rows.size()) > limit) {
                    rows.resize(static_cast<std::size_t>(limit));
                    page.next_id = rows.back().node_id;
                }
                for (auto& row : rows) {
                    page.nodes.push_back(Info(std::move(row), false));
                    CheckInScope(caller, page.nodes.back());
                }
                page.total = db_.Nodes().CountNodes(f);
            });
        });
    } catch (const storage::TimeBudgetSpent& e) {
        throw ApiError(
            ErrorCode::kSearchTimeBudget,
            {},
            "admin node search past its budget of " +
                std::to_string(config_.search_budget.count()) + " ms: " + e.what()
        );
    }
    return page;
}

void AdminNodeService::CheckInScope(const auth::AuthContext& caller, const AdminNodeInfo& info) {
    // The store's query carries the scope; this check holds even if the query (or the copy of
    // the node's facts on its tag rows that it reads) is wrong: fail closed, never a node out
    // of reach.
    if (caller.node_scope &&
        !caller.node_scope->Allows(rbac::NodeFacts{info.node.node_type, info.tags})) {
        core::log::Error(
            "admin node search: the store found node " + info.node.node_id +
            " out of the RBAC scope of " + caller.user_id
        );
        throw ApiError(
            ErrorCode::kInternal,
            {},
            "admin node search: node " + info.node.node_id + " out of the caller's scope"
        );
    }
}

AdminNodeInfo AdminNodeService::One(const auth::AuthContext& caller, std::string_view node_id) {
    return ReadSnapshot(db_, [&] {
        auto node = FindForAdmin(db_, caller, node_id);  // out of RBAC reach: as unknown
        if (!node) {
            throw ApiError(ErrorCode::kNodesNotFound);
        }
        return Info(std::move(*node), true);
    });
}

NodeCounts AdminNodeService::Summary(
    const auth::AuthContext& caller, const std::optional<std::string>& start_time
) {
    RequireEveryNode(caller, "Counting nodes");
    if (!start_time) {
        throw ApiError(
            ErrorCode::kInvalidStartTime, "Invalid start_time: summary needs start_time (epoch ms)"
        );
    }
    const auto since = ParseStartTime(*start_time);
    NodeCounts counts;
    db_.Snapshot([&] {
        const auto count = [&](NodeStatusFilter status) {
            storage::AdminNodeFilter f;
            f.status = status;
            f.active_since_ms = since;
            return db_.Nodes().CountNodes(f);
        };
        counts.active = count(NodeStatusFilter::kActive);
        counts.inactive = count(NodeStatusFilter::kInactive);
        counts.not_activated = count(NodeStatusFilter::kNotActivated);
        counts.deactivated = count(NodeStatusFilter::kDeactivated);
    });
    return counts;
}

std::vector<NodeUpdateResult> AdminNodeService::Update(
    const auth::AuthContext& caller,
    std::string_view node_ids,
    const std::optional<std::string>& activate,
    const std::optional<std::vector<std::string>>& tags,
    bool has_body
) {
    // Everything about the request is checked before any node changes.
    std::vector<std::string> ids;
    std::size_t from = 0;
    while (from <= node_ids.size()) {
        auto comma = node_ids.find(',', from);
        if (comma == std::string_view::npos) {
            comma = node_ids.size();
        }
        std::string_view id = node_ids.substr(from, comma - from);
        while (!id.empty() && id.front() == ' ') {
            id.remove_prefix(1);
        }
        while (!id.empty() && id.back() == ' ') {
            id.remove_suffix(1);
        }
        if (!id.empty()) {
            ids.emplace_back(id);
        }
        from = comma + 1;
    }
    if (ids.empty()) {
        throw ApiError(ErrorCode::kAdminNodeIdMissing);
    }
    const std::set<std::string> distinct(ids.begin(), ids.end());
    if (ids.size() > kMaxNodesPerUpdate || distinct.size() != ids.size()) {
        throw ApiError(
            ErrorCode::kTooManyNodes,
            ids.size() > kMaxNodesPerUpdate
                ? "Invalid number of nodes specified, Maximum limit is 25"
                : "Invalid number of nodes specified: a node id appears twice"
        );
    }
    std::optional<bool> active;
    if (activate) {
        if (*activate == "true") {
            active = true;
        } else if (*activate == "false") {
            active = false;
        } else {
            throw ApiError(ErrorCode::kActivateFlag);
        }
    }
    if (has_body && (!tags || tags->empty())) {
        throw ApiError(ErrorCode::kNoTagsToAttach);
    }
    if (!active && !tags) {
        throw ApiError(
            ErrorCode::kNoTagsToAttach,
            "Please specify atleast one tag to attach, or activate=true|false"
        );
    }
    std::vector<std::string> checked;
    if (tags) {
        RequireEveryNode(caller, "Changing node tags");  // they decide what node filters reach
    }
    if (tags) {
        if (tags->size() > tags::kMaxTagsPerResource) {
            throw ApiError(ErrorCode::kInvalidNodeTag, "Invalid tag: at most 64 tags per request");
        }
        for (const auto& tag : *tags) {
            if (!tags::IsValidTag(tag)) {
                throw ApiError(ErrorCode::kInvalidNodeTag);
            }
        }
        const std::set<std::string> unique(tags->begin(), tags->end());
        checked.assign(unique.begin(), unique.end());
    }
    std::vector<NodeUpdateResult> results;
    bool revocations_changed = false;
    db_.Transaction([&] {
        results.clear();
        revocations_changed = false;
        for (const auto& id : ids) {
            NodeUpdateResult r{id, std::nullopt, {}};
            if (!FindForAdmin(db_, caller, id)) {  // out of RBAC reach: as unknown
                r.error = ErrorCode::kNodesNotFound;
                r.description = "Node does not exist";
                results.push_back(std::move(r));
                continue;
            }
            if (!checked.empty()) {
                const auto have = db_.Tags().Of(TagResource::kNode, id);
                std::set<std::string> all(have.begin(), have.end());
                all.insert(checked.begin(), checked.end());
                if (all.size() > tags::kMaxTagsPerResource) {
                    r.error = ErrorCode::kInvalidNodeTag;
                    r.description = "A node carries at most 64 tags";
                    results.push_back(std::move(r));
                    continue;
                }
                db_.Tags().Attach(TagResource::kNode, id, checked);
            }
            if (active) {
                revocations_changed |= db_.Nodes().SetDeactivated(id, !*active);
            }
            r.description =
                active ? (*active ? "Node activated" : "Node deactivated") : "Tags attached";
            results.push_back(std::move(r));
        }
        if (revocations_changed) {
            db_.AfterCommit([this] { revocations_.Changed(); });
        }
    });
    return results;
}

bool AdminNodeService::SetActive(std::string_view node_id, bool active) {
    bool changed = false;
    db_.Transaction([&] {
        if (!db_.Nodes().Find(node_id)) {
            throw ApiError(ErrorCode::kNodesNotFound);
        }
        changed = db_.Nodes().SetDeactivated(node_id, !active);
        if (changed) {
            db_.AfterCommit([this] { revocations_.Changed(); });
        }
    });
    return changed;
}

AdminNodeService::Names AdminNodeService::NodeTagNames(
    const auth::AuthContext& caller,
    const std::optional<std::string>& tag_name,
    const std::string& start_id,
    int num_records
) {
    RequireEveryNode(caller, "Listing the tag names of nodes");
    CheckStartId(start_id);
    const int limit = PageSize(num_records);
    if (tag_name && !tags::IsValidTagName(*tag_name)) {
        throw ApiError(ErrorCode::kInvalidQuery, "Invalid query param: tag_name");
    }
    Names page;
    db_.Snapshot([&] {
        auto& store = db_.Tags();
        page.items = tag_name ? store.Values(TagResource::kNode, *tag_name, start_id, limit + 1)
                              : store.Names(TagResource::kNode, start_id, limit + 1);
        if (static_cast<int>(page.items.size()) > limit) {
            page.items.resize(static_cast<std::size_t>(limit));
            page.next_id = page.items.back();
        }
        page.total = tag_name ? store.CountValues(TagResource::kNode, *tag_name)
                              : store.CountNames(TagResource::kNode);
    });
    return page;
}

namespace {

void CheckUserNodesQuery(const UserNodesQuery& q) {
    const bool user = q.user_id || q.user_name;
    if (!user && !q.node_id) {
        throw ApiError(ErrorCode::kUserNodesTarget);
    }
    if (q.user_id && q.node_id) {
        throw ApiError(ErrorCode::kUserIdAndNodeId);
    }
    if (q.user_name && q.node_id) {
        throw ApiError(ErrorCode::kUserNameAndNodeId);
    }
    if (q.role && !q.role->role) {
        throw ApiError(ErrorCode::kUserNodesRole);
    }
}

}  // namespace

UserNodes AdminNodeService::NodesOfUser(const UserNodesQuery& q) {
    CheckUserNodesQuery(q);
    CheckStartId(q.start_id);
    const int limit = PageSize(q.num_records);
    UserNodes out;
    db_.Snapshot([&] {
        // user_id wins when both are given (reference text).
        const auto user = q.user_id ? db_.Users().FindById(*q.user_id)
                                    : db_.Users().FindByName(core::AsciiLower(*q.user_name));
        if (!user) {
            throw ApiError(ErrorCode::kUserLookupFailed);
        }
        auto mappings =
            db_.Nodes().ListMappings(user->user_id, "", std::numeric_limits<int>::max());
        std::erase_if(mappings, [&](const storage::UserNodeRow& m) {
            return q.role && m.role != q.role->role;
        });
        for (const auto& m : mappings) {
            (m.role == core::ResourceRole::kPrimary ? out.primary_total : out.secondary_total)++;
        }
        int taken = 0;
        for (const auto& m : mappings) {
            if (m.node_id <= q.start_id) {
                continue;
            }
            if (taken == limit) {
                break;
            }
            ++taken;
            (m.role == core::ResourceRole::kPrimary ? out.primary : out.secondary)
                .push_back(m.node_id);
            out.next_id = m.node_id;
            if (q.node_details) {
                if (auto node = db_.Nodes().Find(m.node_id)) {
                    out.details.push_back(Info(std::move(*node), false));
                }
            }
        }
        // next_id only when more remain.
        const bool more = std::any_of(mappings.begin(), mappings.end(), [&](const auto& m) {
            return m.node_id > out.next_id;
        });
        if (!more) {
            out.next_id.clear();
        }
    });
    return out;
}

NodeUsers AdminNodeService::UsersOfNode(const UserNodesQuery& q) {
    CheckUserNodesQuery(q);
    NodeUsers out;
    db_.Snapshot([&] {
        if (!db_.Nodes().Find(*q.node_id)) {
            throw ApiError(ErrorCode::kNodesNotFound);
        }
        for (const auto& m : db_.Nodes().MappingsOfNode(*q.node_id)) {
            if (q.role && m.role != q.role->role) {
                continue;
            }
            const auto user = db_.Users().FindById(m.user_id);
            NodeUser u{m.user_id, user ? user->user_name : ""};
            (m.role == core::ResourceRole::kPrimary ? out.primary : out.secondary)
                .push_back(std::move(u));
        }
    });
    return out;
}

}  // namespace rainmaker::domain::nodes

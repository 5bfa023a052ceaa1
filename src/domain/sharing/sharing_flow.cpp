// Pending → accepted | declined, or withdrawn by the sender while pending.
#include "domain/sharing/sharing_flow.hpp"

#include <algorithm>
#include <utility>

#include "core/flag.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/validation.hpp"

namespace rainmaker::domain::sharing {

using core::ApiError;
using core::ErrorCode;
using storage::SharingRequestRow;

SharingFlow::SharingFlow(
    storage::Database& db,
    const core::Clock& clock,
    std::string kind,
    SharingErrors errors,
    SharingLimits limits
)
    : db_(db), clock_(clock), kind_(std::move(kind)), errors_(errors), limits_(limits) {}

std::vector<std::string> SharingFlow::Items(const SharingRequestRow& request) {
    std::vector<std::string> items;
    for (const auto& item : ParseArray(request.item_ids)) {
        if (item.is_string()) {
            items.emplace_back(item.as_string());
        }
    }
    return items;
}

void SharingFlow::CheckRequestFields(const ShareRequest& r) const {
    if (r.new_role && !r.transfer) {
        throw ApiError(errors_.new_role_needs_transfer);
    }
    if (r.new_role && r.new_role->role != core::ResourceRole::kSecondary) {
        throw ApiError(errors_.bad_new_role);
    }
    if (r.metadata && !r.metadata->is_object() && !r.metadata->is_null()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: metadata must be an object");
    }
}

storage::UserRow SharingFlow::FindTarget(std::string_view user_name) {
    if (user_name.empty()) {
        throw ApiError(errors_.user_name_missing);
    }
    users::UserNameKind kind{};
    std::string canonical;
    try {
        canonical = users::CanonicalUserName(user_name, false, &kind);
    } catch (const ApiError&) {
        throw ApiError(errors_.user_not_found);
    }
    const auto target = db_.Users().FindByName(canonical);
    if (!target || !target->confirmed) {
        throw ApiError(errors_.user_not_found);
    }
    return *target;
}

storage::UserRow SharingFlow::RequireTarget(
    const auth::AuthContext& caller, std::string_view user_name
) {
    auto target = FindTarget(user_name);
    if (target.user_id == caller.user_id) {
        throw ApiError(errors_.self);
    }
    return target;
}

std::string SharingFlow::Create(
    const auth::AuthContext& caller,
    const storage::UserRow& target,
    const ShareRequest& r,
    bool apply_now
) {
    boost::json::array ids;
    for (const auto& item : r.items) {
        ids.emplace_back(item);
    }
    SharingRequestRow request;
    request.request_id = core::RandomAlnum(22);
    request.kind = kind_;
    request.from_user = caller.user_id;
    request.to_user = target.user_id;
    request.item_ids = core::Serialize(ids);
    request.primary = r.primary;
    request.transfer = r.transfer;
    request.new_role = r.new_role ? r.new_role->role : std::nullopt;
    if (r.metadata && r.metadata->is_object()) {
        request.metadata = SerializeBounded(*r.metadata, "the metadata");
    }
    request.created_at = clock_.NowSeconds();
    request.status = apply_now ? "accepted" : "pending";
    if (!apply_now) {
        // A retried or repeated offer is the same request, not another one.
        auto items = r.items;
        std::sort(items.begin(), items.end());
        for (const auto& pending : db_.Sharing().Pending(kind_, caller.user_id, target.user_id)) {
            auto pending_items = Items(pending);
            std::sort(pending_items.begin(), pending_items.end());
            if (pending_items == items && pending.primary == request.primary &&
                pending.transfer == request.transfer && pending.new_role == request.new_role) {
                return pending.request_id;
            }
        }
        if (limits_.max_pending_per_user > 0 &&
            db_.Sharing().CountPendingFrom(caller.user_id) >= limits_.max_pending_per_user) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many requests: at most " + std::to_string(limits_.max_pending_per_user) +
                    " sharing requests may be pending; withdraw some or wait for answers"
            );
        }
    }
    db_.Sharing().Put(request);
    if (apply_now) {
        Apply(request);
    }
    return request.request_id;
}

// A request of another kind does not exist for this kind's operations.
std::optional<SharingRequestRow> SharingFlow::FindOwn(std::string_view request_id) {
    auto request = db_.Sharing().Find(request_id);
    if (request && request->kind != kind_) {
        return std::nullopt;
    }
    return request;
}

void SharingFlow::Respond(
    const auth::AuthContext& caller, std::string_view request_id, bool accept
) {
    if (request_id.empty()) {
        throw ApiError(errors_.request_id_missing);
    }
    db_.Transaction([&] {
        auto request = FindOwn(request_id);
        if (!request || request->to_user != caller.user_id || request->status != "pending") {
            throw ApiError(errors_.request_closed);
        }
        request->status = accept ? "accepted" : "declined";
        db_.Sharing().Put(*request);
        if (accept) {
            Apply(*request);
        }
    });
}

void SharingFlow::Cancel(const auth::AuthContext& caller, std::string_view request_id) {
    if (request_id.empty()) {
        throw ApiError(errors_.request_id_missing);
    }
    db_.Transaction([&] {
        const auto request = FindOwn(request_id);
        if (!request || request->from_user != caller.user_id) {
            throw ApiError(errors_.request_not_found);
        }
        if (request->status == "declined") {
            throw ApiError(errors_.request_declined);
        }
        if (request->status == "accepted") {
            throw ApiError(errors_.request_closed);
        }
        db_.Sharing().Delete(request_id);
    });
}

boost::json::object SharingFlow::Describe(const SharingRequestRow& request) {
    const auto from = db_.Users().FindById(request.from_user);
    const auto to = db_.Users().FindById(request.to_user);
    boost::json::object out{
        {"request_id", request.request_id},
        {"request_status", request.status},
        {"request_timestamp", request.created_at}};
    DescribeItems(request, out);
    out["user_name"] = to ? to->user_name : "";
    out["primary_user_name"] = from ? from->user_name : "";
    out["primary"] = request.primary;
    out["metadata"] = ParseObject(request.metadata);
    if (request.transfer) {
        out["transfer"] = true;
        if (request.new_role) {
            out["new_role"] = core::Name(*request.new_role);
        }
    }
    return out;
}

boost::json::object SharingFlow::Requests(const auth::AuthContext& caller, const RequestQuery& q) {
    // One snapshot: every read below sees the same state.
    return storage::ReadSnapshot(db_, [&] {
        const auto flag = q.primary_user ? core::ParseFlag(*q.primary_user) : false;
        if (!flag) {
            throw ApiError(errors_.primary_user_flag);
        }
        const bool sent = *flag;
        if (q.request_id) {
            const auto request = FindOwn(*q.request_id);
            if (!request ||
                (request->from_user != caller.user_id && request->to_user != caller.user_id)) {
                throw ApiError(errors_.request_not_found);
            }
            return boost::json::object{
                {"sharing_requests", boost::json::array{Describe(*request)}}};
        }
        // 1..10 per page; anything else gets the default, as the reference text says.
        const int limit = q.num_records >= 1 && q.num_records <= 10 ? q.num_records : 10;
        auto page = db_.Sharing().List(kind_, caller.user_id, sent, q.start_request_id, limit + 1);
        boost::json::object out;
        if (static_cast<int>(page.size()) > limit) {
            const auto next = page.back();
            page.pop_back();
            out["next_request_id"] = next.request_id;
            const auto other = db_.Users().FindById(sent ? next.to_user : next.from_user);
            out["next_user_name"] = other ? other->user_name : "";
        }
        boost::json::array requests;
        for (const auto& request : page) {
            requests.push_back(Describe(request));
        }
        out["sharing_requests"] = std::move(requests);
        return out;
    });
}

}  // namespace rainmaker::domain::sharing

// Command-response requests: checks, fan-out to the nodes, answers and polls from the ingest,
// queries and the timeout job.
#include "domain/commands/command_service.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <stdexcept>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/base64.hpp"
#include "domain/commands/tlv.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/paging.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::commands {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kRequestIdLength = 22;  // like the public cloud's; the node holds 31

// An integer JSON value, or nullopt (a double with a fraction, a string, ...).
std::optional<std::int64_t> Integer(const boost::json::value& v) {
    if (v.is_int64()) {
        return v.as_int64();
    }
    if (v.is_uint64()) {
        return std::nullopt;  // beyond int64: out of every range here
    }
    if (v.is_double()) {
        const double d = v.as_double();
        // 30.0 from a client that writes every number as a double.
        if (d >= -1e15 && d <= 1e15 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
            return static_cast<std::int64_t>(d);
        }
    }
    return std::nullopt;
}

// A decimal integer query value (digits, an optional leading '-'); nullopt otherwise.
std::optional<std::int64_t> ParseInteger(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

// A time query value: Unix seconds, integral or with a fraction (dropped); nullopt otherwise.
std::optional<std::int64_t> ParseSeconds(std::string_view text) {
    if (const auto whole = ParseInteger(text)) {
        return whole;
    }
    double value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !(value >= 0 && value < 1e13)) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(value);
}

bool IsStatus(std::string_view status) {
    for (const char* s :
         {kStatusRequested, kStatusInProgress, kStatusSuccess, kStatusFailure, kStatusTimedOut}) {
        if (status == s) {
            return true;
        }
    }
    return false;
}

// Whether the node's config declares command-response: attribute cmd-resp = "1" (§2.4).
bool SupportsCommands(const std::string& config) {
    const auto parsed = ParseOr(config, nullptr);
    const auto* attributes =
        parsed.is_object() ? parsed.as_object().if_contains("attributes") : nullptr;
    if (attributes == nullptr || !attributes->is_array()) {
        return false;
    }
    for (const auto& attribute : attributes->as_array()) {
        if (!attribute.is_object()) {
            continue;
        }
        const auto* name = attribute.as_object().if_contains("name");
        const auto* value = attribute.as_object().if_contains("value");
        if (name != nullptr && *name == "cmd-resp" && value != nullptr && *value == "1") {
            return true;
        }
    }
    return false;
}

Role RoleOf(core::ResourceRole role) {
    return role == core::ResourceRole::kPrimary ? Role::kPrimary : Role::kSecondary;
}

// The checked data of a submission: its kind and stored text.
std::pair<DataKind, std::string> CheckData(const Submission& s) {
    if (!s.data || s.data->is_null()) {
        throw ApiError(ErrorCode::kCmdDataMissing);
    }
    const auto& data = *s.data;
    if (s.is_base64) {
        if (!data.is_string()) {
            throw ApiError(
                ErrorCode::kCmdInvalidData, "Invalid data passed: base64 data is a string"
            );
        }
        // The limit is on the data as sent (the base64 text), checked before decoding it.
        if (data.as_string().size() > kMaxDataBytes) {
            throw ApiError(ErrorCode::kCmdDataTooLarge);
        }
        if (!crypto::Base64Decode(data.as_string())) {
            throw ApiError(ErrorCode::kCmdInvalidData, "Invalid data passed: not base64");
        }
        return {DataKind::kBase64, std::string(data.as_string())};
    }
    if (data.is_object()) {
        // Written as every document the server writes (plain decimals, not 2.15E1): the node's
        // parser reads it.
        std::string text = core::Serialize(data.as_object());
        if (text.size() > kMaxDataBytes) {
            throw ApiError(ErrorCode::kCmdDataTooLarge);
        }
        return {DataKind::kJson, std::move(text)};
    }
    if (data.is_string()) {
        if (data.as_string().size() > kMaxDataBytes) {
            throw ApiError(ErrorCode::kCmdDataTooLarge);
        }
        return {DataKind::kString, std::string(data.as_string())};
    }
    throw ApiError(
        ErrorCode::kCmdDataNotJson, "Please provide a valid json: data is an object or a string"
    );
}

// The bytes a request sends to the node: its JSON text, its string, or its base64 decoded.
std::string DataBytes(const storage::CommandRow& row) {
    if (row.data_kind == static_cast<int>(DataKind::kBase64)) {
        return crypto::Base64Decode(row.data).value_or(std::string{});
    }
    return row.data;
}

}  // namespace

CommandService::CommandService(
    storage::Database& db,
    nodes::NodePublisher& publisher,
    const core::Clock& clock,
    CommandConfig config
)
    : db_(db), publisher_(publisher), clock_(clock), config_(config) {}

void CommandService::RegisterIngest(nodes::NodeIngest& ingest) {
    ingest_ = &ingest;
    ingest.OnRaw("from-node", config_.max_response_bytes, [this](auto node_id, auto, auto payload) {
        OnFromNode(node_id, payload);
    });
}

SubmitResult CommandService::Submit(
    const auth::AuthContext& caller, const Submission& s, bool admin
) {
    if (s.node_ids.empty()) {
        throw ApiError(ErrorCode::kCmdNodeIdsMissing);
    }
    if (s.node_ids.size() > kMaxNodes) {
        throw ApiError(ErrorCode::kCmdTooManyNodes);
    }
    if (std::set<std::string>(s.node_ids.begin(), s.node_ids.end()).size() != s.node_ids.size()) {
        throw ApiError(ErrorCode::kCmdDuplicateNodes);
    }
    const auto cmd = s.cmd ? Integer(*s.cmd) : std::nullopt;
    if (!cmd || *cmd < 0 || *cmd > std::numeric_limits<std::uint16_t>::max()) {
        throw ApiError(ErrorCode::kCmdInvalidCommand);
    }
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const auto checked = CheckData(s);
    const DataKind kind = checked.first;
    const std::string& data = checked.second;
    std::int64_t timeout = config_.default_timeout_seconds;
    if (s.timeout && !s.timeout->is_null()) {
        const auto t = Integer(*s.timeout);
        if (t && (*t == -1 || (*t >= 1 && *t <= kMaxTimeoutSeconds))) {
            timeout = *t;
        } else if (!admin) {
            throw ApiError(ErrorCode::kCmdInvalidTimeout);
        }
        // The admin route falls back to the default instead (the official spec's rule).
    }

    SubmitResult result;
    result.request_id = core::RandomAlnum(kRequestIdLength);
    const std::int64_t now = clock_.NowSeconds();
    std::vector<std::pair<storage::CommandRow, bool>> made;  // the rows, and node online
    db_.Transaction([&] {
        auto& nodes = db_.Nodes();
        auto& store = db_.Commands();
        // What the caller stores already (the admin route is not counted).
        int stored = 0;
        if (!admin) {
            storage::CommandFilter mine;
            mine.user_id = caller.user_id;
            stored = store.Count(mine);
        }
        for (const auto& node_id : s.node_ids) {
            const auto refuse = [&](ErrorCode code, std::string description = {}) {
                result.refused.emplace_back(node_id, ApiError(code, std::move(description)));
            };
            Role role = Role::kAdmin;
            if (!admin) {
                const auto mapping = nodes.FindMapping(caller.user_id, node_id);
                if (!mapping) {
                    refuse(ErrorCode::kNodeNotOwned);
                    continue;
                }
                role = RoleOf(mapping->role);
            }
            const auto node =
                admin ? nodes::FindForAdmin(db_, caller, node_id) : nodes.Find(node_id);
            if (!node) {
                // Only an admin gets here (a node outside their RBAC scope answers the same): for a
                // user, a node they are not mapped to and one that does not exist answer alike.
                refuse(ErrorCode::kNodesNotFound, "Node does not exist");
                continue;
            }
            if (!SupportsCommands(node->config)) {
                refuse(ErrorCode::kCmdNotSupported);
                continue;
            }
            if (!admin && stored >= config_.max_stored_per_user) {
                refuse(
                    ErrorCode::kTooManyRequests,
                    "Too many stored command requests, try again when older ones are deleted"
                );
                continue;
            }
            if (s.override_pending) {
                // The caller's own pending requests of this command on the node: never another
                // user's.
                for (const auto& old :
                     store.PendingOf(caller.user_id, node_id, static_cast<int>(*cmd))) {
                    store.Finish(
                        old.request_id,
                        node_id,
                        kStatusFailure,
                        std::nullopt,
                        "overridden by request " + result.request_id,
                        std::nullopt,
                        now
                    );
                }
            }
            if (store.CountPending(node_id) >= config_.max_pending_per_node) {
                refuse(
                    ErrorCode::kTooManyRequests,
                    "Too many pending command requests for this node, try again later"
                );
                continue;
            }
            if (store.CountPendingOf(caller.user_id, node_id) >=
                config_.max_pending_per_user_node) {
                refuse(
                    ErrorCode::kTooManyRequests,
                    "Too many of your command requests pending for this node, try again later"
                );
                continue;
            }
            storage::CommandRow row;
            row.request_id = result.request_id;
            row.node_id = node_id;
            row.user_id = caller.user_id;
            row.user_name = caller.user_name;
            row.admin = admin;
            row.cmd = static_cast<int>(*cmd);
            row.role = static_cast<int>(role);
            row.data_kind = static_cast<int>(kind);
            row.data = data;
            row.status = kStatusRequested;
            row.created_at = now;
            row.expires_at = timeout == -1 ? 0 : now + timeout;
            if (!store.Insert(row)) {
                throw ApiError(ErrorCode::kCmdAddFailed, "Error adding request: id collision");
            }
            ++stored;
            result.accepted.push_back(node_id);
            made.emplace_back(std::move(row), node->connected);
        }
    });
    if (result.accepted.empty()) {
        throw result.refused.front().second;
    }
    counters_.submitted += made.size();
    // Sent once the rows are committed, so that an answer (which may come back within a
    // millisecond) finds its request. A node that is offline gets it when it polls.
    for (const auto& [row, online] : made) {
        // The role was read in the transaction that stored the row.
        if (online && Send(row, row.role)) {
            db_.Commands().MarkDelivered(row.request_id, row.node_id);
        }
    }
    return result;
}

bool CommandService::Send(const storage::CommandRow& row, int role) {
    RequestMessage message;
    message.request_id = row.request_id;
    message.role = static_cast<Role>(role);
    message.command = static_cast<std::uint16_t>(row.cmd);
    message.timestamp = static_cast<std::uint32_t>(clock_.NowSeconds());
    message.data = DataBytes(row);
    if (!publisher_.Publish(row.node_id, "to-node", EncodeRequest(message))) {
        core::log::Warn(
            "command " + row.request_id + " to node " + row.node_id +
            ": the broker link refused it; sent when the node polls"
        );
        return false;
    }
    ++counters_.sent;
    return true;
}

CommandPage CommandService::List(
    const auth::AuthContext& caller, const CommandQuery& q, bool admin
) {
    storage::CommandFilter filter;
    if (q.status) {
        if (!IsStatus(*q.status)) {
            throw ApiError(
                ErrorCode::kInvalidQuery,
                "Invalid query param: status must be requested, in_progress, success, timed_out "
                "or failure"
            );
        }
        filter.status = *q.status;
    }
    if (q.cmd_id) {
        const auto cmd = ParseInteger(*q.cmd_id);
        if (!cmd || *cmd < 0 || *cmd > std::numeric_limits<std::uint16_t>::max()) {
            throw ApiError(ErrorCode::kCmdInvalidCmdId);
        }
        filter.cmd = static_cast<int>(*cmd);
    }
    if (q.start_time || q.end_time) {
        if (!q.start_time || !q.end_time) {
            throw ApiError(ErrorCode::kCmdStartNeedsEnd);
        }
        const auto from = ParseSeconds(*q.start_time);
        const auto to = ParseSeconds(*q.end_time);
        if (!from || !to || *from > *to) {
            throw ApiError(ErrorCode::kCmdTimeRange);
        }
        filter.created_from = *from;
        filter.created_to = *to;
    }
    const int page_size = std::min(PageSize(q.num_records), kMaxCommandPage);
    filter.descending = q.desc_order;
    if (q.start_id) {
        const auto seq = ParseInteger(*q.start_id);
        if (!seq || *seq < 1) {
            throw ApiError(ErrorCode::kInvalidStartId);
        }
        filter.start_seq = *seq;
    }
    // Users read their own requests only; an admin reads every request of a node or id.
    if (!admin) {
        filter.user_id = caller.user_id;
    }
    return storage::ReadSnapshot(db_, [&] {
        if (q.request_id) {
            if (q.request_id->empty()) {
                throw ApiError(ErrorCode::kCmdRequestIdMissing);
            }
            filter.request_id = *q.request_id;
            if (q.node_id) {
                filter.node_id = *q.node_id;
            }
        } else if (q.node_id) {
            const bool known =
                admin ? nodes::FindForAdmin(db_, caller, *q.node_id).has_value()
                      : db_.Nodes().FindMapping(caller.user_id, *q.node_id).has_value();
            if (q.node_id->empty() || !known) {
                throw ApiError(ErrorCode::kTsNodeId);
            }
            filter.node_id = *q.node_id;
        } else if (q.status) {
            filter.user_id = caller.user_id;  // the caller's requests, for an admin too
        } else if (q.cmd_id) {
            throw ApiError(ErrorCode::kCmdIdNeedsNodeId);
        } else if (q.start_time) {
            throw ApiError(ErrorCode::kCmdTimeNeedsNodeId);
        } else {
            throw ApiError(ErrorCode::kCmdQueryMissing);
        }
        if (admin && caller.node_scope && q.request_id) {
            // A request to a node outside the caller's RBAC scope is not there for them.
            auto whole = filter;
            whole.start_seq.reset();
            for (const auto& row : db_.Commands().List(whole, static_cast<int>(kMaxNodes))) {
                if (!nodes::FindForAdmin(db_, caller, row.node_id)) {
                    return CommandPage{};
                }
            }
        }
        CommandPage page;
        page.requests = db_.Commands().List(filter, page_size + 1);
        if (page.requests.size() > static_cast<std::size_t>(page_size)) {
            page.next_id = std::to_string(page.requests.back().seq);
            page.requests.pop_back();
        }
        page.total = db_.Commands().Count(filter);
        return page;
    });
}

int CommandService::ExpireDue() {
    const std::int64_t now = clock_.NowSeconds();
    // A read first: the write transaction (BEGIN IMMEDIATE) only when something is due.
    const auto next = db_.Commands().NextExpiry();
    if (!next || *next > now) {
        return 0;
    }
    int expired = 0;
    db_.Transaction([&] { expired = db_.Commands().ExpireDue(now); });
    counters_.timed_out += static_cast<std::uint64_t>(expired);
    return expired;
}

int CommandService::DeleteOld() {
    const std::int64_t before =
        clock_.NowSeconds() - static_cast<std::int64_t>(config_.retention_days) * 86400;
    return db_.Commands().DeleteEndedBefore(before);
}

void CommandService::ForgetUser(std::string_view user_id) {
    db_.Commands().FailPendingOfUser(
        user_id, "the requester's account was deleted", clock_.NowSeconds()
    );
}

void CommandService::OnFromNode(std::string_view node_id, std::string_view payload) {
    const auto message = DecodeResponse(payload);
    if (!message) {
        throw std::invalid_argument("from-node: not a command-response TLV");
    }
    if (message->IsPoll()) {
        ++counters_.polls;
        Resend(node_id);
        return;
    }
    auto& store = db_.Commands();
    const auto row = store.Find(message->request_id, node_id);
    if (!row || (row->status != kStatusRequested && row->status != kStatusInProgress)) {
        // Not this node's, or ended already (timed out, overridden, answered twice).
        ++counters_.unmatched;
        // Debug: a node could otherwise fill the log with answers to nothing.
        core::log::Debug(
            "node " + std::string(node_id) + ": answer to " + (row ? "ended" : "unknown") +
            " command request " + message->request_id + " ignored"
        );
        return;
    }
    if (row->cmd != message->command) {
        throw std::invalid_argument(
            "answer to request " + message->request_id + " names command " +
            std::to_string(message->command) + ", the request was " + std::to_string(row->cmd)
        );
    }
    const bool ok = message->status == static_cast<std::uint8_t>(DeviceStatus::kSuccess);
    if (!store.Finish(
            row->request_id,
            node_id,
            ok ? kStatusSuccess : kStatusFailure,
            message->status,
            DeviceStatusText(message->status),
            message->data,
            clock_.NowSeconds()
        )) {
        ++counters_.unmatched;
        return;
    }
    ++counters_.answered;
    if (ok && row->cmd == kCommandSetParams && ingest_ != nullptr) {
        // The node does not report params changed by this command on params/local (§2.4):
        // its answer {"status":..., "params":{...}} is the report. A failed answer changed
        // nothing: its params are not merged.
        const auto answer = core::ParseUntrustedJson(message->data, core::kMaxJsonDepth);
        const auto* params =
            answer && answer->is_object() ? answer->as_object().if_contains("params") : nullptr;
        if (params != nullptr && params->is_object()) {
            try {
                ingest_->ApplyReportedParams(node_id, params->as_object());
            } catch (const std::invalid_argument& e) {
                core::log::Warn(
                    "node " + std::string(node_id) + ": params of set-params answer " +
                    row->request_id + " not stored: " + e.what()
                );
            }
        }
    }
}

void CommandService::Resend(std::string_view node_id) {
    auto& store = db_.Commands();
    const std::int64_t now = clock_.NowSeconds();
    // Requests never sent go at every poll (each once: it is then in progress); those sent
    // already go again at most once per interval, so that polling cannot make the server
    // publish (and queue) without bound.
    const bool again = MayResend(node_id, now);
    if (!again) {
        ++counters_.polls_limited;
    }
    for (const auto& row : again ? store.Pending(node_id) : store.Unsent(node_id)) {
        if (row.expires_at != 0 && row.expires_at <= now) {
            continue;  // the timeout job ends it
        }
        const auto role = CurrentRole(row, now);
        if (role && Send(row, *role)) {
            store.MarkDelivered(row.request_id, node_id);
        }
    }
}

bool CommandService::MayResend(std::string_view node_id, std::int64_t now) {
    std::lock_guard lock(resend_mutex_);
    const std::string key(node_id);
    if (const auto it = last_resend_.find(key); it != last_resend_.end()) {
        if (now - it->second < config_.resend_interval_seconds) {
            return false;
        }
        it->second = now;
        return true;
    }
    if (last_resend_.size() >= kMaxResendEntries) {
        // Forget the times that no longer limit anything.
        std::erase_if(last_resend_, [&](const auto& entry) {
            return now - entry.second >= config_.resend_interval_seconds;
        });
        if (last_resend_.size() >= kMaxResendEntries) {
            return false;  // more nodes polled within the interval than remembered
        }
    }
    last_resend_.emplace(key, now);
    return true;
}

std::optional<int> CommandService::CurrentRole(const storage::CommandRow& row, std::int64_t now) {
    auto& store = db_.Commands();
    const auto fail = [&](const char* why) {
        store.Finish(
            row.request_id, row.node_id, kStatusFailure, std::nullopt, why, std::nullopt, now
        );
        return std::nullopt;
    };
    Role role = Role::kAdmin;
    if (row.admin) {
        // The admin route: while its maker is still an admin or superadmin.
        const auto user = db_.Users().FindById(row.user_id);
        if (!user || !(user->admin || user->super_admin)) {
            return fail("the requester is no longer an admin");
        }
    } else {
        // A user's: with their role on the node now (a user who lost it since, or a reset,
        // must not reach the new owner's device; a primary made secondary sends as one).
        const auto mapping = db_.Nodes().FindMapping(row.user_id, row.node_id);
        if (!mapping) {
            return fail("the requester no longer has access to the node");
        }
        role = RoleOf(mapping->role);
    }
    if (static_cast<int>(role) != row.role) {
        store.SetRole(row.request_id, row.node_id, static_cast<int>(role));
    }
    return static_cast<int>(role);
}

std::string CommandService::RenderMetrics() const {
    std::string out;
    const auto line = [&](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    line(
        "rainmaker_commands_submitted_total",
        "Command-response requests made (one per node).",
        counters_.submitted
    );
    line("rainmaker_commands_sent_total", "Command requests published on to-node.", counters_.sent);
    line(
        "rainmaker_commands_answered_total",
        "Node answers that ended a command request.",
        counters_.answered
    );
    line("rainmaker_commands_polls_total", "Command polls of connecting nodes.", counters_.polls);
    line(
        "rainmaker_commands_polls_limited_total",
        "Command polls within the resend interval (only requests never sent went).",
        counters_.polls_limited
    );
    line(
        "rainmaker_commands_unmatched_total",
        "Node answers to no pending request of the node (ignored).",
        counters_.unmatched
    );
    line(
        "rainmaker_commands_timed_out_total",
        "Command requests that timed out.",
        counters_.timed_out
    );
    return out;
}

}  // namespace rainmaker::domain::commands

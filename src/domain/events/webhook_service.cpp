// Webhook integrations: checks, the update operations, and the secret's sealing.
#include "domain/events/webhook_service.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "domain/events/delivery_dispatcher.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::events {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxNodeId = 64;
constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMinSecret = 16;
constexpr std::size_t kMaxSecret = 256;

bool Printable(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string CheckedName(const std::optional<std::string>& name) {
    if (!ota::Given(name)) {
        throw ApiError(ErrorCode::kWebhookNameMissing);
    }
    if (!IsWebhookName(*name)) {
        throw ApiError(ErrorCode::kWebhookNameInvalid);
    }
    return *name;
}

// An http(s) URL with a host, of printable characters. Where it may connect is checked when
// a delivery connects (the address a name resolves to can change).
std::string CheckedUrl(const std::string& url) {
    const auto after = [&](std::string_view scheme) -> std::optional<std::string_view> {
        if (url.size() > scheme.size() &&
            core::AsciiLower(url.substr(0, scheme.size())) == scheme) {
            return std::string_view(url).substr(scheme.size());
        }
        return std::nullopt;
    };
    auto rest = after("https://");
    if (!rest) {
        rest = after("http://");
    }
    const bool ok = rest && url.size() <= kMaxUrl && Printable(url) && !rest->empty() &&
                    rest->front() != '/' && rest->front() != ':' &&
                    rest->substr(0, rest->find_first_of("/?#")).find('@') == std::string::npos;
    if (!ok) {
        throw ApiError(ErrorCode::kWebhookUrlInvalid);
    }
    return url;
}

std::string CheckedSecret(const std::string& secret) {
    if (secret.size() < kMinSecret || secret.size() > kMaxSecret || !Printable(secret)) {
        throw ApiError(ErrorCode::kWebhookSecretInvalid);
    }
    return secret;
}

std::int64_t CheckedTimestamp(std::int64_t t, const char* name) {
    if (t < 0) {
        throw ApiError(ErrorCode::kInvalidBody, std::string(name) + " must not be negative");
    }
    return t;
}

std::vector<std::string> CheckedNodes(const std::vector<std::string>& nodes, std::size_t max) {
    if (nodes.size() > max) {
        throw ApiError(
            ErrorCode::kInputTooLarge, "nodes_list has more than " + std::to_string(max) + " nodes"
        );
    }
    for (const auto& node : nodes) {
        if (node.empty() || node.size() > kMaxNodeId || !Printable(node)) {
            throw ApiError(
                ErrorCode::kInvalidBody, "nodes_list items must be node ids of 1 to 64 characters"
            );
        }
    }
    return nodes;
}

// The events of a body: known names, each once, timestamps defaulting to `now`.
std::vector<WebhookEvent> CheckedEvents(
    const std::vector<WebhookEventInput>& events, std::size_t max, std::int64_t now
) {
    if (events.size() > max) {
        throw ApiError(
            ErrorCode::kInputTooLarge, "events has more than " + std::to_string(max) + " items"
        );
    }
    std::vector<WebhookEvent> out;
    std::set<std::string> seen;
    for (const auto& e : events) {
        if (!e.event_name || !IsKnownEvent(*e.event_name) || !seen.insert(*e.event_name).second) {
            throw ApiError(ErrorCode::kWebhookEventInvalid);
        }
        out.push_back(WebhookEvent{
            *e.event_name,
            CheckedTimestamp(e.event_active_timestamp.value_or(now), "event_active_timestamp")});
    }
    return out;
}

std::string NodesText(const std::vector<std::string>& nodes) {
    boost::json::array a;
    for (const auto& n : nodes) {
        a.emplace_back(n);
    }
    return core::Serialize(a);
}

std::string EventsText(const std::vector<WebhookEvent>& events) {
    boost::json::array a;
    for (const auto& e : events) {
        a.push_back(boost::json::object{
            {"event_name", e.event_name}, {"event_active_timestamp", e.event_active_timestamp}});
    }
    return core::Serialize(a);
}

std::vector<WebhookEvent>::iterator FindEvent(
    std::vector<WebhookEvent>& events, std::string_view name
) {
    return std::find_if(events.begin(), events.end(), [&](const WebhookEvent& e) {
        return e.event_name == name;
    });
}

Delivery DeliveryOf(const storage::DeliveryRow& d) {
    return Delivery{
        d.id,
        d.webhook,
        d.order_key,
        d.event_id,
        d.event_type,
        d.attempts,
        d.dead,
        d.last_error,
        d.created_at};
}

}  // namespace

bool IsWebhookName(std::string_view name) {
    return !name.empty() && name.size() <= kMaxName &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
           });
}

Webhook WebhookOf(const storage::WebhookRow& row) {
    Webhook w;
    w.name = row.name;
    w.enabled = row.enabled;
    w.url = row.url;
    for (const auto& n : ParseArray(row.nodes)) {
        if (n.is_string()) {
            w.nodes.emplace_back(n.as_string());
        }
    }
    for (const auto& e : ParseArray(row.events)) {
        const auto* o = e.if_object();
        const auto* name = o != nullptr ? o->if_contains("event_name") : nullptr;
        const auto* at = o != nullptr ? o->if_contains("event_active_timestamp") : nullptr;
        if (name != nullptr && name->is_string()) {
            w.events.push_back(WebhookEvent{
                std::string(name->as_string()),
                at != nullptr && at->is_int64() ? at->as_int64() : 0});
        }
    }
    w.active_timestamp = row.active_timestamp;
    return w;
}

WebhookService::WebhookService(
    storage::Database& db,
    EventLog& log,
    const crypto::KeySealer& sealer,
    const core::Clock& clock,
    WebhookConfig config
)
    : db_(db), log_(log), sealer_(sealer), clock_(clock), config_(std::move(config)) {
    RefreshWanted();
}

void WebhookService::Add(const auth::AuthContext& caller, const WebhookInput& input) {
    nodes::RequireEveryNode(caller, "Webhook integrations");
    const auto now = clock_.NowSeconds();
    storage::WebhookRow row;
    row.name = CheckedName(input.webhook_name);
    row.enabled = input.enabled.value_or(true);
    if (!ota::Given(input.url) && config_.default_url.empty()) {
        throw ApiError(ErrorCode::kWebhookUrlInvalid);
    }
    row.url = CheckedUrl(ota::GivenOr(input.url, config_.default_url));
    if (!ota::Given(input.secret) && config_.default_secret.empty()) {
        throw ApiError(ErrorCode::kWebhookSecretInvalid);
    }
    const auto secret = CheckedSecret(ota::GivenOr(input.secret, config_.default_secret));
    row.sealed_secret = sealer_.Seal(secret, row.name);
    row.nodes = NodesText(
        CheckedNodes(input.nodes_list.value_or(std::vector<std::string>{}), config_.max_nodes)
    );
    row.events = EventsText(CheckedEvents(
        input.events.value_or(std::vector<WebhookEventInput>{}), config_.max_events, now
    ));
    row.active_timestamp =
        CheckedTimestamp(input.active_timestamp.value_or(now), "active_timestamp");
    row.created_by = caller.user_id;
    row.created_at = now;
    row.updated_at = now;
    db_.Transaction([&] {
        if (static_cast<int>(db_.Webhooks().List().size()) >= config_.max_webhooks) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "at most " + std::to_string(config_.max_webhooks) + " webhook integrations"
            );
        }
        if (!db_.Webhooks().Insert(row)) {
            throw ApiError(ErrorCode::kWebhookExists);
        }
    });
    RefreshWanted();
}

bool WebhookService::Apply(
    std::string_view operation, const WebhookInput& input, Webhook& webhook, std::string& secret
) {
    const auto require = [](bool given) {
        if (!given) {
            throw ApiError(ErrorCode::kWebhookFieldMissing);
        }
    };
    const auto now = clock_.NowSeconds();
    if (operation == "update_enabled") {
        require(input.enabled.has_value());
        webhook.enabled = *input.enabled;
    } else if (operation == "add_nodes" || operation == "remove_nodes") {
        require(input.nodes_list && !input.nodes_list->empty());
        const auto nodes = CheckedNodes(*input.nodes_list, config_.max_nodes);
        auto& list = webhook.nodes;
        for (const auto& node : nodes) {
            const auto it = std::find(list.begin(), list.end(), node);
            if (operation == "add_nodes" && it == list.end()) {
                list.push_back(node);
            } else if (operation == "remove_nodes" && it != list.end()) {
                list.erase(it);
            }
        }
        CheckedNodes(list, config_.max_nodes);
    } else if (operation == "add_event" || operation == "remove_event" ||
               operation == "update_event") {
        require(input.events && !input.events->empty());
        const auto events = CheckedEvents(*input.events, config_.max_events, now);
        for (const auto& e : events) {
            const auto it = FindEvent(webhook.events, e.event_name);
            if ((operation == "add_event") != (it == webhook.events.end())) {
                throw ApiError(
                    ErrorCode::kWebhookEventInvalid,
                    e.event_name +
                        (operation == "add_event" ? " is listed already" : " is not listed")
                );
            }
            if (operation == "add_event") {
                webhook.events.push_back(e);
            } else if (operation == "remove_event") {
                webhook.events.erase(it);
            } else {
                it->event_active_timestamp = e.event_active_timestamp;
            }
        }
        if (webhook.events.size() > config_.max_events) {
            throw ApiError(
                ErrorCode::kInputTooLarge,
                "events would have more than " + std::to_string(config_.max_events) + " items"
            );
        }
    } else if (operation == "update_active_timestamp") {
        require(input.active_timestamp.has_value());
        webhook.active_timestamp = CheckedTimestamp(*input.active_timestamp, "active_timestamp");
    } else if (operation == "update_destination") {
        require(ota::Given(input.url) || ota::Given(input.secret));
        if (ota::Given(input.url)) {
            webhook.url = CheckedUrl(*input.url);
        }
        if (ota::Given(input.secret)) {
            secret = CheckedSecret(*input.secret);
            return true;
        }
    } else {
        throw ApiError(ErrorCode::kWebhookOperationInvalid);
    }
    return false;
}

void WebhookService::Update(
    const auth::AuthContext& caller, std::string_view operation, const WebhookInput& input
) {
    nodes::RequireEveryNode(caller, "Webhook integrations");
    const auto name = CheckedName(input.webhook_name);
    db_.Transaction([&] {
        auto row = db_.Webhooks().Find(name);
        if (!row) {
            throw ApiError(ErrorCode::kWebhookNotFound);
        }
        auto webhook = WebhookOf(*row);
        std::string secret;
        if (Apply(operation, input, webhook, secret)) {
            row->sealed_secret = sealer_.Seal(secret, row->name);
        }
        row->enabled = webhook.enabled;
        row->url = webhook.url;
        row->nodes = NodesText(webhook.nodes);
        row->events = EventsText(webhook.events);
        row->active_timestamp = webhook.active_timestamp;
        row->updated_at = clock_.NowSeconds();
        db_.Webhooks().Update(*row);
    });
    RefreshWanted();
}

std::vector<Webhook> WebhookService::List(
    const auth::AuthContext& caller, const std::optional<std::string>& name
) {
    nodes::RequireEveryNode(caller, "Webhook integrations");
    std::vector<Webhook> out;
    if (name) {
        const auto row = db_.Webhooks().Find(*name);
        if (!row) {
            throw ApiError(ErrorCode::kWebhookNotFound);
        }
        out.push_back(WebhookOf(*row));
        return out;
    }
    for (const auto& row : db_.Webhooks().List()) {
        out.push_back(WebhookOf(row));
    }
    return out;
}

void WebhookService::Remove(
    const auth::AuthContext& caller, const std::optional<std::string>& name
) {
    nodes::RequireEveryNode(caller, "Webhook integrations");
    if (!ota::Given(name)) {
        throw ApiError(ErrorCode::kWebhookNameMissing);
    }
    db_.Transaction([&] {
        if (!db_.Webhooks().Delete(*name)) {
            throw ApiError(ErrorCode::kWebhookNotFound);
        }
    });
    RefreshWanted();
}

std::vector<Delivery> WebhookService::Deliveries(
    const auth::AuthContext& caller,
    const std::optional<std::string>& name,
    bool dead,
    std::int64_t after_id,
    int limit
) {
    nodes::RequireEveryNode(caller, "Webhook deliveries");
    if (ota::Given(name) && !db_.Webhooks().Find(*name)) {
        throw ApiError(ErrorCode::kWebhookNotFound);
    }
    std::vector<Delivery> out;
    for (const auto& d : db_.Webhooks().ListDeliveries(name.value_or(""), dead, after_id, limit)) {
        out.push_back(DeliveryOf(d));
    }
    return out;
}

int WebhookService::Replay(
    const auth::AuthContext& caller,
    const std::optional<std::string>& name,
    const std::vector<std::int64_t>& ids
) {
    nodes::RequireEveryNode(caller, "Webhook deliveries");
    if (!ota::Given(name)) {
        throw ApiError(ErrorCode::kWebhookNameMissing);
    }
    int replayed = 0;
    db_.Transaction([&] {
        if (!db_.Webhooks().Find(*name)) {
            throw ApiError(ErrorCode::kWebhookNotFound);
        }
        replayed = db_.Webhooks().Replay(*name, ids, clock_.NowMilliseconds());
    });
    return replayed;
}

std::string WebhookService::SecretOf(const storage::WebhookRow& row) const {
    return sealer_.Open(row.sealed_secret, row.name);
}

void WebhookService::RefreshWanted() {
    std::lock_guard lock(wanted_mutex_);
    std::vector<std::string> names;
    for (const auto& row : db_.Webhooks().List()) {
        if (row.enabled) {
            for (auto& e : WebhookOf(row).events) {
                names.push_back(std::move(e.event_name));
            }
        }
    }
    log_.SetWanted("webhooks", names);
}

}  // namespace rainmaker::domain::events

// Which integrations take an event, and the signed post of a delivery.
#include "domain/events/webhook_channel.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "crypto/digest.hpp"

namespace rainmaker::domain::events {

namespace {

constexpr std::size_t kMaxCached = 100000;  // entries of each planner cache

// The log's payloads are JSON object text this server serialized (EventStore's contract); a
// row that is not even shaped like one (a damaged file) is sent as {}.
bool ShapedLikeObject(std::string_view text) {
    return text.size() >= 2 && text.front() == '{' && text.back() == '}';
}

// The body: the event's fields and, as "data", its payload spliced in as it is (parsing and
// writing it again per delivery cost more than the rest of the planning).
std::string BodyOf(
    const storage::EventRow& e, const std::string& type, const std::string& hook, bool object
) {
    std::string body = core::Serialize(boost::json::object{
        {"event_id", e.id},
        {"event_type", type},
        {"webhook_name", hook},
        {"node_id", e.node_id},
        {"user_id", e.user_id},
        {"timestamp", e.created_at}});
    body.pop_back();  // the closing brace
    body += ",\"data\":";
    body += object ? std::string_view(e.payload) : std::string_view("{}");
    body += '}';
    return body;
}

}  // namespace

bool WebhookChannel::Owns(std::string_view destination) const {
    return IsWebhookName(destination);
}

void WebhookChannel::BeginPlan() {
    targets_.clear();
    const auto mappings = db_.Nodes().MappingsVersion();
    const auto filters = db_.EventFilters().Version();
    if (mappings != mappings_version_ || primary_of_.size() > kMaxCached) {
        primary_of_.clear();
        levels_.clear();  // keyed by the primary user
        mappings_version_ = mappings;
    }
    if (filters != filters_version_ || levels_.size() > kMaxCached) {
        levels_.clear();
        filters_version_ = filters;
    }
    for (const auto& row : db_.Webhooks().List()) {
        auto webhook = WebhookOf(row);
        std::unordered_set<std::string> nodes(webhook.nodes.begin(), webhook.nodes.end());
        targets_.push_back(Target{std::move(webhook), std::move(nodes)});
    }
}

std::vector<std::string> WebhookChannel::Streams() {
    std::vector<std::string> names;
    for (const auto& t : targets_) {
        if (t.webhook.enabled) {
            names.push_back(t.webhook.name);
        }
    }
    return names;
}

bool WebhookChannel::Keeps(const std::string& stream) const {
    return std::any_of(targets_.begin(), targets_.end(), [&](const Target& t) {
        return t.webhook.name == stream && !t.webhook.enabled;
    });
}

const std::string& WebhookChannel::UserOf(const storage::EventRow& event) {
    if (!event.user_id.empty() || event.node_id.empty()) {
        return event.user_id;
    }
    auto [it, added] = primary_of_.try_emplace(event.node_id);
    if (added) {
        for (const auto& m : db_.Nodes().MappingsOfNode(event.node_id)) {
            if (m.role == core::ResourceRole::kPrimary) {
                it->second = m.user_id;
                break;
            }
        }
    }
    return it->second;
}

const FilterLevels& WebhookChannel::LevelsOf(
    const storage::EventRow& event, const std::string& type
) {
    const auto& user = UserOf(event);
    auto [it, added] = levels_.try_emplace(type + '\n' + user + '\n' + event.node_id);
    if (added) {
        it->second = filters_.LevelsOf(type, user, event.node_id);
    }
    return it->second;
}

void WebhookChannel::Plan(
    const storage::EventRow& e,
    const std::string& type,
    const std::set<std::string>& streams,
    std::vector<storage::DeliveryRow>& out
) {
    const bool object = ShapedLikeObject(e.payload);
    for (const auto& t : targets_) {
        if (streams.count(t.webhook.name) == 0) {
            continue;
        }
        const auto& listed = t.webhook.events;
        const auto ev = std::find_if(listed.begin(), listed.end(), [&](const auto& x) {
            return x.event_name == type;
        });
        if (ev == listed.end() || e.created_at < ev->event_active_timestamp ||
            e.created_at < t.webhook.active_timestamp ||
            (!t.nodes.empty() && t.nodes.count(e.node_id) == 0)) {
            continue;
        }
        const auto& levels = LevelsOf(e, type);
        if (!Allows(levels.system, levels.user, levels.node, t.webhook.name)) {
            continue;
        }
        storage::DeliveryRow d;
        d.webhook = t.webhook.name;
        d.order_key = e.node_id;
        d.event_id = e.id;
        d.event_type = type;
        d.body = BodyOf(e, type, t.webhook.name, object);
        d.created_at = e.created_at;
        out.push_back(std::move(d));
    }
}

Destination WebhookChannel::Open(const std::string& destination, Poster& poster) {
    const auto row = db_.Webhooks().Find(destination);
    if (!row) {
        return Destination{Destination::State::kGone, {}};
    }
    if (!row->enabled) {
        return Destination{Destination::State::kParked, {}};
    }
    const auto& config = webhooks_.config();
    return Destination{
        Destination::State::kOpen,
        [&poster, &config, url = row->url, secret = webhooks_.SecretOf(*row)](
            const storage::DeliveryRow& d
        ) {
            PostRequest request;
            request.url = url;
            request.headers = {
                {"Content-Type", "application/json"},
                {"User-Agent", "rainmaker-server"},
                {"X-Rainmaker-Event", d.event_type},
                {"X-Rainmaker-Delivery", std::to_string(d.id)},
                {"X-Rainmaker-Signature", "sha256=" + crypto::HmacSha256Hex(secret, d.body)}};
            request.body = d.body;
            request.timeout = config.timeout;
            request.allow_private = config.allow_private;
            const auto result = poster.Post(request);
            if (result.status >= 200 && result.status < 300) {
                return SendResult{SendResult::Outcome::kSent, {}};
            }
            return SendResult{
                SendResult::Outcome::kFailed,
                result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error};
        }};
}

}  // namespace rainmaker::domain::events

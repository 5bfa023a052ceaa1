// Alerts to the phones of a node's users.
#include "domain/push/push_channel.hpp"

#include <set>

#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::push {

namespace {

constexpr std::string_view kPrefix = "push:";
constexpr std::size_t kMaxText = 256;

std::string Scalar(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : core::Serialize(v);
}

}  // namespace

std::string AlertText(const boost::json::value& alert) {
    std::string text;
    if (const auto* o = alert.if_object()) {
        if (const auto* s = o->if_contains("esp.alert.str"); s != nullptr && s->is_string()) {
            text = std::string(s->as_string());
        } else {
            for (const auto& [device, params] : *o) {
                std::string line;
                if (const auto* p = params.if_object()) {
                    for (const auto& [name, value] : *p) {
                        line +=
                            (line.empty() ? "" : ", ") + std::string(name) + " " + Scalar(value);
                    }
                }
                text += (text.empty() ? "" : "; ") + std::string(device) + ": " + line;
            }
        }
    }
    if (text.size() > kMaxText) {
        text.resize(kMaxText);
        while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
            text.pop_back();  // no half of a UTF-8 character at the cut
        }
        if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) {
            text.pop_back();
        }
    }
    return text;
}

bool PushChannel::Owns(std::string_view destination) const {
    return destination.starts_with(kPrefix);
}

std::vector<std::string> PushChannel::Streams() {
    if (!Enabled()) {
        return {};
    }
    return {std::string(kPrefix)};
}

PushSender* PushChannel::SenderFor(const std::string& platform) const {
    if (platform == "GCM") {
        return senders_.fcm;
    }
    if (platform == "APNS" || platform == "APNS_SANDBOX") {
        return senders_.apns;
    }
    return nullptr;
}

const std::string& PushChannel::TitleOf(const std::string& node_id) {
    auto [it, added] = titles_.try_emplace(node_id, node_id);
    if (added) {
        if (const auto node = db_.Nodes().Find(node_id)) {
            const auto config = ParseOr(node->config, boost::json::object{});
            const auto* info =
                config.is_object() ? config.as_object().if_contains("info") : nullptr;
            const auto* name = info != nullptr && info->is_object()
                                   ? info->as_object().if_contains("name")
                                   : nullptr;
            if (name != nullptr && name->is_string() && !name->as_string().empty()) {
                it->second = std::string(name->as_string());
            }
        }
    }
    return it->second;
}

void PushChannel::Plan(
    const storage::EventRow& event,
    const std::string& type,
    const std::set<std::string>& streams,
    std::vector<storage::DeliveryRow>& out
) {
    if (!Enabled() || type != kPushedEvent || event.node_id.empty() ||
        streams.count(std::string(kPrefix)) == 0) {
        return;
    }
    const auto payload = ParseOr(event.payload, boost::json::object{});
    const auto* alert = payload.is_object() ? payload.as_object().if_contains("alert") : nullptr;
    const std::string notification = core::Serialize(boost::json::object{
        {"title", TitleOf(event.node_id)},
        {"body", alert != nullptr ? AlertText(*alert) : std::string()},
        {"node_id", event.node_id},
        {"event_type", type},
        {"event_id", event.id},
        {"data", alert != nullptr ? *alert : boost::json::value(boost::json::object{})}});
    std::set<std::string> users;
    for (const auto& m : db_.Nodes().MappingsOfNode(event.node_id)) {
        users.insert(m.user_id);
    }
    for (const auto& user : users) {
        if (!filters_.Allows(type, user, event.node_id, kPushIntegration)) {
            continue;
        }
        for (const auto& endpoint : db_.Push().ListForUser(user)) {
            if (SenderFor(endpoint.platform) == nullptr) {
                continue;
            }
            storage::DeliveryRow d;
            d.webhook = std::string(kPrefix) + endpoint.endpoint_arn;
            d.order_key = event.node_id;
            d.event_id = event.id;
            d.event_type = type;
            d.body = notification;
            d.created_at = event.created_at;
            out.push_back(std::move(d));
        }
    }
}

events::Destination PushChannel::Open(const std::string& destination, events::Poster& poster) {
    const auto endpoint = db_.Push().Find(std::string_view(destination).substr(kPrefix.size()));
    PushSender* sender = endpoint ? SenderFor(endpoint->platform) : nullptr;
    if (sender == nullptr) {
        return events::Destination{events::Destination::State::kGone, {}};
    }
    return events::Destination{
        events::Destination::State::kOpen,
        [sender, &poster, endpoint = *endpoint](const storage::DeliveryRow& d) {
            return sender->Send(poster, endpoint, d.body);
        }};
}

void PushChannel::Forget(const std::string& destination) {
    const auto arn = std::string_view(destination).substr(kPrefix.size());
    if (db_.Push().Delete(arn)) {
        core::log::Info("push endpoint " + std::string(arn) + " removed: its token is invalid");
    }
}

}  // namespace rainmaker::domain::push

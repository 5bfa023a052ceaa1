// Topic and presence payload parsing shared by the broker link and its tests: node topics, and
// presence from our Mosquitto plugin or from EMQX's $SYS client events (untrusted bytes both).
#include "mqtt/topics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <limits>

#include <boost/json.hpp>

namespace rainmaker::mqtt {

bool IsValidNodeId(std::string_view node_id) {
    return !node_id.empty() && node_id.size() <= 64 &&
           std::all_of(node_id.begin(), node_id.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
           });
}

std::optional<NodeTopic> ParseNodeTopic(std::string_view topic) {
    constexpr std::string_view kRules = "$aws/rules/";
    if (topic.starts_with(kRules)) {
        const auto rule_end = topic.find('/', kRules.size());
        if (rule_end == std::string_view::npos || rule_end == kRules.size()) {
            return std::nullopt;
        }
        topic.remove_prefix(rule_end + 1);
    }
    constexpr std::string_view kNode = "node/";
    if (!topic.starts_with(kNode)) {
        return std::nullopt;
    }
    topic.remove_prefix(kNode.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos || slash + 1 >= topic.size()) {
        return std::nullopt;
    }
    NodeTopic parsed{std::string(topic.substr(0, slash)), std::string(topic.substr(slash + 1))};
    if (!IsValidNodeId(parsed.node_id)) {
        return std::nullopt;
    }
    return parsed;
}

std::optional<PresenceTopic> ParsePresenceTopic(std::string_view topic) {
    constexpr std::string_view kPrefix = "$aws/events/presence/";
    if (!topic.starts_with(kPrefix)) {
        return std::nullopt;
    }
    topic.remove_prefix(kPrefix.size());
    PresenceTopic parsed;
    if (topic.starts_with("connected/")) {
        parsed.connected = true;
        topic.remove_prefix(10);
    } else if (topic.starts_with("disconnected/")) {
        topic.remove_prefix(13);
    } else {
        return std::nullopt;
    }
    if (!IsValidNodeId(topic)) {
        return std::nullopt;
    }
    parsed.client_id = std::string(topic);
    return parsed;
}

namespace {

// Orders within one millisecond of the plugin's run start: its connection count (mod 1,000,000).
constexpr std::int64_t kVersions = 1000000;

// A JSON integer from 1 to kMaxPresenceMs; nullopt for anything else (a string, a fraction, 0,
// a negative, a value past the year 2262).
std::optional<std::int64_t> PresenceMs(const boost::json::value& v) {
    if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > kMaxPresenceMs) {
        return std::nullopt;
    }
    return v.get_int64();
}

}  // namespace

std::optional<PresenceSource> ParsePresenceSource(std::string_view name) {
    if (name == "plugin") {
        return PresenceSource::kPlugin;
    }
    if (name == "emqx-sys") {
        return PresenceSource::kEmqxSys;
    }
    return std::nullopt;
}

std::optional<PresenceTopic> ParseEmqxPresenceTopic(std::string_view topic) {
    constexpr std::string_view kPrefix = "$SYS/brokers/";
    if (!topic.starts_with(kPrefix)) {
        return std::nullopt;
    }
    topic.remove_prefix(kPrefix.size());
    // The EMQX node's name ("emqx@10.0.0.5"): any non-empty level; a wildcard is no topic name.
    const auto node_end = topic.find('/');
    if (node_end == 0 || node_end == std::string_view::npos ||
        topic.substr(0, node_end).find_first_of("+#") != std::string_view::npos) {
        return std::nullopt;
    }
    topic.remove_prefix(node_end + 1);
    constexpr std::string_view kClients = "clients/";
    if (!topic.starts_with(kClients)) {
        return std::nullopt;
    }
    topic.remove_prefix(kClients.size());
    PresenceTopic parsed;
    if (topic.ends_with("/connected")) {
        parsed.connected = true;
        topic.remove_suffix(10);
    } else if (topic.ends_with("/disconnected")) {
        topic.remove_suffix(13);
    } else {
        return std::nullopt;
    }
    if (!IsValidNodeId(topic)) {
        return std::nullopt;  // also a client id with a '/', which spans more levels
    }
    parsed.client_id = std::string(topic);
    return parsed;
}

std::optional<PresencePayload> ParseEmqxPresencePayload(
    std::string_view payload, const PresenceTopic& topic
) {
    boost::system::error_code ec;
    const auto event = boost::json::parse(payload, ec);
    if (ec || !event.is_object()) {
        return std::nullopt;
    }
    const auto& o = event.get_object();
    // The topic names the client; a payload that names another one is no event of EMQX's.
    if (const auto* id = o.if_contains("clientid");
        id != nullptr && (!id->is_string() || id->get_string() != topic.client_id)) {
        return std::nullopt;
    }
    // Every timestamp present must be one: a broker that writes another kind is not trusted
    // with the ones it got right.
    constexpr const char* kNames[] = {"ts", "connected_at", "disconnected_at"};
    std::optional<std::int64_t> ms[std::size(kNames)];
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
        if (const auto* v = o.if_contains(kNames[i])) {
            ms[i] = PresenceMs(*v);
            if (!ms[i]) {
                return std::nullopt;
            }
        }
    }
    const auto& [ts, connected_at, disconnected_at] = ms;
    const auto& own = topic.connected ? connected_at : disconnected_at;
    if (!ts && !own) {
        return std::nullopt;
    }
    PresencePayload parsed;
    parsed.at_ms = ts ? *ts : *own;
    // The order: the store applies a connect only if its order is above the last one applied,
    // and a disconnect if it is not below (the store's ApplyPresence). EMQX sends no version
    // number, and a constant order would let one connect through, ever (0: none, the stored
    // order starting at 0). What identifies a connection is when it began, connected_at (EMQX
    // 5 sends it with both events): a connect of a later connection wins, a disconnect ends only
    // the connection it names, and a late disconnect of an earlier one (a node that reconnected,
    // the old session taken over) is ignored, as with the plugin. Scaled like the plugin's order
    // (run start ms * 1,000,000 + count), so switching sources keeps the orders comparable.
    // Limits: two connections of one client id within the same millisecond tie (the later
    // connect is ignored, and the earlier one's disconnect applies); an EMQX cluster's nodes
    // must keep their clocks in step (NTP), since each stamps its own clients. A disconnect
    // without connected_at (EMQX 4) is ordered at its own time: it ends any connection that
    // began before it, one that began later stays.
    const std::int64_t order_ms = connected_at ? *connected_at : (own ? *own : *ts);
    parsed.order = order_ms * kVersions;
    return parsed;
}

std::optional<std::int64_t> ParsePresenceRun(std::string_view payload) {
    boost::system::error_code ec;
    const auto run = boost::json::parse(payload, ec);
    const auto* o = !ec && run.is_object() ? &run.as_object() : nullptr;
    const auto* started = o != nullptr ? o->if_contains("runStartedAt") : nullptr;
    const auto ms = started != nullptr ? PresenceMs(*started) : std::nullopt;
    if (!ms) {
        return std::nullopt;
    }
    return *ms * kVersions;
}

std::optional<PresencePayload> ParsePresencePayload(std::string_view payload) {
    boost::system::error_code ec;
    const auto event = boost::json::parse(payload, ec);
    const auto* o = !ec && event.is_object() ? &event.as_object() : nullptr;
    const auto* ts = o != nullptr ? o->if_contains("timestamp") : nullptr;
    const auto* version = o != nullptr ? o->if_contains("versionNumber") : nullptr;
    if (ts == nullptr || !ts->is_number() || version == nullptr || !version->is_number()) {
        return std::nullopt;
    }
    PresencePayload parsed;
    const auto at_ms = ts->to_number<std::int64_t>(ec);
    const auto count = ec ? 0 : version->to_number<std::int64_t>(ec);
    if (ec) {
        return std::nullopt;  // a fraction, or beyond int64
    }
    std::int64_t run = 0;
    if (const auto* session = o->if_contains("sessionIdentifier");
        session && session->is_string()) {
        const std::string_view text = session->as_string();
        std::from_chars(text.data(), text.data() + text.size(), run);
    }
    // run * kVersions + version must fit: run up to 9223372036853 ms (the year 2262).
    if (run < 0 || run > (std::numeric_limits<std::int64_t>::max() - (kVersions - 1)) / kVersions) {
        return std::nullopt;
    }
    parsed.at_ms = at_ms;
    parsed.order = run * kVersions + count % kVersions;
    return parsed;
}

}  // namespace rainmaker::mqtt

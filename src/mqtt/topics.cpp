// Topic and presence payload parsing shared by the broker link and its tests.
#include "mqtt/topics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
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
    constexpr std::int64_t kVersions = 1000000;
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

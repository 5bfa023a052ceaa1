// The event log's writer and its gate.
#include "domain/events/event_log.hpp"

#include "core/json.hpp"

namespace rainmaker::domain::events {

namespace {

constexpr std::string_view kPrefix = "rmaker.event.";

std::uint32_t BitOf(std::string_view full_name) {
    const auto n = EventNumber(full_name);
    return n ? std::uint32_t{1} << *n : 0;
}

// BitOf("rmaker.event." + type), without building the name (the ingest asks per message).
std::uint32_t BitOfType(std::string_view type) {
    for (std::size_t n = 0; n < kKnownEvents; ++n) {
        const auto name = KnownEventName(n);
        if (name.size() == kPrefix.size() + type.size() && name.ends_with(type)) {
            return std::uint32_t{1} << n;
        }
    }
    return 0;
}

}  // namespace

std::string FullEventName(std::string_view type) {
    return std::string(kPrefix) + std::string(type);
}

void EventLog::Record(
    std::string_view type,
    std::string_view user_id,
    std::string_view node_id,
    const boost::json::object& payload
) {
    if (!Wanted(type)) {
        return;
    }
    db_.Events().Append(type, user_id, node_id, core::Serialize(payload), clock_.NowSeconds());
}

bool EventLog::Wanted(std::string_view type) const {
    const auto wanted = wanted_.load(std::memory_order_relaxed);
    return wanted != 0 && (wanted & BitOfType(type)) != 0;
}

void EventLog::SetWanted(std::string_view taker, const std::vector<std::string>& event_names) {
    std::uint32_t bits = 0;
    for (const auto& name : event_names) {
        bits |= BitOf(name);
    }
    std::lock_guard lock(takers_mutex_);
    takers_.insert_or_assign(std::string(taker), bits);
    std::uint32_t all = 0;
    for (const auto& [name, taken] : takers_) {
        all |= taken;
    }
    wanted_.store(all, std::memory_order_relaxed);
}

}  // namespace rainmaker::domain::events

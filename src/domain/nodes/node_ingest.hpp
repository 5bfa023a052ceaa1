// What nodes send through the broker, dispatched by a table of topic handlers: each area
// registers the node→cloud topic suffixes it handles, with the largest payload it accepts (as
// HTTP routes are registered), so a new area adds its topics without touching the others.
// The nodes area registers config, params (init, local, local/<group>), user/mapping and
// alert here. Malformed or oversized messages change nothing and are counted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/params_validation.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {
class EventLog;
}

namespace rainmaker::domain::nodes {

// The documented limits of what a node may make the server store (docs/SECURITY.md).
struct IngestLimits {
    std::size_t max_config_bytes = 64 * 1024;
    std::size_t max_params_bytes = 16 * 1024;         // one params report
    std::size_t max_stored_params_bytes = 64 * 1024;  // a node's params after a merge
    std::size_t max_mapping_bytes = 1024;             // user/mapping
    std::size_t max_alert_bytes = 4 * 1024;
    int alerts_per_node = 100;  // only the newest are kept (0: no limit)
};

enum class IngestOutcome {
    kApplied,    // stored (a params report may have had undeclared params dropped)
    kMalformed,  // not JSON, or content the handler refused: nothing changed
    kTooLarge,   // over the topic's limit, or would make a stored document too large
    kUnhandled,  // no handler for the topic
};

// Counters for /metrics, next to the link's own.
struct IngestCounters {
    std::atomic<std::uint64_t> params_dropped{0};  // undeclared or mistyped reported params
    std::atomic<std::uint64_t> too_large{0};
    std::atomic<std::uint64_t> unhandled{0};
};

// A handler may throw this for a message that would store too much.
class PayloadTooLarge : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

class NodeIngest {
public:
    // Handlers get the node id (from the topic, authenticated by the broker), the suffix and
    // the payload; they throw std::invalid_argument (or PayloadTooLarge) to refuse it.
    using JsonHandler = std::function<void(
        std::string_view node_id, std::string_view suffix, const boost::json::object& payload
    )>;
    using RawHandler = std::function<
        void(std::string_view node_id, std::string_view suffix, std::string_view payload)>;

    NodeIngest(
        storage::Database& db,
        MappingService& mapping,
        const core::Clock& clock,
        IngestLimits limits = {}
    );

    // Registers the handler of suffix `pattern`: exact ("config"), or ending in "/+" for any
    // one level below ("params/local/+"). JSON handlers get the payload parsed as an object;
    // payloads over `max_bytes` are refused unread.
    void On(std::string pattern, std::size_t max_bytes, JsonHandler handler);
    void OnRaw(std::string pattern, std::size_t max_bytes, RawHandler handler);

    // One message of node `node_id` on topic suffix `suffix`.
    IngestOutcome Handle(
        std::string_view node_id, std::string_view suffix, std::string_view payload
    );

    // Called inside the transaction that stored a node's reported params, with the part of
    // the report that was kept (declared by the config) and the params as now stored. Areas
    // that react to params (automations) register one. Call before the link starts.
    using ParamsListener = std::function<void(
        std::string_view node_id,
        const boost::json::object& reported,
        const boost::json::object& stored
    )>;

    void OnParamsStored(ParamsListener listener) {
        params_listeners_.push_back(std::move(listener));
    }

    // Params a node reported another way than params/local (the answer to a set-params
    // command), merged as a params/local report would be. Throws std::invalid_argument
    // (PayloadTooLarge) when the result would be too large.
    void ApplyReportedParams(std::string_view node_id, const boost::json::object& report) {
        OnParams(node_id, report, false);
    }

    // A presence event; events of an older connection never override a newer one.
    void HandlePresence(
        std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
    );

    // The presence source lost events (EMQX's, while the link was away): every node is offline
    // until it connects again.
    void ResetPresence();
    // The broker run whose events are ordered from `run_order` on: the nodes earlier runs
    // reported are offline until they connect again (their disconnects were never published).
    void EndEarlierRuns(std::int64_t run_order);

    const IngestCounters& counters() const { return counters_; }

    // Where nodes' events go (node_connected, node_disconnected, node_params_changed,
    // node_config_changed, alert), in the transaction that stored what they tell of; none
    // before it is set. Call before the link starts.
    void SetEventLog(events::EventLog* log) { events_ = log; }

    // The params the node's config declares (nullptr before it reported one), for handlers of
    // other message kinds (time series), inside their transaction. Answered from memory when
    // this process has read the node's config since it last stored one; `fresh` reads the
    // store (another instance may have stored a newer config).
    std::shared_ptr<const DeclaredParams> DeclaredFor(std::string_view node_id, bool fresh);

private:
    struct Entry {
        std::size_t max_bytes = 0;
        JsonHandler json;
        RawHandler raw;
    };

    const Entry* Find(std::string_view suffix) const;
    void EnsureNode(std::string_view node_id);
    void OnConfig(std::string_view node_id, const boost::json::object& config);
    void OnParams(std::string_view node_id, const boost::json::object& report, bool replace);
    // The declared params of the node's stored config, parsed once per config version.
    std::shared_ptr<const DeclaredParams> Declared(
        std::string_view node_id, const std::string& config
    );

    storage::Database& db_;
    MappingService& mapping_;
    const core::Clock& clock_;
    IngestLimits limits_;
    std::unordered_map<std::string, Entry> handlers_;
    std::vector<ParamsListener> params_listeners_;
    IngestCounters counters_;
    events::EventLog* events_ = nullptr;

    struct CachedConfig {
        std::size_t hash = 0;  // of the config text it was built from
        std::size_t size = 0;  // and its length
        std::shared_ptr<const DeclaredParams> declared;
    };

    std::mutex declared_mutex_;
    std::unordered_map<std::string, CachedConfig> declared_;  // by node id
    // By the devices and services a config declares (serialized): shared by nodes alike.
    std::unordered_map<std::string, std::shared_ptr<const DeclaredParams>> schemas_;
};

}  // namespace rainmaker::domain::nodes

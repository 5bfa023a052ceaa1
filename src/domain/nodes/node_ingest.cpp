// The topic table and the node-state handlers: config replaced, params replaced (init) or
// merged (local) after undeclared params are dropped, mapping reports matched, alerts kept.
#include "domain/nodes/node_ingest.hpp"

#include <chrono>

#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/events/event_log.hpp"
#include "domain/nodes/params_validation.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::nodes {

namespace {

std::string InfoField(const boost::json::object& config, std::string_view key) {
    const auto* info = config.if_contains("info");
    if (info == nullptr || !info->is_object()) {
        return {};
    }
    const auto* v = info->as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

}  // namespace

NodeIngest::NodeIngest(
    storage::Database& db, MappingService& mapping, const core::Clock& clock, IngestLimits limits
)
    : db_(db), mapping_(mapping), clock_(clock), limits_(limits) {
    On("config", limits_.max_config_bytes, [this](auto node_id, auto, const auto& config) {
        OnConfig(node_id, config);
    });
    On("params/local/init", limits_.max_params_bytes, [this](auto node_id, auto, const auto& r) {
        OnParams(node_id, r, true);
    });
    On("params/local", limits_.max_params_bytes, [this](auto node_id, auto, const auto& r) {
        OnParams(node_id, r, false);
    });
    // params/local/<group>: the same report, published for a group of params.
    On("params/local/+", limits_.max_params_bytes, [this](auto node_id, auto, const auto& r) {
        OnParams(node_id, r, false);
    });
    On("user/mapping", limits_.max_mapping_bytes, [this](auto node_id, auto, const auto& m) {
        // Checked before the node gets a record: a refused report leaves nothing behind.
        const auto report = MappingService::ParseNodeReport(node_id, m);
        EnsureNode(node_id);
        mapping_.OnNodeReport(node_id, report);
    });
    OnRaw("alert", limits_.max_alert_bytes, [this](auto node_id, auto, auto payload) {
        const auto value = core::ParseUntrustedJson(payload, 32);
        if (!value || !value->is_object()) {
            throw std::invalid_argument("alert is not a JSON object");
        }
        db_.Transaction([&] {
            db_.Nodes().AddAlert(node_id, payload, clock_.NowSeconds(), limits_.alerts_per_node);
            if (events_ != nullptr && events_->Wanted("alert")) {
                events_->Record(
                    "alert",
                    "",
                    node_id,
                    boost::json::object{{"node_id", node_id}, {"alert", *value}}
                );
            }
        });
    });
}

void NodeIngest::On(std::string pattern, std::size_t max_bytes, JsonHandler handler) {
    handlers_[std::move(pattern)] = Entry{max_bytes, std::move(handler), {}};
}

void NodeIngest::OnRaw(std::string pattern, std::size_t max_bytes, RawHandler handler) {
    handlers_[std::move(pattern)] = Entry{max_bytes, {}, std::move(handler)};
}

const NodeIngest::Entry* NodeIngest::Find(std::string_view suffix) const {
    if (const auto it = handlers_.find(std::string(suffix)); it != handlers_.end()) {
        return &it->second;
    }
    const auto slash = suffix.rfind('/');
    if (slash == std::string_view::npos) {
        return nullptr;
    }
    const auto it = handlers_.find(std::string(suffix.substr(0, slash)) + "/+");
    return it != handlers_.end() ? &it->second : nullptr;
}

IngestOutcome NodeIngest::Handle(
    std::string_view node_id, std::string_view suffix, std::string_view payload
) {
    const auto warn = [&](const std::string& what) {
        core::log::Warn("node " + std::string(node_id) + " " + std::string(suffix) + ": " + what);
    };
    const Entry* entry = Find(suffix);
    if (entry == nullptr) {
        ++counters_.unhandled;
        core::log::Debug(
            "node " + std::string(node_id) + " " + std::string(suffix) + ": not handled"
        );
        return IngestOutcome::kUnhandled;
    }
    if (payload.size() > entry->max_bytes) {
        ++counters_.too_large;
        warn(
            std::to_string(payload.size()) + " bytes refused, the limit is " +
            std::to_string(entry->max_bytes)
        );
        return IngestOutcome::kTooLarge;
    }
    try {
        if (entry->raw) {
            entry->raw(node_id, suffix, payload);
            return IngestOutcome::kApplied;
        }
        const auto value = core::ParseUntrustedJson(payload, 32);
        if (!value || !value->is_object()) {
            warn("malformed JSON");
            return IngestOutcome::kMalformed;
        }
        entry->json(node_id, suffix, value->as_object());
        return IngestOutcome::kApplied;
    } catch (const PayloadTooLarge& e) {
        ++counters_.too_large;
        warn(e.what());
        return IngestOutcome::kTooLarge;
    } catch (const std::invalid_argument& e) {
        warn(e.what());
        return IngestOutcome::kMalformed;
    }
}

void NodeIngest::EnsureNode(std::string_view node_id) {
    // The broker authenticated the node by its certificate: a node we do not know yet (for
    // example one flashed with certificates made elsewhere by this CA) gets a record.
    if (!db_.Nodes().Find(node_id)) {
        storage::NodeRow node;
        node.node_id = std::string(node_id);
        node.created_at = clock_.NowSeconds();
        db_.Nodes().Insert(node);
    }
}

void NodeIngest::OnConfig(std::string_view node_id, const boost::json::object& config) {
    const auto* id = config.if_contains("node_id");
    if (id == nullptr || !id->is_string() || id->as_string() != node_id) {
        throw std::invalid_argument("config names another node");
    }
    {
        std::lock_guard lock(declared_mutex_);
        declared_.erase(std::string(node_id));  // read again with the new config
    }
    db_.Transaction([&] {
        EnsureNode(node_id);
        db_.Nodes().PutConfig(
            node_id,
            core::Serialize(config),
            InfoField(config, "type"),
            InfoField(config, "model"),
            InfoField(config, "fw_version")
        );
        if (events_ != nullptr && events_->Wanted("node_config_changed")) {
            events_->Record(
                "node_config_changed",
                "",
                node_id,
                boost::json::object{
                    {"node_id", node_id},
                    {"type", InfoField(config, "type")},
                    {"model", InfoField(config, "model")},
                    {"fw_version", InfoField(config, "fw_version")}}
            );
        }
    });
}

void NodeIngest::OnParams(
    std::string_view node_id, const boost::json::object& report, bool replace
) {
    db_.Transaction([&] {
        EnsureNode(node_id);
        const auto node = db_.Nodes().Find(node_id);
        // Only what the node's config declares is kept: a node cannot make the server store
        // arbitrary keys (and REST sets are checked against the same config).
        // Without a stored config (not reported yet, or refused) there is nothing to check
        // against: the report is kept within the size limit, and checked once a config is.
        boost::json::object declared = report;
        const int dropped =
            node->config.empty() ? 0 : Declared(node_id, node->config)->Keep(declared);
        if (dropped > 0) {
            counters_.params_dropped += static_cast<std::uint64_t>(dropped);
            core::log::Warn(
                "node " + std::string(node_id) + ": " + std::to_string(dropped) +
                " reported param(s) not in its config dropped"
            );
        }
        // A report that declares nothing changes nothing (init too: it never wipes params).
        if (declared.empty()) {
            return;
        }
        boost::json::object stored = replace ? boost::json::object{} : ParseObject(node->params);
        MergeReportedParams(stored, declared);
        std::string text = core::Serialize(stored);
        if (text.size() > limits_.max_stored_params_bytes) {
            throw PayloadTooLarge(
                "params would be " + std::to_string(text.size()) + " bytes, the limit is " +
                std::to_string(limits_.max_stored_params_bytes)
            );
        }
        db_.Nodes().PutParams(node_id, text, clock_.NowSeconds());
        if (events_ != nullptr && events_->Wanted("node_params_changed")) {
            events_->Record(
                "node_params_changed",
                "",
                node_id,
                boost::json::object{{"node_id", node_id}, {"params", declared}}
            );
        }
        for (const auto& listener : params_listeners_) {
            listener(node_id, declared, stored);
        }
    });
}

std::shared_ptr<const DeclaredParams> NodeIngest::DeclaredFor(
    std::string_view node_id, bool fresh
) {
    if (!fresh) {
        std::lock_guard lock(declared_mutex_);
        if (const auto it = declared_.find(std::string(node_id)); it != declared_.end()) {
            return it->second.declared;
        }
    }
    const auto node = db_.Nodes().Find(node_id);
    if (!node || node->config.empty()) {
        return nullptr;
    }
    return Declared(node_id, node->config);
}

std::shared_ptr<const DeclaredParams> NodeIngest::Declared(
    std::string_view node_id, const std::string& config
) {
    // Parsing a config costs far more than filtering a report with its index: an index per
    // node, looked up again only when the stored config text changes. Nodes of one product
    // declare the same devices and params, so they share one index (10,000 nodes of one
    // product hold one). Both tables are bounded: emptied when full.
    constexpr std::size_t kMaxCached = 100000;
    const std::size_t hash = std::hash<std::string>{}(config);
    std::lock_guard lock(declared_mutex_);
    auto it = declared_.find(std::string(node_id));
    if (it != declared_.end() && it->second.hash == hash && it->second.size == config.size()) {
        return it->second.declared;
    }
    const auto parsed = ParseOr(config, {});
    boost::json::object schema;
    if (parsed.is_object()) {
        for (const char* key : {"devices", "services"}) {
            if (const auto* list = parsed.as_object().if_contains(key)) {
                schema[key] = *list;
            }
        }
    }
    const std::string schema_text = core::Serialize(schema);
    auto& shared = schemas_[schema_text];
    if (!shared) {
        shared = std::make_shared<DeclaredParams>(parsed);
    }
    const auto declared = shared;
    if (declared_.size() >= kMaxCached) {
        declared_.clear();
    }
    if (schemas_.size() >= kMaxCached) {
        schemas_.clear();  // the nodes' entries keep their indexes alive
    }
    declared_.insert_or_assign(std::string(node_id), CachedConfig{hash, config.size(), declared});
    return declared;
}

void NodeIngest::EndEarlierRuns(std::int64_t run_order) {
    const int changed = db_.Nodes().EndEarlierRuns(clock_.NowMilliseconds(), run_order);
    if (changed > 0) {
        core::log::Info(
            "broker restarted: " + std::to_string(changed) +
            " node(s) of its earlier run offline until they connect again"
        );
    }
}

void NodeIngest::ResetPresence() {
    const auto now_ms = clock_.NowMilliseconds();
    const int changed = db_.Nodes().ResetPresence(now_ms);
    if (changed > 0) {
        core::log::Info(
            "broker (re)connected: " + std::to_string(changed) +
            " node(s) offline until they connect again"
        );
    }
}

void NodeIngest::HandlePresence(
    std::string_view node_id, bool connected, std::int64_t at_ms, std::int64_t version
) {
    db_.Transaction([&] {
        if (!db_.Nodes().ApplyPresence(node_id, connected, at_ms, version)) {
            return;
        }
        core::log::Info("node " + std::string(node_id) + (connected ? " online" : " offline"));
        const char* type = connected ? "node_connected" : "node_disconnected";
        if (events_ != nullptr && events_->Wanted(type)) {
            events_->Record(
                type,
                "",
                node_id,
                boost::json::object{
                    {"node_id", node_id}, {"connected", connected}, {"timestamp", at_ms}}
            );
        }
    });
}

}  // namespace rainmaker::domain::nodes

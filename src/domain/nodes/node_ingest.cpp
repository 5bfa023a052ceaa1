// Applies node messages to the store: config replaced, params replaced (init) or merged
// (local), mapping reports matched, alerts kept.
#include "domain/nodes/node_ingest.hpp"

#include <chrono>
#include <stdexcept>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
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

NodeIngest::NodeIngest(storage::Database& db, MappingService& mapping, const core::Clock& clock)
    : db_(db), mapping_(mapping), clock_(clock) {}

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

bool NodeIngest::Handle(
    std::string_view node_id, std::string_view suffix, std::string_view payload
) {
    const auto parsed = core::ParseUntrustedJson(payload, 32);
    if (!parsed || !parsed->is_object()) {
        core::log::Warn(
            "node " + std::string(node_id) + " sent malformed JSON on " + std::string(suffix)
        );
        return false;
    }
    const auto& object = parsed->as_object();
    try {
        if (suffix == "config") {
            const auto* id = object.if_contains("node_id");
            if (id == nullptr || !id->is_string() || id->as_string() != node_id) {
                throw std::invalid_argument("config names another node");
            }
            db_.Transaction([&] {
                EnsureNode(node_id);
                db_.Nodes().PutConfig(
                    node_id,
                    payload,
                    InfoField(object, "type"),
                    InfoField(object, "model"),
                    InfoField(object, "fw_version")
                );
            });
        } else if (suffix == "params/local/init") {
            db_.Transaction([&] {
                EnsureNode(node_id);
                db_.Nodes().PutParams(node_id, boost::json::serialize(object), clock_.NowSeconds());
            });
        } else if (suffix == "params/local" || suffix.starts_with("params/local/")) {
            db_.Transaction([&] {
                EnsureNode(node_id);
                const auto node = db_.Nodes().Find(node_id);
                boost::json::object stored =
                    node ? ParseObject(node->params) : boost::json::object{};
                MergeReportedParams(stored, object);
                db_.Nodes().PutParams(node_id, boost::json::serialize(stored), clock_.NowSeconds());
            });
        } else if (suffix == "user/mapping") {
            // Checked before the node gets a record: a refused report changes nothing.
            const auto report = MappingService::ParseNodeReport(node_id, object);
            EnsureNode(node_id);
            mapping_.OnNodeReport(node_id, report);
        } else if (suffix == "alert") {
            db_.Nodes().AddAlert(node_id, payload, clock_.NowSeconds());
        } else {
            // otafetch, otastatus, tsdata, simple_tsdata, from-node: their areas come later.
            core::log::Debug(
                "node " + std::string(node_id) + " " + std::string(suffix) + ": not handled yet"
            );
        }
    } catch (const std::invalid_argument& e) {
        core::log::Warn(
            "node " + std::string(node_id) + " " + std::string(suffix) + ": " + e.what()
        );
        return false;
    }
    return true;
}

void NodeIngest::ResetPresence() {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
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
    if (db_.Nodes().ApplyPresence(node_id, connected, at_ms, version)) {
        core::log::Info("node " + std::string(node_id) + (connected ? " online" : " offline"));
    }
}

}  // namespace rainmaker::domain::nodes

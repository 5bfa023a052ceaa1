// Feeds bytes as what a node (or the broker's presence plugin) publishes: payloads for every
// node→cloud topic through NodeIngest over a real SQLite store, presence payloads, and topic
// names through the topic parsers; a node's certificate is all it takes to send them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/error.hpp"
#include "domain/commands/command_service.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "domain/nodes/node_service.hpp"
#include "domain/stored_json.hpp"
#include "domain/timeseries/timeseries_service.hpp"
#include "fuzz_support.hpp"
#include "mqtt/topics.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using namespace rainmaker;

constexpr std::string_view kNode = "fuzz-node-1";     // known: config, params, a pending mapping
constexpr std::string_view kNewNode = "fuzz-node-2";  // never seen before
constexpr std::string_view kUser = "u-fuzz";

// The node→cloud suffixes the broker link subscribes to (mqtt/broker_link.cpp).
constexpr std::string_view kSuffixes[] = {
    "config",
    "params/local/init",
    "params/local",
    "user/mapping",
    "alert",
    "otafetch",
    "otastatus",
    "tsdata",
    "simple_tsdata",
    "from-node"};
constexpr std::size_t kSuffixCount = std::size(kSuffixes);

class NoPublisher final : public domain::nodes::NodePublisher {
public:
    bool Publish(std::string_view, std::string_view, std::string_view) override { return true; }
};

// Unwinds the per-input transaction, so that every input starts from the same store.
struct Rollback {};

// The store and services as application.cpp wires them, with one user, one group and one node
// waiting to be mapped by secret key into that group.
struct Ingest {
    Ingest()
        : db(dir.path() / "rainmaker.db"),
          nodes(db, publisher),
          groups(db, nodes, clock),
          mapping(db, clock),
          ingest(db, mapping, clock),
          series(db, clock),
          commands(db, publisher, clock) {
        fuzz::SilenceLogs();
        series.RegisterIngest(ingest);
        commands.RegisterIngest(ingest);  // from-node, as application.cpp wires it
        mapping.SetGroupJoiner(
            [this](std::string_view user, std::string_view group, std::string_view node) {
                groups.AddMappedNode(user, group, node);
            }
        );
        storage::UserRow user;
        user.user_id = std::string(kUser);
        user.user_name = "fuzz@example.com";
        user.password_hash = "x";
        user.confirmed = true;
        db.Users().Insert(user);
        const domain::auth::AuthContext caller{user.user_id, user.user_name, "s-fuzz"};
        domain::groups::GroupFields home;
        home.group_name = "Home";
        const std::string group_id = groups.Create(caller, home);

        storage::NodeRow node;
        node.node_id = std::string(kNode);
        node.created_at = clock.NowSeconds();
        db.Nodes().Insert(node);
        const std::string config =
            R"({"node_id":"fuzz-node-1","config_version":"2020-03-20","info":{"name":"Light",)"
            R"("type":"esp.device.lightbulb","model":"m","fw_version":"1.0"},"devices":[)"
            R"({"name":"Light","params":[{"name":"Power","data_type":"bool",)"
            R"("properties":["read","write"]},{"name":"Temperature","data_type":"float",)"
            R"("properties":["read","time_series"]},{"name":"Label","data_type":"string",)"
            R"("properties":["read","simple_ts"]}]}]})";
        db.Nodes().PutConfig(kNode, config, "esp.device.lightbulb", "m", "1.0");
        db.Nodes().PutParams(kNode, R"({"Light":{"Power":false}})", clock.NowSeconds());
        domain::nodes::MappingExtras extras;
        extras.group_id = group_id;
        mapping.RequestSecretMapping(caller, kNode, "s3cret", extras);
    }

    testing::TempDir dir;  // first member: removed after the store is closed
    testing::FakeClock clock;
    storage::sqlite::SqliteDatabase db;
    NoPublisher publisher;
    domain::nodes::NodeService nodes;
    domain::groups::GroupService groups;
    domain::nodes::MappingService mapping;
    domain::nodes::NodeIngest ingest;
    domain::timeseries::TimeSeriesService series;
    domain::commands::CommandService commands;
};

Ingest& Instance() {
    // One store per process, closed and removed at exit.
    static Ingest instance;
    return instance;
}

[[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
}

// Stored JSON must read back, and what the API then writes from it must be JSON again.
void CheckStoredJson(const std::string& text, const char* what) {
    if (text.empty()) {
        return;
    }
    const json::value stored = domain::ParseOr(text, nullptr);
    if (!stored.is_object()) {
        Fail(std::string(what) + " stored but unreadable: " + text);
    }
    boost::system::error_code ec;
    const json::value answered = json::parse(json::serialize(stored), ec);
    if (ec || !fuzz::SameJson(answered, stored)) {
        Fail(std::string(what) + " reads back as invalid JSON: " + json::serialize(stored));
    }
}

bool SameNode(const std::optional<storage::NodeRow>& a, const std::optional<storage::NodeRow>& b) {
    if (!a || !b) {
        return a.has_value() == b.has_value();
    }
    return a->config == b->config && a->params == b->params &&
           a->params_updated_at == b->params_updated_at && a->connected == b->connected &&
           a->connectivity_at == b->connectivity_at && a->node_type == b->node_type;
}

void NodeMessage(
    Ingest& s, std::string_view node_id, std::string_view suffix, std::string_view payload
) {
    const auto before = s.db.Nodes().Find(node_id);
    const auto outcome = s.ingest.Handle(node_id, suffix, payload);
    const auto after = s.db.Nodes().Find(node_id);
    if (outcome != domain::nodes::IngestOutcome::kApplied && !SameNode(before, after)) {
        // NodeIngest: malformed, oversized and unhandled messages change nothing.
        Fail("refused " + std::string(suffix) + " message changed the node");
    }
    if (after) {
        CheckStoredJson(after->config, "config");
        CheckStoredJson(after->params, "params");
    }
    if (outcome == domain::nodes::IngestOutcome::kApplied &&
        (suffix == "tsdata" || suffix == "simple_tsdata")) {
        // Compaction into coded chunks and queries over what was stored: no crash, no sanitizer
        // report, no error but the query rules' own.
        s.series.Compact(true);
        const domain::auth::AuthContext owner{std::string(kUser), "fuzz@example.com", "s-fuzz"};
        domain::timeseries::TsQueryInput query;
        query.node_id = std::string(node_id);
        query.param_name = "Light.Temperature";
        query.start_time = std::to_string(s.clock.NowSeconds() - 30 * 86400);
        query.end_time = std::to_string(s.clock.NowSeconds() + 86400);
        for (const auto* aggregate : {"raw", "avg"}) {
            query.aggregate = aggregate;
            if (query.aggregate != "raw") {
                query.aggregation_interval = "day";
            }
            try {
                s.series.Query(owner, query, true);
            } catch (const core::ApiError&) {
                // a span or type the query rules refuse
            }
        }
        domain::timeseries::SimpleQueryInput simple;
        simple.node_id = std::string(node_id);
        simple.param_name = "Light.Label";
        simple.data_type = "string";
        simple.start_time = query.start_time;
        simple.end_time = query.end_time;
        try {
            s.series.QuerySimple(owner, simple, true);
        } catch (const core::ApiError&) {
            // a range the query rules refuse
        }
    }
}

void Presence(Ingest& s, std::string_view node_id, bool connected, std::string_view payload) {
    if (const auto event = mqtt::ParsePresencePayload(payload)) {
        s.ingest.HandlePresence(node_id, connected, event->at_ms, event->order);
    }
    // The broker's run message: an order on the run's scale (ms * 1,000,000), at least 1 ms.
    if (const auto run = mqtt::ParsePresenceRun(payload)) {
        if (*run < 1000000 || *run % 1000000 != 0 || *run / 1000000 > mqtt::kMaxPresenceMs) {
            Fail("a run order outside 1 ms .. the year 2262, or off the scale");
        }
        s.ingest.EndEarlierRuns(*run);
    }
}

void Topic(Ingest& s, std::string_view topic) {
    if (const auto presence = mqtt::ParsePresenceTopic(topic)) {
        if (!mqtt::IsValidNodeId(presence->client_id)) {
            Fail("presence topic with an invalid client id");
        }
        s.ingest.HandlePresence(presence->client_id, presence->connected, 1, 1);
    }
    if (const auto node = mqtt::ParseNodeTopic(topic)) {
        if (!mqtt::IsValidNodeId(node->node_id) || node->suffix.empty()) {
            Fail("node topic with an invalid node id or no suffix");
        }
        s.ingest.Handle(node->node_id, node->suffix, "{}");
    }
}

}  // namespace

// Input: a selector byte, then the payload (or topic). Selector % 32: 0-9 the suffixes above
// for the known node, 10-19 the same for a new node, 20-23 presence payloads (connected or
// disconnected, known or new node), 24-31 the bytes as a topic name.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Ingest& s = Instance();
    if (size == 0) {
        return 0;
    }
    const unsigned selector = data[0] % 32u;
    const std::string_view rest = fuzz::AsText(data + 1, size - 1);
    try {
        // The broker link applies messages inside a batch transaction; this one is undone.
        s.db.Transaction([&] {
            if (selector < 2 * kSuffixCount) {
                const auto node_id = selector < kSuffixCount ? kNode : kNewNode;
                NodeMessage(s, node_id, kSuffixes[selector % kSuffixCount], rest);
            } else if (selector < 2 * kSuffixCount + 4) {
                const unsigned kind = selector - 2 * kSuffixCount;
                Presence(s, kind & 1u ? kNewNode : kNode, (kind & 2u) == 0, rest);
            } else {
                Topic(s, rest);
            }
            throw Rollback{};
        });
    } catch (const Rollback&) {
    }
    return 0;
}

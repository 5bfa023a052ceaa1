// Feeds bytes as what a node publishes on from-node (command-response answers and polls,
// device-protocol §2.4): the TLV8 decoder on its own, and the whole path through NodeIngest and
// CommandService over a real SQLite store holding pending requests of the node (a custom
// command and a set-params one), a node's certificate being all it takes to send them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "domain/commands/command_service.hpp"
#include "domain/commands/tlv.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "domain/stored_json.hpp"
#include "fuzz_support.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace rainmaker;
namespace commands = domain::commands;

constexpr std::string_view kNode = "fuzz-node-1";
constexpr std::string_view kOther = "fuzz-node-2";  // a node with no requests
// The pending requests of kNode (ids a fuzzer finds by comparison tracing).
constexpr std::string_view kCustom = "REQcustom";     // cmd 0x1000, in progress
constexpr std::string_view kSetParams = "REQparams";  // cmd 1, requested

class CountingPublisher final : public domain::nodes::NodePublisher {
public:
    bool Publish(std::string_view, std::string_view suffix, std::string_view payload) override {
        if (suffix != "to-node" || !commands::DecodeTlv(payload)) {
            std::fprintf(stderr, "published something else than TLV on to-node\n");
            std::abort();
        }
        ++published;
        return true;
    }

    int published = 0;
};

struct Rollback {};

struct Store {
    Store()
        : db(dir.path() / "rainmaker.db"),
          mapping(db, clock),
          ingest(db, mapping, clock),
          service(db, publisher, clock) {
        fuzz::SilenceLogs();
        service.RegisterIngest(ingest);
        storage::UserRow user;
        user.user_id = "u-fuzz";
        user.user_name = "fuzz@example.com";
        user.password_hash = "x";
        user.confirmed = true;
        db.Users().Insert(user);
        for (const auto node_id : {kNode, kOther}) {
            storage::NodeRow node;
            node.node_id = std::string(node_id);
            node.created_at = clock.NowSeconds();
            db.Nodes().Insert(node);
            db.Nodes().PutConfig(
                node_id,
                R"({"node_id":")" + std::string(node_id) +
                    R"(","attributes":[{"name":"cmd-resp","value":"1"}],"devices":[)"
                    R"({"name":"Light","params":[{"name":"Power","data_type":"bool",)"
                    R"("properties":["read","write"]}]}]})",
                "",
                "",
                ""
            );
        }
        storage::UserNodeRow mapping_row;
        mapping_row.user_id = user.user_id;
        mapping_row.node_id = std::string(kNode);
        db.Nodes().PutMapping(mapping_row);
        db.Nodes().PutParams(kNode, R"({"Light":{"Power":false}})", clock.NowSeconds());
        for (const auto& [id, cmd, status] :
             {std::tuple{kCustom, 0x1000, commands::kStatusInProgress},
              std::tuple{kSetParams, 1, commands::kStatusRequested}}) {
            storage::CommandRow row;
            row.request_id = std::string(id);
            row.node_id = std::string(kNode);
            row.user_id = user.user_id;
            row.user_name = user.user_name;
            row.cmd = cmd;
            row.role = 2;
            row.data_kind = 0;
            row.data = R"({"params":{"Light":{"Power":true}}})";
            row.status = status;
            row.created_at = clock.NowSeconds();
            row.expires_at = clock.NowSeconds() + 30;
            db.Commands().Insert(row);
        }
    }

    testing::TempDir dir;  // first member: removed after the store is closed
    testing::FakeClock clock;
    storage::sqlite::SqliteDatabase db;
    CountingPublisher publisher;
    domain::nodes::MappingService mapping;
    domain::nodes::NodeIngest ingest;
    commands::CommandService service;
};

Store& Instance() {
    static Store instance;
    return instance;
}

[[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
}

// The decoder alone: whatever it accepts, encoding its items again gives bytes it decodes to
// the same items (a split value stays one value).
void Decoder(std::string_view bytes) {
    const auto items = commands::DecodeTlv(bytes);
    if (items) {
        const auto again = commands::DecodeTlv(commands::EncodeTlv(*items));
        if (!again || again->size() > items->size()) {
            Fail("re-encoded TLV does not decode");
        }
        std::string joined;
        std::string joined_again;
        for (const auto& item : *items) {
            joined += item.value;
        }
        for (const auto& item : *again) {
            joined_again += item.value;
        }
        if (joined != joined_again) {
            Fail("re-encoded TLV lost bytes");
        }
    }
    const auto answer = commands::DecodeResponse(bytes);
    if (answer && answer->request_id.size() > commands::kMaxRequestIdBytes) {
        Fail("an answer with an over-long request id was accepted");
    }
}

std::vector<storage::CommandRow> Rows(Store& s) {
    storage::CommandFilter all;
    return s.db.Commands().List(all, 100);
}

bool Same(const std::vector<storage::CommandRow>& a, const std::vector<storage::CommandRow>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].status != b[i].status || a[i].device_status != b[i].device_status ||
            a[i].response_data != b[i].response_data) {
            return false;
        }
    }
    return true;
}

void FromNode(Store& s, std::string_view node_id, std::string_view payload) {
    const auto before = Rows(s);
    const auto params_before = s.db.Nodes().Find(kNode)->params;
    const auto outcome = s.ingest.Handle(node_id, "from-node", payload);
    const auto after = Rows(s);
    if (outcome != domain::nodes::IngestOutcome::kApplied &&
        (!Same(before, after) || s.db.Nodes().Find(kNode)->params != params_before)) {
        Fail("a refused from-node message changed a request or the params");
    }
    for (std::size_t i = 0; i < after.size(); ++i) {
        const bool was_pending = before[i].status == commands::kStatusRequested ||
                                 before[i].status == commands::kStatusInProgress;
        if (!was_pending && !Same({before[i]}, {after[i]})) {
            Fail("an ended request changed");
        }
        if (node_id != kNode && !Same({before[i]}, {after[i]})) {
            Fail("another node's message changed a request of this node");
        }
    }
    // Stored params stay JSON an answer can be built from.
    const auto params = s.db.Nodes().Find(kNode)->params;
    if (!domain::ParseOr(params, nullptr).is_object()) {
        Fail("params unreadable after a set-params answer: " + params);
    }
}

}  // namespace

// Input: a selector byte, then the payload. Selector % 4: 0 the decoder alone, 1-2 from-node of
// the node with pending requests, 3 from-node of another node.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Store& s = Instance();
    if (size == 0) {
        return 0;
    }
    const unsigned selector = data[0] % 4u;
    const std::string_view rest = fuzz::AsText(data + 1, size - 1);
    if (selector == 0) {
        Decoder(rest);
        return 0;
    }
    try {
        // The broker link applies messages inside a batch transaction; this one is undone.
        s.db.Transaction([&] {
            FromNode(s, selector == 3 ? kOther : kNode, rest);
            throw Rollback{};
        });
    } catch (const Rollback&) {
    }
    return 0;
}

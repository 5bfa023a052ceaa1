// Feeds bytes as an admin's webhook integration body (#73, and #74 with an operation the first
// byte picks) read as the routes read it, through WebhookService over a real SQLite store, then
// the rest of the input as a node's params report delivered to the stored integrations. A body
// is refused with an ApiError or stored as a valid integration (a name of the allowed
// characters, an http(s) URL, known events each once, at most 100, a secret that opens); every
// delivery is the JSON the event log held, signed with the integration's secret.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/digest.hpp"
#include "domain/events/delivery_dispatcher.hpp"
#include "domain/events/event_log.hpp"
#include "domain/events/webhook_channel.hpp"
#include "domain/events/webhook_service.hpp"
#include "domain/push/push_channel.hpp"
#include "fuzz_support.hpp"
#include "http/api/webhook_routes.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace rainmaker;
using namespace rainmaker::domain::events;

constexpr const char* kOperations[] = {
    "update_enabled",
    "add_nodes",
    "remove_nodes",
    "add_event",
    "remove_event",
    "update_event",
    "update_active_timestamp",
    "update_destination",
    "made_up"};

void Fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
    std::abort();
}

struct World {
    testing::TempDir dir;
    storage::sqlite::SqliteDatabase db{dir.path() / "rm.db"};
    testing::FakeClock clock;
    std::unique_ptr<crypto::KeySealer> sealer =
        crypto::KeySealer::FromKeyForTest(std::string(32, 'f'));
    EventLog log{db, clock};
    EventFilterService filters{db, clock};
    WebhookService service{db, log, *sealer, clock};
    WebhookChannel channel{db, service, filters};
    DeliveryDispatcher dispatcher{db, clock, DeliveryConfig{}, nullptr, {&channel}};
};

// Checks each post against the stored integration it names.
class Checker final : public Poster {
public:
    explicit Checker(World& world) : world_(world) {}

    Result Post(const PostRequest& request) override {
        const auto& body = request.body;
        const auto& url = request.url;
        const auto& headers = request.headers;
        const auto parsed = core::ParseUntrustedJson(body, 64);
        if (!parsed || !parsed->is_object()) {
            Fail("delivery body is not a JSON object", body);
        }
        const auto* name = parsed->as_object().if_contains("webhook_name");
        const auto row = name != nullptr && name->is_string()
                             ? world_.db.Webhooks().Find(std::string(name->as_string()))
                             : std::nullopt;
        if (!row || row->url != url) {
            Fail("delivery to no stored integration", body);
        }
        const std::string expected =
            "sha256=" + crypto::HmacSha256Hex(world_.service.SecretOf(*row), body);
        for (const auto& [k, v] : headers) {
            if (k == "X-Rainmaker-Signature" && v != expected) {
                Fail("bad signature", v);
            }
        }
        return Result{200, "", ""};
    }

private:
    World& world_;
};

void CheckStored(World& world) {
    for (const auto& row : world.db.Webhooks().List()) {
        const auto w = WebhookOf(row);
        if (w.name.empty() || w.name.size() > 64 ||
            w.name.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
            ) != std::string::npos) {
            Fail("stored name", w.name);
        }
        const auto lower = core::AsciiLower(w.url);
        if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
            Fail("stored url", w.url);
        }
        std::set<std::string> seen;
        for (const auto& e : w.events) {
            if (!IsKnownEvent(e.event_name) || !seen.insert(e.event_name).second ||
                e.event_active_timestamp < 0) {
                Fail("stored event", e.event_name);
            }
        }
        if (w.events.size() > 100 || w.active_timestamp < 0) {
            Fail("stored events or timestamp", row.events);
        }
        if (world.service.SecretOf(row).size() < 16) {
            Fail("stored secret", row.name);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    static World world;
    static Checker checker(world);
    static const domain::auth::AuthContext admin{
        "root", "root@x", "s", domain::auth::PlatformRole::kAdmin};
    static bool seeded = [] {
        // One integration to update, taking every node's params reports.
        WebhookInput in;
        in.webhook_name = "base";
        in.url = "https://receiver.test/hook";
        in.secret = "fuzz-secret-0123456789";
        in.events = std::vector<WebhookEventInput>{{"rmaker.event.node_params_changed", 0}};
        world.service.Add(admin, in);
        world.dispatcher.Plan();
        return true;
    }();
    (void)seeded;
    const auto text = fuzz::AsText(data, size);
    const auto split = text.find('\xFF');
    const auto body_text = text.substr(0, split);
    const auto report_text = split == std::string_view::npos ? "" : text.substr(split + 1);

    if (const auto body = core::ParseUntrustedJson(body_text, 32); body && body->is_object()) {
        fuzz::Refusable([&] {
            auto in = http::api::WebhookInputOf(body->as_object());
            const auto pick = size > 0 ? data[0] % 10 : 0;
            if (pick == 9) {
                world.service.Add(admin, in);
            } else {
                in.webhook_name = "base";
                world.service.Update(admin, kOperations[pick], in);
            }
        });
    }
    CheckStored(world);

    // A node's report delivered to whatever the integrations now take.
    if (const auto report = core::ParseUntrustedJson(report_text, 32);
        report && report->is_object()) {
        // The same report as an alert's text for a push: bounded, never half a character.
        const auto alert = domain::push::AlertText(*report);
        if (alert.size() > 256 ||
            (!alert.empty() && (static_cast<unsigned char>(alert.back()) & 0xC0) == 0xC0)) {
            Fail("alert text too long or cut in a character", alert);
        }
        world.db.Transaction([&] {
            world.log.Record(
                "node_params_changed",
                "",
                "fuzz-node",
                boost::json::object{{"node_id", "fuzz-node"}, {"params", report->as_object()}}
            );
        });
        world.dispatcher.Plan();
        while (world.dispatcher.Work(checker) >= 0) {
        }
    }
    // Integrations come and go; keep the store small.
    if (world.db.Webhooks().List().size() > 20) {
        for (const auto& row : world.db.Webhooks().List()) {
            if (row.name != "base") {
                world.service.Remove(admin, row.name);
            }
        }
    }
    return 0;
}

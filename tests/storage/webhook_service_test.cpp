// Webhook integrations and their delivery (domain/events) over the SQLite store, with a poster
// the test scripts: the checks of #72-#75 with their codes, the update operations, the event
// log's gate, and the dispatcher — what is queued for whom, signatures, order per node, retries
// with back-off, dead deliveries and their replay, a restart in the middle.
#include "domain/events/webhook_service.hpp"

#include <deque>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/digest.hpp"
#include "domain/events/delivery_dispatcher.hpp"
#include "domain/events/event_log.hpp"
#include "domain/events/webhook_channel.hpp"
#include "domain/rbac/node_scope.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::events {
namespace {

using core::ErrorCode;
using testing::CodeOf;

constexpr const char* kSecret = "0123456789abcdef-secret";
constexpr const char* kParams = "rmaker.event.node_params_changed";
constexpr const char* kConnected = "rmaker.event.node_connected";

// Answers from a script (then `fallback`), and keeps what it was sent.
class ScriptedPoster final : public Poster {
public:
    struct Sent {
        std::string url;
        std::vector<std::pair<std::string, std::string>> headers;
        boost::json::object body;
        std::string raw;
    };

    Result Post(const PostRequest& r) override {
        sent.push_back(Sent{r.url, r.headers, boost::json::parse(r.body).as_object(), r.body});
        if (r.url == failing_url) {
            return Result{503, "", ""};
        }
        if (script.empty()) {
            return Result{fallback, fallback == 0 ? "refused" : "", ""};
        }
        const int status = script.front();
        script.pop_front();
        return Result{status, status == 0 ? "timed out" : "", ""};
    }

    std::string Header(std::size_t i, std::string_view name) const {
        for (const auto& [k, v] : sent.at(i).headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }

    std::deque<int> script;
    int fallback = 200;
    std::string failing_url;  // always answers 503
    std::vector<Sent> sent;
};

WebhookInput Hook(std::string name, std::vector<std::string> events) {
    WebhookInput in;
    in.webhook_name = std::move(name);
    in.url = "http://receiver.example/hook";
    in.secret = kSecret;
    in.events.emplace();
    for (auto& e : events) {
        in.events->push_back(WebhookEventInput{std::move(e), std::nullopt});
    }
    return in;
}

class WebhookServiceTest : public ::testing::Test {
protected:
    WebhookServiceTest() {
        delivery_.max_attempts = 3;
        delivery_.backoff_base = std::chrono::milliseconds(1000);
        delivery_.backoff_cap = std::chrono::milliseconds(4000);
        service_ = std::make_unique<WebhookService>(db_, log_, *sealer_, clock_);
        channel_ = std::make_unique<WebhookChannel>(db_, *service_, filters_);
        dispatcher_ = Dispatcher();
        storage::UserRow u;
        u.user_id = "alice";
        u.user_name = "alice@x.com";
        u.password_hash = "hash";
        u.created_at = 1;
        db_.Users().Insert(u);
        for (const auto* node : {"node-a", "node-b"}) {
            storage::NodeRow n;
            n.node_id = node;
            n.created_at = 1;
            db_.Nodes().Insert(n);
        }
        storage::UserNodeRow m;
        m.user_id = "alice";
        m.node_id = "node-a";
        db_.Nodes().PutMapping(m);
        dispatcher_->Plan();  // the first pass starts at the newest event
    }

    std::unique_ptr<DeliveryDispatcher> Dispatcher() {
        return std::make_unique<DeliveryDispatcher>(
            db_,
            clock_,
            delivery_,
            [] { return std::make_unique<ScriptedPoster>(); },
            std::vector<DeliveryChannel*>{channel_.get()}
        );
    }

    // A params report of `node` as the ingest records it.
    void Params(const std::string& node, int value) {
        db_.Transaction([&] {
            log_.Record(
                "node_params_changed",
                "",
                node,
                boost::json::object{{"node_id", node}, {"params", {{"Light", {{"on", value}}}}}}
            );
        });
    }

    // Worker turns until none is due; returns deliveries made.
    int Drain() {
        int total = 0;
        for (int n; (n = dispatcher_->Work(poster_)) >= 0;) {
            total += n;
        }
        return total;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    std::unique_ptr<crypto::KeySealer> sealer_ =
        crypto::KeySealer::FromKeyForTest(std::string(32, 'w'));
    EventLog log_{db_, clock_};
    EventFilterService filters_{db_, clock_};
    DeliveryConfig delivery_;
    std::unique_ptr<WebhookService> service_;
    std::unique_ptr<WebhookChannel> channel_;
    std::unique_ptr<DeliveryDispatcher> dispatcher_;
    ScriptedPoster poster_;
    auth::AuthContext admin_{"root", "root@x.com", "s", auth::PlatformRole::kAdmin};
};

TEST_F(WebhookServiceTest, BadIntegrationsAreRefusedWithTheirCodesAndNothingIsStored) {
    const auto add = [&](WebhookInput in) { return CodeOf([&] { service_->Add(admin_, in); }); };
    auto in = Hook("h1", {kParams});
    in.webhook_name.reset();
    EXPECT_EQ(add(in), ErrorCode::kWebhookNameMissing);
    EXPECT_EQ(add(Hook("has space", {kParams})), ErrorCode::kWebhookNameInvalid);
    EXPECT_EQ(add(Hook(std::string(65, 'x'), {kParams})), ErrorCode::kWebhookNameInvalid);
    for (const char* url :
         {"ftp://x/y", "http://", "http:///path", "http://user:pw@host/", "https://a b/", ""}) {
        in = Hook("h1", {kParams});
        in.url = url;
        EXPECT_EQ(add(in), ErrorCode::kWebhookUrlInvalid) << url;
    }
    for (const char* secret : {"short", "has a space in it!!", ""}) {
        in = Hook("h1", {kParams});
        in.secret = secret;
        EXPECT_EQ(add(in), ErrorCode::kWebhookSecretInvalid) << secret;
    }
    EXPECT_EQ(add(Hook("h1", {"rmaker.event.made_up"})), ErrorCode::kWebhookEventInvalid);
    EXPECT_EQ(add(Hook("h1", {kParams, kParams})), ErrorCode::kWebhookEventInvalid);
    in = Hook("h1", {kParams});
    in.events->push_back(WebhookEventInput{std::nullopt, 5});
    EXPECT_EQ(add(in), ErrorCode::kWebhookEventInvalid);
    in = Hook("h1", {kParams});
    in.active_timestamp = -1;
    EXPECT_EQ(add(in), ErrorCode::kInvalidBody);
    in = Hook("h1", {kParams});
    in.nodes_list = std::vector<std::string>{""};
    EXPECT_EQ(add(in), ErrorCode::kInvalidBody);
    in = Hook("h1", {});
    in.events = std::vector<WebhookEventInput>(101, WebhookEventInput{kParams, 0});
    EXPECT_EQ(add(in), ErrorCode::kInputTooLarge);
    // An admin whose roles do not reach every node manages no webhook.
    auto scoped = admin_;
    scoped.node_scope = std::make_shared<rbac::NodeScope>();
    EXPECT_EQ(
        CodeOf([&] { service_->Add(scoped, Hook("h1", {kParams})); }), ErrorCode::kNotPermitted
    );
    EXPECT_TRUE(db_.Webhooks().List().empty());
    EXPECT_FALSE(log_.Wanted("node_params_changed"));

    service_->Add(admin_, Hook("h1", {kParams}));
    EXPECT_EQ(add(Hook("h1", {kConnected})), ErrorCode::kWebhookExists);
    // The secret is sealed at rest, bound to the name.
    const auto row = db_.Webhooks().Find("h1");
    ASSERT_TRUE(row);
    EXPECT_EQ(row->sealed_secret.find(kSecret), std::string::npos);
    EXPECT_EQ(service_->SecretOf(*row), kSecret);
}

TEST_F(WebhookServiceTest, UpdateOperationsChangeOnlyTheirMember) {
    auto in = Hook("h1", {kParams});
    in.nodes_list = std::vector<std::string>{"node-a"};
    in.active_timestamp = 100;
    service_->Add(admin_, in);
    const auto one = [&] { return service_->List(admin_, std::string("h1")).at(0); };

    WebhookInput op;
    op.webhook_name = "h1";
    EXPECT_EQ(
        CodeOf([&] { service_->Update(admin_, "update_enabled", op); }),
        ErrorCode::kWebhookFieldMissing
    );
    EXPECT_EQ(
        CodeOf([&] { service_->Update(admin_, "rename", op); }), ErrorCode::kWebhookOperationInvalid
    );
    op.enabled = false;
    op.active_timestamp = 999;  // not this operation's member: ignored
    service_->Update(admin_, "update_enabled", op);
    EXPECT_FALSE(one().enabled);
    EXPECT_EQ(one().active_timestamp, 100);
    EXPECT_FALSE(log_.Wanted("node_params_changed"));  // a disabled integration takes nothing

    op = WebhookInput{};
    op.webhook_name = "h1";
    op.nodes_list = std::vector<std::string>{"node-b", "node-a"};
    service_->Update(admin_, "add_nodes", op);
    EXPECT_EQ(one().nodes, (std::vector<std::string>{"node-a", "node-b"}));
    op.nodes_list = std::vector<std::string>{"node-a"};
    service_->Update(admin_, "remove_nodes", op);
    EXPECT_EQ(one().nodes, (std::vector<std::string>{"node-b"}));

    op = WebhookInput{};
    op.webhook_name = "h1";
    op.events = std::vector<WebhookEventInput>{{kParams, 7}};
    EXPECT_EQ(
        CodeOf([&] { service_->Update(admin_, "add_event", op); }),
        ErrorCode::kWebhookEventInvalid
    );  // listed already
    service_->Update(admin_, "update_event", op);
    EXPECT_EQ(one().events.at(0).event_active_timestamp, 7);
    op.events = std::vector<WebhookEventInput>{{kConnected, 8}};
    EXPECT_EQ(
        CodeOf([&] { service_->Update(admin_, "remove_event", op); }),
        ErrorCode::kWebhookEventInvalid
    );  // not listed
    service_->Update(admin_, "add_event", op);
    EXPECT_EQ(one().events.size(), 2u);
    op.events = std::vector<WebhookEventInput>{{kParams, std::nullopt}};
    service_->Update(admin_, "remove_event", op);
    ASSERT_EQ(one().events.size(), 1u);
    EXPECT_EQ(one().events.at(0).event_name, kConnected);

    op = WebhookInput{};
    op.webhook_name = "h1";
    op.active_timestamp = 555;
    service_->Update(admin_, "update_active_timestamp", op);
    EXPECT_EQ(one().active_timestamp, 555);
    op = WebhookInput{};
    op.webhook_name = "h1";
    op.secret = "another-secret-of-16+";
    op.url = "https://elsewhere.example/x";
    service_->Update(admin_, "update_destination", op);
    EXPECT_EQ(one().url, "https://elsewhere.example/x");
    EXPECT_EQ(service_->SecretOf(*db_.Webhooks().Find("h1")), "another-secret-of-16+");

    op.webhook_name = "nope";
    EXPECT_EQ(
        CodeOf([&] { service_->Update(admin_, "update_destination", op); }),
        ErrorCode::kWebhookNotFound
    );
    EXPECT_EQ(
        CodeOf([&] { service_->List(admin_, std::string("nope")); }), ErrorCode::kWebhookNotFound
    );
    EXPECT_EQ(
        CodeOf([&] { service_->Remove(admin_, std::string("nope")); }), ErrorCode::kWebhookNotFound
    );
    service_->Remove(admin_, std::string("h1"));
    EXPECT_TRUE(service_->List(admin_, std::nullopt).empty());
}

TEST_F(WebhookServiceTest, DeliveriesAreSignedInOrderPerNodeAndOnlyWhatIsAsked) {
    auto in = Hook("h1", {kParams});
    in.nodes_list = std::vector<std::string>{"node-a"};
    service_->Add(admin_, in);
    service_->Add(admin_, Hook("all", {kParams, kConnected}));
    ASSERT_TRUE(log_.Wanted("node_params_changed"));
    EXPECT_FALSE(log_.Wanted("alert"));  // nobody takes alerts: none recorded
    db_.Transaction([&] { log_.Record("alert", "", "node-a", boost::json::object{}); });
    for (int i = 0; i < 3; ++i) {
        Params("node-a", i);
        Params("node-b", 10 + i);
    }
    EXPECT_EQ(dispatcher_->Plan(), 3 + 6);  // h1: node-a's three; all: six
    EXPECT_EQ(dispatcher_->Plan(), 0);      // the cursor moved
    EXPECT_EQ(Drain(), 9);
    ASSERT_EQ(poster_.sent.size(), 9u);
    std::map<std::string, std::vector<std::int64_t>> values;  // webhook/node → values in order
    for (std::size_t i = 0; i < poster_.sent.size(); ++i) {
        const auto& s = poster_.sent[i];
        EXPECT_EQ(s.url, "http://receiver.example/hook");
        EXPECT_EQ(
            poster_.Header(i, "X-Rainmaker-Signature"),
            "sha256=" + crypto::HmacSha256Hex(kSecret, s.raw)
        );
        EXPECT_EQ(poster_.Header(i, "X-Rainmaker-Event"), kParams);
        EXPECT_EQ(s.body.at("event_type").as_string(), kParams);
        const std::string hook(s.body.at("webhook_name").as_string());
        const std::string node(s.body.at("node_id").as_string());
        EXPECT_TRUE(hook == "all" || node == "node-a") << s.raw;
        values[hook + "/" + node].push_back(
            s.body.at("data").at("params").at("Light").at("on").as_int64()
        );
    }
    EXPECT_EQ(values["h1/node-a"], (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(values["all/node-a"], (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(values["all/node-b"], (std::vector<std::int64_t>{10, 11, 12}));
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 0);
}

// Several instances deliver from one store (two dispatchers here): a queue a worker holds is
// sent by no other worker until its lease runs out (that worker's instance died mid-batch); then
// another sends it, once; a worker done with a queue releases it at once.
TEST_F(WebhookServiceTest, AQueueLeasedByAWorkerOfAnotherInstanceWaitsForItsLease) {
    service_->Add(admin_, Hook("h1", {kParams}));
    for (int i = 0; i < 3; ++i) {
        Params("node-a", i);
    }
    EXPECT_EQ(dispatcher_->Plan(), 3);
    auto& store = db_.Webhooks();
    const auto due = store.DueQueues(clock_.NowMilliseconds(), 10);
    ASSERT_EQ(due.size(), 1u);
    const auto& [hook, node] = due[0];
    auto now = clock_.NowMilliseconds();
    // A worker of another instance took it, and died.
    ASSERT_TRUE(store.LeaseQueue(hook, node, "gone", now, now + 60000));
    EXPECT_FALSE(store.LeaseQueue(hook, node, "third", now, now + 60000));
    EXPECT_TRUE(store.LeaseQueue(hook, node, "gone", now, now + 60000));  // its own: renewed
    EXPECT_TRUE(store.DueQueues(now, 10).empty());
    auto other = Dispatcher();
    EXPECT_EQ(other->Work(poster_), -1);
    EXPECT_EQ(dispatcher_->Work(poster_), -1);
    EXPECT_TRUE(poster_.sent.empty());
    clock_.Advance(std::chrono::seconds(61));
    EXPECT_EQ(other->Work(poster_), 3);  // taken over, sent once
    EXPECT_EQ(poster_.sent.size(), 3u);

    // Only the holder ends a lease: the late release of a worker whose lease ran out and was
    // taken over leaves the new holder's.
    Params("node-a", 3);
    EXPECT_EQ(dispatcher_->Plan(), 1);
    now = clock_.NowMilliseconds();
    ASSERT_TRUE(store.LeaseQueue(hook, node, "third", now, now + 60000));
    store.ReleaseQueue(hook, node, "gone");
    EXPECT_FALSE(store.LeaseQueue(hook, node, "fourth", now, now + 60000));
    EXPECT_EQ(dispatcher_->Work(poster_), -1);
    store.ReleaseQueue(hook, node, "third");
    EXPECT_EQ(dispatcher_->Work(poster_), 1);  // released: due at once
    EXPECT_EQ(Drain(), 0);
    EXPECT_EQ(poster_.sent.size(), 4u);
}

TEST_F(WebhookServiceTest, ActiveTimesAndEventFiltersDecideWhatIsQueued) {
    auto in = Hook("h1", {kParams});
    in.active_timestamp = clock_.NowSeconds() + 10;  // not yet
    service_->Add(admin_, in);
    Params("node-a", 1);
    EXPECT_EQ(dispatcher_->Plan(), 0);
    clock_.Advance(std::chrono::seconds(10));
    Params("node-a", 2);
    EXPECT_EQ(dispatcher_->Plan(), 1);

    // A node filter that does not enable this integration (by its name) stops it; the node's
    // primary user's filter counts for node events.
    FilterInput f;
    f.event_type = kParams;
    f.entity_id = "node-a";
    f.entity_type = "Node";
    f.enabled = true;
    f.enabled_for_integrations = std::vector<std::string>{"push"};
    filters_.Add(admin_, FilterScope::kAdmin, f);
    Params("node-a", 3);
    EXPECT_EQ(dispatcher_->Plan(), 0);
    f.enabled_for_integrations = std::vector<std::string>{"push", "h1"};
    filters_.Update(admin_, FilterScope::kAdmin, f);
    f.entity_id = "alice";
    f.entity_type = "User";
    f.enabled = false;
    filters_.Add(admin_, FilterScope::kAdmin, f);
    Params("node-a", 4);
    EXPECT_EQ(dispatcher_->Plan(), 0);  // alice, node-a's primary, turned it off
    Params("node-b", 5);                // node-b has no user: no user filter applies
    EXPECT_EQ(dispatcher_->Plan(), 1);

    // The planner keeps each node's primary user and the filters from pass to pass: a mapping
    // made or removed in between counts at once, also one removed with its user.
    storage::UserNodeRow m;
    m.user_id = "alice";
    m.node_id = "node-b";
    db_.Nodes().PutMapping(m);
    Params("node-b", 6);
    EXPECT_EQ(dispatcher_->Plan(), 0);  // alice is node-b's primary now
    db_.Users().Delete("alice");        // her mappings go with her (a cascade)
    Params("node-b", 7);
    EXPECT_EQ(dispatcher_->Plan(), 1);
}

TEST_F(WebhookServiceTest, FailuresBackOffThenDieAndTheNodeQueueGoesOnUntilReplayed) {
    service_->Add(admin_, Hook("h1", {kParams}));
    Params("node-a", 1);
    Params("node-a", 2);
    dispatcher_->Plan();
    poster_.script = {503};
    EXPECT_EQ(dispatcher_->Work(poster_), 0);  // the first failed: the second waits behind it
    EXPECT_EQ(poster_.sent.size(), 1u);
    EXPECT_EQ(dispatcher_->Work(poster_), -1);  // in back-off (0.5-1 s)
    clock_.Advance(std::chrono::seconds(1));
    poster_.script = {0};  // no answer
    EXPECT_EQ(dispatcher_->Work(poster_), 0);
    clock_.Advance(std::chrono::seconds(1));
    EXPECT_EQ(dispatcher_->Work(poster_), -1);  // 1-2 s now
    clock_.Advance(std::chrono::seconds(1));
    poster_.script = {500};
    EXPECT_EQ(dispatcher_->Work(poster_), 0);  // the third attempt: dead
    EXPECT_EQ(dispatcher_->Work(poster_), 1);  // and the queue goes on at once
    ASSERT_EQ(poster_.sent.size(), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(poster_.sent[i].body.at("data").at("params").at("Light").at("on"), 1);
    }
    EXPECT_EQ(poster_.sent[3].body.at("data").at("params").at("Light").at("on"), 2);
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 0);

    const auto dead = service_->Deliveries(admin_, std::string("h1"), true, 0, 10);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].attempts, 3);
    EXPECT_EQ(dead[0].last_error, "HTTP 500");
    EXPECT_EQ(dead[0].node_id, "node-a");
    EXPECT_EQ(dispatcher_->counters().dead.load(), 1u);
    EXPECT_EQ(
        CodeOf([&] { service_->Replay(admin_, std::string("nope"), {}); }),
        ErrorCode::kWebhookNotFound
    );
    EXPECT_EQ(service_->Replay(admin_, std::string("h1"), {dead[0].id + 100}), 0);
    EXPECT_EQ(service_->Replay(admin_, std::string("h1"), {}), 1);
    EXPECT_EQ(Drain(), 1);
    EXPECT_EQ(poster_.sent.back().body.at("event_id"), dead[0].event_id);
    EXPECT_TRUE(service_->Deliveries(admin_, std::string("h1"), true, 0, 10).empty());
}

TEST_F(WebhookServiceTest, DisabledIntegrationsKeepTheirDeliveriesAndARestartSendsThemAgain) {
    service_->Add(admin_, Hook("h1", {kParams}));
    Params("node-a", 1);
    dispatcher_->Plan();
    WebhookInput off;
    off.webhook_name = "h1";
    off.enabled = false;
    service_->Update(admin_, "update_enabled", off);
    EXPECT_EQ(dispatcher_->Work(poster_), 0);
    EXPECT_TRUE(poster_.sent.empty());
    const auto last = db_.Events().LastId();
    Params("node-a", 2);  // not recorded: nobody takes it now
    EXPECT_EQ(db_.Events().LastId(), last);

    off.enabled = true;
    service_->Update(admin_, "update_enabled", off);
    clock_.Advance(std::chrono::seconds(5));
    // A new dispatcher (a restarted server) sends what is waiting.
    dispatcher_ = Dispatcher();
    poster_.script = {200};
    EXPECT_EQ(Drain(), 1);
    ASSERT_EQ(poster_.sent.size(), 1u);
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 0);

    // Removing an integration removes what it had waiting.
    Params("node-a", 3);
    dispatcher_->Plan();
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 1);
    service_->Remove(admin_, std::string("h1"));
    EXPECT_EQ(db_.Webhooks().CountWaiting(), 0);
    EXPECT_EQ(dispatcher_->Work(poster_), -1);
}

TEST_F(WebhookServiceTest, QueuedNodeEventsGoAndRetentionKeepsWhatIsUnread) {
    service_->Add(admin_, Hook("h1", {kParams}));
    Params("node-a", 1);
    Params("node-a", 2);
    const auto last = db_.Events().LastId();
    // Retention never takes an event the planner has not read.
    clock_.Advance(std::chrono::hours(24 * 365));
    EXPECT_EQ(db_.Events().DeleteBefore(clock_.NowSeconds()), 0);
    EXPECT_EQ(dispatcher_->Plan(), 2);
    // Once queued, nodes' events go, but the newest (ids are never reused).
    const auto left = db_.Events().ListAfter(0, 10);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].id, last);
    Params("node-a", 3);
    EXPECT_EQ(db_.Events().LastId(), last + 1);
    EXPECT_EQ(dispatcher_->Plan(), 1);
}

}  // namespace
}  // namespace rainmaker::domain::events

namespace rainmaker::domain::events {
namespace {

// A destination holding max_waiting_per_destination deliveries is planned no further: its
// events wait in the log, unread (neither copied nor deleted), while another integration goes
// on; once its deliveries drain it reads on from where it stopped, in order.
TEST_F(WebhookServiceTest, AnIntegrationWithEnoughWaitingLeavesItsEventsInTheLogWhileOthersGoOn) {
    delivery_.max_waiting_per_destination = 2;
    dispatcher_ = Dispatcher();
    service_->Add(admin_, Hook("h1", {kParams}));
    for (int i = 0; i < 3; ++i) {
        Params("node-a", i);
    }
    EXPECT_EQ(dispatcher_->Plan(), 3);  // the limit is looked at before a stream reads
    Params("node-a", 3);
    const auto held = db_.Events().LastId();
    EXPECT_EQ(dispatcher_->Plan(), 0);  // h1 holds 3: event 3 stays unread

    clock_.Advance(std::chrono::seconds(1));
    service_->Add(admin_, Hook("h2", {kParams}));  // takes events from its creation on
    Params("node-a", 4);
    EXPECT_EQ(dispatcher_->Plan(), 1);  // h2: event 4; h1 still held
    // Neither planning nor retention takes event 3, which h1 has not read (no longer the newest).
    db_.Events().DeleteBefore(clock_.NowSeconds() + 1);
    const auto left = db_.Events().ListAfter(held - 1, 10);
    ASSERT_EQ(left.size(), 2u);
    EXPECT_EQ(left[0].id, held);
    EXPECT_EQ(Drain(), 4);
    EXPECT_EQ(dispatcher_->Plan(), 2);  // h1 reads on: 3 and 4
    EXPECT_EQ(Drain(), 2);
    EXPECT_EQ(dispatcher_->Plan(), 0);

    std::map<std::string, std::vector<std::int64_t>> values;
    for (const auto& s : poster_.sent) {
        values[std::string(s.body.at("webhook_name").as_string())].push_back(
            s.body.at("data").at("params").at("Light").at("on").as_int64()
        );
    }
    EXPECT_EQ(values["h1"], (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(values["h2"], (std::vector<std::int64_t>{4}));
    // Every stream read them: the nodes' events are gone but the newest.
    EXPECT_EQ(db_.Events().ListAfter(0, 10).size(), 1u);
}

// A webhook disabled while held back still gets, parked, what it had not read when it was
// disabled (as when every event was planned at once); its place in the log goes then.
TEST_F(WebhookServiceTest, AnIntegrationDisabledWhileHeldBackKeepsWhatItHadNotRead) {
    delivery_.max_waiting_per_destination = 2;
    dispatcher_ = Dispatcher();
    service_->Add(admin_, Hook("h1", {kParams}));
    for (int i = 0; i < 3; ++i) {
        Params("node-a", i);
    }
    EXPECT_EQ(dispatcher_->Plan(), 3);
    Params("node-a", 3);
    EXPECT_EQ(dispatcher_->Plan(), 0);  // held back
    WebhookInput off;
    off.webhook_name = "h1";
    off.enabled = false;
    service_->Update(admin_, "update_enabled", off);
    EXPECT_EQ(dispatcher_->Plan(), 1);  // event 3, parked with the others
    EXPECT_EQ(dispatcher_->Plan(), 0);
    EXPECT_TRUE(db_.Events().Cursors("stream:").empty());
    EXPECT_EQ(db_.Webhooks().CountWaitingOf("h1"), 4);

    off.enabled = true;
    service_->Update(admin_, "update_enabled", off);
    clock_.Advance(std::chrono::seconds(5));
    EXPECT_EQ(Drain(), 4);
    std::vector<std::int64_t> values;
    for (const auto& s : poster_.sent) {
        values.push_back(s.body.at("data").at("params").at("Light").at("on").as_int64());
    }
    EXPECT_EQ(values, (std::vector<std::int64_t>{0, 1, 2, 3}));
}

// The same over several passes beside an integration that goes on: the disabled one gets what
// it had not read up to when it stopped, nothing logged after, and the node events it had not
// read stay until it read them; removing an integration removes its place in the log.
TEST_F(WebhookServiceTest, ADisabledIntegrationReadsUpToWhereItStoppedWhileOthersGoOn) {
    delivery_.max_waiting_per_destination = 2;
    dispatcher_ = Dispatcher();
    auto down = Hook("h1", {kParams});
    down.url = "http://down.example/hook";
    poster_.failing_url = *down.url;
    service_->Add(admin_, down);
    service_->Add(admin_, Hook("h2", {kParams}));
    for (int i = 0; i < 3; ++i) {
        Params("node-a", i);
    }
    EXPECT_EQ(dispatcher_->Plan(), 6);
    Drain();  // h2's three; h1's first fails and its queue backs off
    Params("node-a", 3);
    Params("node-a", 4);
    EXPECT_EQ(dispatcher_->Plan(), 2);              // h2's; h1 is held back with 3 waiting
    Drain();                                        // h2's sent; h1's queue backs off
    const auto unread = db_.Events().LastId() - 1;  // event 3, the first h1 has not read

    WebhookInput off;
    off.webhook_name = "h1";
    off.enabled = false;
    service_->Update(admin_, "update_enabled", off);
    Params("node-a", 5);                 // h2 takes it; h1 had stopped
    EXPECT_EQ(dispatcher_->Plan(1), 2);  // h1: event 3; h2: event 5
    // Event 4, which h1 has not read yet (and is not the newest), stays.
    ASSERT_FALSE(db_.Events().ListAfter(unread, 1).empty());
    EXPECT_EQ(db_.Events().ListAfter(unread, 1)[0].id, unread + 1);
    Params("node-a", 6);
    EXPECT_EQ(dispatcher_->Plan(1), 2);  // h1: event 4, its stop; h2: event 6
    EXPECT_EQ(dispatcher_->Plan(1), 0);
    EXPECT_EQ(db_.Events().Cursors("stream:").size(), 1u);  // h2's
    EXPECT_TRUE(db_.Events().Cursors("stop:").empty());

    std::vector<std::int64_t> h1;
    for (const auto& d : db_.Webhooks().ListDeliveries("h1", false, 0, 100)) {
        h1.push_back(
            boost::json::parse(d.body).at("data").at("params").at("Light").at("on").as_int64()
        );
    }
    EXPECT_EQ(h1, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    poster_.sent.clear();
    Drain();
    std::vector<std::int64_t> h2;
    for (const auto& s : poster_.sent) {
        if (s.body.at("webhook_name").as_string() == "h2") {
            h2.push_back(s.body.at("data").at("params").at("Light").at("on").as_int64());
        }
    }
    EXPECT_EQ(h2, (std::vector<std::int64_t>{5, 6}));

    service_->Remove(admin_, std::string("h2"));
    EXPECT_TRUE(db_.Events().Cursors("stream:").empty());
}

}  // namespace
}  // namespace rainmaker::domain::events

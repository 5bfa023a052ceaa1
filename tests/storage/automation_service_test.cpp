// Automations over the SQLite store, no HTTP (domain/automations): the CRUD rules and every
// documented error with nothing stored or changed, and the evaluator driven by real params
// reports through NodeIngest: each check, and/or, runs only on a change to true (again with
// retrigger), the owner's access checked when it runs (no access: skipped and recorded), the
// publish made only after the commit, daylight events at the computed sunrise and sunset with
// a fake clock, and weather against a fake provider (one reading per place, cached).
#include "domain/automations/automation_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/automations/automation_rules.hpp"
#include "domain/automations/automation_runner.hpp"
#include "domain/automations/solar.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/stored_json.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::automations {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using core::ApiError;
using core::ErrorCode;

constexpr const char* kSensor = "sensor";
constexpr const char* kLamp = "lamp";
constexpr const char* kForeign = "foreign";  // Eve's node

// The config of a light; `power` its Power param's properties, `max` Brightness's bound.
std::string Config(
    const std::string& node, const std::string& power = R"("read","write")", int max = 100
) {
    return R"({"node_id":")" + node +
           R"(","info":{"name":"n","type":"Light"},"devices":[{"name":"Light","params":[)"
           R"({"name":"Power","data_type":"bool","properties":[)" +
           power +
           R"(]},)"
           R"({"name":"Brightness","data_type":"int","properties":["read","write"],)"
           R"("bounds":{"min":0,"max":)" +
           std::to_string(max) +
           R"(}},)"
           R"({"name":"Temperature","data_type":"float","properties":["read"]},)"
           R"({"name":"Name","data_type":"string","properties":["read","write"]}]}]})";
}

class RecordingPublisher final : public nodes::NodePublisher {
public:
    bool Publish(std::string_view node_id, std::string_view suffix, std::string_view payload)
        override {
        sent.push_back(
            std::string(node_id) + " " + std::string(suffix) + " " + std::string(payload)
        );
        return up;
    }

    std::vector<std::string> sent;
    bool up = true;
};

class FakeWeather final : public WeatherProvider {
public:
    WeatherReading Current(double latitude, double longitude) override {
        ++calls;
        places.emplace_back(latitude, longitude);
        if (on_call) {
            on_call();
        }
        if (clock != nullptr) {
            clock->Advance(takes);  // a slow provider (or one that hangs until the timeout)
        }
        if (fail) {
            throw std::runtime_error("provider down");
        }
        return reading;
    }

    WeatherReading reading;
    int calls = 0;
    bool fail = false;
    std::vector<std::pair<double, double>> places;
    std::function<void()> on_call;
    testing::FakeClock* clock = nullptr;
    std::chrono::seconds takes{0};
};

// The database, with a hook run before the next transaction begins: what another thread
// would change between a runner's read of the due automations and its run.
class HookedDatabase final : public storage::Database {
public:
    explicit HookedDatabase(storage::Database& db) : db_(db) {}

    storage::UserStore& Users() override { return db_.Users(); }

    storage::SessionStore& Sessions() override { return db_.Sessions(); }

    storage::CodeStore& Codes() override { return db_.Codes(); }

    storage::NodeStore& Nodes() override { return db_.Nodes(); }

    storage::GroupStore& Groups() override { return db_.Groups(); }

    storage::SharingStore& Sharing() override { return db_.Sharing(); }

    storage::EventStore& Events() override { return db_.Events(); }

    storage::JobStore& Jobs() override { return db_.Jobs(); }

    storage::TimeSeriesStore& TimeSeries() override { return db_.TimeSeries(); }

    storage::CommandStore& Commands() override { return db_.Commands(); }

    storage::AutomationStore& Automations() override { return db_.Automations(); }

    storage::PushStore& Push() override { return db_.Push(); }

    storage::OtaImageStore& OtaImages() override { return db_.OtaImages(); }

    storage::OtaUploadStore& OtaUploads() override { return db_.OtaUploads(); }

    storage::OtaJobStore& OtaJobs() override { return db_.OtaJobs(); }

    storage::FileStore& Files() override { return db_.Files(); }

    storage::SigningStore& Signing() override { return db_.Signing(); }

    storage::EventFilterStore& EventFilters() override { return db_.EventFilters(); }

    storage::WebhookStore& Webhooks() override { return db_.Webhooks(); }

    storage::OAuthStore& OAuth() override { return db_.OAuth(); }

    storage::RbacStore& Rbac() override { return db_.Rbac(); }

    storage::TagStore& Tags() override { return db_.Tags(); }

    storage::MatterStore& Matter() override { return db_.Matter(); }

    void Transaction(const std::function<void()>& work) override {
        if (before_transaction) {
            const auto hook = std::move(before_transaction);
            before_transaction = nullptr;
            hook();
        }
        db_.Transaction(work);
    }

    void Snapshot(const std::function<void()>& work) override { db_.Snapshot(work); }

    void WithTimeBudget(
        const core::Clock& clock,
        std::chrono::milliseconds budget,
        const std::function<void()>& work
    ) override {
        db_.WithTimeBudget(clock, budget, work);
    }

    void AfterCommit(std::function<void()> effect) override { db_.AfterCommit(std::move(effect)); }

    void Notify(std::string_view channel, std::string_view payload) override {
        db_.Notify(channel, payload);
    }

    std::uint64_t Listen(
        const std::string& channel,
        std::function<void(std::string_view)> on,
        std::function<void()> on_gap
    ) override {
        return db_.Listen(channel, std::move(on), std::move(on_gap));
    }

    void Unlisten(std::uint64_t id) override { db_.Unlisten(id); }

    std::function<void()> before_transaction;

private:
    storage::Database& db_;
};

// The code an ApiError thrown by `f` carries (0 when nothing is thrown).
template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

class AutomationServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        runner_.RegisterIngest(ingest_);
        for (const auto* user : {"alice", "bob", "eve"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@example.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        for (const auto* node : {kSensor, kLamp, kForeign, "bare"}) {
            storage::NodeRow n;
            n.node_id = node;
            ASSERT_TRUE(db_.Nodes().Insert(n));
            if (std::string(node) != "bare") {
                ASSERT_EQ(
                    ingest_.Handle(node, "config", Config(node)), nodes::IngestOutcome::kApplied
                );
            }
        }
        Map("alice", kSensor);
        Map("alice", kLamp);
        Map("alice", "bare");
        Map("eve", kForeign);
    }

    void Map(
        const std::string& user,
        const std::string& node,
        core::ResourceRole role = core::ResourceRole::kPrimary
    ) {
        storage::UserNodeRow m;
        m.user_id = user;
        m.node_id = node;
        m.role = role;
        m.direct_role = role;
        m.created_at = 1;
        db_.Nodes().PutMapping(m);
    }

    // A valid node_params body: Light.Temperature `check` `value` on the sensor sets the
    // lamp's Power to true.
    static object NodeBody(
        const std::string& name, const std::string& check = ">", double value = 25
    ) {
        return object{
            {"name", name},
            {"node_id", kSensor},
            {"event_type", "node_params"},
            {"events",
             array{object{
                 {"params", object{{"Light", object{{"Temperature", value}}}}}, {"check", check}}}},
            {"actions",
             array{object{
                 {"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    }

    // The service's input from a body (what the HTTP edge hands over).
    static AutomationInput In(const object& body) {
        AutomationInput in;
        const auto text = [&](const char* key) -> std::optional<std::string> {
            const auto* v = body.if_contains(key);
            return v != nullptr && v->is_string()
                       ? std::optional<std::string>(std::string(v->as_string()))
                       : std::nullopt;
        };
        const auto json = [&](const char* key) -> std::optional<value> {
            const auto* v = body.if_contains(key);
            return v != nullptr ? std::optional<value>(*v) : std::nullopt;
        };
        in.name = text("name");
        in.node_id = text("node_id");
        in.event_type = text("event_type");
        in.metadata = json("metadata");
        in.location = json("location");
        in.events = json("events");
        in.event_operator = text("event_operator");
        in.actions = json("actions");
        if (const auto* v = body.if_contains("retrigger")) {
            in.retrigger = v->as_bool();
        }
        if (const auto* v = body.if_contains("enabled")) {
            in.enabled = v->as_bool();
        }
        return in;
    }

    std::string Create(const object& body, const auth::AuthContext& who) {
        return service_.Create(who, In(body));
    }

    std::string Create(const object& body) { return Create(body, alice_); }

    int CreateError(const object& body, const auth::AuthContext* who = nullptr) {
        return CodeOf([&] { Create(body, who != nullptr ? *who : alice_); });
    }

    // What the sensor reports.
    void Report(const std::string& params, const char* node = kSensor) {
        ASSERT_EQ(ingest_.Handle(node, "params/local", params), nodes::IngestOutcome::kApplied);
    }

    std::vector<storage::EventRow> Runs(const std::string& user = "alice") {
        std::vector<storage::EventRow> out;
        for (auto& e : db_.Events().ListForUser(user, 0, 1000)) {
            if (e.event_type == "node_automation_trigger") {
                out.push_back(std::move(e));
            }
        }
        return out;
    }

    std::vector<storage::EventRow> Suppressed(const std::string& user = "alice") {
        std::vector<storage::EventRow> out;
        for (auto& e : db_.Events().ListForUser(user, 0, 1000)) {
            if (e.event_type == "node_automation_suppressed") {
                out.push_back(std::move(e));
            }
        }
        return out;
    }

    // Plays the devices: each params/remote published is reported back by its node (as a
    // device does once it applied the set), until nothing new was sent or `max` were echoed.
    // Returns how many it echoed.
    int Echo(int max = 1000) {
        int echoed = 0;
        while (echoed_ < publisher_.sent.size() && echoed < max) {
            const std::string line = publisher_.sent[echoed_++];
            const auto node = line.substr(0, line.find(' '));
            const auto payload = line.substr(line.find(' ', node.size() + 1) + 1);
            EXPECT_EQ(
                ingest_.Handle(node, "params/local", payload), nodes::IngestOutcome::kApplied
            );
            ++echoed;
        }
        return echoed;
    }

    // A weather automation `name` at the place that sets the lamp's Power.
    static object WeatherBody(const std::string& name, double latitude, double longitude) {
        return object{
            {"name", name},
            {"event_type", "weather"},
            {"location", object{{"latitude", latitude}, {"longitude", longitude}}},
            {"events", array{object{{"params", object{{"temperature", 28}}}, {"check", ">="}}}},
            {"actions",
             array{object{
                 {"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    }

    void SetTime(std::int64_t unix_seconds) {
        clock_.Advance(std::chrono::seconds(unix_seconds - clock_.NowSeconds()));
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    nodes::MappingService mapping_{db_, clock_};
    nodes::NodeIngest ingest_{db_, mapping_, clock_};
    AutomationConfig config_{};
    RecordingPublisher publisher_;
    FakeWeather weather_;
    AutomationService service_{db_, clock_, config_, true};
    AutomationRunner runner_{db_, publisher_, clock_, config_, &weather_};
    auth::AuthContext alice_{"alice", "alice@example.com", "s1"};
    auth::AuthContext bob_{"bob", "bob@example.com", "s2"};
    auth::AuthContext eve_{"eve", "eve@example.com", "s3"};
    const std::string lamp_on_ = std::string(kLamp) + R"( params/remote {"Light":{"Power":true}})";
    std::size_t echoed_ = 0;  // publisher_.sent echoed so far
};

// ---- CRUD

TEST_F(AutomationServiceTest, CreateReadUpdateAndDeleteKeepWhatWasGiven) {
    auto body = NodeBody("Hot");
    body["metadata"] = object{{"room", "kitchen"}, {"icon", 3}};
    body["retrigger"] = true;
    const auto id = Create(body);
    EXPECT_EQ(id.size(), 22u);

    auto a = service_.Get(alice_, id);
    EXPECT_EQ(a.name, "Hot");
    EXPECT_EQ(a.event_type, EventType::kNodeParams);
    EXPECT_EQ(a.node_id, kSensor);
    EXPECT_TRUE(a.enabled);
    EXPECT_TRUE(a.retrigger);
    EXPECT_EQ(a.event_operator, "");
    ASSERT_EQ(a.events.size(), 1u);
    EXPECT_EQ(a.events[0].check, Check::kGt);
    EXPECT_EQ(EventsJson(a.events), body.at("events"));
    EXPECT_EQ(ActionsJson(a.actions), body.at("actions"));
    EXPECT_EQ(*a.metadata, body.at("metadata"));

    // Metadata is overwritten, not merged; the other members stay.
    AutomationInput update;
    update.metadata = object{{"icon", 4}};
    update.name = "Very hot";
    update.enabled = false;
    service_.Update(alice_, id, update);
    a = service_.Get(alice_, id);
    EXPECT_EQ(a.name, "Very hot");
    EXPECT_EQ(*a.metadata, (object{{"icon", 4}}));
    EXPECT_FALSE(a.enabled);
    EXPECT_TRUE(a.retrigger);
    EXPECT_EQ(EventsJson(a.events), body.at("events"));
    // null removes the metadata.
    update = {};
    update.metadata = value(nullptr);
    service_.Update(alice_, id, update);
    EXPECT_FALSE(service_.Get(alice_, id).metadata);

    // Events and actions replaced; action params cast to the node's types (50.0 -> 50).
    update = {};
    update.events = array{
        object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "=="}},
        object{{"params", object{{"Light", object{{"Brightness", 10}}}}}, {"check", "<="}}};
    update.event_operator = "OR";
    update.actions = array{
        object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 50.0}}}}}}};
    service_.Update(alice_, id, update);
    a = service_.Get(alice_, id);
    EXPECT_EQ(a.events.size(), 2u);
    EXPECT_EQ(a.event_operator, "or");
    EXPECT_EQ(
        boost::json::serialize(ActionsJson(a.actions)),
        R"([{"node_id":"lamp","params":{"Light":{"Brightness":50}}}])"
    );

    service_.Delete(alice_, id);
    EXPECT_EQ(CodeOf([&] { service_.Get(alice_, id); }), 127012);
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, id); }), 127012);
}

TEST_F(AutomationServiceTest, LocationAutomationsKeepTheirPlaceAsGiven) {
    const object body{
        {"name", "Porch at dusk"},
        {"event_type", "daylight"},
        {"location", object{{"latitude", "18.5204"}, {"longitude", "73.8567"}}},
        {"events", array{object{{"params", object{{"sunset", true}}}, {"check", "=="}}}},
        {"actions",
         array{
             object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    const auto id = Create(body);
    const auto a = service_.Get(alice_, id);
    ASSERT_TRUE(a.location);
    EXPECT_DOUBLE_EQ(a.location->latitude, 18.5204);
    EXPECT_DOUBLE_EQ(a.location->longitude, 73.8567);
    EXPECT_EQ(a.location->given, body.at("location"));  // strings stay strings
    EXPECT_TRUE(a.node_id.empty());
    // Its next sunset is stored, after now.
    const auto row = db_.Automations().Find("alice", id);
    EXPECT_GT(row->next_run_at, clock_.NowSeconds());
    EXPECT_LT(row->next_run_at, clock_.NowSeconds() + 86400);

    // Weather: numbers too, and a weather condition.
    const object weather{
        {"name", "Rain"},
        {"event_type", "weather"},
        {"location", object{{"latitude", -33.86}, {"longitude", 151.2}}},
        {"events",
         array{
             object{{"params", object{{"weather_condition", "Rain"}}}, {"check", "=="}},
             object{{"params", object{{"humidity", 80}}}, {"check", ">="}}}},
        {"event_operator", "and"},
        {"actions", body.at("actions")}};
    const auto w = service_.Get(alice_, Create(weather));
    EXPECT_EQ(w.event_type, EventType::kWeather);
    EXPECT_EQ(w.events.size(), 2u);
}

TEST_F(AutomationServiceTest, CreateRefusesEachDocumentedErrorAndStoresNothing) {
    const auto with = [](object body, const char* key, value v) {
        body[key] = std::move(v);
        return body;
    };
    const auto without = [](object body, const char* key) {
        body.erase(key);
        return body;
    };
    const auto events = [&](array list) { return with(NodeBody("x"), "events", std::move(list)); };
    const auto event = [](object params, const char* check) {
        return object{{"params", std::move(params)}, {"check", check}};
    };
    const auto temp = [](value v) {
        return object{{"Light", object{{"Temperature", std::move(v)}}}};
    };
    const object daylight{
        {"name", "d"},
        {"event_type", "daylight"},
        {"location", object{{"latitude", 10}, {"longitude", 10}}},
        {"events", array{event(object{{"sunrise", true}}, "==")}},
        {"actions", NodeBody("x").at("actions")}};
    const object weather = with(
        with(daylight, "event_type", "weather"),
        "events",
        array{event(object{{"temperature", 30}}, ">")}
    );
    array six;
    for (int i = 0; i < 6; ++i) {
        six.push_back(event(temp(i), ">"));
    }
    array eleven;
    for (int i = 0; i < 11; ++i) {
        eleven.push_back(NodeBody("x").at("actions").at(0));
    }
    const std::vector<std::pair<object, int>> cases = {
        {without(NodeBody("x"), "name"), 127001},
        {with(NodeBody("x"), "name", ""), 127011},
        {with(NodeBody("x"), "name", boost::json::string(std::string(257, 'n'))), 127011},
        {without(NodeBody("x"), "event_type"), 127019},
        {with(NodeBody("x"), "event_type", "geofence"), 127019},
        {without(NodeBody("x"), "node_id"), 100009},
        {with(NodeBody("x"), "location", object{{"latitude", 1}, {"longitude", 1}}), 127021},
        {with(NodeBody("x"), "node_id", kForeign), 127018},
        {with(NodeBody("x"), "node_id", "no-such-node"), 127018},
        {without(NodeBody("x"), "events"), 127002},
        {events(array{}), 127002},
        {events(six), 127015},
        {events(array{event(temp(1), "=~")}), 127017},
        {events(array{object{{"params", temp(1)}}}), 127017},
        {events(array{event(object{{"Light", object{{"Humidity", 1}}}}, ">")}), 127023},
        {events(array{event(object{{"Fan", object{{"Speed", 1}}}}, "==")}), 127023},
        {events(array{event(temp("hot"), ">")}), 127023},
        {events(array{event(object{{"Light", object{{"Power", 1}}}}, "==")}), 127023},
        {events(array{event(object{{"Light", object{{"Name", "x"}}}}, "<")}), 127023},
        {events(array{event(object{{"Light", 5}}, "==")}), 127023},
        {events(array{event(temp(1), ">"), event(temp(2), "<")}), 127013},
        {with(events(array{event(temp(1), ">"), event(temp(2), "<")}), "event_operator", "xor"),
         127013},
        {with(NodeBody("x"), "event_operator", "xor"), 127029},
        {without(NodeBody("x"), "actions"), 127003},
        {with(NodeBody("x"), "actions", array{}), 127003},
        {with(NodeBody("x"), "actions", eleven), 127014},
        {with(
             NodeBody("x"),
             "actions",
             array{object{
                 {"node_id", kForeign}, {"params", object{{"Light", object{{"Power", true}}}}}}}
         ),
         127018},
        {with(
             NodeBody("x"),
             "actions",
             array{object{
                 {"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 101}}}}}}}
         ),
         100006},
        {with(
             NodeBody("x"),
             "actions",
             array{object{
                 {"node_id", kLamp}, {"params", object{{"Light", object{{"Temperature", 1}}}}}}}
         ),
         100006},
        {with(NodeBody("x"), "actions", array{object{{"node_id", kLamp}}}), 100006},
        {with(
             NodeBody("x"),
             "actions",
             array{object{
                 {"node_id", "bare"}, {"params", object{{"Light", object{{"Power", true}}}}}}}
         ),
         103002},
        {with(daylight, "node_id", kSensor), 127022},
        {without(daylight, "location"), 127020},
        {with(daylight, "location", object{{"latitude", 91}, {"longitude", 0}}), 127021},
        {with(daylight, "location", object{{"latitude", 0}, {"longitude", -180.5}}), 127021},
        {with(daylight, "location", object{{"latitude", "north"}, {"longitude", 0}}), 127021},
        {with(daylight, "location", object{{"latitude", 1}}), 127021},
        {with(daylight, "events", array{event(object{{"noon", true}}, "==")}), 127023},
        {with(daylight, "events", array{event(object{{"sunset", true}}, ">")}), 127023},
        {with(
             with(
                 daylight,
                 "events",
                 array{
                     event(object{{"sunrise", true}}, "=="), event(object{{"sunset", true}}, "==")}
             ),
             "event_operator",
             "and"
         ),
         127029},
        {with(weather, "events", array{event(object{{"temperature", "warm"}}, ">")}), 127023},
        {with(weather, "events", array{event(object{{"weather_condition", "Sunny"}}, "==")}),
         127023},
        {with(weather, "events", array{event(object{{"weather_condition", "Rain"}}, ">")}), 127023},
        {with(
             with(
                 weather,
                 "events",
                 array{
                     event(object{{"weather_condition", "Rain"}}, "=="),
                     event(object{{"weather_condition", "Snow"}}, "==")}
             ),
             "event_operator",
             "or"
         ),
         127026},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(CreateError(cases[i].first), cases[i].second)
            << "case " << i << ": " << boost::json::serialize(cases[i].first);
    }
    // Nothing of it was stored.
    EXPECT_EQ(CodeOf([&] { service_.List(alice_, "", "", std::nullopt); }), 127016);

    // A name is unique per user (another user may use it); 256 characters, not bytes.
    Create(NodeBody("Mine"));
    EXPECT_EQ(CreateError(NodeBody("Mine")), 127010);
    Map("bob", kSensor, core::ResourceRole::kSecondary);
    Map("bob", kLamp, core::ResourceRole::kSecondary);
    EXPECT_EQ(CreateError(NodeBody("Mine"), &bob_), 0);  // a secondary may automate too
    std::string wide;
    for (int i = 0; i < 256; ++i) {
        wide += "\xc3\xa9";  // é: 512 bytes, 256 characters
    }
    EXPECT_EQ(CreateError(NodeBody(wide)), 0);
    EXPECT_EQ(CreateError(NodeBody(wide + "e")), 127011);

    // Weather automations need a provider: a server without one refuses them (124021).
    AutomationService no_weather{db_, clock_, config_, false};
    EXPECT_EQ(CodeOf([&] { no_weather.Create(alice_, In(weather)); }), 124021);
    EXPECT_EQ(CodeOf([&] { no_weather.Create(alice_, In(with(daylight, "name", "dawn"))); }), 0);
}

TEST_F(AutomationServiceTest, AUserHoldsAtMostTheConfiguredNumber) {
    AutomationConfig small;
    small.max_per_user = 2;
    AutomationService limited{db_, clock_, small, true};
    limited.Create(alice_, In(NodeBody("a")));
    limited.Create(alice_, In(NodeBody("b")));
    EXPECT_EQ(CodeOf([&] { limited.Create(alice_, In(NodeBody("c"))); }), 100070);
    EXPECT_EQ(service_.List(alice_, "", "", std::nullopt).automations.size(), 2u);
}

TEST_F(AutomationServiceTest, UpdateRefusesEachDocumentedErrorAndChangesNothing) {
    const auto id = Create(NodeBody("Hot"));
    Create(NodeBody("Taken"));
    const auto before = boost::json::serialize(EventsJson(service_.Get(alice_, id).events));
    const auto row_before = db_.Automations().Find("alice", id);

    const auto update = [&](const std::function<void(AutomationInput&)>& set,
                            const auth::AuthContext* who = nullptr,
                            std::string automation_id = {}) {
        AutomationInput in;
        set(in);
        return CodeOf([&] {
            service_.Update(
                who != nullptr ? *who : alice_, automation_id.empty() ? id : automation_id, in
            );
        });
    };
    EXPECT_EQ(CodeOf([&] { service_.Update(alice_, "", AutomationInput{}); }), 127005);
    EXPECT_EQ(update([](auto&) {}), 127009);
    EXPECT_EQ(update([](auto& in) { in.name = "x"; }, &eve_), 127012);
    EXPECT_EQ(update([](auto& in) { in.name = "x"; }, nullptr, "AAAAAAAAAAAAAAAAAAAAAA"), 127012);
    EXPECT_EQ(update([](auto& in) { in.name = "Taken"; }), 127010);
    EXPECT_EQ(update([](auto& in) { in.name = ""; }), 127011);
    EXPECT_EQ(update([](auto& in) { in.node_id = kForeign; }), 127018);
    EXPECT_EQ(
        update([](auto& in) {
            in.location = object{{"latitude", 1}, {"longitude", 1}};
        }),
        127021
    );
    EXPECT_EQ(
        update([](auto& in) {
            in.events = array{
                object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "=="}},
                object{{"params", object{{"Light", object{{"Power", false}}}}}, {"check", "=="}}};
        }),
        127013
    );
    EXPECT_EQ(update([](auto& in) { in.event_operator = "nand"; }), 127029);
    EXPECT_EQ(
        update([](auto& in) {
            in.events = array{
                object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "!!"}}};
        }),
        127017
    );
    EXPECT_EQ(update([](auto& in) { in.actions = array{}; }), 127003);
    EXPECT_EQ(
        update([](auto& in) {
            in.actions = array{object{
                {"node_id", kForeign}, {"params", object{{"Light", object{{"Power", true}}}}}}};
        }),
        127018
    );
    // A refused update changed nothing, even the members it gave that were valid.
    EXPECT_EQ(
        update([](auto& in) {
            in.name = "Renamed";
            in.actions = array{};
        }),
        127003
    );
    const auto row_after = db_.Automations().Find("alice", id);
    EXPECT_EQ(row_after->name, row_before->name);
    EXPECT_EQ(row_after->events, row_before->events);
    EXPECT_EQ(row_after->actions, row_before->actions);
    EXPECT_EQ(row_after->updated_at, row_before->updated_at);
    EXPECT_EQ(boost::json::serialize(EventsJson(service_.Get(alice_, id).events)), before);
    // Deleting someone else's automation is "does not exist" and leaves it.
    EXPECT_EQ(CodeOf([&] { service_.Delete(eve_, id); }), 127012);
    EXPECT_EQ(CodeOf([&] { service_.Delete(alice_, ""); }), 127005);
    EXPECT_EQ(service_.Get(alice_, id).name, "Hot");
}

TEST_F(AutomationServiceTest, ListPagesByIdFiltersByNodeAndShowsOnlyTheCallersOwn) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(Create(NodeBody("a" + std::to_string(i))));
    }
    // One that watches the lamp.
    auto lamp = NodeBody("lamp watcher");
    lamp["node_id"] = kLamp;
    ids.push_back(Create(lamp));
    std::sort(ids.begin(), ids.end());

    std::vector<std::string> seen;
    std::string start;
    for (int pages = 0; pages < 10; ++pages) {
        const auto page = service_.List(alice_, "", start, 2);
        EXPECT_LE(page.automations.size(), 2u);
        for (const auto& a : page.automations) {
            seen.push_back(a.automation_id);
        }
        if (!page.next_id) {
            break;
        }
        start = *page.next_id;
    }
    EXPECT_EQ(seen, ids);
    EXPECT_EQ(service_.List(alice_, "", "", std::nullopt).automations.size(), 6u);  // default 10
    const auto watching = service_.List(alice_, kLamp, "", std::nullopt);
    ASSERT_EQ(watching.automations.size(), 1u);
    EXPECT_EQ(watching.automations[0].name, "lamp watcher");

    EXPECT_EQ(CodeOf([&] { service_.List(eve_, "", "", std::nullopt); }), 127016);
    EXPECT_EQ(CodeOf([&] { service_.List(eve_, kSensor, "", std::nullopt); }), 127016);
    EXPECT_EQ(CodeOf([&] { service_.Get(eve_, ids[0]); }), 127012);
    EXPECT_EQ(CodeOf([&] { service_.List(alice_, "", "not-an-id", std::nullopt); }), 105043);
    EXPECT_EQ(CodeOf([&] { service_.List(alice_, "", "", 0); }), 100021);
    EXPECT_EQ(
        CodeOf([&] { service_.List(alice_, "", "zzzzzzzzzzzzzzzzzzzzzz", std::nullopt); }), 127016
    );
}

// ---- the evaluator

TEST(AutomationRules, EachCheckComparesAsDocumented) {
    const value five = 5;
    const value five_double = 5.0;
    const value six = 6.5;
    const value on = true;
    const value text = "a";

    const struct {
        const value* actual;
        Check check;
        value expected;
        bool holds;
    } cases[] = {
        {&five, Check::kEq, 5, true},        {&five, Check::kEq, 5.0, true},
        {&five_double, Check::kEq, 5, true}, {&five, Check::kNe, 5, false},
        {&five, Check::kNe, 4, true},        {&five, Check::kLt, 6, true},
        {&five, Check::kLt, 5, false},       {&five, Check::kLe, 5, true},
        {&five, Check::kLe, 4.9, false},     {&six, Check::kGt, 6, true},
        {&six, Check::kGt, 6.5, false},      {&six, Check::kGe, 6.5, true},
        {&six, Check::kGe, 7, false},        {&on, Check::kEq, true, true},
        {&on, Check::kNe, true, false},      {&on, Check::kNe, false, true},
        {&on, Check::kGt, false, false},     {&text, Check::kEq, "a", true},
        {&text, Check::kNe, "b", true},      {&text, Check::kLt, "b", false},
        {&on, Check::kEq, 1, false},         {&text, Check::kNe, 1, true},
        {nullptr, Check::kEq, 5, false},     {nullptr, Check::kNe, 5, false},
    };

    for (const auto& c : cases) {
        EXPECT_EQ(Compare(c.actual, c.check, c.expected), c.holds)
            << (c.actual != nullptr ? boost::json::serialize(*c.actual) : "missing") << " "
            << CheckName(c.check) << " " << boost::json::serialize(c.expected);
    }
}

TEST_F(AutomationServiceTest, RunsOnceEachTimeTheEventsTurnTrue) {
    const auto id = Create(NodeBody("Hot"));
    Report(R"({"Light":{"Temperature":20}})");
    EXPECT_TRUE(publisher_.sent.empty());
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_EQ(publisher_.sent, std::vector<std::string>{lamp_on_});
    Report(R"({"Light":{"Temperature":31}})");  // still true: no second run
    Report(R"({"Light":{"Temperature":25}})");  // 25 > 25 is false
    EXPECT_EQ(publisher_.sent.size(), 1u);
    Report(R"({"Light":{"Temperature":26.5}})");
    EXPECT_EQ(publisher_.sent.size(), 2u);
    // A report of other params leaves it alone (the stored temperature still holds).
    Report(R"({"Light":{"Brightness":3}})");
    EXPECT_EQ(publisher_.sent.size(), 2u);

    // Each run is in the event log with what its action did.
    const auto runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    const auto event = ParseObject(runs[0].payload);
    EXPECT_EQ(event.at("automation_id"), value(id));
    EXPECT_EQ(event.at("automation_name"), "Hot");
    EXPECT_EQ(event.at("trigger").at("params"), (object{{"Light", object{{"Temperature", 30}}}}));
    EXPECT_EQ(event.at("actions").at(0).at("status"), "sent");
    EXPECT_EQ(event.at("actions").at(0).at("node_id"), kLamp);
    EXPECT_EQ(runner_.counters().runs, 2u);
    EXPECT_EQ(runner_.counters().actions_sent, 2u);
}

TEST_F(AutomationServiceTest, RetriggerRunsOnEveryReportWhileTheEventsHold) {
    auto body = NodeBody("Hot again");
    body["retrigger"] = true;
    Create(body);
    Report(R"({"Light":{"Temperature":30}})");
    Report(R"({"Light":{"Temperature":31}})");
    Report(R"({"Light":{"Temperature":32}})");
    EXPECT_EQ(publisher_.sent.size(), 3u);
    Report(R"({"Light":{"Brightness":1}})");  // not a param the events read
    Report(R"({"Light":{"Temperature":10}})");
    EXPECT_EQ(publisher_.sent.size(), 3u);
    EXPECT_EQ(Runs().size(), 3u);
}

TEST_F(AutomationServiceTest, AndNeedsEveryEventOrAnyOne) {
    const auto events = array{
        object{{"params", object{{"Light", object{{"Temperature", 25}}}}}, {"check", ">"}},
        object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "=="}}};
    auto both = NodeBody("both");
    both["events"] = events;
    both["event_operator"] = "and";
    auto either = NodeBody("either");
    either["events"] = events;
    either["event_operator"] = "or";
    either["actions"] =
        array{object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 7}}}}}}};
    Create(both);
    Create(either);
    const std::string dim = std::string(kLamp) + R"( params/remote {"Light":{"Brightness":7}})";

    Report(R"({"Light":{"Temperature":30,"Power":false}})");
    EXPECT_EQ(publisher_.sent, std::vector<std::string>{dim});  // or: one holds
    Report(R"({"Light":{"Power":true}})");
    EXPECT_EQ(publisher_.sent, (std::vector<std::string>{dim, lamp_on_}));  // and: both now
    Report(R"({"Light":{"Temperature":20}})");  // and turns false, or still holds
    Report(R"({"Light":{"Power":false}})");     // or turns false
    EXPECT_EQ(publisher_.sent.size(), 2u);
    Report(R"({"Light":{"Temperature":40,"Power":true}})");  // both turn true together
    EXPECT_EQ(publisher_.sent.size(), 4u);
}

TEST_F(AutomationServiceTest, ActionsOfANodeTheOwnerLostAreSkippedAndRecorded) {
    auto body = NodeBody("Two lamps");
    body["actions"] = array{
        object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}},
        object{{"node_id", kSensor}, {"params", object{{"Light", object{{"Name", "hot"}}}}}}};
    Create(body);
    db_.Nodes().DeleteMapping("alice", kLamp);
    Report(R"({"Light":{"Temperature":30}})");
    ASSERT_EQ(publisher_.sent.size(), 1u);  // the sensor's action only
    EXPECT_EQ(
        publisher_.sent[0], std::string(kSensor) + R"( params/remote {"Light":{"Name":"hot"}})"
    );
    auto runs = Runs();
    ASSERT_EQ(runs.size(), 1u);
    auto actions = ParseObject(runs[0].payload).at("actions").as_array();
    EXPECT_EQ(actions.at(0).at("status"), "skipped");
    EXPECT_EQ(actions.at(0).at("node_id"), kLamp);
    EXPECT_EQ(actions.at(1).at("status"), "sent");
    EXPECT_EQ(runner_.counters().actions_skipped, 1u);

    // Without the watched node nothing is sent at all (and that is recorded too).
    db_.Nodes().DeleteMapping("alice", kSensor);
    Report(R"({"Light":{"Temperature":10}})");
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_EQ(publisher_.sent.size(), 1u);
    runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    actions = ParseObject(runs[1].payload).at("actions").as_array();
    EXPECT_EQ(actions.at(0).at("status"), "skipped");
    EXPECT_EQ(actions.at(1).at("status"), "skipped");
    // What the node reported is not Alice's to read any more: the event says only that the
    // run was skipped.
    const auto trigger = ParseObject(runs[1].payload).at("trigger").as_object();
    EXPECT_FALSE(trigger.contains("params")) << runs[1].payload;
    EXPECT_EQ(trigger.at("skipped"), true);
    EXPECT_EQ(trigger.at("node_id"), kSensor);
    EXPECT_EQ(runs[1].payload.find("Temperature"), std::string::npos) << runs[1].payload;
}

TEST_F(AutomationServiceTest, DisabledAutomationsWaitAndRunAgainAfterBeingEnabled) {
    auto body = NodeBody("Later");
    body["enabled"] = false;
    const auto id = Create(body);
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_TRUE(publisher_.sent.empty());
    AutomationInput enable;
    enable.enabled = true;
    service_.Update(alice_, id, enable);
    Report(R"({"Light":{"Temperature":31}})");  // evaluated from "false" again: runs
    EXPECT_EQ(publisher_.sent.size(), 1u);
    // Changing the events re-arms it too.
    AutomationInput events;
    events.events =
        array{object{{"params", object{{"Light", object{{"Temperature", 20}}}}}, {"check", ">"}}};
    service_.Update(alice_, id, events);
    Report(R"({"Light":{"Temperature":32}})");
    EXPECT_EQ(publisher_.sent.size(), 2u);
    service_.Delete(alice_, id);
    Report(R"({"Light":{"Temperature":1}})");
    Report(R"({"Light":{"Temperature":33}})");
    EXPECT_EQ(publisher_.sent.size(), 2u);
}

TEST_F(AutomationServiceTest, NothingIsPublishedForATransactionThatRolledBack) {
    Create(NodeBody("Hot"));
    const object stored{{"Light", object{{"Temperature", 30}}}};
    EXPECT_THROW(
        db_.Transaction([&] {
            runner_.OnParamsStored(kSensor, stored, stored);
            throw std::runtime_error("the batch failed");
        }),
        std::runtime_error
    );
    EXPECT_TRUE(publisher_.sent.empty());
    EXPECT_TRUE(Runs().empty());
    EXPECT_FALSE(db_.Automations().List("alice", "", "", 1).at(0).last_state);
    // Inside a transaction the publish waits for the commit.
    db_.Transaction([&] {
        runner_.OnParamsStored(kSensor, stored, stored);
        EXPECT_TRUE(publisher_.sent.empty());
    });
    EXPECT_EQ(publisher_.sent, std::vector<std::string>{lamp_on_});
    // A link that is down is counted.
    publisher_.up = false;
    db_.Transaction([&] {
        runner_.OnParamsStored(
            kSensor,
            object{{"Light", object{{"Temperature", 1}}}},
            object{{"Light", object{{"Temperature", 1}}}}
        );
    });
    db_.Transaction([&] { runner_.OnParamsStored(kSensor, stored, stored); });
    EXPECT_EQ(runner_.counters().publish_failures, 1u);
}

// ---- daylight, with a fake clock

TEST_F(AutomationServiceTest, DaylightRunsAtEachComputedSunriseAndSunsetOnce) {
    // Washington, DC on 20 March 2002 (USNO: rise 6:12, set 18:21 EST); 00:00 EST is 05:00 UTC.
    constexpr double kLat = 38.9;
    constexpr double kLon = -77.0;
    constexpr std::int64_t kMidnight = 1016582400 + 5 * 3600;  // 2002-03-20 00:00 EST
    SetTime(kMidnight);
    const object body{
        {"name", "Dawn and dusk"},
        {"event_type", "daylight"},
        {"location", object{{"latitude", kLat}, {"longitude", kLon}}},
        {"events",
         array{
             object{{"params", object{{"sunrise", true}}}, {"check", "=="}},
             object{{"params", object{{"sunset", true}}}, {"check", "=="}}}},
        {"event_operator", "or"},
        {"actions",
         array{
             object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    Create(body);
    const auto sunrise = SunEventOn(kMidnight / 86400, kLat, kLon, SunEventKind::kSunrise).value();
    const auto sunset = SunEventOn(kMidnight / 86400, kLat, kLon, SunEventKind::kSunset).value();
    EXPECT_NEAR(static_cast<double>(sunrise), kMidnight + (6 * 60 + 12) * 60.0, 120.0);

    EXPECT_EQ(runner_.RunDaylight(), 0);
    SetTime(sunrise - 1);
    EXPECT_EQ(runner_.RunDaylight(), 0);
    SetTime(sunrise + 20);  // the scheduler looks every daylight_check seconds
    EXPECT_EQ(runner_.RunDaylight(), 1);
    EXPECT_EQ(publisher_.sent, std::vector<std::string>{lamp_on_});
    EXPECT_EQ(runner_.RunDaylight(), 0);  // once per sunrise
    SetTime(sunset + 5);
    EXPECT_EQ(runner_.RunDaylight(), 1);
    auto runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(ParseObject(runs[0].payload).at("trigger").at("daylight"), "sunrise");
    EXPECT_EQ(ParseObject(runs[1].payload).at("trigger").at("daylight"), "sunset");
    EXPECT_EQ(ParseObject(runs[1].payload).at("trigger").at("at"), sunset);

    // Down for two days: the sunrises missed by more than the grace are skipped, not replayed,
    // and the next one is waited for.
    SetTime(sunset + 2 * 86400);
    EXPECT_EQ(runner_.RunDaylight(), 0);
    EXPECT_EQ(runner_.counters().daylight_missed, 1u);
    EXPECT_EQ(publisher_.sent.size(), 2u);
    const auto next = db_.Automations().List("alice", "", "", 1).at(0).next_run_at;
    EXPECT_GT(next, clock_.NowSeconds());
    EXPECT_LT(next, clock_.NowSeconds() + 86400);
    SetTime(next + 1);
    EXPECT_EQ(runner_.RunDaylight(), 1);

    // A disabled daylight automation waits for nothing.
    AutomationInput off;
    off.enabled = false;
    service_.Update(alice_, db_.Automations().List("alice", "", "", 1).at(0).automation_id, off);
    EXPECT_EQ(db_.Automations().List("alice", "", "", 1).at(0).next_run_at, 0);
    SetTime(clock_.NowSeconds() + 2 * 86400);
    EXPECT_EQ(runner_.RunDaylight(), 0);
}

// ---- weather, with a fake provider

TEST_F(AutomationServiceTest, WeatherRunsWhenItsEventsTurnTrueWithOneReadingPerPlace) {
    const auto lamp_action =
        array{object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}};
    const object hot{
        {"name", "Hot out"},
        {"event_type", "weather"},
        {"location", object{{"latitude", "48.8566"}, {"longitude", "2.3522"}}},
        {"events", array{object{{"params", object{{"temperature", 28}}}, {"check", ">="}}}},
        {"actions", lamp_action}};
    object rain = hot;
    rain["name"] = "Rain";
    rain["location"] = object{{"latitude", 48.8567}, {"longitude", 2.3521}};  // next door
    rain["events"] =
        array{object{{"params", object{{"weather_condition", "Rain"}}}, {"check", "=="}}};
    rain["actions"] =
        array{object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 0}}}}}}};
    Create(hot);
    Create(rain);

    weather_.reading.temperature = 20;
    weather_.reading.weather_condition = "Clear";
    EXPECT_EQ(runner_.PollWeather(), 0);
    EXPECT_EQ(weather_.calls, 1);  // one place (0.01° apart share a reading)
    // The provider is asked for the rounded place, not the automation's own coordinates.
    EXPECT_DOUBLE_EQ(weather_.places.at(0).first, 48.86);
    EXPECT_DOUBLE_EQ(weather_.places.at(0).second, 2.35);

    weather_.reading.temperature = 29;
    EXPECT_EQ(runner_.PollWeather(), 0);  // still the cached reading
    EXPECT_EQ(weather_.calls, 1);
    clock_.Advance(config_.weather_cache);
    EXPECT_EQ(runner_.PollWeather(), 1);
    EXPECT_EQ(publisher_.sent, std::vector<std::string>{lamp_on_});
    EXPECT_EQ(weather_.calls, 2);

    clock_.Advance(config_.weather_cache);
    weather_.reading.weather_condition = "Rain";
    EXPECT_EQ(runner_.PollWeather(), 1);  // hot still holds: only the rain one runs
    EXPECT_EQ(publisher_.sent.size(), 2u);
    EXPECT_EQ(
        publisher_.sent[1], std::string(kLamp) + R"( params/remote {"Light":{"Brightness":0}})"
    );

    // A provider that fails changes nothing and is counted.
    clock_.Advance(config_.weather_cache);
    weather_.fail = true;
    EXPECT_EQ(runner_.PollWeather(), 0);
    EXPECT_GE(runner_.counters().weather_failures, 1u);
    clock_.Advance(config_.weather_cache);
    weather_.fail = false;
    weather_.reading = WeatherReading{};  // nothing known: nothing holds
    EXPECT_EQ(runner_.PollWeather(), 0);
    weather_.reading.temperature = 30;
    weather_.reading.weather_condition = "Rain";
    clock_.Advance(config_.weather_cache);
    EXPECT_EQ(runner_.PollWeather(), 2);  // both turned true again
    EXPECT_EQ(Runs().size(), 4u);
    EXPECT_EQ(ParseObject(Runs()[0].payload).at("trigger").at("weather").at("temperature"), 29.0);
}

TEST_F(AutomationServiceTest, WeatherWithoutAProviderNeverRuns) {
    AutomationRunner blind{db_, publisher_, clock_, config_, nullptr};
    const object hot{
        {"name", "Hot out"},
        {"event_type", "weather"},
        {"location", object{{"latitude", 1}, {"longitude", 1}}},
        {"events", array{object{{"params", object{{"temperature", 28}}}, {"check", ">="}}}},
        {"actions",
         array{
             object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    Create(hot);
    EXPECT_EQ(blind.PollWeather(), 0);
    EXPECT_EQ(weather_.calls, 0);
}

// ---- checked again when they run

TEST_F(AutomationServiceTest, ActionsAreCheckedAgainstTheNodesConfigWhenTheyRun) {
    auto body = NodeBody("Three actions");
    body["actions"] = array{
        object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}},
        object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 50}}}}}},
        object{{"node_id", kSensor}, {"params", object{{"Light", object{{"Name", "hot"}}}}}}};
    Create(body);
    // The lamp's new firmware makes Power read-only and Brightness at most 40: a REST set of
    // either is refused now, so the automation's are skipped too.
    ASSERT_EQ(
        ingest_.Handle(kLamp, "config", Config(kLamp, R"("read")", 40)),
        nodes::IngestOutcome::kApplied
    );
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_EQ(
        publisher_.sent,
        std::vector<std::string>{
            std::string(kSensor) + R"( params/remote {"Light":{"Name":"hot"}})"}
    );
    auto runs = Runs();
    ASSERT_EQ(runs.size(), 1u);
    auto actions = ParseObject(runs[0].payload).at("actions").as_array();
    for (int i : {0, 1}) {
        EXPECT_EQ(actions.at(i).at("status"), "skipped");
        EXPECT_TRUE(actions.at(i).at("reason").as_string().starts_with("params no longer valid"))
            << actions.at(i);
    }
    EXPECT_EQ(actions.at(2).at("status"), "sent");
    EXPECT_EQ(runner_.counters().actions_skipped, 2u);

    // Without a config at all (the node's config is gone) nothing is sent to it either.
    ASSERT_EQ(ingest_.Handle(kLamp, "config", Config(kLamp)), nodes::IngestOutcome::kApplied);
    db_.Execute("UPDATE nodes SET config = '' WHERE node_id = ?", std::string(kLamp));
    Report(R"({"Light":{"Temperature":10}})");
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_EQ(publisher_.sent.size(), 2u);
    runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    actions = ParseObject(runs[1].payload).at("actions").as_array();
    EXPECT_EQ(actions.at(0).at("status"), "skipped");
    EXPECT_EQ(actions.at(1).at("status"), "skipped");
    EXPECT_EQ(actions.at(2).at("status"), "sent");

    // The config as it was: sent again, cast to its types.
    ASSERT_EQ(ingest_.Handle(kLamp, "config", Config(kLamp)), nodes::IngestOutcome::kApplied);
    Report(R"({"Light":{"Temperature":10}})");
    Report(R"({"Light":{"Temperature":30}})");
    EXPECT_EQ(publisher_.sent.size(), 5u);
    EXPECT_EQ(publisher_.sent[2], lamp_on_);
}

// ---- loops end at the run limit

TEST_F(AutomationServiceTest, AnAutomationRetriggeringItselfThroughTheDeviceEchoStopsAtTheLimit) {
    // Power == true sets Power to true on the same node, with retrigger: the device reports
    // each set back, which satisfies the event again.
    object body{
        {"name", "Echo"},
        {"node_id", kSensor},
        {"event_type", "node_params"},
        {"retrigger", true},
        {"events",
         array{object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "=="}}}},
        {"actions",
         array{object{
             {"node_id", kSensor}, {"params", object{{"Light", object{{"Power", true}}}}}}}}};
    Create(body);
    Report(R"({"Light":{"Power":true}})");
    EXPECT_LT(Echo(), 1000);  // the loop ended by itself
    EXPECT_EQ(publisher_.sent.size(), 30u);
    EXPECT_EQ(runner_.counters().runs, 30u);
    EXPECT_EQ(runner_.counters().runs_suppressed, 1u);
    EXPECT_EQ(Runs().size(), 30u);
    // Suppressed runs are recorded once per window, however many there are.
    Report(R"({"Light":{"Power":true}})");
    Report(R"({"Light":{"Power":true}})");
    EXPECT_EQ(runner_.counters().runs_suppressed, 3u);
    const auto suppressed = Suppressed();
    ASSERT_EQ(suppressed.size(), 1u);
    EXPECT_EQ(ParseObject(suppressed[0].payload).at("automation_name"), "Echo");
    EXPECT_NE(
        runner_.RenderMetrics().find("rainmaker_automation_runs_suppressed_total 3"),
        std::string::npos
    );

    // The next minute it may run again (and is stopped again).
    clock_.Advance(std::chrono::seconds(60));
    Report(R"({"Light":{"Power":true}})");
    EXPECT_LT(Echo(), 1000);
    EXPECT_EQ(publisher_.sent.size(), 60u);
    EXPECT_EQ(Suppressed().size(), 2u);

    // 0 = no limit (what the loop would do unchecked: bounded here by the echo count).
    AutomationConfig unlimited;
    unlimited.max_runs_per_minute = 0;
    AutomationRunner free_runner{db_, publisher_, clock_, unlimited, &weather_};
    storage::Database& db = db_;
    db.Transaction([&] {
        const object power{{"Light", object{{"Power", true}}}};
        for (int i = 0; i < 40; ++i) {
            free_runner.OnParamsStored(kSensor, power, power);
        }
    });
    EXPECT_EQ(free_runner.counters().runs, 40u);
}

TEST_F(AutomationServiceTest, TwoAutomationsTogglingEachOtherAcrossNodesAndUsersStop) {
    Map("bob", kSensor, core::ResourceRole::kSecondary);
    Map("bob", kLamp, core::ResourceRole::kSecondary);
    const auto toggle = [](const char* name, const char* watched, const char* other) {
        return object{
            {"name", name},
            {"node_id", watched},
            {"event_type", "node_params"},
            {"events",
             array{
                 object{{"params", object{{"Light", object{{"Power", true}}}}}, {"check", "=="}}}},
            {"actions",
             array{
                 object{{"node_id", other}, {"params", object{{"Light", object{{"Power", true}}}}}},
                 object{
                     {"node_id", watched},
                     {"params", object{{"Light", object{{"Power", false}}}}}}}}};
    };
    // Alice's: the sensor on → the lamp on, the sensor off. Bob's: the lamp on → the sensor
    // on, the lamp off. Each run turns the other's event true again.
    Create(toggle("ping", kSensor, kLamp), alice_);
    Create(toggle("pong", kLamp, kSensor), bob_);
    Report(R"({"Light":{"Power":false}})", kLamp);
    Report(R"({"Light":{"Power":true}})", kSensor);
    EXPECT_LT(Echo(), 1000);                  // the loop ended by itself
    EXPECT_EQ(runner_.counters().runs, 60u);  // 30 each
    EXPECT_EQ(Runs("alice").size(), 30u);
    EXPECT_EQ(Runs("bob").size(), 30u);
    EXPECT_GE(runner_.counters().runs_suppressed, 1u);
    EXPECT_EQ(Suppressed("alice").size() + Suppressed("bob").size(), 1u);
}

// ---- limits on what one user makes

TEST_F(AutomationServiceTest, AUserPointsAtMostTheConfiguredNumberAtOneNode) {
    AutomationConfig small;
    small.max_per_node_per_user = 2;
    AutomationService limited{db_, clock_, small, true};
    limited.Create(alice_, In(NodeBody("a")));
    const auto b = limited.Create(alice_, In(NodeBody("b")));
    EXPECT_EQ(CodeOf([&] { limited.Create(alice_, In(NodeBody("c"))); }), 100070);
    // Another node, or another user, is not counted.
    auto on_lamp = NodeBody("d");
    on_lamp["node_id"] = kLamp;
    const auto d = limited.Create(alice_, In(on_lamp));
    Map("bob", kSensor, core::ResourceRole::kSecondary);
    Map("bob", kLamp, core::ResourceRole::kSecondary);
    EXPECT_EQ(CodeOf([&] { limited.Create(bob_, In(NodeBody("a"))); }), 0);
    // Moving one to the full node is refused too, and changes nothing.
    AutomationInput move;
    move.node_id = kSensor;
    EXPECT_EQ(CodeOf([&] { limited.Update(alice_, d, move); }), 100070);
    EXPECT_EQ(limited.Get(alice_, d).node_id, kLamp);
    // Updating one that is there already is not a new one.
    AutomationInput rename;
    rename.name = "b2";
    rename.node_id = kSensor;
    EXPECT_EQ(CodeOf([&] { limited.Update(alice_, b, rename); }), 0);
}

TEST_F(AutomationServiceTest, WeatherPlacesAreCappedPerUserAndInAll) {
    AutomationConfig small;
    small.max_weather_places_per_user = 2;
    small.max_weather_places = 3;
    AutomationService limited{db_, clock_, small, true};
    Map("bob", kLamp, core::ResourceRole::kSecondary);
    limited.Create(alice_, In(WeatherBody("p1", 10, 10)));
    limited.Create(alice_, In(WeatherBody("p2", 20, 20)));
    // The same 0.01° cell is the same place.
    EXPECT_EQ(CodeOf([&] { limited.Create(alice_, In(WeatherBody("p1b", 10.001, 9.999))); }), 0);
    EXPECT_EQ(CodeOf([&] { limited.Create(alice_, In(WeatherBody("p3", 30, 30))); }), 100070);
    AutomationInput move;
    move.location = object{{"latitude", 30}, {"longitude", 30}};
    const auto p1b = service_.List(alice_, "", "", 10).automations;
    ASSERT_EQ(p1b.size(), 3u);
    EXPECT_EQ(CodeOf([&] { limited.Update(alice_, p1b[0].automation_id, move); }), 100070);
    // Three places in all: Bob gets one more, then none.
    EXPECT_EQ(CodeOf([&] { limited.Create(bob_, In(WeatherBody("b1", 40, 40))); }), 0);
    EXPECT_EQ(CodeOf([&] { limited.Create(bob_, In(WeatherBody("b2", 50, 50))); }), 100070);
    EXPECT_EQ(CodeOf([&] { limited.Create(bob_, In(WeatherBody("b3", 20, 20))); }), 0);

    // A lowered limit: the runner polls the first places only, and counts the others.
    AutomationConfig two;
    two.max_weather_places = 2;
    AutomationRunner runner{db_, publisher_, clock_, two, &weather_};
    weather_.reading.temperature = 30;
    runner.PollWeather();
    EXPECT_EQ(weather_.calls, 2);
    EXPECT_EQ(runner.counters().weather_places_over_cap, 1u);
}

// ---- a weather provider that is slow or down

TEST_F(AutomationServiceTest, ABrokenWeatherProviderIsLeftAloneWithAGrowingBackoff) {
    for (int i = 0; i < 7; ++i) {
        Create(WeatherBody("w" + std::to_string(i), i, i));
    }
    weather_.fail = true;
    EXPECT_EQ(runner_.PollWeather(), 0);
    EXPECT_EQ(weather_.calls, 5);  // five failures in a row open the breaker
    EXPECT_EQ(runner_.counters().weather_breaker_trips, 1u);
    EXPECT_EQ(runner_.counters().weather_places_deferred, 2u);
    EXPECT_EQ(runner_.PollWeather(), 0);
    EXPECT_EQ(weather_.calls, 5);  // open: no request
    clock_.Advance(std::chrono::seconds(60));
    runner_.PollWeather();
    EXPECT_EQ(weather_.calls, 6);  // one retry, failed: open for 120 s
    EXPECT_EQ(runner_.counters().weather_breaker_trips, 2u);
    clock_.Advance(std::chrono::seconds(60));
    runner_.PollWeather();
    EXPECT_EQ(weather_.calls, 6);
    clock_.Advance(std::chrono::seconds(60));
    weather_.fail = false;
    weather_.reading.temperature = 30;
    EXPECT_EQ(runner_.PollWeather(), 7);  // back: every place asked, every automation ran
    EXPECT_EQ(weather_.calls, 13);

    // The backoff has a cap.
    AutomationConfig capped;
    capped.weather_breaker_failures = 1;
    capped.weather_backoff_max = std::chrono::seconds(90);
    capped.weather_cache = std::chrono::seconds(0);
    AutomationRunner runner{db_, publisher_, clock_, capped, &weather_};
    weather_.fail = true;
    weather_.calls = 0;
    for (int i = 0; i < 5; ++i) {
        runner.PollWeather();
        clock_.Advance(std::chrono::seconds(90));
    }
    EXPECT_EQ(weather_.calls, 5);  // 60 s, then 90 s (not 120, 240...): one retry each time
}

TEST_F(AutomationServiceTest, ASlowWeatherProviderGetsOnePollIntervalAndTheNextPollResumes) {
    for (int i = 0; i < 6; ++i) {
        Create(WeatherBody("w" + std::to_string(i), i, i));
    }
    AutomationConfig config;
    config.weather_poll = std::chrono::seconds(30);
    config.weather_cache = std::chrono::seconds(0);
    AutomationRunner runner{db_, publisher_, clock_, config, &weather_};
    weather_.clock = &clock_;
    weather_.takes = std::chrono::seconds(10);  // each answer takes 10 s
    weather_.reading.temperature = 30;
    EXPECT_EQ(runner.PollWeather(), 3);  // 0, 10, 20 s: then the 30 s are spent
    EXPECT_EQ(weather_.calls, 3);
    EXPECT_EQ(runner.counters().weather_places_deferred, 3u);
    EXPECT_EQ(runner.PollWeather(), 3);  // the three left
    ASSERT_EQ(weather_.places.size(), 6u);
    for (int i = 0; i < 6; ++i) {
        EXPECT_DOUBLE_EQ(weather_.places[i].first, i) << i;
    }
    EXPECT_EQ(publisher_.sent.size(), 6u);
}

// ---- an update between the list and the run

TEST_F(AutomationServiceTest, ADaylightRunUsesTheAutomationAsUpdatedMeanwhile) {
    constexpr std::int64_t kMidnight = 1016582400 + 5 * 3600;  // 2002-03-20 00:00 EST
    SetTime(kMidnight);
    const auto id = Create(object{
        {"name", "Dawn"},
        {"event_type", "daylight"},
        {"location", object{{"latitude", 38.9}, {"longitude", -77.0}}},
        {"events", array{object{{"params", object{{"sunrise", true}}}, {"check", "=="}}}},
        {"actions",
         array{object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Power", true}}}}}}}}}
    );
    SetTime(db_.Automations().Find("alice", id)->next_run_at + 10);
    HookedDatabase hooked{db_};
    AutomationRunner runner{hooked, publisher_, clock_, config_, &weather_};
    hooked.before_transaction = [&] {
        AutomationInput dim;
        dim.actions = array{
            object{{"node_id", kLamp}, {"params", object{{"Light", object{{"Brightness", 9}}}}}}};
        service_.Update(alice_, id, dim);
    };
    EXPECT_EQ(runner.RunDaylight(), 1);
    EXPECT_EQ(
        publisher_.sent,
        std::vector<std::string>{
            std::string(kLamp) + R"( params/remote {"Light":{"Brightness":9}})"}
    );
}

TEST_F(AutomationServiceTest, AWeatherRunSkipsAnAutomationMovedMeanwhile) {
    const auto id = Create(WeatherBody("Hot", 10, 10));
    weather_.reading.temperature = 30;
    // While the provider answers for the old place, the owner moves it elsewhere: the old
    // place's reading says nothing about the new one.
    weather_.on_call = [&] {
        weather_.on_call = nullptr;
        AutomationInput move;
        move.location = object{{"latitude", 50}, {"longitude", 50}};
        service_.Update(alice_, id, move);
    };
    EXPECT_EQ(runner_.PollWeather(), 0);
    EXPECT_TRUE(publisher_.sent.empty());
    clock_.Advance(config_.weather_cache);
    EXPECT_EQ(runner_.PollWeather(), 1);  // the next poll reads the new place
    EXPECT_DOUBLE_EQ(weather_.places.back().first, 50);
}

}  // namespace
}  // namespace rainmaker::domain::automations

// Event filters (domain/events) over the SQLite store: the checks of #76-#83 with their codes,
// what admins and users may filter (levels, events, entities of their own), duplicates, the
// three ways of looking filters up, removal, and the System → User → Node evaluation.
#include "domain/events/event_filter_service.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/rbac/node_scope.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::events {
namespace {

using core::ApiError;

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

constexpr const char* kConnected = "rmaker.event.node_connected";

FilterInput In(
    std::string event_type,
    std::string entity_id,
    std::string entity_type,
    std::optional<bool> enabled = true,
    std::optional<std::vector<std::string>> integrations = std::vector<std::string>{"webhook"}
) {
    FilterInput in;
    in.event_type = std::move(event_type);
    in.entity_id = std::move(entity_id);
    in.entity_type = std::move(entity_type);
    in.enabled = enabled;
    in.enabled_for_integrations = std::move(integrations);
    return in;
}

class EventFilterServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"alice", "bob"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        for (const auto* node : {"node-a", "node-b"}) {
            storage::NodeRow n;
            n.node_id = node;
            n.created_at = 1;
            ASSERT_TRUE(db_.Nodes().Insert(n));
        }
        storage::UserNodeRow m;
        m.user_id = "alice";
        m.node_id = "node-a";
        db_.Nodes().PutMapping(m);
    }

    std::vector<std::string> Ids(const auth::AuthContext& who, FilterScope scope, FilterQuery q) {
        std::vector<std::string> out;
        for (const auto& f : service_.Get(who, scope, q)) {
            out.push_back(f.entity_id);
        }
        return out;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    EventFilterService service_{db_, clock_};
    auth::AuthContext admin_{"root", "root@x.com", "s", auth::PlatformRole::kAdmin};
    auth::AuthContext alice_{"alice", "alice@x.com", "s"};
    auth::AuthContext bob_{"bob", "bob@x.com", "s"};
};

TEST_F(EventFilterServiceTest, EveryMissingOrWrongFieldHasItsCodeAndChangesNothing) {
    const auto add = [&](FilterInput in) {
        return CodeOf([&] { service_.Add(admin_, FilterScope::kAdmin, in); });
    };
    auto in = In(kConnected, "node-a", "Node");
    in.event_type.reset();
    EXPECT_EQ(add(in), 113101);
    in = In(kConnected, "", "Node");
    EXPECT_EQ(add(in), 113102);
    in = In(kConnected, "node-a", "");
    EXPECT_EQ(add(in), 113103);
    EXPECT_EQ(add(In(kConnected, "node-a", "Thing")), 113107);
    EXPECT_EQ(add(In(kConnected, "node-a", "Node", std::nullopt)), 113105);
    EXPECT_EQ(add(In(kConnected, "node-a", "Node", true, std::nullopt)), 113106);
    EXPECT_EQ(add(In(kConnected, "node-a", "Node", true, std::vector<std::string>{})), 113133);
    EXPECT_EQ(add(In(kConnected, "node-a", "Node", true, std::vector<std::string>{"a b"})), 100006);
    EXPECT_EQ(
        add(In(kConnected, "node-a", "Node", true, std::vector<std::string>(11, "webhook"))), 100036
    );
    EXPECT_EQ(add(In("rmaker.event.made_up", "node-a", "Node")), 100006);
    // A System filter names its own entity; group and time-series events are system-wide only.
    EXPECT_EQ(add(In(kConnected, "system.rmaker.event.alert", "System")), 100006);
    EXPECT_EQ(add(In("rmaker.event.node_ts_data", "node-a", "Node")), 100006);
    // Entities that are not there.
    EXPECT_EQ(add(In(kConnected, "node-z", "Node")), 100006);
    EXPECT_EQ(add(In(kConnected, "carol", "User")), 100006);
    EXPECT_TRUE(db_.EventFilters().OfEntity("node-a", 10).empty());

    EXPECT_EQ(add(In(kConnected, "node-a", "node")), 0);  // entity types in any case
    EXPECT_EQ(add(In(kConnected, "node-a", "Node")), 113110);
    EXPECT_EQ(
        add(In("rmaker.event.node_ts_data", "system.rmaker.event.node_ts_data", "SYSTEM")), 0
    );
}

TEST_F(EventFilterServiceTest, UsersFilterTheirOwnUserAndNodesForTheirEventsOnly) {
    const auto add = [&](const auth::AuthContext& who, FilterInput in) {
        return CodeOf([&] { service_.Add(who, FilterScope::kUser, in); });
    };
    EXPECT_EQ(add(alice_, In(kConnected, "alice", "User")), 0);
    EXPECT_EQ(add(alice_, In(kConnected, "node-a", "Node")), 0);
    EXPECT_EQ(add(alice_, In("rmaker.event.node_config_changed", "node-a", "Node")), 0);
    // Not for users: other events, System, someone else's user or node.
    EXPECT_EQ(add(alice_, In("rmaker.event.alert", "node-a", "Node")), 100006);
    EXPECT_EQ(add(alice_, In(kConnected, "system.rmaker.event.node_connected", "System")), 113107);
    EXPECT_EQ(add(alice_, In(kConnected, "bob", "User")), 100006);
    EXPECT_EQ(add(bob_, In(kConnected, "node-a", "Node")), 100006);
    EXPECT_EQ(add(alice_, In(kConnected, "node-b", "Node")), 100006);

    // Bob sees none of alice's filters, changes and removes none.
    EXPECT_TRUE(Ids(bob_, FilterScope::kUser, {kConnected, std::nullopt, std::nullopt}).empty());
    EXPECT_EQ(
        CodeOf([&] {
            service_.Get(bob_, FilterScope::kUser, {kConnected, std::nullopt, "node-a"});
        }),
        113109
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(bob_, FilterScope::kUser, In(kConnected, "node-a", "Node")); }
        ),
        100006
    );
    auto gone = In(kConnected, "node-a", "Node");
    EXPECT_EQ(CodeOf([&] { service_.Remove(bob_, FilterScope::kUser, gone); }), 113109);
    EXPECT_EQ(
        Ids(alice_, FilterScope::kUser, {kConnected, std::nullopt, std::nullopt}),
        (std::vector<std::string>{"alice", "node-a"})
    );
    // The admin sees them all.
    EXPECT_EQ(Ids(admin_, FilterScope::kAdmin, {std::nullopt, std::nullopt, "node-a"}).size(), 2U);
}

TEST_F(EventFilterServiceTest, LookupsUpdatesAndRemovals) {
    ASSERT_EQ(
        CodeOf([&] { service_.Add(admin_, FilterScope::kAdmin, In(kConnected, "node-a", "Node")); }
        ),
        0
    );
    ASSERT_EQ(
        CodeOf([&] {
            service_.Add(
                admin_,
                FilterScope::kAdmin,
                In(kConnected,
                   "system.rmaker.event.node_connected",
                   "System",
                   false,
                   std::vector<std::string>{"mobile_push_notification", "webhook", "webhook"})
            );
        }),
        0
    );
    const auto get = [&](FilterQuery q) { return service_.Get(admin_, FilterScope::kAdmin, q); };
    EXPECT_EQ(get({kConnected, std::nullopt, std::nullopt}).size(), 2U);
    const auto system = get({kConnected, "SYSTEM", std::nullopt});
    ASSERT_EQ(system.size(), 1U);
    EXPECT_FALSE(system[0].enabled);
    EXPECT_EQ(
        system[0].enabled_for_integrations,
        (std::vector<std::string>{"mobile_push_notification", "webhook"})  // once each
    );
    EXPECT_EQ(get({std::nullopt, std::nullopt, "node-a"}).size(), 1U);
    EXPECT_EQ(CodeOf([&] { get({std::nullopt, "Node", std::nullopt}); }), 100021);
    EXPECT_EQ(CodeOf([&] { get({std::nullopt, std::nullopt, std::nullopt}); }), 113101);
    EXPECT_EQ(CodeOf([&] { get({kConnected, "Nodes", std::nullopt}); }), 113107);
    EXPECT_EQ(CodeOf([&] { get({kConnected, std::nullopt, "node-b"}); }), 113109);
    EXPECT_TRUE(get({"rmaker.event.alert", std::nullopt, std::nullopt}).empty());

    // Update: enabled and integrations; a missing filter or another entity type is not found.
    ASSERT_EQ(
        CodeOf([&] {
            service_.Update(
                admin_,
                FilterScope::kAdmin,
                In(kConnected, "node-a", "Node", false, std::vector<std::string>{"salesforce"})
            );
        }),
        0
    );
    const auto updated = get({kConnected, std::nullopt, "node-a"});
    ASSERT_EQ(updated.size(), 1U);
    EXPECT_FALSE(updated[0].enabled);
    EXPECT_EQ(updated[0].enabled_for_integrations, std::vector<std::string>{"salesforce"});
    EXPECT_EQ(
        CodeOf([&] {
            service_.Update(admin_, FilterScope::kAdmin, In(kConnected, "node-b", "Node"));
        }),
        113109
    );

    // Remove: by event and entity; the entity type, when given, must match.
    auto wrong_type = In(kConnected, "node-a", "User");
    EXPECT_EQ(CodeOf([&] { service_.Remove(admin_, FilterScope::kAdmin, wrong_type); }), 113109);
    auto remove = In(kConnected, "node-a", "Node");
    EXPECT_EQ(CodeOf([&] { service_.Remove(admin_, FilterScope::kAdmin, remove); }), 0);
    EXPECT_EQ(CodeOf([&] { service_.Remove(admin_, FilterScope::kAdmin, remove); }), 113109);
    FilterInput bare;
    EXPECT_EQ(CodeOf([&] { service_.Remove(admin_, FilterScope::kAdmin, bare); }), 113101);
    bare.event_type = kConnected;
    EXPECT_EQ(CodeOf([&] { service_.Remove(admin_, FilterScope::kAdmin, bare); }), 113102);
}

TEST_F(EventFilterServiceTest, ScopedAdminsReachOnlyTheirNodesAndNeverUserOrSystemFilters) {
    auto scoped = admin_;
    scoped.node_scope = std::make_shared<rbac::NodeScope>();  // reaches no node
    const auto admin = FilterScope::kAdmin;
    service_.Add(admin_, admin, In(kConnected, "node-a", "Node"));
    service_.Add(admin_, admin, In(kConnected, "alice", "User"));
    service_.Add(admin_, admin, In(kConnected, "system.rmaker.event.node_connected", "System"));

    EXPECT_EQ(
        CodeOf([&] { service_.Add(scoped, admin, In(kConnected, "node-b", "Node")); }), 100006
    );
    EXPECT_EQ(CodeOf([&] { service_.Add(scoped, admin, In(kConnected, "bob", "User")); }), 100004);
    EXPECT_EQ(
        CodeOf([&] {
            service_.Add(
                scoped, admin, In(kConnected, "system.rmaker.event.node_connected", "System")
            );
        }),
        100004
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(scoped, admin, In(kConnected, "node-a", "Node")); }), 100006
    );
    EXPECT_TRUE(Ids(scoped, admin, {kConnected, std::nullopt, std::nullopt}).empty());
    EXPECT_EQ(
        CodeOf([&] {
            service_.Get(scoped, admin, {kConnected, std::nullopt, "alice"});
        }),
        113109
    );
    for (const char* id : {"node-a", "alice", "system.rmaker.event.node_connected"}) {
        FilterInput gone;
        gone.event_type = kConnected;
        gone.entity_id = id;
        EXPECT_EQ(CodeOf([&] { service_.Remove(scoped, admin, gone); }), 113109) << id;
    }
    EXPECT_EQ(Ids(admin_, admin, {kConnected, std::nullopt, std::nullopt}).size(), 3U);
    // An id of a System filter's shape is no user's or node's.
    EXPECT_EQ(
        CodeOf([&] {
            service_.Add(
                admin_, admin, In("rmaker.event.alert", "system.rmaker.event.alert", "Node")
            );
        }),
        100006
    );
}

TEST_F(EventFilterServiceTest, UsersNeitherSeeNorRemoveAdminFiltersOfOtherEvents) {
    service_.Add(admin_, FilterScope::kAdmin, In("rmaker.event.alert", "node-a", "Node", false));
    service_.Add(admin_, FilterScope::kAdmin, In(kConnected, "node-a", "Node"));
    // Alice is node-a's primary: she sees (and may change) its connection filter, not the
    // alert one an admin set.
    EXPECT_EQ(
        Ids(alice_, FilterScope::kUser, {std::nullopt, std::nullopt, "node-a"}),
        std::vector<std::string>{"node-a"}
    );
    FilterInput alert;
    alert.event_type = "rmaker.event.alert";
    alert.entity_id = "node-a";
    EXPECT_EQ(CodeOf([&] { service_.Remove(alice_, FilterScope::kUser, alert); }), 113109);
    EXPECT_FALSE(service_.Allows("rmaker.event.alert", "alice", "node-a", "webhook"));

    // Gone with the node's release and the user's account.
    service_.Add(alice_, FilterScope::kUser, In(kConnected, "alice", "User"));
    service_.ForgetNode("node-a");
    service_.ForgetUser("alice");
    EXPECT_TRUE(db_.EventFilters().OfEntity("node-a", 10).empty());
    EXPECT_TRUE(db_.EventFilters().OfEntity("alice", 10).empty());
}

TEST_F(EventFilterServiceTest, SystemThenUserThenNodeDecide) {
    // Without filters every event goes.
    EXPECT_TRUE(service_.Allows(kConnected, "alice", "node-a", "webhook"));
    const auto add = [&](const std::string& id,
                         const std::string& type,
                         bool enabled,
                         std::vector<std::string> to) {
        service_.Add(admin_, FilterScope::kAdmin, In(kConnected, id, type, enabled, std::move(to)));
    };
    add("node-a", "Node", true, {"mobile_push_notification"});
    EXPECT_FALSE(service_.Allows(kConnected, "alice", "node-a", "webhook"));
    EXPECT_TRUE(service_.Allows(kConnected, "alice", "node-a", "mobile_push_notification"));
    EXPECT_TRUE(service_.Allows(kConnected, "alice", "node-b", "webhook"));  // another node
    add("alice", "User", false, {"mobile_push_notification"});
    EXPECT_FALSE(service_.Allows(kConnected, "alice", "node-a", "mobile_push_notification"));
    EXPECT_TRUE(service_.Allows(kConnected, "bob", "node-b", "mobile_push_notification"));
    add("system.rmaker.event.node_connected", "System", false, {"webhook"});
    EXPECT_FALSE(service_.Allows(kConnected, "bob", "node-b", "webhook"));
    EXPECT_TRUE(service_.Allows("rmaker.event.alert", "bob", "node-b", "webhook"));

    // The pure evaluation: each present level must let it through.
    const EventFilter on{kConnected, "x", EntityType::kNode, true, {"webhook"}};
    const EventFilter off{kConnected, "x", EntityType::kNode, false, {"webhook"}};
    EXPECT_TRUE(Allows(std::nullopt, std::nullopt, std::nullopt, "webhook"));
    EXPECT_TRUE(Allows(on, on, on, "webhook"));
    EXPECT_FALSE(Allows(on, on, on, "salesforce"));
    EXPECT_FALSE(Allows(off, on, on, "webhook"));
    EXPECT_FALSE(Allows(on, off, on, "webhook"));
    EXPECT_FALSE(Allows(on, std::nullopt, off, "webhook"));
}

}  // namespace
}  // namespace rainmaker::domain::events

// Command-response over the SQLite store, no HTTP (domain/commands): requests checked and sent
// to the nodes as TLV8 with the caller's role, answers and polls taken from the ingest, the
// lifecycle requested → in_progress → success | failure | timed_out (the timeout job run by the
// scheduler on a fake clock), override, partial refusals, set-params answers merged into the
// stored params, and who reads what.
#include "domain/commands/command_service.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/commands/tlv.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "jobs/scheduler.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::commands {
namespace {

using core::ApiError;
using nodes::IngestOutcome;

constexpr const char* kOnline = "node-online";    // cmd-resp, connected
constexpr const char* kOffline = "node-offline";  // cmd-resp, never connected
constexpr const char* kPlain = "node-plain";      // no cmd-resp attribute

std::string Config(const std::string& node_id, bool cmd_resp) {
    return R"({"node_id":")" + node_id + R"(","info":{"name":"n","type":"Light"},)" +
           (cmd_resp ? R"("attributes":[{"name":"cmd-resp","value":"1"}],)" : "") +
           R"("devices":[{"name":"Light","params":[)"
           R"({"name":"Power","data_type":"bool","properties":["read","write"]},)"
           R"({"name":"Brightness","data_type":"int","properties":["read","write"]}]}]})";
}

std::string Byte(int b) {
    return std::string(1, static_cast<char>(b));
}

std::string Le16(int v) {
    return std::string{static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)};
}

// Records what the service publishes.
class RecordingPublisher final : public nodes::NodePublisher {
public:
    struct Sent {
        std::string node_id;
        std::string suffix;
        std::string payload;
    };

    bool Publish(std::string_view node_id, std::string_view suffix, std::string_view payload)
        override {
        sent.push_back({std::string(node_id), std::string(suffix), std::string(payload)});
        return up;
    }

    std::vector<Sent> sent;
    bool up = true;
};

// A to-node message, decoded as the node reads it.
struct Received {
    std::string request_id;
    int role = -1;
    int command = -1;
    std::string data;
};

Received Decode(const std::string& payload) {
    Received r;
    const auto items = DecodeTlv(payload);
    EXPECT_TRUE(items.has_value());
    for (const auto& item : items.value_or(std::vector<TlvItem>{})) {
        if (item.type == 1) {
            r.request_id = item.value;
        } else if (item.type == 2 && item.value.size() == 1) {
            r.role = static_cast<unsigned char>(item.value[0]);
        } else if (item.type == 5 && item.value.size() == 2) {
            r.command = static_cast<unsigned char>(item.value[0]) |
                        (static_cast<unsigned char>(item.value[1]) << 8);
        } else if (item.type == 6) {
            r.data = item.value;
        }
    }
    return r;
}

auth::AuthContext User(const char* id) {
    auth::AuthContext c;
    c.user_id = id;
    c.user_name = std::string(id) + "@example.com";
    return c;
}

class CommandServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        commands_.RegisterIngest(ingest_);
        scheduler_.Every("command-timeouts", std::chrono::seconds(1), [this] {
            commands_.ExpireDue();
        });
        for (const auto* caller : {&owner_, &guest_, &stranger_, &admin_}) {
            storage::UserRow u;
            u.user_id = caller->user_id;
            u.user_name = caller->user_name;
            u.password_hash = "hash";
            u.admin = caller == &admin_;
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        admin_.role = auth::PlatformRole::kAdmin;
        for (const auto& [node, cmd_resp] :
             {std::pair{kOnline, true}, std::pair{kOffline, true}, std::pair{kPlain, false}}) {
            ASSERT_EQ(
                ingest_.Handle(node, "config", Config(node, cmd_resp)), IngestOutcome::kApplied
            );
            Map(owner_, node, core::ResourceRole::kPrimary);
        }
        ingest_.HandlePresence(kOnline, true, clock_.NowSeconds() * 1000, 1);
        ingest_.HandlePresence(kPlain, true, clock_.NowSeconds() * 1000, 1);
        Map(guest_, kOnline, core::ResourceRole::kSecondary);
    }

    void Map(const auth::AuthContext& user, const char* node, core::ResourceRole role) {
        storage::UserNodeRow mapping;
        mapping.user_id = user.user_id;
        mapping.node_id = node;
        mapping.role = role;
        mapping.direct_role = role;
        db_.Nodes().PutMapping(mapping);
    }

    Submission Body(std::vector<std::string> nodes, int cmd, boost::json::value data) {
        Submission s;
        s.node_ids = std::move(nodes);
        s.cmd = cmd;
        s.data = std::move(data);
        return s;
    }

    SubmitResult Send(
        const auth::AuthContext& caller,
        std::vector<std::string> nodes,
        int cmd = 0x1000,
        boost::json::value data = boost::json::object{{"echo", 1}}
    ) {
        return commands_.Submit(caller, Body(std::move(nodes), cmd, std::move(data)), false);
    }

    // The wire code Submit throws, 0 when it answers.
    int SubmitError(const Submission& s, bool admin = false) {
        try {
            commands_.Submit(admin ? admin_ : owner_, s, admin);
            return 0;
        } catch (const ApiError& e) {
            return e.wire_code();
        }
    }

    int ListError(
        const CommandQuery& q, const auth::AuthContext* caller = nullptr, bool admin = false
    ) {
        try {
            commands_.List(caller != nullptr ? *caller : owner_, q, admin);
            return 0;
        } catch (const ApiError& e) {
            return e.wire_code();
        }
    }

    IngestOutcome Answer(
        const char* node,
        const std::string& request_id,
        int status,
        int cmd,
        const std::string& data
    ) {
        return ingest_.Handle(
            node,
            "from-node",
            EncodeTlv({{1, request_id}, {3, Byte(status)}, {5, Le16(cmd)}, {6, data}})
        );
    }

    IngestOutcome Poll(const char* node) {
        return ingest_.Handle(node, "from-node", EncodeTlv({{1, ""}, {3, Byte(0)}, {5, Le16(0)}}));
    }

    storage::CommandRow Row(const std::string& request_id, const char* node) {
        const auto row = db_.Commands().Find(request_id, node);
        EXPECT_TRUE(row.has_value()) << request_id << " " << node;
        return row.value_or(storage::CommandRow{});
    }

    std::vector<storage::CommandRow> ById(
        const auth::AuthContext& caller, const std::string& id, bool admin = false
    ) {
        CommandQuery q;
        q.request_id = id;
        return commands_.List(caller, q, admin).requests;
    }

    int Stored() { return db_.Commands().Count({}); }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    nodes::MappingService mapping_{db_, clock_};
    nodes::NodeIngest ingest_{db_, mapping_, clock_};
    RecordingPublisher publisher_;
    CommandService commands_{db_, publisher_, clock_};
    jobs::Scheduler scheduler_{db_, clock_};
    auth::AuthContext owner_ = User("owner");
    auth::AuthContext guest_ = User("guest");
    auth::AuthContext stranger_ = User("stranger");
    auth::AuthContext admin_ = User("ops");
};

TEST_F(CommandServiceTest, ARequestGoesToTheNodeAndItsAnswerEndsIt) {
    const auto result = Send(owner_, {kOnline});
    EXPECT_EQ(result.request_id.size(), 22u);
    EXPECT_EQ(result.accepted, std::vector<std::string>{kOnline});
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(publisher_.sent[0].node_id, kOnline);
    EXPECT_EQ(publisher_.sent[0].suffix, "to-node");
    const auto got = Decode(publisher_.sent[0].payload);
    EXPECT_EQ(got.request_id, result.request_id);
    EXPECT_EQ(got.role, 2);  // primary
    EXPECT_EQ(got.command, 0x1000);
    EXPECT_EQ(got.data, R"({"echo":1})");

    auto row = Row(result.request_id, kOnline);
    EXPECT_EQ(row.status, kStatusInProgress);
    EXPECT_EQ(row.created_at, clock_.NowSeconds());
    EXPECT_EQ(row.expires_at, clock_.NowSeconds() + 30);  // the default timeout
    EXPECT_FALSE(row.device_status.has_value());

    clock_.Advance(std::chrono::seconds(2));
    EXPECT_EQ(
        Answer(kOnline, result.request_id, 0, 0x1000, R"({"echo":1})"), IngestOutcome::kApplied
    );
    row = Row(result.request_id, kOnline);
    EXPECT_EQ(row.status, kStatusSuccess);
    EXPECT_EQ(row.device_status, 0);
    EXPECT_EQ(row.status_description, "success");
    EXPECT_EQ(row.response_data, R"({"echo":1})");
    EXPECT_EQ(row.responded_at, clock_.NowSeconds());

    // A second answer changes nothing.
    EXPECT_EQ(Answer(kOnline, result.request_id, 1, 0x1000, "late"), IngestOutcome::kApplied);
    EXPECT_EQ(Row(result.request_id, kOnline).status, kStatusSuccess);
    EXPECT_EQ(commands_.counters().answered, 1u);
    EXPECT_EQ(commands_.counters().unmatched, 1u);
}

TEST_F(CommandServiceTest, TheRoleByteIsTheCallersRoleOnTheNode) {
    Send(guest_, {kOnline});
    ASSERT_TRUE(commands_.Submit(admin_, Body({kOnline}, 0x1000, "x"), true).refused.empty());
    ASSERT_EQ(publisher_.sent.size(), 2u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).role, 4);  // secondary
    EXPECT_EQ(Decode(publisher_.sent[1].payload).role, 1);  // admin route: super admin
}

TEST_F(CommandServiceTest, ANodeStatusOtherThanSuccessIsAFailureWithItsText) {
    const auto id = Send(owner_, {kOnline}).request_id;
    ASSERT_EQ(Answer(kOnline, id, 4, 0x1000, ""), IngestOutcome::kApplied);
    const auto row = Row(id, kOnline);
    EXPECT_EQ(row.status, kStatusFailure);
    EXPECT_EQ(row.device_status, 4);
    EXPECT_EQ(row.status_description, "command not found");
    EXPECT_EQ(row.response_data, "");
}

TEST_F(CommandServiceTest, AnAnswerNamingAnotherCommandIsRefused) {
    const auto id = Send(owner_, {kOnline}).request_id;
    EXPECT_EQ(Answer(kOnline, id, 0, 0x1001, "{}"), IngestOutcome::kMalformed);
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);
}

TEST_F(CommandServiceTest, AnAnswerOnlyEndsTheRequestOfTheNodeThatSentIt) {
    // The node id comes from the topic (the broker authenticated it): another node cannot end
    // this node's request by naming its id.
    const auto id = Send(owner_, {kOnline}).request_id;
    EXPECT_EQ(Answer(kPlain, id, 0, 0x1000, "{}"), IngestOutcome::kApplied);
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);
    EXPECT_EQ(commands_.counters().unmatched, 1u);
}

TEST_F(CommandServiceTest, MalformedFromNodeMessagesChangeNothing) {
    const auto id = Send(owner_, {kOnline}).request_id;
    for (const std::string& payload :
         {std::string("{\"status\":\"success\"}"),
          std::string(
              "\x01\x05"
              "ab",
              4
          ),
          EncodeTlv({{1, id}, {5, Le16(0x1000)}}),  // no status
          EncodeTlv({{1, id}, {3, std::string(2, '\0')}, {5, Le16(0x1000)}})}) {
        EXPECT_EQ(ingest_.Handle(kOnline, "from-node", payload), IngestOutcome::kMalformed);
    }
    EXPECT_EQ(
        ingest_.Handle(kOnline, "from-node", std::string(80 * 1024, '\x06')),
        IngestOutcome::kTooLarge
    );
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);
}

TEST_F(CommandServiceTest, AnOfflineNodeGetsEveryPendingRequestWhenItPolls) {
    const auto first = Send(owner_, {kOffline}, 0x1000, "one").request_id;
    const auto second = Send(owner_, {kOffline}, 0x1001, "two").request_id;
    EXPECT_TRUE(publisher_.sent.empty());  // nothing goes to a node that is not connected
    EXPECT_EQ(Row(first, kOffline).status, kStatusRequested);

    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 2u);  // in the order they were made
    EXPECT_EQ(Decode(publisher_.sent[0].payload).request_id, first);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).data, "one");
    EXPECT_EQ(Decode(publisher_.sent[1].payload).request_id, second);
    EXPECT_EQ(Row(first, kOffline).status, kStatusInProgress);

    // An answered one is not sent again; one sent but never answered is (the node may have
    // lost it with its connection), once the resend interval has passed.
    ASSERT_EQ(Answer(kOffline, first, 0, 0x1000, "done"), IngestOutcome::kApplied);
    clock_.Advance(std::chrono::seconds(10));
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 3u);
    EXPECT_EQ(Decode(publisher_.sent[2].payload).request_id, second);
    EXPECT_EQ(commands_.counters().polls, 2u);
}

TEST_F(CommandServiceTest, APollDoesNotSendTheRequestsOfAUserWhoLostTheNode) {
    const auto guest_request = Send(guest_, {kOnline}).request_id;
    db_.Nodes().DeleteMapping(guest_.user_id, kOnline);
    const auto owner_request = Send(owner_, {kOnline}).request_id;
    publisher_.sent.clear();
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).request_id, owner_request);
    const auto row = Row(guest_request, kOnline);
    EXPECT_EQ(row.status, kStatusFailure);
    EXPECT_EQ(row.status_description, "the requester no longer has access to the node");
}

TEST_F(CommandServiceTest, ARequestTheLinkRefusedStaysRequestedUntilThePoll) {
    publisher_.up = false;
    const auto id = Send(owner_, {kOnline}).request_id;
    EXPECT_EQ(Row(id, kOnline).status, kStatusRequested);
    publisher_.up = true;
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);
}

TEST_F(CommandServiceTest, RequestsPastTheirTimeoutAreTimedOutByTheScheduledJob) {
    auto body = Body({kOnline}, 0x1001, "slow");
    body.timeout = 5;
    const auto id = commands_.Submit(owner_, body, false).request_id;
    body.timeout = -1;  // until answered
    const auto forever = commands_.Submit(owner_, body, false).request_id;
    EXPECT_EQ(Row(forever, kOnline).expires_at, 0);
    EXPECT_EQ(scheduler_.RunDue(), 1);
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);

    clock_.Advance(std::chrono::seconds(4));
    scheduler_.RunDue();
    EXPECT_EQ(Row(id, kOnline).status, kStatusInProgress);
    clock_.Advance(std::chrono::seconds(1));  // at its expiry
    EXPECT_EQ(scheduler_.RunDue(), 1);
    const auto row = Row(id, kOnline);
    EXPECT_EQ(row.status, kStatusTimedOut);
    EXPECT_FALSE(row.device_status.has_value());
    EXPECT_EQ(commands_.counters().timed_out, 1u);

    // A late answer changes nothing; a timed-out request is not sent again on a poll.
    ASSERT_EQ(Answer(kOnline, id, 0, 0x1001, "{}"), IngestOutcome::kApplied);
    EXPECT_EQ(Row(id, kOnline).status, kStatusTimedOut);
    publisher_.sent.clear();
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).request_id, forever);

    clock_.Advance(std::chrono::seconds(30 * 86400));
    scheduler_.RunDue();
    EXPECT_EQ(Row(forever, kOnline).status, kStatusInProgress);
}

TEST_F(CommandServiceTest, TheTimeoutJobKeepsItsDueTimeInTheStore) {
    EXPECT_EQ(scheduler_.RunDue(), 1);
    EXPECT_EQ(db_.Jobs().DueAt("command-timeouts"), clock_.NowSeconds() + 1);
    EXPECT_EQ(scheduler_.RunDue(), 0);  // not due again within the second
}

TEST_F(CommandServiceTest, OverrideEndsTheCallersPendingRequestsOfTheSameCommandOnly) {
    const auto old = Send(owner_, {kOnline}, 0x1001, "old").request_id;
    const auto other_cmd = Send(owner_, {kOnline}, 0x1002, "keep").request_id;
    const auto guests = Send(guest_, {kOnline}, 0x1001, "guest's").request_id;
    auto body = Body({kOnline}, 0x1001, "new");
    body.override_pending = true;
    const auto fresh = commands_.Submit(owner_, body, false).request_id;

    const auto replaced = Row(old, kOnline);
    EXPECT_EQ(replaced.status, kStatusFailure);
    EXPECT_EQ(replaced.status_description, "overridden by request " + fresh);
    EXPECT_EQ(Row(other_cmd, kOnline).status, kStatusInProgress);
    EXPECT_EQ(Row(guests, kOnline).status, kStatusInProgress);  // never another user's
    EXPECT_EQ(Row(fresh, kOnline).status, kStatusInProgress);
    // The node answering the replaced request changes nothing.
    ASSERT_EQ(Answer(kOnline, old, 0, 0x1001, "{}"), IngestOutcome::kApplied);
    EXPECT_EQ(Row(old, kOnline).status, kStatusFailure);
    // Without override, requests queue up.
    const auto queued = Send(owner_, {kOnline}, 0x1001, "more").request_id;
    EXPECT_EQ(Row(fresh, kOnline).status, kStatusInProgress);
    EXPECT_EQ(Row(queued, kOnline).status, kStatusInProgress);
}

TEST_F(CommandServiceTest, NodesThatCannotTakeTheRequestAreRefusedOneByOne) {
    const auto result = Send(owner_, {kOnline, kPlain, "nobody", kOffline});
    EXPECT_EQ(result.accepted, (std::vector<std::string>{kOnline, kOffline}));
    ASSERT_EQ(result.refused.size(), 2u);
    EXPECT_EQ(result.refused[0].first, kPlain);
    EXPECT_EQ(result.refused[0].second.wire_code(), 131113);  // no cmd-resp attribute
    EXPECT_EQ(result.refused[1].first, "nobody");
    EXPECT_EQ(result.refused[1].second.wire_code(), 100010);
    EXPECT_FALSE(db_.Commands().Find(result.request_id, kPlain).has_value());
    EXPECT_EQ(Stored(), 2);
    EXPECT_EQ(publisher_.sent.size(), 1u);  // the online one

    // Another user's node answers like an unknown one; when no node takes it, the first
    // refusal is the answer and nothing is stored.
    const auto before = Stored();
    EXPECT_EQ(SubmitError(Body({kPlain}, 1, boost::json::object{})), 131113);
    try {
        Send(stranger_, {kOnline, "nobody"});
        ADD_FAILURE() << "a stranger's request was taken";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.wire_code(), 100010);
    }
    EXPECT_EQ(Stored(), before);
    // An admin may send to any node the server knows.
    const auto by_admin = commands_.Submit(admin_, Body({kOffline, "nobody"}, 7, "x"), true);
    EXPECT_EQ(by_admin.accepted, std::vector<std::string>{kOffline});
    EXPECT_EQ(by_admin.refused.at(0).second.wire_code(), 100015);
}

TEST_F(CommandServiceTest, BadSubmissionsAreRefusedWithTheirCodeAndChangeNothing) {
    const auto body = [this](auto change) {
        auto s = Body({kOnline}, 0x1000, boost::json::object{{"k", "v"}});
        change(s);
        return s;
    };
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.node_ids.clear(); })), 131102);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.node_ids.assign(26, "n"); })), 131103);
    EXPECT_EQ(
        SubmitError(body([](Submission& s) {
            s.node_ids = {kOnline, kOffline, kOnline};
        })),
        131104
    );
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.cmd.reset(); })), 131107);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.cmd = -1; })), 131107);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.cmd = 65536; })), 131107);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.cmd = 1.5; })), 131107);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.cmd = "1"; })), 131107);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.data.reset(); })), 131105);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.data = nullptr; })), 131105);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.data = 5; })), 131106);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.data = boost::json::array{1}; })), 131106);
    EXPECT_EQ(
        SubmitError(body([](Submission& s) { s.data = std::string(64 * 1024 + 1, 'x'); })), 131111
    );
    EXPECT_EQ(
        SubmitError(body([](Submission& s) {
            s.data = boost::json::object{{"k", std::string(64 * 1024, 'x')}};
        })),
        131111
    );
    EXPECT_EQ(
        SubmitError(body([](Submission& s) {
            s.is_base64 = true;
            s.data = "not base64!";
        })),
        131114
    );
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.is_base64 = true; })), 131114);
    for (const boost::json::value& t :
         {boost::json::value(0),
          boost::json::value(-2),
          boost::json::value(2592001),
          boost::json::value("30"),
          boost::json::value(1.5)}) {
        EXPECT_EQ(SubmitError(body([&](Submission& s) { s.timeout = t; })), 131115) << t;
    }
    EXPECT_EQ(Stored(), 0);
    EXPECT_TRUE(publisher_.sent.empty());

    // Edges that are allowed: 25 nodes (refused one by one), the longest data, 1 s, 30 days.
    std::vector<std::string> many{kOnline};
    for (int i = 1; i < 25; ++i) {
        many.push_back("n" + std::to_string(i));
    }
    EXPECT_EQ(SubmitError(body([&](Submission& s) { s.node_ids = many; })), 0);
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.data = std::string(64 * 1024, 'x'); })), 0);
    EXPECT_EQ(
        SubmitError(body([](Submission& s) {
            s.cmd = 65535;
            s.timeout = 1;
        })),
        0
    );
    EXPECT_EQ(
        SubmitError(body([](Submission& s) {
            s.cmd = 0;
            s.timeout = 2592000;
        })),
        0
    );
    EXPECT_EQ(SubmitError(body([](Submission& s) { s.timeout = 30.0; })), 0);
}

TEST_F(CommandServiceTest, Base64DataGoesToTheNodeDecoded) {
    auto s = Body({kOnline}, 0x1000, "AAEC/w==");
    s.is_base64 = true;
    const auto id = commands_.Submit(owner_, s, false).request_id;
    EXPECT_EQ(Decode(publisher_.sent.at(0).payload).data, std::string("\x00\x01\x02\xff", 4));
    const auto row = Row(id, kOnline);
    EXPECT_EQ(row.data_kind, static_cast<int>(DataKind::kBase64));
    EXPECT_EQ(row.data, "AAEC/w==");
}

TEST_F(CommandServiceTest, TheAdminRouteFallsBackToTheDefaultTimeout) {
    auto s = Body({kOnline}, 0x1000, "x");
    s.timeout = 0;
    const auto id = commands_.Submit(admin_, s, true).request_id;
    EXPECT_EQ(Row(id, kOnline).expires_at, clock_.NowSeconds() + 30);
}

TEST_F(CommandServiceTest, PendingRequestsPerNodeAreCapped) {
    CommandService capped{db_, publisher_, clock_, CommandConfig{30, 2, 30}};
    capped.Submit(owner_, Body({kOffline}, 0x1000, "1"), false);
    capped.Submit(owner_, Body({kOffline}, 0x1000, "2"), false);
    try {
        capped.Submit(owner_, Body({kOffline}, 0x1000, "3"), false);
        ADD_FAILURE() << "a third pending request was taken";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.wire_code(), 100070);
        EXPECT_EQ(e.http_status(), 429);
    }
    EXPECT_EQ(Stored(), 2);
}

TEST_F(CommandServiceTest, ASetParamsAnswerIsMergedIntoTheStoredParams) {
    ASSERT_EQ(
        ingest_.Handle(kOnline, "params/local/init", R"({"Light":{"Power":false,"Brightness":5}})"),
        IngestOutcome::kApplied
    );
    const auto id = Send(
                        owner_,
                        {kOnline},
                        kCommandSetParams,
                        boost::json::object{{"params", {{"Light", {{"Power", true}}}}}}
    ).request_id;
    EXPECT_EQ(Decode(publisher_.sent.at(0).payload).data, R"({"params":{"Light":{"Power":true}}})");
    // The node reports what changed in its answer, not on params/local; what its config does
    // not declare is dropped as from any report.
    ASSERT_EQ(
        Answer(
            kOnline,
            id,
            0,
            kCommandSetParams,
            R"({"status":"success","params":{"Light":{"Power":true,"Colour":"red"}}})"
        ),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(Row(id, kOnline).status, kStatusSuccess);
    EXPECT_EQ(
        boost::json::parse(db_.Nodes().Find(kOnline)->params),
        boost::json::parse(R"({"Light":{"Power":true,"Brightness":5}})")
    );
    // Another command's answer is not a params report.
    const auto other = Send(owner_, {kOnline}).request_id;
    ASSERT_EQ(
        Answer(kOnline, other, 0, 0x1000, R"({"params":{"Light":{"Brightness":99}}})"),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(
        boost::json::parse(db_.Nodes().Find(kOnline)->params),
        boost::json::parse(R"({"Light":{"Power":true,"Brightness":5}})")
    );
}

TEST_F(CommandServiceTest, UsersReadTheirOwnRequestsAndAdminsAnyNodes) {
    const auto mine = Send(owner_, {kOnline, kOffline}).request_id;
    const auto guests = Send(guest_, {kOnline}).request_id;

    EXPECT_EQ(ById(owner_, mine).size(), 2u);  // one per node
    EXPECT_TRUE(ById(owner_, guests).empty());
    EXPECT_TRUE(ById(stranger_, mine).empty());
    EXPECT_EQ(ById(guest_, guests).size(), 1u);
    EXPECT_EQ(ById(admin_, guests, true).size(), 1u);
    CommandQuery one;
    one.request_id = mine;
    one.node_id = kOffline;
    const auto single = commands_.List(owner_, one, false);
    ASSERT_EQ(single.requests.size(), 1u);
    EXPECT_EQ(single.requests[0].node_id, kOffline);

    CommandQuery by_node;
    by_node.node_id = kOnline;
    EXPECT_EQ(commands_.List(owner_, by_node, false).total, 1);
    EXPECT_EQ(commands_.List(guest_, by_node, false).total, 1);
    EXPECT_EQ(commands_.List(admin_, by_node, true).total, 2);
    EXPECT_EQ(ListError(by_node, &stranger_), 126003);  // not theirs: as unknown
    by_node.node_id = "nobody";
    EXPECT_EQ(ListError(by_node, &admin_, true), 126003);

    CommandQuery by_status;
    by_status.status = kStatusInProgress;
    EXPECT_EQ(commands_.List(owner_, by_status, false).total, 1);  // the online node's
    EXPECT_EQ(commands_.List(admin_, by_status, true).total, 0);   // the admin's own: none
}

TEST_F(CommandServiceTest, ListsFilterAndPage) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(Send(owner_, {kOnline}, i % 2 == 0 ? 0x1000 : 0x1001, "x").request_id);
        clock_.Advance(std::chrono::seconds(10));
    }
    ASSERT_EQ(Answer(kOnline, ids[0], 0, 0x1000, "{}"), IngestOutcome::kApplied);

    CommandQuery q;
    q.node_id = kOnline;
    q.num_records = 2;
    std::vector<std::string> seen;
    std::optional<std::string> next;
    int pages = 0;
    do {
        q.start_id = next;
        const auto page = commands_.List(owner_, q, false);
        EXPECT_EQ(page.total, 5);
        for (const auto& row : page.requests) {
            seen.push_back(row.request_id);
        }
        next = page.next_id;
        ++pages;
    } while (next && pages < 10);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, ids);

    q.start_id.reset();
    q.num_records = 10;
    q.desc_order = true;
    const auto newest_first = commands_.List(owner_, q, false);
    ASSERT_EQ(newest_first.requests.size(), 5u);
    EXPECT_EQ(newest_first.requests.front().request_id, ids[4]);

    q.desc_order = false;
    q.cmd_id = "4097";
    EXPECT_EQ(commands_.List(owner_, q, false).total, 2);
    q.cmd_id.reset();
    q.status = kStatusSuccess;
    EXPECT_EQ(commands_.List(owner_, q, false).total, 1);
    q.status.reset();
    const auto start = Row(ids[1], kOnline).created_at;
    q.start_time = std::to_string(start);
    q.end_time = std::to_string(start + 20);  // inclusive
    const auto window = commands_.List(owner_, q, false);
    ASSERT_EQ(window.total, 3);
    EXPECT_EQ(window.requests[0].request_id, ids[1]);
}

TEST_F(CommandServiceTest, BadQueriesAreRefusedWithTheirCode) {
    const auto query = [](auto change) {
        CommandQuery q;
        change(q);
        return q;
    };
    EXPECT_EQ(ListError(query([](CommandQuery&) {})), 131003);
    EXPECT_EQ(ListError(query([](CommandQuery& q) { q.request_id = ""; })), 131001);
    EXPECT_EQ(ListError(query([](CommandQuery& q) { q.cmd_id = "1"; })), 131011);
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.cmd_id = "x";
        })),
        131015
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.cmd_id = "65536";
        })),
        131015
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.start_time = "1";
        })),
        131013
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.start_time = "20";
            q.end_time = "10";
        })),
        131012
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.start_time = "soon";
            q.end_time = "10";
        })),
        131012
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.start_time = "1";
            q.end_time = "10";
        })),
        131014
    );
    EXPECT_EQ(ListError(query([](CommandQuery& q) { q.status = "done"; })), 100021);
    EXPECT_EQ(ListError(query([](CommandQuery& q) { q.node_id = ""; })), 126003);
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.start_id = "abc";
        })),
        105043
    );
    EXPECT_EQ(
        ListError(query([](CommandQuery& q) {
            q.node_id = kOnline;
            q.num_records = 0;
        })),
        100021
    );
}

TEST_F(CommandServiceTest, EndedRequestsAreDeletedAfterTheRetention) {
    // The retention counts from the end of a request, not from its creation: one answered
    // after 20 days is kept 30 days from its answer.
    auto body = Body({kOnline}, 0x1000, "x");
    body.timeout = -1;
    const auto done = commands_.Submit(owner_, body, false).request_id;
    const auto timed_out = Send(owner_, {kOnline}, 0x1001, "y").request_id;  // 30 s
    body.node_ids = {kOffline};
    const auto waiting = commands_.Submit(owner_, body, false).request_id;
    clock_.Advance(std::chrono::seconds(20 * 86400));
    EXPECT_EQ(commands_.ExpireDue(), 1);
    EXPECT_EQ(Row(timed_out, kOnline).ended_at, clock_.NowSeconds());
    ASSERT_EQ(Answer(kOnline, done, 0, 0x1000, "{}"), IngestOutcome::kApplied);
    EXPECT_EQ(Row(done, kOnline).ended_at, clock_.NowSeconds());
    EXPECT_EQ(Row(waiting, kOffline).ended_at, 0);

    clock_.Advance(std::chrono::seconds(11 * 86400));  // 31 days after they were made
    EXPECT_EQ(commands_.DeleteOld(), 0);
    EXPECT_TRUE(db_.Commands().Find(done, kOnline).has_value());
    clock_.Advance(std::chrono::seconds(19 * 86400 + 1));  // 30 days after they ended
    EXPECT_EQ(commands_.DeleteOld(), 2);
    EXPECT_FALSE(db_.Commands().Find(done, kOnline).has_value());
    EXPECT_FALSE(db_.Commands().Find(timed_out, kOnline).has_value());
    EXPECT_TRUE(db_.Commands().Find(waiting, kOffline).has_value());  // still pending: kept
}

TEST_F(CommandServiceTest, OverriddenRequestsEndWhenOverridden) {
    const auto old = Send(owner_, {kOnline}, 0x1001, "old").request_id;
    clock_.Advance(std::chrono::seconds(5));
    auto body = Body({kOnline}, 0x1001, "new");
    body.override_pending = true;
    commands_.Submit(owner_, body, false);
    EXPECT_EQ(Row(old, kOnline).ended_at, clock_.NowSeconds());
}

TEST_F(CommandServiceTest, APollWithinTheResendIntervalSendsOnlyRequestsNeverSent) {
    const auto sent = Send(owner_, {kOnline}).request_id;  // sent at once: in progress
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);     // the first poll resends it
    ASSERT_EQ(publisher_.sent.size(), 2u);
    // A node polling again and again within the interval makes the server publish nothing.
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
        if (i % 10 == 9) {
            clock_.Advance(std::chrono::seconds(1));  // 5 s in all: still within
        }
    }
    EXPECT_EQ(publisher_.sent.size(), 2u);
    EXPECT_EQ(commands_.counters().polls_limited, 50u);
    // A request never sent (the link refused it) goes at the next poll, once.
    publisher_.up = false;
    const auto unsent = Send(owner_, {kOnline}).request_id;
    publisher_.up = true;
    publisher_.sent.clear();
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).request_id, unsent);
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.sent.size(), 1u);
    // Past the interval, every pending request goes again.
    clock_.Advance(std::chrono::seconds(10));
    publisher_.sent.clear();
    ASSERT_EQ(Poll(kOnline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 2u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).request_id, sent);
    // The interval is per node.
    Send(owner_, {kOffline});
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.sent.size(), 3u);
}

TEST_F(CommandServiceTest, AResendCarriesTheMakersRoleOnTheNodeNow) {
    const auto id = Send(owner_, {kOffline}).request_id;
    EXPECT_EQ(Row(id, kOffline).role, 2);
    Map(owner_, kOffline, core::ResourceRole::kSecondary
    );  // the primary was made a secondary since
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).role, 4);
    EXPECT_EQ(Row(id, kOffline).role, 4);
}

TEST_F(CommandServiceTest, AnAdminRequestIsResentOnlyWhileItsMakerIsAnAdmin) {
    const auto kept = commands_.Submit(admin_, Body({kOffline}, 0x1000, "x"), true).request_id;
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    ASSERT_EQ(publisher_.sent.size(), 1u);
    EXPECT_EQ(Decode(publisher_.sent[0].payload).role, 1);
    EXPECT_EQ(Row(kept, kOffline).status, kStatusInProgress);

    db_.Users().Delete(admin_.user_id);  // no longer an admin (nor a user)
    clock_.Advance(std::chrono::seconds(10));
    publisher_.sent.clear();
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    EXPECT_TRUE(publisher_.sent.empty());
    const auto row = Row(kept, kOffline);
    EXPECT_EQ(row.status, kStatusFailure);
    EXPECT_EQ(row.status_description, "the requester is no longer an admin");
}

TEST_F(CommandServiceTest, ADeletedAccountsPendingRequestsFail) {
    const auto mine = Send(owner_, {kOffline}).request_id;
    const auto guests = Send(guest_, {kOnline}).request_id;
    db_.Transaction([&] { commands_.ForgetUser(owner_.user_id); });
    const auto row = Row(mine, kOffline);
    EXPECT_EQ(row.status, kStatusFailure);
    EXPECT_EQ(row.status_description, "the requester's account was deleted");
    EXPECT_EQ(row.ended_at, clock_.NowSeconds());
    EXPECT_EQ(Row(guests, kOnline).status, kStatusInProgress);
    ASSERT_EQ(Poll(kOffline), IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.sent.size(), 1u);  // the guest's, at submit
}

TEST_F(CommandServiceTest, StoredRequestsPerUserAreCapped) {
    CommandConfig config;
    config.max_stored_per_user = 3;
    CommandService capped{db_, publisher_, clock_, config};
    capped.Submit(owner_, Body({kOnline, kOffline}, 0x1000, "1"), false);
    // Overridden (ended) requests stay stored within the retention, and count.
    auto body = Body({kOnline, kOffline}, 0x1000, "2");
    body.override_pending = true;
    const auto result = capped.Submit(owner_, body, false);
    EXPECT_EQ(result.accepted, std::vector<std::string>{kOnline});
    ASSERT_EQ(result.refused.size(), 1u);
    EXPECT_EQ(result.refused[0].second.wire_code(), 100070);
    EXPECT_EQ(Row(result.request_id, kOnline).status, kStatusInProgress);
    try {
        capped.Submit(owner_, Body({kOffline}, 0x1000, "3"), false);
        ADD_FAILURE() << "a fourth stored request was taken";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.wire_code(), 100070);
        EXPECT_EQ(e.http_status(), 429);
    }
    EXPECT_EQ(Stored(), 3);
    // Other users, and the admin route, are not held by it.
    capped.Submit(guest_, Body({kOnline}, 0x1000, "4"), false);
    capped.Submit(admin_, Body({kOnline, kOffline}, 0x1000, "5"), true);
    capped.Submit(admin_, Body({kOnline, kOffline}, 0x1000, "6"), true);
    EXPECT_EQ(Stored(), 8);
    // Deleted after the retention, they make room again.
    for (const auto& row : db_.Commands().List({}, 100)) {
        db_.Commands().Finish(
            row.request_id, row.node_id, kStatusFailure, std::nullopt, "", std::nullopt, 0
        );
    }
    clock_.Advance(std::chrono::seconds(31 * 86400));
    capped.DeleteOld();
    capped.Submit(owner_, Body({kOffline}, 0x1000, "7"), false);
}

TEST_F(CommandServiceTest, OneUsersPendingRequestsForANodeAreCapped) {
    CommandConfig config;
    config.max_pending_per_user_node = 2;
    CommandService capped{db_, publisher_, clock_, config};
    capped.Submit(owner_, Body({kOnline}, 0x1000, "1"), false);
    capped.Submit(owner_, Body({kOnline}, 0x1000, "2"), false);
    const auto result = capped.Submit(owner_, Body({kOnline, kOffline}, 0x1000, "3"), false);
    EXPECT_EQ(result.accepted, std::vector<std::string>{kOffline});
    ASSERT_EQ(result.refused.size(), 1u);
    EXPECT_EQ(result.refused[0].first, kOnline);
    EXPECT_EQ(result.refused[0].second.wire_code(), 100070);
    EXPECT_EQ(result.refused[0].second.http_status(), 429);
    // Another user of the node is not locked out; an ended request frees a place.
    capped.Submit(guest_, Body({kOnline}, 0x1000, "4"), false);
    const auto first = db_.Commands().PendingOf(owner_.user_id, kOnline, 0x1000).at(0);
    ASSERT_EQ(Answer(kOnline, first.request_id, 0, 0x1000, "{}"), IngestOutcome::kApplied);
    capped.Submit(owner_, Body({kOnline}, 0x1000, "5"), false);
}

TEST_F(CommandServiceTest, CommandPagesHoldAtMost100Records) {
    CommandConfig config;
    config.max_pending_per_node = 1000;
    config.max_pending_per_user_node = 1000;
    CommandService many{db_, publisher_, clock_, config};
    for (int i = 0; i < 105; ++i) {
        many.Submit(owner_, Body({kOffline}, 0x1000, "x"), false);
    }
    CommandQuery q;
    q.node_id = kOffline;
    q.num_records = 1000;
    const auto page = many.List(owner_, q, false);
    EXPECT_EQ(page.requests.size(), 100u);
    EXPECT_EQ(page.total, 105);
    ASSERT_TRUE(page.next_id.has_value());
    q.start_id = page.next_id;
    EXPECT_EQ(many.List(owner_, q, false).requests.size(), 5u);
}

TEST_F(CommandServiceTest, AFailedSetParamsAnswerIsNotMerged) {
    ASSERT_EQ(
        ingest_.Handle(kOnline, "params/local/init", R"({"Light":{"Power":false,"Brightness":5}})"),
        IngestOutcome::kApplied
    );
    const auto id = Send(
                        owner_,
                        {kOnline},
                        kCommandSetParams,
                        boost::json::object{{"params", {{"Light", {{"Power", true}}}}}}
    ).request_id;
    ASSERT_EQ(
        Answer(
            kOnline,
            id,
            1,  // failed
            kCommandSetParams,
            R"({"status":"fail","params":{"Light":{"Power":true}}})"
        ),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(Row(id, kOnline).status, kStatusFailure);
    EXPECT_EQ(
        boost::json::parse(db_.Nodes().Find(kOnline)->params),
        boost::json::parse(R"({"Light":{"Power":false,"Brightness":5}})")
    );
}

TEST_F(CommandServiceTest, Base64DataIsLimitedAsSent) {
    // 64 KiB of base64 text is 48 KiB of bytes: the limit is on the text.
    auto s = Body({kOffline}, 0x1000, boost::json::string(std::string(65536, 'A')));
    s.is_base64 = true;
    EXPECT_EQ(SubmitError(s), 0);
    s.data = boost::json::string(std::string(65540, 'A'));  // 49,155 bytes decoded
    EXPECT_EQ(SubmitError(s), 131111);
    s.data = boost::json::string(std::string(65537, '!'));  // too long before "not base64"
    EXPECT_EQ(SubmitError(s), 131111);
}

}  // namespace
}  // namespace rainmaker::domain::commands

// Node messages over the SQLite store (domain/nodes/node_ingest): the topic table, the size
// limits per topic and per stored document, and params checked against the node's config, so
// that one node cannot make the server store what it likes (hardening finding 3).
#include "domain/nodes/node_ingest.hpp"

#include <string>

#include <gtest/gtest.h>

#include "domain/stored_json.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::nodes {
namespace {

constexpr const char* kNode = "node1";

const char* const kConfig =
    R"({"node_id":"node1","info":{"name":"n","type":"Light","model":"m","fw_version":"1.0"},)"
    R"("devices":[{"name":"Light","params":[{"name":"Power","data_type":"bool"},)"
    R"({"name":"Brightness","data_type":"int"},{"name":"Label","data_type":"string"}]}],)"
    R"("services":[{"name":"Time","params":[{"name":"TZ","data_type":"string"}]}]})";

class NodeIngestTest : public ::testing::Test {
protected:
    IngestOutcome Send(const std::string& suffix, const std::string& payload) {
        return ingest_.Handle(kNode, suffix, payload);
    }

    boost::json::object Params() {
        const auto node = db_.Nodes().Find(kNode);
        return node ? ParseObject(node->params) : boost::json::object{};
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    MappingService mapping_{db_, clock_};
    NodeIngest ingest_{db_, mapping_, clock_};
};

TEST_F(NodeIngestTest, ParamsTheConfigDoesNotDeclareAreDroppedAndCounted) {
    ASSERT_EQ(Send("config", kConfig), IngestOutcome::kApplied);
    ASSERT_EQ(
        Send(
            "params/local/init",
            R"({"Light":{"Power":true,"Brightness":5,"Junk":1},"Ghost":{"A":1,"B":2},)"
            R"("Time":{"TZ":"UTC"}})"
        ),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(
        boost::json::serialize(Params()),
        R"({"Light":{"Power":true,"Brightness":5},"Time":{"TZ":"UTC"}})"
    );
    EXPECT_EQ(ingest_.counters().params_dropped, 3u);  // Junk, Ghost.A, Ghost.B

    // A value of the wrong type is dropped too; the rest of the report is merged.
    ASSERT_EQ(
        Send("params/local", R"({"Light":{"Power":"yes","Brightness":7,"Label":"desk"}})"),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(Params().at("Light").at("Power"), true);
    EXPECT_EQ(Params().at("Light").at("Brightness"), 7);
    EXPECT_EQ(Params().at("Light").at("Label"), "desk");
    EXPECT_EQ(ingest_.counters().params_dropped, 4u);
}

// Without a stored config (not reported yet, or refused for its size) nothing can be checked:
// params are kept within the size limit, and an empty init never wipes them (review of #14).
TEST_F(NodeIngestTest, WithoutAConfigParamsAreKeptWithinTheirLimit) {
    ASSERT_EQ(Send("params/local", R"({"Light":{"Power":true}})"), IngestOutcome::kApplied);
    EXPECT_EQ(Params().at("Light").at("Power"), true);
    EXPECT_EQ(ingest_.counters().params_dropped, 0u);
    ASSERT_EQ(Send("params/local/init", "{}"), IngestOutcome::kApplied);
    EXPECT_EQ(Params().at("Light").at("Power"), true);
    // Once a config is stored, a report of nothing it declares changes nothing either.
    Send("config", kConfig);
    ASSERT_EQ(Send("params/local/init", R"({"Ghost":{"A":1}})"), IngestOutcome::kApplied);
    EXPECT_EQ(Params().at("Light").at("Power"), true);
}

TEST_F(NodeIngestTest, GroupParamsTopicsReachTheParamsHandler) {
    Send("config", kConfig);
    ASSERT_EQ(Send("params/local/lights", R"({"Light":{"Power":false}})"), IngestOutcome::kApplied);
    EXPECT_EQ(Params().at("Light").at("Power"), false);
}

TEST_F(NodeIngestTest, PayloadsOverTheTopicsLimitAreRefusedUnread) {
    Send("config", kConfig);
    Send("params/local", R"({"Light":{"Power":true}})");
    const std::string big_label(17 * 1024, 'x');
    EXPECT_EQ(
        Send("params/local", R"({"Light":{"Label":")" + big_label + R"("}})"),
        IngestOutcome::kTooLarge
    );
    EXPECT_FALSE(Params().at("Light").as_object().contains("Label"));
    EXPECT_EQ(
        Send("alert", R"({"esp.alert.str":")" + std::string(5000, 'a') + R"("})"),
        IngestOutcome::kTooLarge
    );
    EXPECT_EQ(Send("config", std::string(65 * 1024, ' ') + kConfig), IngestOutcome::kTooLarge);
    EXPECT_EQ(ingest_.counters().too_large, 3u);
}

TEST_F(NodeIngestTest, AReportThatWouldGrowTheStoredParamsPastTheirLimitIsRefused) {
    Send("config", kConfig);
    // Each report is within its own limit; together they would pass the 64 KiB of a node.
    const std::string label(15 * 1024, 'y');
    ASSERT_EQ(
        Send("params/local", R"({"Light":{"Label":")" + label + R"("}})"), IngestOutcome::kApplied
    );
    NodeIngest small(db_, mapping_, clock_, [] {
        IngestLimits limits;
        limits.max_stored_params_bytes = 20 * 1024;
        return limits;
    }());
    EXPECT_EQ(
        small.Handle(kNode, "params/local", R"({"Time":{"TZ":")" + label + R"("}})"),
        IngestOutcome::kTooLarge
    );
    EXPECT_FALSE(Params().contains("Time"));
    EXPECT_EQ(Params().at("Light").at("Label").as_string(), label);
}

TEST_F(NodeIngestTest, MalformedAndForeignMessagesChangeNothing) {
    EXPECT_EQ(Send("config", "not json"), IngestOutcome::kMalformed);
    EXPECT_EQ(Send("config", R"({"node_id":"other"})"), IngestOutcome::kMalformed);
    EXPECT_EQ(Send("alert", "[1,2]"), IngestOutcome::kMalformed);
    EXPECT_EQ(
        Send("user/mapping", R"({"node_id":"other","user_id":"u","secret_key":"s"})"),
        IngestOutcome::kMalformed
    );
    EXPECT_FALSE(db_.Nodes().Find(kNode));
    EXPECT_EQ(Send("otafetch", "{}"), IngestOutcome::kUnhandled);
    EXPECT_EQ(ingest_.counters().unhandled, 1u);
}

TEST_F(NodeIngestTest, OnlyTheNewestAlertsOfANodeAreKept) {
    NodeIngest two(db_, mapping_, clock_, [] {
        IngestLimits limits;
        limits.alerts_per_node = 2;
        return limits;
    }());
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(
            two.Handle(kNode, "alert", R"({"esp.alert.str":")" + std::to_string(i) + R"("})"),
            IngestOutcome::kApplied
        );
    }
    // Everything older than now goes: exactly the two kept ones.
    clock_.Advance(std::chrono::seconds(1));
    EXPECT_EQ(db_.Nodes().DeleteAlerts(clock_.NowSeconds()), 2);
}

TEST_F(NodeIngestTest, AnAreaRegistersItsOwnTopics) {
    int seen = 0;
    ingest_.On("otastatus", 128, [&](auto node_id, auto suffix, const auto& payload) {
        EXPECT_EQ(node_id, kNode);
        EXPECT_EQ(suffix, "otastatus");
        EXPECT_TRUE(payload.contains("status"));
        ++seen;
    });
    EXPECT_EQ(Send("otastatus", R"({"status":"success"})"), IngestOutcome::kApplied);
    EXPECT_EQ(Send("otastatus", std::string(200, ' ') + "{}"), IngestOutcome::kTooLarge);
    EXPECT_EQ(seen, 1);
}

// As for request bodies (found by fuzz/json_body_fuzz): stored as `Infinity`, a node's params
// no longer parsed and read back as {}, and its config was answered as invalid JSON.
TEST_F(NodeIngestTest, RefusesNumbersBeyondTheDoubleRange) {
    Send("config", kConfig);
    ASSERT_EQ(Send("params/local", R"({"Light":{"Brightness":5}})"), IngestOutcome::kApplied);
    EXPECT_EQ(Send("params/local", R"({"Light":{"Brightness":1e400}})"), IngestOutcome::kMalformed);
    EXPECT_EQ(Send("params/local/init", R"({"Light":{"Hue":-1e999}})"), IngestOutcome::kMalformed);
    EXPECT_EQ(
        Send("config", R"({"node_id":"node1","devices":[1e400]})"), IngestOutcome::kMalformed
    );
    EXPECT_EQ(boost::json::serialize(Params()), R"({"Light":{"Brightness":5}})");
}

// Found by fuzz/mqtt_ingest_fuzz: a refused user/mapping report of an unknown node must not
// create the node.
TEST_F(NodeIngestTest, ARefusedMappingReportOfAnUnknownNodeCreatesNothing) {
    EXPECT_EQ(
        Send("user/mapping", R"({"node_id":"node1","user_id":"u"})"), IngestOutcome::kMalformed
    );
    EXPECT_FALSE(db_.Nodes().Find(kNode));
    EXPECT_EQ(
        Send("user/mapping", R"({"node_id":"node1","user_id":"u","secret_key":"k"})"),
        IngestOutcome::kApplied
    );
    EXPECT_TRUE(db_.Nodes().Find(kNode));
}

TEST_F(NodeIngestTest, ListenersSeeWhatWasKeptAndTheStoredParamsInTheSameTransaction) {
    std::vector<std::string> seen;
    ingest_.OnParamsStored([&](auto node_id, const auto& reported, const auto& stored) {
        seen.push_back(
            std::string(node_id) + " " + boost::json::serialize(reported) + " " +
            boost::json::serialize(stored)
        );
    });
    Send("config", kConfig);
    Send("params/local/init", R"({"Light":{"Power":true}})");
    Send("params/local", R"({"Light":{"Brightness":3,"Junk":1}})");
    ingest_.ApplyReportedParams(kNode, boost::json::object{{"Light", {{"Power", false}}}});
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(
        seen[1], R"(node1 {"Light":{"Brightness":3}} {"Light":{"Power":true,"Brightness":3}})"
    );
    EXPECT_EQ(
        seen[2], R"(node1 {"Light":{"Power":false}} {"Light":{"Power":false,"Brightness":3}})"
    );
}

}  // namespace
}  // namespace rainmaker::domain::nodes

// What nodes publish, applied to the real SQLite store: accepted messages land, refused ones
// change nothing.
#include "domain/nodes/node_ingest.hpp"

#include <gtest/gtest.h>

#include "domain/nodes/mapping_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::nodes {
namespace {

class NodeIngestTest : public ::testing::Test {
protected:
    NodeIngestTest()
        : db_(dir_.path() / "db.sqlite"), mapping_(db_, clock_), ingest_(db_, mapping_, clock_) {}

    testing::TempDir dir_;
    testing::FakeClock clock_;
    storage::sqlite::SqliteDatabase db_;
    MappingService mapping_;
    NodeIngest ingest_;
};

TEST_F(NodeIngestTest, StoresReportedParamsOfANewNode) {
    EXPECT_TRUE(ingest_.Handle("n1", "params/local", R"({"Light":{"Power":true}})"));
    const auto node = db_.Nodes().Find("n1");
    ASSERT_TRUE(node);
    EXPECT_EQ(node->params, R"({"Light":{"Power":true}})");
}

// As for request bodies (found by fuzz/json_body_fuzz): stored as `Infinity`, the node's params
// no longer parsed and read back as {}, and its config was answered as invalid JSON.
TEST_F(NodeIngestTest, RefusesNumbersBeyondTheDoubleRange) {
    ASSERT_TRUE(ingest_.Handle("n1", "params/local", R"({"Light":{"Brightness":5}})"));
    EXPECT_FALSE(ingest_.Handle("n1", "params/local", R"({"Light":{"Brightness":1e400}})"));
    EXPECT_FALSE(ingest_.Handle("n1", "params/local/init", R"({"Light":{"Hue":-1e999}})"));
    EXPECT_FALSE(ingest_.Handle("n1", "config", R"({"node_id":"n1","devices":[1e400]})"));
    const auto node = db_.Nodes().Find("n1");
    ASSERT_TRUE(node);
    EXPECT_EQ(node->params, R"({"Light":{"Brightness":5}})");
    EXPECT_EQ(node->config, "");
}

// Found by fuzz/mqtt_ingest_fuzz: the node got a record before its user/mapping payload was
// checked, so a refused report of an unknown node still created the node.
TEST_F(NodeIngestTest, RefusedMappingReportChangesNothing) {
    EXPECT_FALSE(ingest_.Handle(
        "n2", "user/mapping", R"({"node_id":"other","user_id":"u","secret_key":"k"})"
    ));
    EXPECT_FALSE(ingest_.Handle("n2", "user/mapping", R"({"node_id":"n2","user_id":"u"})"));
    EXPECT_FALSE(db_.Nodes().Find("n2"));
    EXPECT_TRUE(
        ingest_.Handle("n2", "user/mapping", R"({"node_id":"n2","user_id":"u","secret_key":"k"})")
    );
    EXPECT_TRUE(db_.Nodes().Find("n2"));
}

}  // namespace
}  // namespace rainmaker::domain::nodes

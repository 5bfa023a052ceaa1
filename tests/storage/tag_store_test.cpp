// Admin tags over the SQLite store (storage::TagStore, V016) and the tag rules and expressions
// of domain/tags; the admin node search of NodeStore (type -> model -> fw_version, tags, status,
// config info) and deactivation.
#include "storage/tag_store.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/tags/tags.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage {
namespace {

using domain::tags::ExpressionError;
using domain::tags::ParseExpression;
using Strings = std::vector<std::string>;

TagQuery Expr(const std::string& text) {
    const auto parsed = ParseExpression(text);
    EXPECT_EQ(parsed.error, ExpressionError::kNone) << text;
    return parsed.query;
}

class TagStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        UserRow u;
        u.user_id = "u1";
        u.user_name = "u1@x.com";
        u.password_hash = "hash";
        u.created_at = 1;
        ASSERT_TRUE(db_.Users().Insert(u));
    }

    void AddNode(
        const std::string& id,
        const std::string& type = "",
        const std::string& model = "",
        const std::string& fw = "",
        const std::string& config = ""
    ) {
        NodeRow n;
        n.node_id = id;
        ASSERT_TRUE(db_.Nodes().Insert(n));
        if (!type.empty() || !config.empty()) {
            db_.Nodes().PutConfig(id, config.empty() ? "{}" : config, type, model, fw);
        }
    }

    Strings Ids(const std::vector<NodeRow>& rows) {
        Strings out;
        for (const auto& r : rows) {
            out.push_back(r.node_id);
        }
        return out;
    }

    Strings Ids(const std::vector<TaggedResource>& rows) {
        Strings out;
        for (const auto& r : rows) {
            out.push_back(r.resource_id);
        }
        return out;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    TagStore& tags_ = db_.Tags();
};

TEST(TagRules, ValidTagsAreNameColonValueWithinLimits) {
    using domain::tags::IsValidTag;
    EXPECT_TRUE(IsValidTag("location:pune"));
    EXPECT_TRUE(IsValidTag("esp.city:New York"));
    EXPECT_TRUE(IsValidTag("url:http://x"));  // the value may hold ':'
    EXPECT_FALSE(IsValidTag("location"));
    EXPECT_FALSE(IsValidTag(":pune"));
    EXPECT_FALSE(IsValidTag("location:"));
    EXPECT_FALSE(IsValidTag(" location:pune"));
    EXPECT_FALSE(IsValidTag("location:pune "));
    EXPECT_FALSE(IsValidTag("loc\tation:pune"));
    EXPECT_FALSE(IsValidTag("location:\xff"));
    EXPECT_TRUE(IsValidTag(std::string(64, 'n') + ":" + std::string(128, 'v')));
    EXPECT_FALSE(IsValidTag(std::string(65, 'n') + ":v"));
    EXPECT_FALSE(IsValidTag("n:" + std::string(129, 'v')));
}

TEST(TagRules, ResourceTypesAreCaseInsensitive) {
    using domain::tags::ParseResourceType;
    EXPECT_EQ(ParseResourceType("Node"), TagResource::kNode);
    EXPECT_EQ(ParseResourceType("NODE"), TagResource::kNode);
    EXPECT_EQ(ParseResourceType("group"), TagResource::kGroup);
    EXPECT_EQ(ParseResourceType("OTAImage"), TagResource::kOtaImage);
    EXPECT_EQ(ParseResourceType("otajob"), TagResource::kOtaJob);
    EXPECT_EQ(ParseResourceType("User"), TagResource::kUser);
    EXPECT_FALSE(ParseResourceType("device"));
    EXPECT_FALSE(ParseResourceType(""));
}

TEST(TagExpressions, OneOperatorPerExpression) {
    const auto single = ParseExpression("location:pune");
    ASSERT_EQ(single.error, ExpressionError::kNone);
    ASSERT_EQ(single.query.terms.size(), 1u);
    EXPECT_EQ(single.query.terms[0].first, "location");
    EXPECT_EQ(single.query.terms[0].second, "pune");

    const auto any = ParseExpression("location:pune OR location:new york");
    ASSERT_EQ(any.error, ExpressionError::kNone);
    EXPECT_FALSE(any.query.all);
    ASSERT_EQ(any.query.terms.size(), 2u);
    EXPECT_EQ(any.query.terms[1].second, "new york");

    const auto all = ParseExpression("a:1 AND b:2 AND c:3");
    ASSERT_EQ(all.error, ExpressionError::kNone);
    EXPECT_TRUE(all.query.all);
    EXPECT_EQ(all.query.terms.size(), 3u);

    EXPECT_EQ(ParseExpression("a:1 AND b:2 OR c:3").error, ExpressionError::kMixedOperators);
}

TEST(TagExpressions, BadInputIsRefused) {
    for (const std::string& bad : Strings{
             "",
             "location",
             "a:1 OR",
             "OR a:1",
             "a:1 OR OR b:2",
             "a:1 AND  AND b:2",
             ":x OR a:1",
             "a:1 OR b",
             std::string(1025, 'a')}) {
        EXPECT_EQ(ParseExpression(bad).error, ExpressionError::kInvalid) << bad;
    }
    std::string ten = "t:0";
    for (int i = 1; i < 10; ++i) {
        ten += " OR t:" + std::to_string(i);
    }
    EXPECT_EQ(ParseExpression(ten).error, ExpressionError::kNone);
    EXPECT_EQ(ParseExpression(ten + " OR t:10").error, ExpressionError::kInvalid);
}

TEST_F(TagStoreTest, AttachIsIdempotentAndOfIsSorted) {
    AddNode("n1");
    tags_.Attach(TagResource::kNode, "n1", {"z:1", "a:2", "a:1"});
    tags_.Attach(TagResource::kNode, "n1", {"a:1"});
    EXPECT_EQ(tags_.Of(TagResource::kNode, "n1"), (Strings{"a:1", "a:2", "z:1"}));
    EXPECT_EQ(tags_.Count(TagResource::kNode, "n1"), 3);
    // The same id of another resource type is another resource.
    EXPECT_TRUE(tags_.Of(TagResource::kGroup, "n1").empty());
    EXPECT_EQ(tags_.Detach(TagResource::kNode, "n1", {"a:2", "missing:1"}), 1);
    EXPECT_EQ(tags_.Of(TagResource::kNode, "n1"), (Strings{"a:1", "z:1"}));
}

TEST_F(TagStoreTest, TagsGoWithTheirNodeUserAndGroup) {
    AddNode("n1");
    GroupRow g;
    g.group_id = "g1";
    g.owner_id = "u1";
    g.group_name = "home";
    g.created_at = 1;
    db_.Groups().Insert(g);
    GroupRow sub = g;
    sub.group_id = "g2";
    sub.parent_id = "g1";
    sub.level = 2;
    db_.Groups().Insert(sub);
    tags_.Attach(TagResource::kNode, "n1", {"a:1"});
    tags_.Attach(TagResource::kUser, "u1", {"a:1"});
    tags_.Attach(TagResource::kGroup, "g1", {"a:1"});
    tags_.Attach(TagResource::kGroup, "g2", {"a:1"});

    db_.Nodes().DeleteNode("n1");
    EXPECT_TRUE(tags_.Of(TagResource::kNode, "n1").empty());
    db_.Groups().Delete("g1");  // its sub-group goes by cascade, and its tags with it
    EXPECT_TRUE(tags_.Of(TagResource::kGroup, "g1").empty());
    EXPECT_TRUE(tags_.Of(TagResource::kGroup, "g2").empty());
    db_.Users().Delete("u1");
    EXPECT_TRUE(tags_.Of(TagResource::kUser, "u1").empty());
}

TEST_F(TagStoreTest, MatchingByExpressionTypeAndPage) {
    for (const auto* id : {"n1", "n2", "n3"}) {
        AddNode(id);  // a node's tags are kept only while it exists (V023)
    }
    tags_.Attach(TagResource::kNode, "n1", {"city:pune", "floor:1"});
    tags_.Attach(TagResource::kNode, "n2", {"city:pune"});
    tags_.Attach(TagResource::kNode, "n3", {"city:delhi", "floor:1"});
    tags_.Attach(TagResource::kGroup, "g1", {"city:pune"});

    EXPECT_EQ(
        Ids(tags_.Matching(TagResource::kNode, Expr("city:pune OR city:delhi"), "", 10)),
        (Strings{"n1", "n2", "n3"})
    );
    EXPECT_EQ(
        Ids(tags_.Matching(TagResource::kNode, Expr("city:pune AND floor:1"), "", 10)),
        (Strings{"n1"})
    );
    // A repeated term counts once.
    EXPECT_EQ(
        Ids(tags_.Matching(TagResource::kNode, Expr("city:pune AND city:pune"), "", 10)),
        (Strings{"n1", "n2"})
    );
    EXPECT_EQ(
        Ids(tags_.Matching(std::nullopt, Expr("city:pune"), "", 10)), (Strings{"g1", "n1", "n2"})
    );
    EXPECT_EQ(tags_.CountMatching(std::nullopt, Expr("city:pune")), 3);
    EXPECT_EQ(Ids(tags_.Matching(TagResource::kNode, Expr("city:pune"), "n1", 1)), (Strings{"n2"}));
    EXPECT_EQ(tags_.CountMatching(TagResource::kNode, Expr("floor:1")), 2);

    EXPECT_EQ(tags_.Names(std::nullopt, "", 10), (Strings{"city", "floor"}));
    EXPECT_EQ(tags_.Names(TagResource::kGroup, "", 10), (Strings{"city"}));
    EXPECT_EQ(tags_.Names(std::nullopt, "city", 10), (Strings{"floor"}));
    EXPECT_EQ(tags_.CountNames(std::nullopt), 2);
    EXPECT_EQ(tags_.Values(std::nullopt, "city", "", 10), (Strings{"delhi", "pune"}));
    EXPECT_EQ(tags_.Values(TagResource::kGroup, "city", "", 10), (Strings{"pune"}));
    EXPECT_EQ(tags_.Values(std::nullopt, "city", "", 1), (Strings{"delhi"}));
    EXPECT_EQ(tags_.CountValues(std::nullopt, "city"), 2);
}

TEST_F(TagStoreTest, AdminSearchFiltersTypeModelFirmwareTagsAndInfo) {
    AddNode("a1", "light", "m1", "1.0", R"({"info":{"subtype":"bulb","project_name":"p1"}})");
    AddNode("a2", "light", "m1", "2.0", R"({"info":{"subtype":"strip","project_name":"p1"}})");
    AddNode("a3", "light", "m2", "1.0");
    AddNode("a4", "fan", "m1", "1.0");
    AddNode("a5");
    tags_.Attach(TagResource::kNode, "a1", {"city:pune"});
    tags_.Attach(TagResource::kNode, "a2", {"city:delhi"});
    tags_.Attach(TagResource::kNode, "a4", {"city:pune"});

    AdminNodeFilter f;
    EXPECT_EQ(db_.Nodes().CountNodes(f), 5);
    f.node_type = "light";
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(f, "", 10)), (Strings{"a1", "a2", "a3"}));
    f.model = "m1";
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(f, "", 10)), (Strings{"a1", "a2"}));
    f.fw_version = "2.0";
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(f, "", 10)), (Strings{"a2"}));
    f.fw_version.clear();
    f.tags = Expr("city:pune OR city:delhi");
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(f, "", 10)), (Strings{"a1", "a2"}));
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(f, "a1", 10)), (Strings{"a2"}));
    f.tags = Expr("city:pune");
    EXPECT_EQ(db_.Nodes().CountNodes(f), 1);

    AdminNodeFilter by_tag;  // no type: through the tag index
    by_tag.tags = Expr("city:pune");
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(by_tag, "", 10)), (Strings{"a1", "a4"}));

    AdminNodeFilter info;
    info.subtype = "strip";
    EXPECT_EQ(Ids(db_.Nodes().SearchNodes(info, "", 10)), (Strings{"a2"}));
    info.subtype.clear();
    info.project_name = "p1";
    EXPECT_EQ(db_.Nodes().CountNodes(info), 2);
}

TEST_F(TagStoreTest, AdminSearchStatusesFollowPresenceAndDeactivation) {
    AddNode("never");
    AddNode("on");
    AddNode("off_recent");
    AddNode("off_old");
    AddNode("gone");
    ASSERT_TRUE(db_.Nodes().ApplyPresence("on", true, 5000, 1));
    ASSERT_TRUE(db_.Nodes().ApplyPresence("off_recent", false, 5000, 1));
    ASSERT_TRUE(db_.Nodes().ApplyPresence("off_old", false, 1000, 1));
    ASSERT_TRUE(db_.Nodes().ApplyPresence("gone", true, 5000, 1));
    EXPECT_TRUE(db_.Nodes().SetDeactivated("gone", true));
    EXPECT_FALSE(db_.Nodes().SetDeactivated("gone", true));
    EXPECT_FALSE(db_.Nodes().SetDeactivated("missing", true));

    const auto with = [&](NodeStatusFilter status) {
        AdminNodeFilter f;
        f.status = status;
        f.active_since_ms = 3000;
        return Ids(db_.Nodes().SearchNodes(f, "", 10));
    };
    EXPECT_EQ(with(NodeStatusFilter::kNotActivated), (Strings{"never"}));
    EXPECT_EQ(with(NodeStatusFilter::kOnline), (Strings{"on"}));
    EXPECT_EQ(with(NodeStatusFilter::kOffline), (Strings{"off_old", "off_recent"}));
    EXPECT_EQ(with(NodeStatusFilter::kDeactivated), (Strings{"gone"}));
    EXPECT_EQ(with(NodeStatusFilter::kActive), (Strings{"off_recent", "on"}));
    EXPECT_EQ(with(NodeStatusFilter::kInactive), (Strings{"off_old"}));
    // A deactivated node's certificates are refused; activation lifts that.
    EXPECT_TRUE(db_.Nodes().SetDeactivated("gone", false));
    EXPECT_EQ(with(NodeStatusFilter::kDeactivated), Strings{});
}

}  // namespace
}  // namespace rainmaker::storage

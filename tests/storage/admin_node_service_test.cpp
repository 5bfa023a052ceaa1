// AdminNodeService and TagService over the SQLite store: the request checks that refuse before
// anything changes, partial results of #24, deactivation reaching CertificateRevocations only
// after the commit (and only when something changed), and the query modes of #106.
#include "domain/nodes/admin_node_service.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/tags/tag_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::nodes {
namespace {

using testing::CodeOf;

using core::ApiError;
using core::ErrorCode;
using storage::TagResource;
using Strings = std::vector<std::string>;

class CountingRevocations final : public CertificateRevocations {
public:
    explicit CountingRevocations(storage::Database& db) : db_(db) {}

    // Records whether the deactivation it follows is visible (committed) when it runs.
    void Changed() override {
        ++calls;
        revoked_seen = db_.Nodes().RevokedSerials().size();
    }

    int calls = 0;
    std::size_t revoked_seen = 0;

private:
    storage::Database& db_;
};

class AdminNodeServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* id : {"n1", "n2"}) {
            storage::NodeRow n;
            n.node_id = id;
            ASSERT_TRUE(db_.Nodes().Insert(n));
            db_.Nodes().AddCertificate(id, "pem", std::string("serial-") + id, 1);
        }
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    CountingRevocations revocations_{db_};
    AdminNodeService service_{db_, revocations_, clock_};
    tags::TagService tags_{db_};
    // An admin with no RBAC role: every node in reach.
    const auth::AuthContext admin_ = [] {
        auth::AuthContext c;
        c.user_id = "ops";
        c.role = auth::PlatformRole::kAdmin;
        return c;
    }();
};

TEST_F(AdminNodeServiceTest, BadRequestsChangeNothing) {
    const Strings ok{"a:b"};
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, "", std::nullopt, ok, true); }),
        ErrorCode::kAdminNodeIdMissing
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, " , ", std::nullopt, ok, true); }),
        ErrorCode::kAdminNodeIdMissing
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, "n1,n1", std::nullopt, ok, true); }),
        ErrorCode::kTooManyNodes
    );
    std::string many = "n1";
    for (int i = 0; i < 25; ++i) {
        many += ",x" + std::to_string(i);
    }
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, many, std::nullopt, ok, true); }),
        ErrorCode::kTooManyNodes
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, "n1", "yes", std::nullopt, false); }),
        ErrorCode::kActivateFlag
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, "n1", "false", Strings{}, true); }),
        ErrorCode::kNoTagsToAttach
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Update(admin_, "n1", std::nullopt, std::nullopt, false); }),
        ErrorCode::kNoTagsToAttach
    );
    EXPECT_EQ(
        CodeOf([&] {
            service_.Update(admin_, "n1,n2", "false", Strings{"a:b", "bad"}, true);
        }),
        ErrorCode::kInvalidNodeTag
    );
    EXPECT_TRUE(db_.Tags().Of(TagResource::kNode, "n1").empty());
    EXPECT_TRUE(db_.Nodes().RevokedSerials().empty());
    EXPECT_EQ(revocations_.calls, 0);

    storage::AdminNodeFilter f;
    AdminNodeQuery q;
    q.model = "m";
    EXPECT_EQ(CodeOf([&] { service_.Search(admin_, q); }), ErrorCode::kModelNeedsType);
    q.type = "t";
    q.model.reset();
    q.fw_version = "1";
    EXPECT_EQ(CodeOf([&] { service_.Search(admin_, q); }), ErrorCode::kFwNeedsTypeModel);
    AdminNodeQuery s;
    s.node_status = "asleep";
    EXPECT_EQ(CodeOf([&] { service_.Search(admin_, s); }), ErrorCode::kInvalidNodeStatus);
    AdminNodeQuery t;
    t.tags = "a:1 OR b:2 AND c:3";
    EXPECT_EQ(CodeOf([&] { service_.Search(admin_, t); }), ErrorCode::kTagOperators);
    t.tags = "a";
    EXPECT_EQ(CodeOf([&] { service_.Search(admin_, t); }), ErrorCode::kInvalidNodeTag);
    EXPECT_EQ(
        CodeOf([&] { service_.Summary(admin_, std::nullopt); }), ErrorCode::kInvalidStartTime
    );
    EXPECT_EQ(
        CodeOf([&] { service_.Summary(admin_, std::string("-1")); }), ErrorCode::kInvalidStartTime
    );
    EXPECT_EQ(CodeOf([&] { service_.One(admin_, "nosuch"); }), ErrorCode::kNodesNotFound);
}

TEST_F(AdminNodeServiceTest, PartialUpdateAndDeactivationAfterCommit) {
    const auto results = service_.Update(admin_, "n1,nosuch", "false", Strings{"city:pune"}, true);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0].error);
    EXPECT_EQ(results[1].error, ErrorCode::kNodesNotFound);
    EXPECT_EQ(db_.Tags().Of(TagResource::kNode, "n1"), Strings{"city:pune"});
    // The CRL rewrite ran once, after the commit: it saw the deactivated node's certificate.
    EXPECT_EQ(revocations_.calls, 1);
    EXPECT_EQ(revocations_.revoked_seen, 1u);
    EXPECT_EQ(service_.One(admin_, "n1").node_status, "deactivated");
    // Nothing changed: no rewrite.
    EXPECT_FALSE(service_.SetActive("n1", false));
    EXPECT_EQ(revocations_.calls, 1);
    EXPECT_TRUE(service_.SetActive("n1", true));
    EXPECT_EQ(revocations_.calls, 2);
    EXPECT_EQ(revocations_.revoked_seen, 0u);
    // A certificate revoked by a re-claim stays revoked after activation.
    db_.Nodes().RevokeCertificates("n2", "", 5);
    EXPECT_TRUE(service_.SetActive("n2", false));
    EXPECT_TRUE(service_.SetActive("n2", true));
    EXPECT_EQ(db_.Nodes().RevokedSerials(), Strings{"serial-n2"});
    EXPECT_EQ(CodeOf([&] { service_.SetActive("nosuch", false); }), ErrorCode::kNodesNotFound);
}

TEST_F(AdminNodeServiceTest, SearchPagesWithTotalsAndSummaryCounts) {
    ASSERT_TRUE(db_.Nodes().ApplyPresence("n1", true, 1'800'000'000'000, 1));
    AdminNodeQuery q;
    q.num_records = 1;
    const auto first = service_.Search(admin_, q);
    ASSERT_EQ(first.nodes.size(), 1u);
    EXPECT_EQ(first.total, 2);
    EXPECT_EQ(first.next_id, "n1");
    q.start_id = first.next_id;
    const auto second = service_.Search(admin_, q);
    ASSERT_EQ(second.nodes.size(), 1u);
    EXPECT_EQ(second.nodes[0].node.node_id, "n2");
    EXPECT_EQ(second.next_id, "");
    const auto counts = service_.Summary(admin_, std::string("0"));
    EXPECT_EQ(counts.active, 1);
    EXPECT_EQ(counts.not_activated, 1);
    EXPECT_EQ(counts.inactive, 0);
}

TEST_F(AdminNodeServiceTest, TagLookupModes) {
    tags_.Attach(admin_, std::string("Node"), std::string("n1"), Strings{"city:pune", "floor:1"});
    tags_.Attach(admin_, std::string("node"), std::string("n2"), Strings{"city:pune"});
    EXPECT_EQ(
        CodeOf([&] {
            tags_.Attach(admin_, std::string("OTAJob"), std::string("j"), Strings{"a:b"});
        }),
        ErrorCode::kInvalidTagResource
    );
    EXPECT_EQ(
        CodeOf([&] {
            tags_.Attach(admin_, std::string("Node"), std::string("nosuch"), Strings{"a:b"});
        }),
        ErrorCode::kInvalidTagResource
    );
    Strings too_many;
    for (int i = 0; i < 64; ++i) {
        too_many.push_back("k" + std::to_string(i) + ":v");
    }
    EXPECT_EQ(
        CodeOf([&] { tags_.Attach(admin_, std::string("Node"), std::string("n1"), too_many); }),
        ErrorCode::kInvalidTags
    );  // 2 attached + 64 new > 64
    EXPECT_EQ(db_.Tags().Count(TagResource::kNode, "n1"), 2);

    tags::TagLookup by_tag;
    by_tag.tag_name = "city";
    by_tag.tag_value = "pune";
    by_tag.num_records = 1;
    const auto page = tags_.Lookup(admin_, by_tag);
    ASSERT_EQ(page.resources.size(), 1u);
    EXPECT_EQ(page.total, 2);
    EXPECT_EQ(page.next_id, "n1");

    tags::TagLookup expr;
    expr.tags = "city:pune AND floor:1";
    expr.resource_type = "NODE";
    EXPECT_EQ(tags_.Lookup(admin_, expr).total, 1);
    expr.resource_type.reset();
    EXPECT_EQ(CodeOf([&] { tags_.Lookup(admin_, expr); }), ErrorCode::kMissingTagResourceType);
    expr.resource_type = "Node";
    expr.resource_id = "n1";
    EXPECT_EQ(CodeOf([&] { tags_.Lookup(admin_, expr); }), ErrorCode::kTagQueryExtra);

    tags::TagLookup of;
    of.resource_type = "Node";
    of.resource_id = "n1";
    EXPECT_EQ(*tags_.Lookup(admin_, of).resources.at(0).tags, (Strings{"city:pune", "floor:1"}));
    EXPECT_EQ(CodeOf([&] { tags_.Lookup(admin_, {}); }), ErrorCode::kTagQueryCombination);

    const auto names = tags_.Names(admin_, std::nullopt, std::nullopt, "", 1);
    EXPECT_EQ(names.items, Strings{"city"});
    EXPECT_EQ(names.next_id, "city");
    EXPECT_EQ(names.total, 2);
}

}  // namespace
}  // namespace rainmaker::domain::nodes

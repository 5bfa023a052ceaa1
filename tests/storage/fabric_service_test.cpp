// The Matter fabric service over the SQLite store: the root key sealed at rest, ids unique in
// a fabric, member identities following the shares, a failed NOC batch issuing nothing, and a
// deleted home taking its fabric with it.
#include "domain/groups/fabric_service.hpp"

#include <chrono>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "storage/sql/dynamic_query.hpp"
#include "storage/sql/sql_matter_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::groups {
namespace {

using testing::CodeOf;

using storage::GroupRow;

class FabricServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"owner", "bob"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        home_.group_id = "home";
        home_.owner_id = "owner";
        home_.group_name = "Home";
        home_.created_at = 1;
        db_.Groups().Insert(home_);
        db_.Transaction([&] { fabrics_.MakeFabric(home_); });
    }

    static auth::AuthContext Caller(const std::string& user) {
        auth::AuthContext c;
        c.user_id = user;
        return c;
    }

    NocBatch Batch(const std::string& type, int count) {
        NocBatch batch{"add", type, {}, false, false};
        for (int i = 0; i < count; ++i) {
            batch.items.push_back(CsrItem{crypto::MakeKeyAndCsr("x").csr_pem, "home", {}, {}});
        }
        return batch;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    std::unique_ptr<crypto::KeySealer> sealer_ =
        crypto::KeySealer::FromKeyForTest(std::string(32, 's'));
    FabricService fabrics_{db_, *sealer_, clock_};
    GroupRow home_;
};

TEST_F(FabricServiceTest, TheRootKeyIsStoredSealedAndOpensOnlyForItsFabric) {
    const auto fabric = db_.Matter().FindFabric("home");
    ASSERT_TRUE(fabric);
    EXPECT_EQ(fabric->root_key_sealed.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(fabric->root_key_sealed.rfind("v1:", 0), 0U);
    const auto key = sealer_->Open(fabric->root_key_sealed, "home");
    EXPECT_NE(key.find("BEGIN PRIVATE KEY"), std::string::npos);
    EXPECT_THROW(sealer_->Open(fabric->root_key_sealed, "other"), std::runtime_error);
    // A fabric sealed under another key cannot sign: 108083, nothing issued.
    const auto other_sealer = crypto::KeySealer::FromKeyForTest(std::string(32, 'o'));
    FabricService other{db_, *other_sealer, clock_};
    EXPECT_EQ(
        CodeOf([&] { other.IssueNocs(Caller("owner"), Batch("node", 1)); }),
        core::ErrorCode::kFabricKeyUnreadable
    );
    EXPECT_TRUE(db_.Matter().Nodes("home", "node").empty());
    // Converting twice is refused.
    EXPECT_EQ(
        CodeOf([&] { db_.Transaction([&] { fabrics_.MakeFabric(home_); }); }),
        core::ErrorCode::kAlreadyFabric
    );
}

TEST_F(FabricServiceTest, NodeIdsAreUniqueAndOperationalInAFabric) {
    std::set<std::string> ids;
    ids.insert(db_.Matter().FindMember("home", "owner")->matter_user_id);
    for (int i = 0; i < 20; ++i) {
        const auto out = fabrics_.IssueNocs(Caller("owner"), Batch("node", 1));
        const auto id = std::string(out.at("certificates").at(0).at("matter_node_id").as_string());
        const auto value = ParseMatterId(id);
        ASSERT_TRUE(value);
        EXPECT_GE(*value, 1U);
        EXPECT_LE(*value, crypto::kMaxOperationalNodeId);
        EXPECT_TRUE(ids.insert(id).second) << id;
        EXPECT_TRUE(db_.Matter().NodeIdTaken("home", id));
    }
    EXPECT_EQ(db_.Matter().Nodes("home", "node").size(), 20U);
}

TEST_F(FabricServiceTest, ACommissioningRequestTimesOutAfterAnHour) {
    const auto out = fabrics_.IssueNocs(Caller("owner"), Batch("node", 1));
    const auto request = std::string(out.at("certificates").at(0).at("request_id").as_string());
    clock_.Advance(std::chrono::seconds(3601));
    EXPECT_EQ(
        CodeOf([&] {
            fabrics_.Confirm(Caller("owner"), {request, "success", {}, {}, {}, {}});
        }),
        core::ErrorCode::kCommissionTimedOut
    );
    EXPECT_EQ(db_.Matter().FindRequest(request)->status, "pending");
    // A fresh one confirms.
    const auto again = fabrics_.IssueNocs(Caller("owner"), Batch("node", 1));
    const auto second = std::string(again.at("certificates").at(0).at("request_id").as_string());
    fabrics_.Confirm(Caller("owner"), {second, "success", {}, {}, {}, {}});
    EXPECT_EQ(db_.Matter().FindRequest(second)->status, "success");
    EXPECT_EQ(fabrics_.NodeList(*db_.Matter().FindFabric("home")).size(), 1U);
}

TEST_F(FabricServiceTest, ControllersTakeTheRoleTheCallerMayGive) {
    storage::NodeRow node;
    node.node_id = "n1";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "owner";
    mapping.node_id = "n1";
    db_.Nodes().PutMapping(mapping);
    db_.Groups().PutShare(storage::GroupShareRow{
        "home", "bob", core::ResourceRole::kSecondary, "{}", 1});
    // Bob, a secondary, makes no controller; nor does anyone from a node they do not hold.
    EXPECT_EQ(
        CodeOf([&] { fabrics_.CreateController(Caller("bob"), "home", "n1"); }),
        core::ErrorCode::kSharedGroupReadOnly
    );
    EXPECT_EQ(
        CodeOf([&] { fabrics_.CreateController(Caller("owner"), "home", "n2"); }),
        core::ErrorCode::kMatterNodeMissing
    );
    const auto id = fabrics_.CreateController(Caller("owner"), "home", "n1");
    EXPECT_EQ(fabrics_.CreateController(Caller("owner"), "home", "n1"), id);  // asked again
    const auto controller = [&](const std::string& who, core::ResourceRole role) {
        NocBatch batch{"add", "controller", {}, false, false};
        batch.items.push_back(CsrItem{
            crypto::MakeKeyAndCsr("c").csr_pem, "home", core::NamedRole{role}, id});
        return fabrics_.IssueNocs(Caller(who), batch);
    };
    EXPECT_EQ(
        CodeOf([&] { controller("bob", core::ResourceRole::kPrimary); }),
        core::ErrorCode::kSecondaryPrimaryController
    );
    // Nor does Bob get a NOC with the owner's controller id: the controller's NOC goes to who
    // holds its RainMaker node directly as primary.
    EXPECT_EQ(
        CodeOf([&] { controller("bob", core::ResourceRole::kSecondary); }),
        core::ErrorCode::kMatterNodeMissing
    );
    const auto fabric = *db_.Matter().FindFabric("home");
    const auto as_owner = controller("owner", core::ResourceRole::kPrimary);
    const auto noc = std::string(as_owner.at("certificates").at(0).at("user_noc").as_string());
    EXPECT_TRUE(crypto::IsIssuedBy(noc, fabric.root_ca));
    ASSERT_TRUE(crypto::InspectCertificate(noc));
    EXPECT_EQ(as_owner.at("certificates").at(0).at("matter_node_id"), id.c_str());
}

// CSR verification costs about three signatures: nobody gets it done for a group they have no
// part in, nor for more than kMaxCsrRequests items at once.
TEST_F(FabricServiceTest, AccessIsCheckedBeforeAnyCsrIsVerified) {
    NocBatch batch{"add", "user", {}, false, false};
    batch.items.push_back(CsrItem{"not a csr", "home", {}, {}});
    EXPECT_EQ(
        CodeOf([&] { fabrics_.IssueNocs(Caller("bob"), batch); }),
        core::ErrorCode::kCsrGroupNotAccessible
    );
    // A good item first, then one for a group that does not exist.
    NocBatch mixed = Batch("user", 1);
    mixed.items.push_back(CsrItem{"not a csr", "nowhere", {}, {}});
    EXPECT_EQ(
        CodeOf([&] { fabrics_.IssueNocs(Caller("owner"), mixed); }),
        core::ErrorCode::kCsrGroupNotAccessible
    );
}

TEST_F(FabricServiceTest, ABatchHoldsAtMostTheDocumentedNumberOfCsrs) {
    NocBatch batch{"add", "user", {}, false, false};
    for (std::size_t i = 0; i <= kMaxCsrRequests; ++i) {
        batch.items.push_back(CsrItem{"not a csr", "home", {}, {}});
    }
    try {
        fabrics_.IssueNocs(Caller("owner"), batch);
        ADD_FAILURE() << "a batch past the limit was taken";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kInputTooLarge);
        EXPECT_NE(e.description().find(std::to_string(kMaxCsrRequests)), std::string::npos);
    }
}

// Looking a RainMaker node up among the fabrics' devices (every release and confirmation
// does) is an index search, not a scan of every fabric's devices.
TEST_F(FabricServiceTest, RainmakerNodeLookupsUseThePartialIndex) {
    for (const bool devices_only : {true, false}) {
        const storage::sql::DynamicQuery query{
            storage::sql::SqlMatterStore::ByRainmakerNodeSql(devices_only), {"node-1"}};
        std::string plan;
        for (const auto& line : query.Plan(db_)) {
            plan += line + "\n";
        }
        EXPECT_NE(plan.find("INDEX matter_nodes_rainmaker"), std::string::npos) << plan;
    }
}

TEST_F(FabricServiceTest, ABatchWithOneBadCsrIssuesNothing) {
    storage::GroupRow cottage = home_;
    cottage.group_id = "cottage";
    cottage.group_name = "Cottage";
    db_.Groups().Insert(cottage);
    db_.Transaction([&] { fabrics_.MakeFabric(cottage); });
    NocBatch batch = Batch("user", 1);
    batch.items.push_back(CsrItem{"not a csr", "cottage", {}, {}});
    EXPECT_EQ(
        CodeOf([&] { fabrics_.IssueNocs(Caller("owner"), batch); }), core::ErrorCode::kInvalidCsr
    );
    // Bob (no share) gets nothing, and a user batch creates no identity for him.
    EXPECT_EQ(
        CodeOf([&] { fabrics_.IssueNocs(Caller("bob"), Batch("user", 1)); }),
        core::ErrorCode::kCsrGroupNotAccessible
    );
    EXPECT_FALSE(db_.Matter().FindMember("home", "bob"));
}

TEST_F(FabricServiceTest, MembersFollowTheSharesAndTheFabricGoesWithItsHome) {
    db_.Groups().PutShare(storage::GroupShareRow{
        "home", "bob", core::ResourceRole::kSecondary, "{}", 1});
    db_.Transaction([&] { fabrics_.EnsureMember("home", "bob"); });
    const auto bob = db_.Matter().FindMember("home", "bob");
    ASSERT_TRUE(bob);
    EXPECT_NE(bob->matter_user_id, db_.Matter().FindMember("home", "owner")->matter_user_id);
    // Asking again gives the same identity.
    EXPECT_EQ(fabrics_.EnsureMember("home", "bob").matter_user_id, bob->matter_user_id);
    const auto details = fabrics_.Details(*db_.Matter().FindFabric("home"), "bob");
    EXPECT_EQ(details.at("matter_user_id"), bob->matter_user_id.c_str());
    db_.Transaction([&] { fabrics_.MemberLeft("home", "bob", false); });
    EXPECT_FALSE(db_.Matter().FindMember("home", "bob"));
    EXPECT_FALSE(
        fabrics_.Details(*db_.Matter().FindFabric("home"), "bob").contains("matter_user_id")
    );

    fabrics_.IssueNocs(Caller("owner"), Batch("node", 1));
    db_.Groups().Delete("home");
    EXPECT_FALSE(db_.Matter().FindFabric("home"));
    EXPECT_FALSE(db_.Matter().FindMember("home", "owner"));
    EXPECT_TRUE(db_.Matter().Nodes("home", "node").empty());
}

}  // namespace
}  // namespace rainmaker::domain::groups

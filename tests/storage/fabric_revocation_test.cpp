// Matter fabrics through the group and sharing services over SQLite (#9). Revocation: a member
// who leaves, is removed, changes role or deletes their account has the CAT of the role they
// held raised (a NOC carrying the older version no longer matches the devices' ACLs, Matter
// §6.6.2.1.2), the node ACLs answer the new version with a higher sequence, and the members who
// stay get the new version in their next NOC; a RainMaker node leaving RainMaker leaves its
// fabrics. The fabric quota (108132) and nodes commissioned elsewhere (108122).
#include <algorithm>
#include <chrono>
#include <memory>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "domain/groups/fabric_service.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "domain/nodes/node_service.hpp"
#include "domain/sharing/group_sharing_service.hpp"
#include "domain/sharing/node_sharing_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::groups {
namespace {

using testing::CodeOf;

class NoPublisher final : public nodes::NodePublisher {
public:
    bool Publish(std::string_view, std::string_view, std::string_view) override { return true; }
};

// The CATs (1.3.6.1.4.1.37244.1.6) in a NOC's subject.
std::vector<std::uint32_t> CatsOf(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free
    );
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free
    );
    std::vector<std::uint32_t> out;
    if (!cert) {
        ADD_FAILURE() << "not a certificate";
        return out;
    }
    std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> oid(
        OBJ_txt2obj("1.3.6.1.4.1.37244.1.6", 1), ASN1_OBJECT_free
    );
    const X509_NAME* name = X509_get_subject_name(cert.get());
    for (int i = -1; (i = X509_NAME_get_index_by_OBJ(name, oid.get(), i)) >= 0;) {
        const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        const std::string text(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
            static_cast<std::size_t>(ASN1_STRING_length(value))
        );
        out.push_back(static_cast<std::uint32_t>(std::stoul(text, nullptr, 16)));
    }
    return out;
}

std::uint32_t ParseCat(const std::string& hex) {
    return static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
}

std::uint32_t Cat(const boost::json::value& hex) {
    return static_cast<std::uint32_t>(std::stoul(std::string(hex.as_string()), nullptr, 16));
}

// Matter's rule (§6.6.2.1.2): a NOC's CAT matches an ACL subject CAT with the same identifier
// and a version at most its own.
bool Matches(const std::vector<std::uint32_t>& noc_cats, std::uint32_t acl_cat) {
    return std::any_of(noc_cats.begin(), noc_cats.end(), [&](std::uint32_t cat) {
        return cat >> 16 == acl_cat >> 16 && (cat & 0xFFFFU) >= (acl_cat & 0xFFFFU);
    });
}

class FabricRevocationTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"owner", "bob", "carol", "dave"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.confirmed = true;
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        GroupFields f;
        f.group_name = "Home";
        f.is_matter = true;
        f.matter = true;
        home_ = groups_.Create(Caller("owner"), f);
        // One commissioned device: the node ACLs list its entries.
        const auto out = fabrics_.IssueNocs(Caller("owner"), Batch("node"));
        fabrics_.Confirm(
            Caller("owner"),
            {std::string(out.at("certificates").at(0).at("request_id").as_string()),
             "success",
             {},
             {},
             {},
             {}}
        );
    }

    static auth::AuthContext Caller(const std::string& user) {
        auth::AuthContext c;
        c.user_id = user;
        return c;
    }

    NocBatch Batch(const std::string& type) {
        NocBatch batch{"add", type, {}, false, false};
        batch.items.push_back(CsrItem{crypto::MakeKeyAndCsr("x").csr_pem, home_, {}, {}});
        return batch;
    }

    // A user NOC for `user`.
    std::string UserNoc(const std::string& user) {
        const auto out = fabrics_.IssueNocs(Caller(user), Batch("user"));
        return std::string(out.at("certificates").at(0).at("user_noc").as_string());
    }

    void Share(const std::string& user, bool primary) {
        sharing::ShareRequest r;
        r.items = {home_};
        r.user_name = user + "@x.com";
        r.primary = primary;
        const auto id = sharing_.Share(Caller("owner"), r);
        // A receiver holding a share already has the request accepted at once.
        if (db_.Sharing().Find(id)->status == "pending") {
            sharing_.Respond(Caller(user), id, true);
        }
    }

    storage::FabricRow Fabric() { return *db_.Matter().FindFabric(home_); }

    // The ADMIN and OPERATE entries of the fabric's device.
    boost::json::array Acl() {
        return fabrics_.NodeAcl(Caller("owner"), home_, std::nullopt)
            .at("fabric_node_acl")
            .as_array();
    }

    static boost::json::value Entry(const boost::json::array& acl, const std::string& prefix) {
        for (const auto& e : acl) {
            if (std::string(e.at("type_entity").as_string()).rfind(prefix, 0) == 0) {
                return e;
            }
        }
        ADD_FAILURE() << "no " << prefix << " entry";
        return {};
    }

    static bool Lists(const boost::json::value& entry, const std::string& id) {
        const auto& value = entry.at("value").as_array();
        return std::find(value.begin(), value.end(), boost::json::value(id)) != value.end();
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    NoPublisher publisher_;
    nodes::NodeService nodes_{db_, publisher_};
    std::unique_ptr<crypto::KeySealer> sealer_ =
        crypto::KeySealer::FromKeyForTest(std::string(32, 's'));
    FabricService fabrics_{db_, *sealer_, clock_};
    GroupService groups_{db_, nodes_, clock_, GroupKind::kUser, GroupLimits{}, &fabrics_};
    sharing::GroupSharingService sharing_{db_, clock_, groups_};
    std::string home_;
};

TEST_F(FabricRevocationTest, ASecondaryWhoLeavesNoLongerMatchesTheOperateAcl) {
    Share("bob", false);
    Share("carol", false);
    const auto before = Fabric();
    const auto acl_before = Acl();
    const auto sequence = Entry(acl_before, "NODE_ACL_OPERATE_").at("sequence").as_int64();
    const auto bob_noc = UserNoc("bob");
    const auto bob_id = db_.Matter().FindMember(home_, "bob")->matter_user_id;
    EXPECT_TRUE(Matches(CatsOf(bob_noc), ParseCat(before.cat_operate)));
    EXPECT_TRUE(Lists(Entry(acl_before, "NODE_ACL_OPERATE_"), bob_id));

    clock_.Advance(std::chrono::seconds(60));
    groups_.Delete(Caller("bob"), home_, true);  // bob leaves

    const auto after = Fabric();
    // The operate CAT has the next version, same identifier; the admin CAT is unchanged.
    EXPECT_EQ(ParseCat(after.cat_operate), ParseCat(before.cat_operate) + 1);
    EXPECT_EQ(after.cat_admin, before.cat_admin);
    EXPECT_FALSE(db_.Matter().FindMember(home_, "bob"));
    // The ACLs answer the new version with a higher sequence, without bob's id.
    const auto acl = Acl();
    const auto operate = Entry(acl, "NODE_ACL_OPERATE_");
    EXPECT_GT(operate.at("sequence").as_int64(), sequence);
    EXPECT_EQ(Entry(acl, "NODE_ACL_ADMIN_").at("sequence"), operate.at("sequence"));
    EXPECT_EQ(operate.at("value").at(0), after.cat_operate.c_str());
    EXPECT_FALSE(Lists(operate, bob_id));
    EXPECT_EQ(operate.at("last_modified_time").as_int64(), clock_.NowSeconds());
    // Bob's NOC no longer matches the operate ACL; carol's next NOC does; the owner's still
    // matches the admin ACL.
    EXPECT_FALSE(Matches(CatsOf(bob_noc), Cat(operate.at("value").at(0))));
    EXPECT_TRUE(Matches(CatsOf(UserNoc("carol")), Cat(operate.at("value").at(0))));
    EXPECT_TRUE(
        Matches(CatsOf(UserNoc("owner")), Cat(Entry(acl, "NODE_ACL_ADMIN_").at("value").at(0)))
    );
    // And bob gets no new NOC.
    EXPECT_EQ(CodeOf([&] { UserNoc("bob"); }), core::ErrorCode::kCsrGroupNotAccessible);
}

TEST_F(FabricRevocationTest, APrimaryRemovedByTheOwnerNoLongerMatchesTheAdminAcl) {
    Share("bob", true);
    const auto before = Fabric();
    const auto bob_noc = UserNoc("bob");
    EXPECT_TRUE(Matches(CatsOf(bob_noc), ParseCat(before.cat_admin)));
    const auto sequence = Entry(Acl(), "NODE_ACL_ADMIN_").at("sequence").as_int64();
    sharing_.RemoveFromGroup(Caller("owner"), home_, "bob@x.com");
    const auto after = Fabric();
    EXPECT_EQ(ParseCat(after.cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_EQ(after.cat_operate, before.cat_operate);
    const auto admin = Entry(Acl(), "NODE_ACL_ADMIN_");
    EXPECT_GT(admin.at("sequence").as_int64(), sequence);
    EXPECT_FALSE(Matches(CatsOf(bob_noc), Cat(admin.at("value").at(0))));
    EXPECT_TRUE(Matches(CatsOf(UserNoc("owner")), Cat(admin.at("value").at(0))));
}

TEST_F(FabricRevocationTest, OnlyARoleSomeoneLostIsRevoked) {
    // Promoted: bob loses nothing (a primary may operate), so no CAT is raised and the other
    // secondaries' NOCs keep matching.
    Share("bob", false);
    Share("carol", false);
    const auto bob_operate = UserNoc("bob");
    const auto carol_operate = UserNoc("carol");
    auto before = Fabric();
    Share("bob", true);
    auto after = Fabric();
    EXPECT_EQ(after.cat_operate, before.cat_operate);
    EXPECT_EQ(after.cat_admin, before.cat_admin);
    EXPECT_TRUE(Matches(CatsOf(carol_operate), ParseCat(after.cat_operate)));
    EXPECT_TRUE(Matches(CatsOf(bob_operate), ParseCat(after.cat_operate)));
    EXPECT_TRUE(Matches(CatsOf(UserNoc("bob")), ParseCat(after.cat_admin)));
    // Asked again with the same role: nothing is raised.
    Share("bob", true);
    EXPECT_EQ(Fabric().cat_admin, after.cat_admin);
    EXPECT_EQ(Fabric().cat_operate, after.cat_operate);
    // A demotion revokes the admin CAT the demoted member's NOCs carry.
    const auto bob_admin = UserNoc("bob");
    db_.Transaction([&] {
        fabrics_.MemberRoleChanged(
            home_, core::ResourceRole::kPrimary, core::ResourceRole::kSecondary
        );
    });
    EXPECT_EQ(ParseCat(Fabric().cat_admin), ParseCat(after.cat_admin) + 1);
    EXPECT_EQ(Fabric().cat_operate, after.cat_operate);
    EXPECT_FALSE(Matches(CatsOf(bob_admin), ParseCat(Fabric().cat_admin)));

    // Demoted by a transfer that keeps the owner as a secondary: the owner's admin NOC stops
    // matching; the owner is a new member (a new id), the new owner keeps an admin identity.
    const auto owner_admin = UserNoc("owner");
    const auto owner_id = db_.Matter().FindMember(home_, "owner")->matter_user_id;
    before = Fabric();
    sharing::ShareRequest r;
    r.items = {home_};
    r.user_name = "bob@x.com";
    r.transfer = true;
    r.new_role = core::NamedRole{core::ResourceRole::kSecondary};
    sharing_.Respond(Caller("bob"), sharing_.Share(Caller("owner"), r), true);
    after = Fabric();
    EXPECT_EQ(db_.Groups().Find(home_)->owner_id, "bob");
    EXPECT_EQ(ParseCat(after.cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_FALSE(Matches(CatsOf(owner_admin), ParseCat(after.cat_admin)));
    const auto owner_now = db_.Matter().FindMember(home_, "owner");
    ASSERT_TRUE(owner_now);
    EXPECT_NE(owner_now->matter_user_id, owner_id);
    const auto owner_operate = UserNoc("owner");
    EXPECT_TRUE(Matches(CatsOf(owner_operate), ParseCat(after.cat_operate)));
    EXPECT_FALSE(Matches(CatsOf(owner_operate), ParseCat(after.cat_admin)));
}

TEST_F(FabricRevocationTest, TheOwnerLeavingOrAMembersAccountGoingRevokesToo) {
    Share("bob", true);
    Share("carol", false);
    const auto owner_noc = UserNoc("owner");
    const auto carol_noc = UserNoc("carol");
    auto before = Fabric();
    groups_.Delete(Caller("owner"), home_, true);  // hands the home to bob, the primary
    EXPECT_EQ(db_.Groups().Find(home_)->owner_id, "bob");
    EXPECT_FALSE(db_.Matter().FindMember(home_, "owner"));
    EXPECT_EQ(ParseCat(Fabric().cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_FALSE(Matches(CatsOf(owner_noc), ParseCat(Fabric().cat_admin)));

    // Carol's account goes (the deletion hook): her operate NOC stops matching.
    before = Fabric();
    db_.Transaction([&] { groups_.ForgetOwner("carol"); });
    EXPECT_FALSE(db_.Groups().FindShare(home_, "carol"));
    EXPECT_FALSE(db_.Matter().FindMember(home_, "carol"));
    EXPECT_EQ(ParseCat(Fabric().cat_operate), ParseCat(before.cat_operate) + 1);
    EXPECT_FALSE(Matches(CatsOf(carol_noc), ParseCat(Fabric().cat_operate)));
}

TEST_F(FabricRevocationTest, PastTheLastVersionTheRoleTakesTheNextIdentifier) {
    const auto before = Fabric();
    // A new fabric's role CATs start at the bottom of their ranges, version 1.
    EXPECT_EQ(ParseCat(before.cat_admin), 0x01000001U);
    EXPECT_EQ(ParseCat(before.cat_operate), 0x06000001U);
    // Three wraps: each gives the next identifier, version 1, so no identifier comes back
    // (an old one would make the NOCs revoked with it match again).
    std::uint32_t last = (ParseCat(before.cat_admin) & 0xFFFF0000U) | 0xFFFFU;
    for (int wrap = 0; wrap < 3; ++wrap) {
        db_.Matter().UpdateCats(home_, crypto::MatterCatHex(last), Fabric().cat_operate);
        db_.Transaction([&] {
            fabrics_.MemberRoleChanged(
                home_, core::ResourceRole::kPrimary, core::ResourceRole::kSecondary
            );
        });
        const auto raised = ParseCat(Fabric().cat_admin);
        EXPECT_EQ(raised, ((last >> 16) + 1) << 16 | 1U);
        last = (raised & 0xFFFF0000U) | 0xFFFFU;
    }
    EXPECT_EQ(Fabric().cat_operate, before.cat_operate);
}

TEST_F(FabricRevocationTest, PastTheLastIdentifierOfTheRangeRevocationIsRefused) {
    const auto before = Fabric();
    // The admin range is 0x0100..0x03FF.
    const std::uint32_t last = 0x03FFFFFFU;
    db_.Matter().UpdateCats(home_, crypto::MatterCatHex(last), before.cat_operate);
    Share("bob", true);
    const auto admin_before = Fabric().cat_admin;
    EXPECT_EQ(
        CodeOf([&] { sharing_.RemoveFromGroup(Caller("owner"), home_, "bob@x.com"); }),
        core::ErrorCode::kFabricIdsFailed
    );
    // Nothing changed: bob is still a member, and no identifier outside the range was used.
    EXPECT_TRUE(db_.Matter().FindMember(home_, "bob"));
    EXPECT_EQ(Fabric().cat_admin, admin_before);
    EXPECT_EQ(ParseCat(Fabric().cat_admin), last);
}

TEST_F(FabricRevocationTest, AMemberLeavingTakesTheirControllersAndBothCatsAreRaised) {
    Share("bob", true);
    storage::NodeRow node;
    node.node_id = "ctl";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "bob";
    mapping.node_id = "ctl";
    mapping.role = core::ResourceRole::kPrimary;
    mapping.direct_role = core::ResourceRole::kPrimary;
    db_.Nodes().PutMapping(mapping);
    const auto id = fabrics_.CreateController(Caller("bob"), home_, "ctl");
    NocBatch batch{"add", "controller", {}, false, false};
    batch.items.push_back(CsrItem{
        crypto::MakeKeyAndCsr("c").csr_pem,
        home_,
        core::NamedRole{core::ResourceRole::kSecondary},
        id});
    const auto controller_noc = std::string(
        fabrics_.IssueNocs(Caller("bob"), batch).at("certificates").at(0).at("user_noc").as_string()
    );
    const auto before = Fabric();
    EXPECT_TRUE(Matches(CatsOf(controller_noc), ParseCat(before.cat_operate)));
    sharing_.RemoveFromGroup(Caller("owner"), home_, "bob@x.com");
    const auto after = Fabric();
    EXPECT_TRUE(db_.Matter().Nodes(home_, "controller").empty());
    EXPECT_EQ(ParseCat(after.cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_EQ(ParseCat(after.cat_operate), ParseCat(before.cat_operate) + 1);
    EXPECT_FALSE(Matches(CatsOf(controller_noc), ParseCat(after.cat_operate)));
}

TEST_F(FabricRevocationTest, NothingIsRaisedForAPlainGroup) {
    GroupFields f;
    f.group_name = "Office";
    const auto office = groups_.Create(Caller("owner"), f);
    sharing::ShareRequest r;
    r.items = {office};
    r.user_name = "dave@x.com";
    sharing_.Respond(Caller("dave"), sharing_.Share(Caller("owner"), r), true);
    const auto before = Fabric();
    const auto sequence = Entry(Acl(), "NODE_ACL_ADMIN_").at("sequence");
    groups_.Delete(Caller("dave"), office, true);
    EXPECT_EQ(Fabric().cat_admin, before.cat_admin);
    EXPECT_EQ(Fabric().cat_operate, before.cat_operate);
    EXPECT_EQ(Entry(Acl(), "NODE_ACL_ADMIN_").at("sequence"), sequence);
}

TEST_F(FabricRevocationTest, ANodeLeavingRainmakerLeavesEveryFabricItWasIn) {
    storage::NodeRow node;
    node.node_id = "rmm";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "owner";
    mapping.node_id = "rmm";
    db_.Nodes().PutMapping(mapping);
    // Commissioned as a device of the home (a row as Confirm leaves it) and a controller.
    storage::MatterNodeRow device;
    device.group_id = home_;
    device.matter_node_id = "00000000000000AA";
    device.request_id = "req-rmm";
    device.status = "success";
    device.rainmaker_node_id = "rmm";
    ASSERT_TRUE(db_.Matter().InsertNode(device));
    const auto controller = fabrics_.CreateController(Caller("owner"), home_, "rmm");
    EXPECT_EQ(db_.Matter().FindByRainmakerNode("rmm")->matter_node_id, device.matter_node_id);
    const auto before = Fabric();
    db_.Transaction([&] { fabrics_.ForgetRainmakerNode("rmm"); });
    EXPECT_FALSE(db_.Matter().FindByRainmakerNode("rmm"));
    EXPECT_TRUE(db_.Matter().NodesOfRainmakerNode("rmm").empty());
    EXPECT_FALSE(db_.Matter().FindNode(home_, controller));
    // The controller's NOC carried one of the CATs: both are raised.
    EXPECT_EQ(ParseCat(Fabric().cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_EQ(ParseCat(Fabric().cat_operate), ParseCat(before.cat_operate) + 1);
    // The other device stays.
    EXPECT_EQ(fabrics_.NodeList(Fabric()).size(), 1U);
    // A node in no fabric: nothing happens.
    db_.Transaction([&] { fabrics_.ForgetRainmakerNode("nothing"); });
    EXPECT_EQ(Fabric().cat_admin, crypto::MatterCatHex(ParseCat(before.cat_admin) + 1));
}

// A node whose last users lose it through sharing (not through RemoveMapping) still leaves
// RainMaker: released once, out of the fabric, so its next owner can commission it.
TEST_F(FabricRevocationTest, ANodeLosingItsLastUsersThroughSharingLeavesTheFabric) {
    std::vector<std::string> released;
    db_.AccessHooks().node_released = [&](std::string_view node) {
        released.emplace_back(node);
        fabrics_.ForgetRainmakerNode(node);
    };
    db_.AccessHooks().node_left_group = [&](std::string_view group, std::string_view node) {
        fabrics_.NodeLeftGroup(group, node);
    };
    storage::NodeRow node;
    node.node_id = "rmn";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "owner";
    mapping.node_id = "rmn";
    mapping.direct_role = core::ResourceRole::kPrimary;
    db_.Nodes().PutMapping(mapping);
    db_.Groups().AddNode(home_, "rmn");
    storage::MatterNodeRow device;
    device.group_id = home_;
    device.matter_node_id = "00000000000000BB";
    device.request_id = "req-rmn";
    device.status = "success";
    device.rainmaker_node_id = "rmn";
    ASSERT_TRUE(db_.Matter().InsertNode(device));
    Share("bob", true);
    ASSERT_EQ(db_.Nodes().FindMapping("bob", "rmn")->role, core::ResourceRole::kPrimary);

    // Bob, primary through the home, removes the owner's own access: the owner's mapping
    // goes, the node leaves the home, and bob (who had it only through the home) loses it.
    sharing::NodeSharingService node_sharing{db_, clock_};
    node_sharing.Remove(Caller("bob"), {"rmn"}, "owner@x.com");

    EXPECT_EQ(db_.Nodes().CountMappingsOfNode("rmn"), 0);
    EXPECT_EQ(released, std::vector<std::string>{"rmn"});
    EXPECT_FALSE(db_.Matter().FindByRainmakerNode("rmn"));
    for (const auto& entry : fabrics_.NodeList(Fabric())) {
        EXPECT_NE(entry.at("matter_node_id"), "00000000000000BB");
    }
}

// Account deletion in the application's hook order (GroupService::ForgetOwner, then
// MappingService::ForgetUser, in one transaction): a member's fabric membership goes with
// its CAT raised; an owner's shares go first (the members lose the fabric and what it gave
// them), then their mappings, and a node left without users is released once and leaves
// the fabric.
TEST_F(FabricRevocationTest, DeletingAccountsReleasesMembershipsAndNodes) {
    std::vector<std::string> released;
    nodes::MappingService mapping_service{db_, clock_};
    mapping_service.SetNodeReleased([&](std::string_view node) {
        released.emplace_back(node);
        fabrics_.ForgetRainmakerNode(node);
    });
    db_.AccessHooks().node_left_group = [&](std::string_view group, std::string_view node) {
        fabrics_.NodeLeftGroup(group, node);
    };
    const auto delete_account = [&](const std::string& user) {
        db_.Transaction([&] {
            groups_.ForgetOwner(user);
            mapping_service.ForgetUser(user);
        });
    };
    storage::NodeRow node;
    node.node_id = "rmd";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "owner";
    mapping.node_id = "rmd";
    mapping.direct_role = core::ResourceRole::kPrimary;
    db_.Nodes().PutMapping(mapping);
    db_.Groups().AddNode(home_, "rmd");
    storage::MatterNodeRow device;
    device.group_id = home_;
    device.matter_node_id = "00000000000000DD";
    device.request_id = "req-rmd";
    device.status = "success";
    device.rainmaker_node_id = "rmd";
    ASSERT_TRUE(db_.Matter().InsertNode(device));
    Share("bob", true);
    Share("carol", false);
    ASSERT_TRUE(db_.Nodes().FindMapping("carol", "rmd"));
    const auto before = Fabric();

    // A member's account: their identity goes, the operate CAT is raised, the node stays.
    delete_account("carol");
    EXPECT_FALSE(db_.Matter().FindMember(home_, "carol"));
    EXPECT_FALSE(db_.Nodes().FindMapping("carol", "rmd"));
    EXPECT_EQ(ParseCat(Fabric().cat_operate), ParseCat(before.cat_operate) + 1);
    EXPECT_TRUE(released.empty());
    EXPECT_TRUE(db_.Matter().FindByRainmakerNode("rmd"));

    // The owner's account: bob's share goes (admin CAT raised) and with it his access; then
    // the owner's mapping, the node's last: released once, out of the fabric.
    delete_account("owner");
    EXPECT_FALSE(db_.Matter().FindMember(home_, "bob"));
    EXPECT_FALSE(db_.Nodes().FindMapping("bob", "rmd"));
    EXPECT_EQ(ParseCat(Fabric().cat_admin), ParseCat(before.cat_admin) + 1);
    EXPECT_EQ(released, std::vector<std::string>{"rmd"});
    EXPECT_EQ(db_.Nodes().CountMappingsOfNode("rmd"), 0);
    EXPECT_FALSE(db_.Matter().FindByRainmakerNode("rmd"));
}

// Removing one's own last mapping releases the node once (node_access does it, not also
// RemoveMapping).
TEST_F(FabricRevocationTest, RemovingTheLastMappingReleasesTheNodeOnce) {
    std::vector<std::string> released;
    nodes::MappingService mapping_service{db_, clock_, std::chrono::seconds(60), 0};
    mapping_service.SetNodeReleased([&](std::string_view node) { released.emplace_back(node); });
    storage::NodeRow node;
    node.node_id = "rmo";
    ASSERT_TRUE(db_.Nodes().Insert(node));
    storage::UserNodeRow mapping;
    mapping.user_id = "owner";
    mapping.node_id = "rmo";
    mapping.direct_role = core::ResourceRole::kPrimary;
    db_.Nodes().PutMapping(mapping);
    mapping_service.RemoveMapping(Caller("owner"), "rmo");
    EXPECT_EQ(released, std::vector<std::string>{"rmo"});
}

// A transfer the receiver accepts counts against their quota like a fabric they make.
TEST_F(FabricRevocationTest, AcceptingATransferedFabricPastTheQuotaIsRefused) {
    GroupService limited{db_, nodes_, clock_, GroupKind::kUser, GroupLimits{1000, 1}, &fabrics_};
    sharing::GroupSharingService limited_sharing{db_, clock_, limited};
    GroupFields f;
    f.group_name = "Bobs";
    f.is_matter = true;
    f.matter = true;
    limited.Create(Caller("bob"), f);  // bob's one fabric
    sharing::ShareRequest r;
    r.items = {home_};
    r.user_name = "bob@x.com";
    r.transfer = true;
    const auto id = limited_sharing.Share(Caller("owner"), r);
    EXPECT_EQ(
        CodeOf([&] { limited_sharing.Respond(Caller("bob"), id, true); }),
        core::ErrorCode::kFabricQuotaExceeded
    );
    EXPECT_EQ(db_.Groups().Find(home_)->owner_id, "owner");
    EXPECT_EQ(db_.Sharing().Find(id)->status, "pending");
    EXPECT_EQ(db_.Matter().CountFabricsOwnedBy("bob"), 1);
    // Under the quota it goes through.
    GroupService roomy{db_, nodes_, clock_, GroupKind::kUser, GroupLimits{1000, 2}, &fabrics_};
    sharing::GroupSharingService roomy_sharing{db_, clock_, roomy};
    roomy_sharing.Respond(Caller("bob"), id, true);
    EXPECT_EQ(db_.Groups().Find(home_)->owner_id, "bob");
}

TEST_F(FabricRevocationTest, AUserOwnsAtMostTheConfiguredNumberOfFabrics) {
    GroupService limited{db_, nodes_, clock_, GroupKind::kUser, GroupLimits{1000, 2}, &fabrics_};
    const auto fields = [](const std::string& name, bool matter) {
        GroupFields f;
        f.group_name = name;
        if (matter) {
            f.is_matter = true;
            f.matter = true;
        }
        return f;
    };
    limited.Create(Caller("owner"), fields("Cottage", true));  // the second
    const auto groups_before = db_.Groups().CountOwned("user", "owner");
    EXPECT_EQ(
        CodeOf([&] { limited.Create(Caller("owner"), fields("Third", true)); }),
        core::ErrorCode::kFabricQuotaExceeded
    );
    EXPECT_EQ(db_.Groups().CountOwned("user", "owner"), groups_before);
    EXPECT_EQ(db_.Matter().CountFabricsOwnedBy("owner"), 2);
    // Converting counts the same way; a plain group is still made.
    const auto plain = limited.Create(Caller("owner"), fields("Plain", false));
    GroupFields convert;
    convert.is_matter = true;
    convert.matter = true;
    EXPECT_EQ(
        CodeOf([&] { limited.Update(Caller("owner"), plain, convert); }),
        core::ErrorCode::kFabricQuotaExceeded
    );
    EXPECT_FALSE(db_.Matter().FindFabric(plain));
    // Another user has their own count; 0 is no limit.
    limited.Create(Caller("bob"), fields("Bob's", true));
    GroupService unlimited{db_, nodes_, clock_, GroupKind::kUser, GroupLimits{1000, 0}, &fabrics_};
    unlimited.Create(Caller("owner"), fields("Third", true));
    EXPECT_EQ(db_.Matter().CountFabricsOwnedBy("owner"), 3);
    EXPECT_EQ(db_.Matter().CountFabrics(), 4);
    // Deleting one makes room again.
    limited.Delete(Caller("owner"), home_, false);
    EXPECT_EQ(db_.Matter().CountFabricsOwnedBy("owner"), 2);
}

TEST_F(FabricRevocationTest, ANodeCommissionedIntoAnotherFabricJoinsOnlyByCommissioning) {
    for (const auto* id : {"rmm", "plain"}) {
        storage::NodeRow node;
        node.node_id = id;
        ASSERT_TRUE(db_.Nodes().Insert(node));
        storage::UserNodeRow mapping;
        mapping.user_id = "owner";
        mapping.node_id = id;
        db_.Nodes().PutMapping(mapping);
    }
    storage::MatterNodeRow device;
    device.group_id = home_;
    device.matter_node_id = "00000000000000AA";
    device.request_id = "req-rmm";
    device.status = "success";
    device.rainmaker_node_id = "rmm";
    ASSERT_TRUE(db_.Matter().InsertNode(device));
    GroupFields f;
    f.group_name = "Cottage";
    f.is_matter = true;
    f.matter = true;
    const auto cottage = groups_.Create(Caller("owner"), f);
    GroupFields add;
    add.operation = "add";
    add.nodes = std::vector<std::string>{"rmm"};
    EXPECT_EQ(
        CodeOf([&] { groups_.Update(Caller("owner"), cottage, add); }),
        core::ErrorCode::kMatterNodesViaCommissioning
    );
    EXPECT_TRUE(db_.Groups().Nodes(cottage).empty());
    // Nor with the fabric made in the same request (nothing is made).
    f.group_name = "Barn";
    f.nodes = std::vector<std::string>{"plain", "rmm"};
    EXPECT_EQ(
        CodeOf([&] { groups_.Create(Caller("owner"), f); }),
        core::ErrorCode::kMatterNodesViaCommissioning
    );
    EXPECT_FALSE(db_.Groups().FindByName("user", "owner", "", "Barn"));
    // A plain RainMaker node joins any home; the node joins its own fabric's home and rooms,
    // and plain groups.
    add.nodes = std::vector<std::string>{"plain"};
    groups_.Update(Caller("owner"), cottage, add);
    add.nodes = std::vector<std::string>{"rmm"};
    groups_.Update(Caller("owner"), home_, add);
    GroupFields room;
    room.group_name = "Kitchen";
    room.parent_group_id = home_;
    room.nodes = std::vector<std::string>{"rmm"};
    groups_.Create(Caller("owner"), room);
    GroupFields office;
    office.group_name = "Office";
    office.nodes = std::vector<std::string>{"rmm"};
    groups_.Create(Caller("owner"), office);
    // A room of the other fabric refuses it.
    room.parent_group_id = cottage;
    room.nodes = std::vector<std::string>{"plain"};
    const auto cottage_room = groups_.Create(Caller("owner"), room);
    add.nodes = std::vector<std::string>{"rmm"};
    EXPECT_EQ(
        CodeOf([&] { groups_.Update(Caller("owner"), cottage_room, add); }),
        core::ErrorCode::kMatterNodesViaCommissioning
    );
}

TEST_F(FabricRevocationTest, AConfirmationNamingAnotherFabricIsRefused) {
    GroupFields f;
    f.group_name = "Cottage";
    f.is_matter = true;
    f.matter = true;
    const auto cottage = groups_.Create(Caller("owner"), f);
    const auto out = fabrics_.IssueNocs(Caller("owner"), Batch("node"));
    const auto request = std::string(out.at("certificates").at(0).at("request_id").as_string());
    CommissioningConfirm confirm{request, "success", {}, {}, {}, cottage};
    EXPECT_EQ(
        CodeOf([&] { fabrics_.Confirm(Caller("owner"), confirm); }),
        core::ErrorCode::kConfirmGroupMismatch
    );
    EXPECT_EQ(db_.Matter().FindRequest(request)->status, "pending");
    // Another user's request stays unknown to them whatever group they name.
    confirm.group_id = home_;
    EXPECT_EQ(
        CodeOf([&] { fabrics_.Confirm(Caller("bob"), confirm); }),
        core::ErrorCode::kCommissionRequestNotFound
    );
    fabrics_.Confirm(Caller("owner"), confirm);
    EXPECT_EQ(db_.Matter().FindRequest(request)->status, "success");
}

}  // namespace
}  // namespace rainmaker::domain::groups

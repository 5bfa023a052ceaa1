// Claiming over the SQLite store (domain/nodes/claim_service): who may claim a device again,
// one valid certificate per node (a re-claim revokes the earlier ones at once), the cap on
// claims waiting to be mapped, and the expiry of claims never mapped (hardening finding 1).
#include "domain/nodes/claim_service.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/nodes/node_access.hpp"
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

constexpr const char* kMac = "AABBCCDDEEFF";

// Counts the calls the broker side would turn into a CRL rewrite and reload.
class CountingRevocations final : public CertificateRevocations {
public:
    void Changed() override { ++calls; }

    int calls = 0;
};

auth::AuthContext Caller(const std::string& user_id, bool admin = false) {
    auth::AuthContext c;
    c.user_id = user_id;
    c.user_name = user_id + "@x.com";
    c.role = admin ? auth::PlatformRole::kAdmin : auth::PlatformRole::kUser;
    return c;
}

class ClaimServiceTest : public ::testing::Test {
protected:
    ClaimServiceTest() {
        for (const auto* user : {"alice", "bob", "admin"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.admin = std::string(user) == "admin";
            db_.Users().Insert(u);
        }
    }

    ClaimService Service(ClaimLimits limits = {}) {
        return ClaimService(db_, *ca_, revocations_, clock_, "localhost", limits);
    }

    // claim/initiate then claim/verify with a fresh key; returns the certificate's serial.
    std::string Claim(ClaimService& claims, const auth::AuthContext& who, const char* mac = kMac) {
        const auto node_id = claims.Initiate(who, mac, "esp32");
        const auto csr = crypto::MakeKeyAndCsr(node_id);
        const auto cert = claims.Verify(who, csr.csr_pem);
        return crypto::InspectCertificate(cert)->serial_hex;
    }

    std::string NodeOf(const char* mac = kMac) { return db_.Nodes().FindByMac(mac)->node_id; }

    bool Revoked(const std::string& serial) {
        const auto serials = db_.Nodes().RevokedSerials();
        return std::find(serials.begin(), serials.end(), serial) != serials.end();
    }

    void MakePrimary(const std::string& user, const std::string& node) {
        db_.Transaction([&] {
            SetDirectRole(db_, user, node, core::ResourceRole::kPrimary, clock_.NowSeconds());
            db_.Nodes().MarkMapped(node, clock_.NowSeconds());
        });
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    std::unique_ptr<crypto::CertificateAuthority> ca_ =
        crypto::CertificateAuthority::LoadOrCreate(dir_.path() / "tls");
    CountingRevocations revocations_;
    testing::FakeClock clock_;
};

TEST_F(ClaimServiceTest, TheFormerOwnerCannotClaimATransferredDeviceAgain) {
    auto claims = Service();
    const auto alice_serial = Claim(claims, Caller("alice"));
    const auto node = NodeOf();
    MakePrimary("alice", node);
    // Alice transfers the device to Bob: Bob primary, Alice nothing.
    db_.Transaction([&] {
        SetDirectRole(db_, "bob", node, core::ResourceRole::kPrimary, clock_.NowSeconds());
        SetDirectRole(db_, "alice", node, std::nullopt, clock_.NowSeconds());
    });
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("alice"), kMac, "esp32"); }), ErrorCode::kNodeNotOwned
    );
    // Nor can she get a certificate for it with a CSR naming the node.
    const auto csr = crypto::MakeKeyAndCsr(node);
    EXPECT_EQ(
        CodeOf([&] { claims.Verify(Caller("alice"), csr.csr_pem); }), ErrorCode::kNodeNotOwned
    );
    EXPECT_FALSE(Revoked(alice_serial));
    EXPECT_EQ(revocations_.calls, 0);
}

TEST_F(ClaimServiceTest, APrimaryReclaimKeepsTheIdentityAndRevokesEveryEarlierCertificate) {
    auto claims = Service();
    const auto first = Claim(claims, Caller("alice"));
    const auto node = NodeOf();
    MakePrimary("bob", node);  // Bob became primary (a transfer)
    db_.Transaction([&] { SetDirectRole(db_, "alice", node, std::nullopt, clock_.NowSeconds()); });
    const auto second = Claim(claims, Caller("bob"));
    EXPECT_EQ(NodeOf(), node);
    EXPECT_EQ(db_.Nodes().Find(node)->claimed_by, "bob");
    EXPECT_EQ(db_.Nodes().Find(node)->cert_serial, second);
    EXPECT_TRUE(Revoked(first));
    EXPECT_FALSE(Revoked(second));
    EXPECT_EQ(revocations_.calls, 1);
}

TEST_F(ClaimServiceTest, AnAdminMayReclaimAMappedDevice) {
    auto claims = Service();
    const auto first = Claim(claims, Caller("alice"));
    MakePrimary("alice", NodeOf());
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("bob"), kMac, "esp32"); }), ErrorCode::kNodeNotOwned
    );
    Claim(claims, Caller("admin", true));
    EXPECT_TRUE(Revoked(first));
}

TEST_F(ClaimServiceTest, APrimaryChangeBetweenInitiateAndVerifyIsSeenAtVerify) {
    auto claims = Service();
    Claim(claims, Caller("alice"));
    const auto node = NodeOf();
    MakePrimary("alice", node);
    ASSERT_EQ(claims.Initiate(Caller("alice"), kMac, "esp32"), node);
    db_.Transaction([&] {
        SetDirectRole(db_, "bob", node, core::ResourceRole::kPrimary, clock_.NowSeconds());
        SetDirectRole(db_, "alice", node, std::nullopt, clock_.NowSeconds());
    });
    const auto csr = crypto::MakeKeyAndCsr(node);
    EXPECT_EQ(
        CodeOf([&] { claims.Verify(Caller("alice"), csr.csr_pem); }), ErrorCode::kNodeNotOwned
    );
}

// Knowing the MAC of an unmapped device gives a new identity, and cuts nobody off: the device
// keeps working with its certificate (review of #14: revoking it bricked the device).
TEST_F(ClaimServiceTest, AnUnmappedDeviceOfAnotherUserGetsANewIdentityAndTheOldOneKeepsWorking) {
    auto claims = Service();
    const auto alice_serial = Claim(claims, Caller("alice"));
    const auto old_node = NodeOf();
    Claim(claims, Caller("bob"));
    EXPECT_NE(NodeOf(), old_node);
    EXPECT_EQ(db_.Nodes().Find(old_node)->mac_addr, "");
    EXPECT_FALSE(Revoked(alice_serial));
    EXPECT_EQ(revocations_.calls, 0);
}

TEST_F(ClaimServiceTest, ADeactivatedDeviceIsNotClaimedRoundItsDeactivation) {
    auto claims = Service();
    Claim(claims, Caller("alice"));
    const auto node = NodeOf();
    storage::UserNodeRow mapping;  // alice's device, mapped
    mapping.user_id = "alice";
    mapping.node_id = node;
    db_.Nodes().PutMapping(mapping);
    ASSERT_TRUE(db_.Nodes().SetDeactivated(node, true));
    const int calls = revocations_.calls;
    // Neither its claimer again nor another user under a new identity.
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("alice"), kMac, "esp32"); }), ErrorCode::kNodeNotOwned
    );
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("bob"), kMac, "esp32"); }), ErrorCode::kNodeNotOwned
    );
    EXPECT_EQ(NodeOf(), node);
    // An admin re-provisions it (same identity: it is mapped); its new certificate goes on the
    // CRL with the others while it is deactivated.
    const auto serial = Claim(claims, Caller("admin", true));
    EXPECT_EQ(NodeOf(), node);
    EXPECT_TRUE(Revoked(serial));
    EXPECT_GT(revocations_.calls, calls);
}

TEST_F(ClaimServiceTest, ClaimsWaitingToBeMappedAreCappedPerUserButNotForAdmins) {
    ClaimLimits limits;
    limits.max_pending_per_user = 2;
    auto claims = Service(limits);
    Claim(claims, Caller("alice"), "000000000001");
    Claim(claims, Caller("alice"), "000000000002");
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("alice"), "000000000003", "esp32"); }),
        ErrorCode::kTooManyRequests
    );
    EXPECT_FALSE(db_.Nodes().FindByMac("000000000003"));
    // Claiming one of them again is no new claim.
    EXPECT_EQ(claims.Initiate(Caller("alice"), "000000000001", "esp32"), NodeOf("000000000001"));
    // Mapping one frees a place.
    MakePrimary("alice", NodeOf("000000000001"));
    EXPECT_NO_THROW(claims.Initiate(Caller("alice"), "000000000003", "esp32"));
    for (int i = 0; i < 4; ++i) {
        const std::string mac = "00000000010" + std::to_string(i);
        EXPECT_NO_THROW(claims.Initiate(Caller("admin", true), mac, "esp32"));
    }
}

TEST_F(ClaimServiceTest, AUserClaimsAtMostTheConfiguredNumberOfDevices) {
    ClaimLimits limits;
    limits.max_per_user = 2;
    auto claims = Service(limits);
    for (const char* mac : {"000000000001", "000000000002"}) {
        Claim(claims, Caller("alice"), mac);
        MakePrimary("alice", NodeOf(mac));  // mapped: no longer pending, still counted
    }
    EXPECT_EQ(
        CodeOf([&] { claims.Initiate(Caller("alice"), "000000000003", "esp32"); }),
        ErrorCode::kTooManyRequests
    );
    EXPECT_NO_THROW(claims.Initiate(Caller("admin", true), "000000000003", "esp32"));
}

TEST_F(ClaimServiceTest, ClaimsOfDevicesThatNeverCameOnlineExpireWithTheirCertificate) {
    ClaimLimits limits;
    limits.pending_ttl = std::chrono::hours(24);
    auto claims = Service(limits);
    const auto pending_serial = Claim(claims, Caller("alice"), "000000000001");
    const auto pending = NodeOf("000000000001");
    Claim(claims, Caller("alice"), "000000000002");
    const auto mapped = NodeOf("000000000002");
    MakePrimary("alice", mapped);
    // A device that connected (and reported its config) but was never mapped stays.
    Claim(claims, Caller("alice"), "000000000003");
    const auto online = NodeOf("000000000003");
    db_.Nodes().PutConfig(online, R"({"node_id":"x"})", "", "", "");
    // An admin's claims (host claiming for a fleet) stay.
    Claim(claims, Caller("admin", true), "000000000004");
    const auto admins = NodeOf("000000000004");
    clock_.Advance(std::chrono::hours(23));
    EXPECT_EQ(claims.ExpirePendingClaims(), 0);
    clock_.Advance(std::chrono::hours(2));
    EXPECT_EQ(claims.ExpirePendingClaims(), 1);
    EXPECT_FALSE(db_.Nodes().Find(pending));
    EXPECT_TRUE(Revoked(pending_serial));
    EXPECT_TRUE(db_.Nodes().Find(mapped));
    EXPECT_TRUE(db_.Nodes().Find(online));
    EXPECT_TRUE(db_.Nodes().Find(admins));
    EXPECT_EQ(revocations_.calls, 1);
    // The MAC is free again: claiming it gives a new identity.
    EXPECT_NE(claims.Initiate(Caller("bob"), "000000000001", "esp32"), pending);
}

}  // namespace
}  // namespace rainmaker::domain::nodes

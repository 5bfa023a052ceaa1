// The housekeeping sweep over the SQLite store (domain/housekeeping): what is old goes, what is
// current stays, for every table that would otherwise only grow (hardening finding 8).
#include "domain/housekeeping/housekeeping.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::housekeeping {
namespace {

using namespace std::chrono_literals;

class NoRevocations final : public nodes::CertificateRevocations {
public:
    void Changed() override {}
};

class HousekeepingTest : public ::testing::Test {
protected:
    HousekeepingTest() {
        for (const auto* user : {"alice", "bob"}) {
            AddUser(user, true, Now());
        }
    }

    std::int64_t Now() const { return clock_.NowSeconds(); }

    void AddUser(const std::string& id, bool confirmed, std::int64_t created_at) {
        storage::UserRow u;
        u.user_id = id;
        u.user_name = id + "@x.com";
        u.password_hash = "hash";
        u.confirmed = confirmed;
        u.created_at = created_at;
        ASSERT_TRUE(db_.Users().Insert(u));
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    std::unique_ptr<crypto::CertificateAuthority> ca_ =
        crypto::CertificateAuthority::LoadOrCreate(dir_.path() / "tls");
    NoRevocations revocations_;
    testing::FakeClock clock_;
    nodes::ClaimService claims_{db_, *ca_, revocations_, clock_, "localhost"};
    Housekeeping housekeeping_{db_, claims_, clock_, RetentionConfig{}};
};

TEST_F(HousekeepingTest, SessionsGoWhenExpiredOrRevoked) {
    db_.Sessions().Insert({"live", "alice", "h1", Now(), Now() + 3600, false}, "hash");
    db_.Sessions().Insert({"expired", "alice", "h2", Now() - 7200, Now() - 1, false}, "hash");
    db_.Sessions().Insert({"revoked", "alice", "h3", Now(), Now() + 3600, true}, "hash");
    EXPECT_EQ(housekeeping_.RunOnce().sessions, 2);
    EXPECT_TRUE(db_.Sessions().FindById("live"));
    EXPECT_FALSE(db_.Sessions().FindById("expired"));
    EXPECT_FALSE(db_.Sessions().FindById("revoked"));
}

// Deleted in statements of 1000 rows, so that a backlog never holds the write lock long.
TEST_F(HousekeepingTest, ABacklogIsDeletedInBatches) {
    db_.Transaction([&] {
        for (int i = 0; i < 2500; ++i) {
            db_.Sessions().Insert(
                {"s" + std::to_string(i), "alice", "h" + std::to_string(i), 0, Now() - 1, false},
                "hash"
            );
        }
    });
    EXPECT_EQ(housekeeping_.RunOnce().sessions, 2500);
    EXPECT_FALSE(db_.Sessions().FindById("s2499"));
}

TEST_F(HousekeepingTest, ExpiredCodesGo) {
    db_.Codes().Put({"alice", "reset", "h", "", Now() + 60, 0});
    db_.Codes().Put({"bob", "reset", "h", "", Now() - 1, 0});
    EXPECT_EQ(housekeeping_.RunOnce().codes, 1);
    EXPECT_TRUE(db_.Codes().Find("alice", "reset"));
    EXPECT_FALSE(db_.Codes().Find("bob", "reset"));
}

TEST_F(HousekeepingTest, UnconfirmedAccountsGoAfterTheirTimeConfirmedOnesStay) {
    AddUser("fresh", false, Now() - 3600);
    AddUser("stale", false, Now() - 8 * 24 * 3600);
    AddUser("old-but-confirmed", true, Now() - 400 * 24 * 3600);
    EXPECT_EQ(housekeeping_.RunOnce().unconfirmed_accounts, 1);
    EXPECT_TRUE(db_.Users().FindById("fresh"));
    EXPECT_FALSE(db_.Users().FindById("stale"));
    EXPECT_TRUE(db_.Users().FindById("old-but-confirmed"));
}

TEST_F(HousekeepingTest, MappingRequestsTimeOutAndOldAnsweredOnesGo) {
    storage::MappingRequestRow open;
    open.request_id = "open";
    open.user_id = "alice";
    open.node_id = "n1";
    open.kind = "secret";
    open.status = "requested";
    open.created_at = Now() - 120;
    open.expires_at = Now() - 60;
    db_.Nodes().PutRequest(open);
    auto never = open;
    never.request_id = "never";
    never.expires_at = 0;  // challenge without expiry
    db_.Nodes().PutRequest(never);
    auto old = open;
    old.request_id = "old";
    old.status = "confirmed";
    old.created_at = Now() - 31 * 24 * 3600;
    db_.Nodes().PutRequest(old);
    db_.Nodes().PutReport({"n1", "alice", "hash", Now() - 2 * 24 * 3600});
    housekeeping_.RunOnce();
    EXPECT_EQ(db_.Nodes().FindRequest("open")->status, "timedout");
    EXPECT_EQ(db_.Nodes().FindRequest("never")->status, "requested");
    EXPECT_FALSE(db_.Nodes().FindRequest("old"));
    EXPECT_FALSE(db_.Nodes().FindReport("n1"));
}

TEST_F(HousekeepingTest, PendingSharingRequestsExpireAndOldAnsweredOnesGo) {
    storage::SharingRequestRow r;
    r.from_user = "alice";
    r.to_user = "bob";
    r.item_ids = R"(["n1"])";
    r.status = "pending";
    r.request_id = "fresh";
    r.created_at = Now() - 3600;
    db_.Sharing().Put(r);
    r.request_id = "expired";
    r.created_at = Now() - 8 * 24 * 3600;
    db_.Sharing().Put(r);
    r.request_id = "answered";
    r.status = "declined";
    db_.Sharing().Put(r);
    r.request_id = "ancient";
    r.created_at = Now() - 31 * 24 * 3600;
    db_.Sharing().Put(r);
    EXPECT_EQ(housekeeping_.RunOnce().sharing_requests, 2);
    EXPECT_TRUE(db_.Sharing().Find("fresh"));
    EXPECT_FALSE(db_.Sharing().Find("expired"));
    EXPECT_TRUE(db_.Sharing().Find("answered"));
    EXPECT_FALSE(db_.Sharing().Find("ancient"));
}

TEST_F(HousekeepingTest, AlertsAreKeptPerNodeByCountAndByAge) {
    storage::NodeRow n;
    n.node_id = "n1";
    db_.Nodes().Insert(n);
    for (int i = 0; i < 5; ++i) {
        db_.Nodes().AddAlert("n1", "{\"i\":" + std::to_string(i) + "}", Now() - 40 * 24 * 3600, 3);
    }
    db_.Nodes().AddAlert("n2", "{}", Now(), 3);
    // Only the newest 3 of n1 were kept; the age limit then takes them too.
    EXPECT_EQ(housekeeping_.RunOnce().alerts, 3);
    EXPECT_EQ(housekeeping_.RunOnce().alerts, 0);
}

TEST_F(HousekeepingTest, OldEventsGo) {
    db_.Events().Append("user_node_sharing_add", "alice", "", "{}", Now() - 31 * 24 * 3600);
    db_.Events().Append("user_node_sharing_add", "alice", "", "{}", Now());
    EXPECT_EQ(housekeeping_.RunOnce().events, 1);
    EXPECT_EQ(db_.Events().ListForUser("alice", 0, 10).size(), 1u);
}

TEST_F(HousekeepingTest, NothingCurrentIsTouchedAndASecondSweepFindsNothing) {
    db_.Sessions().Insert({"live", "alice", "h1", Now(), Now() + 3600, false}, "hash");
    housekeeping_.RunOnce();
    EXPECT_EQ(housekeeping_.RunOnce().Total(), 0);
    EXPECT_TRUE(db_.Sessions().FindById("live"));
    EXPECT_TRUE(db_.Users().FindById("alice"));
}

}  // namespace
}  // namespace rainmaker::domain::housekeeping

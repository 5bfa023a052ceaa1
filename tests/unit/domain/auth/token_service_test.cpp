// Sessions, refresh, revocation and the authentication cache, over the real SQLite store.
#include "domain/auth/token_service.hpp"

#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/base64.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::auth {
namespace {

class TokenServiceTest : public ::testing::Test {
protected:
    TokenServiceTest()
        : db_owner_(dir_.path()),
          db_(*db_owner_),
          signer_(crypto::JwtSigner::LoadOrCreate(dir_.path() / "key.pem")),
          tokens_(*signer_, db_, clock_, TokenConfig{}) {
        user_.user_id = "u-1";
        user_.user_name = "alice@example.com";
        user_.password_hash = "x";
        user_.confirmed = true;
        db_.Users().Insert(user_);
    }

    static int CodeOf(const std::function<void()>& fn) {
        try {
            fn();
        } catch (const core::ApiError& e) {
            return e.wire_code();
        }
        return 0;
    }

    testing::TempDir dir_;
    testing::FakeClock clock_;
    rainmaker::testing::TestDatabase db_owner_;
    rainmaker::storage::sql::SqlDatabase& db_;
    std::unique_ptr<crypto::JwtSigner> signer_;
    TokenService tokens_;
    storage::UserRow user_;
};

TEST_F(TokenServiceTest, AuthenticatesBothTokensOfANewSession) {
    const auto t = tokens_.StartSession(user_);
    EXPECT_FALSE(t.refreshtoken.empty());
    for (const auto& token : {t.idtoken, t.accesstoken, "Bearer " + t.accesstoken}) {
        const auto caller = tokens_.Authenticate(token);
        EXPECT_EQ(caller.user_id, "u-1");
        EXPECT_EQ(caller.user_name, "alice@example.com");
    }
}

TEST_F(TokenServiceTest, PayloadHoldsTheClaimsClientsRead) {
    const auto t = tokens_.StartSession(user_);
    const auto first = t.idtoken.find('.');
    const auto payload = t.idtoken.substr(first + 1, t.idtoken.find('.', first + 1) - first - 1);
    EXPECT_EQ(payload.find_first_of("-_"), std::string::npos);
    const auto json = boost::json::parse(*crypto::Base64UrlDecode(payload)).as_object();
    EXPECT_EQ(json.at("custom:user_id").as_string(), "u-1");
    EXPECT_EQ(json.at("email").as_string(), "alice@example.com");
    EXPECT_TRUE(json.at("exp").is_int64());
}

TEST_F(TokenServiceTest, RefusesExpiredTokens) {
    const auto t = tokens_.StartSession(user_);
    clock_.Advance(std::chrono::seconds(3601));
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(t.accesstoken); }), 100004);
}

TEST_F(TokenServiceTest, RefreshGivesNewTokensForTheSameSession) {
    const auto t = tokens_.StartSession(user_);
    clock_.Advance(std::chrono::seconds(3601));
    const auto fresh = tokens_.Refresh(t.refreshtoken);
    EXPECT_TRUE(fresh.refreshtoken.empty());
    EXPECT_EQ(tokens_.Authenticate(fresh.accesstoken).user_id, "u-1");
    EXPECT_EQ(CodeOf([&] { tokens_.Refresh("not-a-token"); }), 101017);
}

TEST_F(TokenServiceTest, RevokingASessionRefusesItsTokensAndRefresh) {
    const auto a = tokens_.StartSession(user_);
    const auto b = tokens_.StartSession(user_);
    const auto session = tokens_.Authenticate(a.accesstoken).session_id;
    tokens_.Revoke(session);
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(a.accesstoken); }), 100004);
    EXPECT_EQ(CodeOf([&] { tokens_.Refresh(a.refreshtoken); }), 101017);
    EXPECT_EQ(tokens_.Authenticate(b.accesstoken).user_id, "u-1");
    tokens_.RevokeAll("u-1");
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(b.idtoken); }), 100004);
}

// Two server instances on one database (each its own database object, as two processes have):
// a session revoked on one is refused by the other, which had it cached as live, at once (on
// PostgreSQL a NOTIFY reaches the other's listener; it is waited for, 5 s at most).
TEST_F(TokenServiceTest, ASessionRevokedOnOneInstanceIsRefusedByTheOther) {
    const auto other_db = db_owner_.OpenAgain();
    TokenService other(*signer_, *other_db, clock_, TokenConfig{});
    const auto a = tokens_.StartSession(user_);
    const auto b = tokens_.StartSession(user_);
    EXPECT_EQ(other.Authenticate(a.accesstoken).user_id, "u-1");  // cached live there
    EXPECT_EQ(other.Authenticate(b.accesstoken).user_id, "u-1");
    tokens_.Revoke(tokens_.Authenticate(a.accesstoken).session_id);
    const auto refused = [&](const std::string& token) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (CodeOf([&] { other.Authenticate(token); }) != 100004) {
            if (std::chrono::steady_clock::now() > end) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    };
    EXPECT_TRUE(refused(a.accesstoken));
    EXPECT_EQ(other.Authenticate(b.accesstoken).user_id, "u-1");
    EXPECT_EQ(tokens_.Authenticate(b.idtoken).user_id, "u-1");  // cached live here too
    other.RevokeAll("u-1");                                     // and the other way round
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (CodeOf([&] { tokens_.Authenticate(b.idtoken); }) != 100004 &&
           std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(b.idtoken); }), 100004);
}

// A revocation whose message never came (written to the store behind the service's back, as a
// lost message leaves it) is seen once the cached answer is a minute old.
TEST_F(TokenServiceTest, ALiveSessionIsReadAgainAfterAMinute) {
    const auto a = tokens_.StartSession(user_);
    const auto session = tokens_.Authenticate(a.accesstoken).session_id;
    db_.Sessions().Revoke(session);
    EXPECT_EQ(tokens_.Authenticate(a.accesstoken).user_id, "u-1");  // still cached live
    clock_.Advance(std::chrono::seconds(59));
    EXPECT_EQ(tokens_.Authenticate(a.accesstoken).user_id, "u-1");
    clock_.Advance(std::chrono::seconds(2));
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(a.accesstoken); }), 100004);
}

TEST_F(TokenServiceTest, RefreshTokensAreStoredHashed) {
    const auto t = tokens_.StartSession(user_);
    EXPECT_FALSE(db_.Sessions().FindByRefreshHash(t.refreshtoken).has_value());
}

TEST_F(TokenServiceTest, RevokeByRefreshTokenOnlyForItsOwner) {
    const auto t = tokens_.StartSession(user_);
    EXPECT_FALSE(tokens_.RevokeByRefreshToken("someone-else", t.refreshtoken));
    EXPECT_EQ(tokens_.Authenticate(t.accesstoken).user_id, "u-1");
    EXPECT_TRUE(tokens_.RevokeByRefreshToken("u-1", t.refreshtoken));
    EXPECT_EQ(CodeOf([&] { tokens_.Authenticate(t.accesstoken); }), 100004);
}

}  // namespace
}  // namespace rainmaker::domain::auth

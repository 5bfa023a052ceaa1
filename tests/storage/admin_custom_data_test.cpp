// Admin custom data (#118/#119) over the SQLite store: the target named by user_id or
// user_name (exactly one, a confirmed user), the same merge rules as the user's own (#70/#71)
// with the admin's perms, nothing written on refusal, no lost update between the user and an
// admin; and the admin routes dispatched in process, #105 listing the table they are in.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/auth/token_service.hpp"
#include "domain/users/account_service.hpp"
#include "domain/users/json_merge.hpp"
#include "http/api/account_routes.hpp"
#include "http/api/admin_platform_routes.hpp"
#include "http/server/router.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::users {
namespace {

namespace json = boost::json;

class NoMessages final : public MessageSender {
public:
    void Send(const OutgoingMessage&) override {}
};

// Token → caller, for dispatching routes in process.
class TableAuthenticator final : public auth::Authenticator {
public:
    auth::AuthContext Authenticate(std::string_view token) override {
        const auto it = callers.find(std::string(token));
        if (it == callers.end()) {
            throw core::ApiError(core::ErrorCode::kUnauthorized);
        }
        return it->second;
    }

    std::map<std::string, auth::AuthContext> callers;
};

auth::AuthContext Caller(const std::string& id, bool admin = false, bool super_admin = false) {
    auth::AuthContext c;
    c.user_id = id;
    c.user_name = id + "@example.com";
    c.session_id = "s-" + id;
    c.role = auth::PlatformRoleOf(super_admin, admin);
    return c;
}

int CodeOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

UserSelector ById(const std::string& id) {
    return UserSelector{id, std::nullopt};
}

UserSelector ByName(const std::string& name) {
    return UserSelector{std::nullopt, name};
}

class AdminCustomDataTest : public ::testing::Test {
protected:
    AdminCustomDataTest()
        : db_owner_(dir_.path()),
          db_(*db_owner_),
          signer_(crypto::JwtSigner::LoadOrCreate(dir_.path() / "key.pem")),
          tokens_(*signer_, db_, clock_, auth::TokenConfig{}),
          accounts_(db_, tokens_, sender_, clock_, AccountConfig{}) {
        Insert("alice", true);
        Insert("ops", true, /*admin=*/true);
        Insert("root", true, false, /*super_admin=*/true);
        Insert("pending", false);
    }

    void Insert(
        const std::string& id, bool confirmed, bool admin = false, bool super_admin = false
    ) {
        storage::UserRow u;
        u.user_id = id;
        u.user_name = id + "@example.com";
        u.password_hash = "x";
        u.confirmed = confirmed;
        u.admin = admin;
        u.super_admin = super_admin;
        ASSERT_TRUE(db_.Users().Insert(u));
    }

    std::string Stored(const std::string& id) { return db_.Users().FindById(id)->custom_data; }

    // Alice's data with one key per perms case.
    void SeedAlice() {
        accounts_.PutCustomData(alice_, json::parse(R"({
            "open": {"value": 1},
            "admin_only": {"value": 2, "perms": [{"read": ["user", "admin"]}, {"write": ["admin"]}]},
            "user_only": {"value": 3, "perms": [{"read": ["user", "admin"]}, {"write": ["user"]}]},
            "private": {"value": 4, "perms": [{"read": ["user"]}, {"write": ["user"]}]}
        })"));
    }

    testing::TempDir dir_;
    testing::FakeClock clock_;
    rainmaker::testing::TestDatabase db_owner_;
    rainmaker::storage::sql::SqlDatabase& db_;
    std::unique_ptr<crypto::JwtSigner> signer_;
    auth::TokenService tokens_;
    NoMessages sender_;
    AccountService accounts_;
    const auth::AuthContext alice_ = Caller("alice");
    const auth::AuthContext ops_ = Caller("ops", true);
    const auth::AuthContext root_ = Caller("root", false, true);
};

TEST_F(AdminCustomDataTest, TargetIsExactlyOneConfirmedUserByIdOrName) {
    SeedAlice();
    const auto by_id = accounts_.GetCustomDataAsAdmin(ops_, ById("alice"));
    EXPECT_EQ(by_id.at("open").at("value"), 1);
    EXPECT_EQ(accounts_.GetCustomDataAsAdmin(ops_, ByName("alice@example.com")), by_id);
    // The name is matched in its canonical form.
    EXPECT_EQ(accounts_.GetCustomDataAsAdmin(ops_, ByName("Alice@Example.COM")), by_id);

    EXPECT_EQ(CodeOf([&] { accounts_.GetCustomDataAsAdmin(ops_, UserSelector{}); }), 125003);
    EXPECT_EQ(CodeOf([&] { accounts_.GetCustomDataAsAdmin(ops_, ByName("")); }), 125003);
    EXPECT_EQ(
        CodeOf([&] {
            accounts_.GetCustomDataAsAdmin(ops_, UserSelector{"alice", "alice@example.com"});
        }),
        125003
    );
    for (const auto& target :
         {ById("nobody"),
          ByName("nobody@example.com"),
          ByName("not a name"),
          ByName("pending@example.com"),
          ById("pending")}) {
        EXPECT_EQ(CodeOf([&] { accounts_.GetCustomDataAsAdmin(ops_, target); }), 101026);
        EXPECT_EQ(
            CodeOf([&] {
                accounts_.PutCustomDataAsAdmin(ops_, target, json::parse(R"({"k":{"value":1}})"));
            }),
            101026
        );
    }
    EXPECT_EQ(Stored("pending"), "{}");
}

TEST_F(AdminCustomDataTest, OnlyAdminsAndSuperadminsMayCall) {
    SeedAlice();
    const std::string before = Stored("alice");
    const auto bob = Caller("bob");
    EXPECT_EQ(CodeOf([&] { accounts_.GetCustomDataAsAdmin(bob, ById("alice")); }), 100004);
    EXPECT_EQ(
        CodeOf([&] {
            accounts_.PutCustomDataAsAdmin(bob, ById("alice"), json::parse(R"({"open":null})"));
        }),
        100004
    );
    // Not even on their own data: the user routes are theirs.
    EXPECT_EQ(CodeOf([&] { accounts_.GetCustomDataAsAdmin(alice_, ById("alice")); }), 100004);
    EXPECT_EQ(Stored("alice"), before);
    EXPECT_NO_THROW(accounts_.GetCustomDataAsAdmin(root_, ById("alice")));
}

TEST_F(AdminCustomDataTest, AdminReadsWhatItsPermsLetItRead) {
    SeedAlice();
    const auto seen = accounts_.GetCustomDataAsAdmin(ops_, ById("alice"));
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_FALSE(seen.contains("private"));
    EXPECT_EQ(seen.at("admin_only").at("perms").as_array().size(), 2u);
    // The user still sees all four.
    EXPECT_EQ(accounts_.GetCustomData(alice_).size(), 4u);
}

TEST_F(AdminCustomDataTest, AdminWritesWithTheSameMergeRulesAndItsPerms) {
    SeedAlice();
    const auto answer = accounts_.PutCustomDataAsAdmin(ops_, ById("alice"), json::parse(R"({
            "admin_only": {"value": {"premium": true}},
            "open": {"value": [1, 2]},
            "membership": {"value": "gold", "perms": [{"write": ["admin"]}]}
        })"));
    // The answer is the admin's view of the whole map after the update.
    EXPECT_EQ(answer.at("admin_only").at("value"), json::parse(R"({"premium": true})"));
    EXPECT_EQ(answer.at("open").at("value"), json::parse("[1, 2]"));
    EXPECT_FALSE(answer.contains("private"));
    // The user sees the admin's write, and may not change the admin-only keys.
    const auto mine = accounts_.GetCustomData(alice_);
    EXPECT_EQ(mine.at("membership").at("value"), "gold");
    EXPECT_EQ(mine.at("private").at("value"), 4);
    EXPECT_EQ(
        CodeOf([&] {
            accounts_.PutCustomData(alice_, json::parse(R"({"membership":{"value":"free"}})"));
        }),
        100004
    );
    // A user's write is what the admin reads next.
    accounts_.PutCustomData(alice_, json::parse(R"({"open":{"value":"mine"}})"));
    EXPECT_EQ(accounts_.GetCustomDataAsAdmin(root_, ById("alice")).at("open").at("value"), "mine");
}

TEST_F(AdminCustomDataTest, RefusedWritesChangeNothing) {
    SeedAlice();
    const std::string before = Stored("alice");
    const auto refused = [&](const char* body) {
        return CodeOf([&] {
            accounts_.PutCustomDataAsAdmin(ops_, ById("alice"), json::parse(body));
        });
    };
    // A key the admin may not write, even next to one it may: all or nothing.
    EXPECT_EQ(refused(R"({"open":{"value":9},"user_only":{"value":9}})"), 100004);
    EXPECT_EQ(refused(R"({"private":null})"), 100004);
    EXPECT_EQ(refused(R"({"user_only":{"perms":null}})"), 100004);
    EXPECT_EQ(refused(R"({"open":{"value":9,"other":1}})"), 100006);
    EXPECT_EQ(refused(R"([1])"), 100006);
    const std::string big(kMaxCustomDataBytes, 'x');
    EXPECT_EQ(
        CodeOf([&] {
            accounts_.PutCustomDataAsAdmin(
                ops_, ById("alice"), json::object{{"big", json::object{{"value", big}}}}
            );
        }),
        100036
    );
    EXPECT_EQ(Stored("alice"), before);
}

TEST_F(AdminCustomDataTest, NullBodyDeletesOnlyWhatTheAdminMayWrite) {
    SeedAlice();
    const auto answer = accounts_.PutCustomDataAsAdmin(ops_, ById("alice"), json::value(nullptr));
    EXPECT_EQ(answer.size(), 1u);  // user_only; private is hidden from the admin
    EXPECT_TRUE(answer.contains("user_only"));
    const auto mine = accounts_.GetCustomData(alice_);
    EXPECT_EQ(mine.size(), 2u);
    EXPECT_TRUE(mine.contains("user_only"));
    EXPECT_TRUE(mine.contains("private"));
}

TEST_F(AdminCustomDataTest, ConcurrentWritesOfTheUserAndAnAdminAreAllKept) {
    constexpr int kWrites = 20;
    std::thread user([&] {
        for (int i = 0; i < kWrites; ++i) {
            accounts_.PutCustomData(
                alice_, json::object{{"u" + std::to_string(i), json::object{{"value", i}}}}
            );
        }
    });
    std::thread admin([&] {
        for (int i = 0; i < kWrites; ++i) {
            accounts_.PutCustomDataAsAdmin(
                ops_,
                ByName("alice@example.com"),
                json::object{{"a" + std::to_string(i), json::object{{"value", i}}}}
            );
        }
    });
    user.join();
    admin.join();
    EXPECT_EQ(accounts_.GetCustomData(alice_).size(), 2u * kWrites);
}

// ---- the routes, dispatched in process

class AdminPlatformRoutesTest : public AdminCustomDataTest {
protected:
    AdminPlatformRoutesTest() : router_(auth_) {
        auth_.callers = {{"alice", alice_}, {"ops", ops_}, {"root", root_}};
        http::api::AddAccountRoutes(router_, accounts_, tokens_);
        http::api::AddAdminPlatformRoutes(router_, accounts_);
    }

    http::ApiResponse Call(
        const std::string& method,
        const std::string& path,
        const std::string& query,
        const std::string& token,
        const std::string& body = {}
    ) {
        http::ApiRequest request;
        request.method = method;
        request.target = path;
        request.query = http::QueryParams(query);
        request.authorization = token;
        request.body = body;
        return router_.Dispatch(request);
    }

    // The (method, path) pairs of a #105 answer.
    static std::set<std::pair<std::string, std::string>> Listed(const http::ApiResponse& r) {
        std::set<std::pair<std::string, std::string>> out;
        const json::value answer = json::parse(r.body);
        for (const auto& item : answer.as_array()) {
            for (const auto& method : item.at("methods").as_array()) {
                out.emplace(
                    std::string(method.as_string()), std::string(item.at("path").as_string())
                );
            }
        }
        return out;
    }

    static std::string Shown(const std::string& pattern) {
        return pattern.starts_with("/v1/") ? "/{version}/" + pattern.substr(4) : pattern;
    }

    TableAuthenticator auth_;
    http::Router router_;
};

TEST_F(AdminPlatformRoutesTest, ApiListingHoldsExactlyTheRegisteredAdminRoutes) {
    std::set<std::pair<std::string, std::string>> admin;
    std::set<std::pair<std::string, std::string>> all;
    for (const auto& route : router_.Routes()) {
        all.emplace(route.method, Shown(route.pattern));
        if (route.access == http::Access::kAdmin) {
            admin.emplace(route.method, Shown(route.pattern));
        }
    }
    ASSERT_EQ(admin.size(), 3u);
    ASSERT_GT(all.size(), 20u);
    for (const char* token : {"ops", "root"}) {
        for (const char* query : {"", "all_paths=false", "all_paths=False", "all_paths=0"}) {
            const auto r = Call("GET", "/v1/admin/api_paths_methods", query, token);
            EXPECT_EQ(r.status, 200) << r.body;
            EXPECT_EQ(Listed(r), admin) << query << ": " << r.body;
        }
        for (const char* query : {"all_paths=true", "all_paths=True", "all_paths=1"}) {
            const auto r = Call("GET", "/v1/admin/api_paths_methods", query, token);
            EXPECT_EQ(Listed(r), all) << query << ": " << r.body;
        }
    }
    // A route added later is listed too: the answer is read from the table on each call.
    router_.Add("DELETE", "/v1/admin/later", http::Access::kAdmin, [](const http::ApiRequest&) {
        return http::ApiResponse::Success("ok");
    });
    const auto later = Call("GET", "/v1/admin/api_paths_methods", "", "ops");
    EXPECT_TRUE(Listed(later).contains({"DELETE", "/{version}/admin/later"})) << later.body;

    const auto bad = Call("GET", "/v1/admin/api_paths_methods", "all_paths=maybe", "ops");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(json::parse(bad.body).at("error_code"), 100021);
    const auto user = Call("GET", "/v1/admin/api_paths_methods", "", "alice");
    EXPECT_EQ(user.status, 400);
    EXPECT_EQ(json::parse(user.body).at("error_code"), 100004);
}

TEST_F(AdminPlatformRoutesTest, CustomDataRoutesNameTheTargetByQuery) {
    SeedAlice();
    const auto get = Call("GET", "/v1/admin/custom_data", "user_name=alice@example.com", "ops");
    EXPECT_EQ(get.status, 200) << get.body;
    EXPECT_EQ(json::parse(get.body).as_object().size(), 3u);
    // The deprecated spellings of user_name.
    EXPECT_EQ(
        Call("GET", "/v1/admin/custom_data", "user_email=alice@example.com", "ops").body, get.body
    );
    EXPECT_EQ(Call("GET", "/v1/admin/custom_data", "user_id=alice", "root").body, get.body);
    for (const char* query :
         {"",
          "user_id=alice&user_name=alice@example.com",
          "user_name=alice@example.com&user_email=alice@example.com"}) {
        const auto r = Call("GET", "/v1/admin/custom_data", query, "ops");
        EXPECT_EQ(json::parse(r.body).at("error_code"), 125003) << query;
    }
    const auto put = Call(
        "PUT", "/v1/admin/custom_data", "user_id=alice", "ops", R"({"open":{"value":"by ops"}})"
    );
    EXPECT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(json::parse(put.body).at("open").at("value"), "by ops");
    const auto mine = Call("GET", "/v1/user/custom_data", "", "alice");
    EXPECT_EQ(json::parse(mine.body).at("open").at("value"), "by ops");

    const std::string before = Stored("alice");
    const auto not_json = Call("PUT", "/v1/admin/custom_data", "user_id=alice", "ops", "{oops");
    EXPECT_EQ(json::parse(not_json.body).at("error_code"), 125002);
    const auto unknown =
        Call("PUT", "/v1/admin/custom_data", "user_id=nobody", "ops", R"({"k":{"value":1}})");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(json::parse(unknown.body).at("error_code"), 101026);
    const auto by_user =
        Call("PUT", "/v1/admin/custom_data", "user_id=alice", "alice", R"({"open":{"value":0}})");
    EXPECT_EQ(json::parse(by_user.body).at("error_code"), 100004);
    EXPECT_EQ(Stored("alice"), before);
}

}  // namespace
}  // namespace rainmaker::domain::users

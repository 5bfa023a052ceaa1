// Admin platform operations end to end: the API listing generated from the route table (#105)
// and an admin's access to any user's custom data (#118/#119) under the same merge rules and
// perms as the user's own (#70/#71). Users get 100004 on all of them.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;
using boost::json::parse;
using Listing = std::set<std::pair<std::string, std::string>>;  // method, path as listed

constexpr const char* kAlice = "alice@example.com";

// Every (method, path) src/http/api/*_routes.cpp registers, paths as #105 shows them
// ("/v1/" → "/{version}/"); with `admin_only`, those under /v1/admin/.
Listing RegisteredRoutes(bool admin_only) {
    const auto dir = std::filesystem::path(RAINMAKER_SOURCE_DIR) / "src" / "http" / "api";
    // router.Add("METHOD", "path", ...) and router.AddPrefix("METHOD", prefix, "pattern", ...).
    const std::regex add(
        R"re(router\.Add(?:Prefix)?\(\s*"([A-Z]+)"\s*,\s*(?:[\w:]+\s*,\s*)?"([^"]+)")re"
    );
    Listing out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.path().filename().string().ends_with("_routes.cpp")) {
            continue;
        }
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        for (auto it = std::sregex_iterator(text.begin(), text.end(), add);
             it != std::sregex_iterator();
             ++it) {
            std::string path = (*it)[2].str();
            const std::string method = (*it)[1].str();
            if (admin_only && !path.starts_with("/v1/admin/")) {
                continue;
            }
            if (path.starts_with("/v1/")) {
                path = "/{version}/" + path.substr(4);
            }
            out.emplace(method, path);
        }
    }
    return out;
}

// The (method, path) pairs of a #105 answer; fails the test on a malformed one.
Listing Listed(const HttpResult& r) {
    Listing out;
    EXPECT_TRUE(r.json.is_array()) << r.body;
    if (!r.json.is_array()) {
        return out;
    }
    std::set<std::string> paths;
    for (const auto& item : r.json.as_array()) {
        const auto& path = item.at("path").as_string();
        EXPECT_TRUE(paths.emplace(path).second) << "path listed twice: " << path;
        EXPECT_FALSE(item.at("methods").as_array().empty()) << r.body;
        for (const auto& method : item.at("methods").as_array()) {
            out.emplace(std::string(method.as_string()), std::string(path));
        }
    }
    return out;
}

class AdminPlatformTest : public ::testing::Test {
protected:
    AdminPlatformTest()
        : client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, kAlice)),
          ops_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          root_(CreateAdminAndLogin(client_, server_, "root@example.com", "--superadmin")) {}

    HttpResult AdminGet(const std::string& query, const Tokens& t) {
        return client_.Get("/v1/admin/custom_data" + query, t.accesstoken);
    }

    HttpResult AdminPut(const std::string& query, const std::string& body, const Tokens& t) {
        return client_.Request(
            "PUT",
            "/v1/admin/custom_data" + query,
            body,
            {{"Authorization", t.accesstoken}, {"Content-Type", "application/json"}}
        );
    }

    HttpResult MyGet() { return client_.Get("/v1/user/custom_data", alice_.accesstoken); }

    HttpResult MyPut(const std::string& body) {
        return client_.Request(
            "PUT",
            "/v1/user/custom_data",
            body,
            {{"Authorization", alice_.accesstoken}, {"Content-Type", "application/json"}}
        );
    }

    std::string AliceId() { return client_.Get("/v1/user2", alice_.accesstoken).Str("user_id"); }

    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Tokens ops_;
    Tokens root_;
};

TEST_F(AdminPlatformTest, ApiListingIsGeneratedFromTheRouteTable) {
    const auto admin_routes = RegisteredRoutes(true);
    const auto all_routes = RegisteredRoutes(false);
    ASSERT_TRUE(admin_routes.contains({"GET", "/{version}/admin/api_paths_methods"}));
    ASSERT_TRUE(admin_routes.contains({"PUT", "/{version}/admin/custom_data"}));
    ASSERT_GT(all_routes.size(), admin_routes.size());
    for (const Tokens* t : {&ops_, &root_}) {
        for (const char* query : {"", "?all_paths=false", "?all_paths=False", "?all_paths=0"}) {
            const auto r =
                client_.Get(std::string("/v1/admin/api_paths_methods") + query, t->accesstoken);
            ASSERT_EQ(r.status, 200) << r.body;
            EXPECT_EQ(Listed(r), admin_routes) << query << " " << r.body;
        }
        for (const char* query : {"?all_paths=true", "?all_paths=True", "?all_paths=1"}) {
            const auto r =
                client_.Get(std::string("/v1/admin/api_paths_methods") + query, t->accesstoken);
            ASSERT_EQ(r.status, 200) << r.body;
            EXPECT_EQ(Listed(r), all_routes) << query << " " << r.body;
        }
    }
    // The reference sample's shape: one element per path, methods GET, POST, PUT, DELETE.
    const auto all = client_.Get("/v1/admin/api_paths_methods?all_paths=true", ops_.accesstoken);
    bool found = false;
    for (const auto& item : all.json.as_array()) {
        if (item.at("path") == "/{version}/user2") {
            found = true;
            EXPECT_EQ(item.at("methods"), parse(R"(["GET","POST","PUT","DELETE"])")) << all.body;
        }
    }
    EXPECT_TRUE(found) << all.body;

    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/api_paths_methods?all_paths=maybe", ops_.accesstoken), 400, 100021
    ));
    EXPECT_TRUE(
        IsFailure(client_.Get("/v1/admin/api_paths_methods", alice_.accesstoken), 400, 100004)
    );
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/api_paths_methods?all_paths=true", alice_.accesstoken), 400, 100004
    ));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/api_paths_methods"), 401, 100004));
}

TEST_F(AdminPlatformTest, AdminReadsAndWritesAUsersCustomDataWithinThePerms) {
    // The user's own data: one key per perms case.
    ASSERT_EQ(
        MyPut(R"({
            "profile": {"value": {"age": 61}},
            "preferences": {"value": {"theme": "dark"},
                            "perms": [{"read": ["user", "admin"]}, {"write": ["user"]}]},
            "diary": {"value": "secret", "perms": [{"read": ["user"]}, {"write": ["user"]}]}
        })")
            .status,
        200
    );
    const std::string alice_id = AliceId();
    ASSERT_FALSE(alice_id.empty());

    // #118 by user_name, user_id and the deprecated user_email: what admins may read.
    const auto seen = AdminGet(std::string("?user_name=") + kAlice, ops_);
    ASSERT_EQ(seen.status, 200) << seen.body;
    EXPECT_EQ(
        seen.json, parse(R"({
            "profile": {"value": {"age": 61}},
            "preferences": {"value": {"theme": "dark"},
                            "perms": [{"read": ["user", "admin"]}, {"write": ["user"]}]}
        })")
    ) << seen.body;
    EXPECT_EQ(AdminGet("?user_id=" + alice_id, root_).json, seen.json);
    EXPECT_EQ(AdminGet(std::string("?user_email=") + kAlice, ops_).json, seen.json);

    // #119: the reference sample's membership_info, writable by admins only.
    const auto put = AdminPut(
        "?user_id=" + alice_id,
        R"({"membership_info": {"value": {"premium": true},
                                "perms": [{"read": ["user", "admin"]}, {"write": ["admin"]}]},
            "profile": {"value": {"age": 62}}})",
        ops_
    );
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json.at("membership_info").at("value"), parse(R"({"premium": true})"));
    EXPECT_EQ(put.json.at("profile").at("value"), parse(R"({"age": 62})"));
    EXPECT_FALSE(put.json.as_object().contains("diary")) << put.body;

    // The user sees the admin's write through #70 and may not change the admin's key...
    const auto mine = MyGet();
    EXPECT_EQ(mine.json.at("membership_info").at("value"), parse(R"({"premium": true})"));
    EXPECT_EQ(mine.json.at("profile").at("value"), parse(R"({"age": 62})"));
    EXPECT_EQ(mine.json.at("diary").at("value"), "secret");
    EXPECT_TRUE(
        IsFailure(MyPut(R"({"membership_info": {"value": {"premium": false}}})"), 400, 100004)
    );
    EXPECT_TRUE(IsFailure(MyPut(R"({"membership_info": null})"), 400, 100004));
    // ...and the admin sees the user's write through #118 and may not change the user's keys.
    ASSERT_EQ(MyPut(R"({"profile": {"value": {"age": 63}}})").status, 200);
    EXPECT_EQ(
        AdminGet("?user_id=" + alice_id, ops_).json.at("profile").at("value"),
        parse(R"({"age": 63})")
    );
    const auto before = MyGet().body;
    EXPECT_TRUE(IsFailure(
        AdminPut("?user_id=" + alice_id, R"({"preferences": {"value": {"theme": "light"}}})", ops_),
        400,
        100004
    ));
    EXPECT_TRUE(
        IsFailure(AdminPut("?user_id=" + alice_id, R"({"diary": null})", root_), 400, 100004)
    );
    // All or nothing: the allowed key next to a refused one is not written either.
    EXPECT_TRUE(IsFailure(
        AdminPut(
            "?user_id=" + alice_id,
            R"({"profile": {"value": 1}, "preferences": {"perms": null}})",
            ops_
        ),
        400,
        100004
    ));
    EXPECT_EQ(MyGet().body, before);

    // Null deletes what admins may write; the user's own keys stay.
    const auto cleared = AdminPut("?user_id=" + alice_id, "null", root_);
    ASSERT_EQ(cleared.status, 200) << cleared.body;
    EXPECT_EQ(cleared.json.as_object().size(), 1u) << cleared.body;  // preferences
    const auto left = MyGet();
    EXPECT_EQ(left.json.as_object().size(), 2u) << left.body;
    EXPECT_TRUE(left.json.as_object().contains("preferences"));
    EXPECT_TRUE(left.json.as_object().contains("diary"));
}

TEST_F(AdminPlatformTest, CustomDataErrorsChangeNothing) {
    ASSERT_EQ(MyPut(R"({"profile": {"value": 1}})").status, 200);
    const std::string alice_id = AliceId();
    const auto before = MyGet().body;
    const std::string alice_q = std::string("?user_name=") + kAlice;

    // Exactly one of user_id and user_name (user_email, user_phone_number: its old names).
    for (const std::string& query : std::vector<std::string>{
             "",
             "?user_id=",
             "?user_id=" + alice_id + "&user_name=" + kAlice,
             alice_q + "&user_email=" + kAlice}) {
        EXPECT_TRUE(IsFailure(AdminGet(query, ops_), 400, 125003)) << query;
        EXPECT_TRUE(IsFailure(AdminPut(query, R"({"k": {"value": 1}})", ops_), 400, 125003))
            << query;
    }
    // No such user (or not confirmed).
    SignUp(client_, "pending@example.com");
    for (const std::string& query : std::vector<std::string>{
             "?user_id=nosuchid",
             "?user_name=nobody@example.com",
             "?user_name=not%20a%20name",
             "?user_name=pending@example.com"}) {
        EXPECT_TRUE(IsFailure(AdminGet(query, ops_), 400, 101026)) << query;
        EXPECT_TRUE(IsFailure(AdminPut(query, R"({"k": {"value": 1}})", ops_), 400, 101026))
            << query;
    }
    // The body: not JSON, not an object or null, malformed entries, too large.
    EXPECT_TRUE(IsFailure(AdminPut(alice_q, "{not json", ops_), 400, 125002));
    EXPECT_TRUE(IsFailure(AdminPut(alice_q, "[1]", ops_), 400, 100006));
    EXPECT_TRUE(IsFailure(AdminPut(alice_q, R"({"k": 1})", ops_), 400, 100006));
    EXPECT_TRUE(IsFailure(AdminPut(alice_q, R"({"k": {"value": 1, "x": 2}})", ops_), 400, 100006));
    EXPECT_TRUE(IsFailure(
        AdminPut(alice_q, R"({"k": {"value": 1, "perms": [{"write": []}]}})", ops_), 400, 100006
    ));
    const std::string big(400 * 1024, 'x');
    EXPECT_TRUE(
        IsFailure(AdminPut(alice_q, R"({"big": {"value": ")" + big + R"("}})", ops_), 400, 100036)
    );
    EXPECT_EQ(MyGet().body, before);

    // Users may not call the admin routes, whoever they name (themselves included).
    EXPECT_TRUE(IsFailure(AdminGet(alice_q, alice_), 400, 100004));
    EXPECT_TRUE(IsFailure(AdminPut(alice_q, R"({"k": {"value": 1}})", alice_), 400, 100004));
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/custom_data" + alice_q), 401, 100004));
    EXPECT_EQ(MyGet().body, before);
}

}  // namespace
}  // namespace rainmaker::testing

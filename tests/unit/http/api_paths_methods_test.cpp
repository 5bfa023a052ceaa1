// The route table as data (Router::Routes) and the answer of GET /admin/api_paths_methods
// (#105) made from it: admin routes by default, every route with all_paths.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "http/api/admin_platform_routes.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http {
namespace {

class NoAuthenticator final : public domain::auth::Authenticator {
public:
    domain::auth::AuthContext Authenticate(std::string_view) override {
        throw core::ApiError(core::ErrorCode::kUnauthorized);
    }
};

ApiResponse Nothing(const ApiRequest&) {
    return ApiResponse::Success("ok");
}

class ApiPathsMethodsTest : public ::testing::Test {
protected:
    ApiPathsMethodsTest() : router_(auth_) {
        // Added out of order on purpose: the listing orders them.
        router_.Add("DELETE", "/v1/admin/node_group", Access::kAdmin, Nothing);
        router_.Add("GET", "/v1/user/nodes", Access::kUser, Nothing);
        router_.Add("PUT", "/v1/admin/node_group", Access::kAdmin, Nothing);
        router_.Add("GET", "/apiversions", Access::kPublic, Nothing, Execution::kInline);
        router_.Add("POST", "/v1/admin/node_group", Access::kAdmin, Nothing);
        router_.Add("GET", "/v1/admin/node_group", Access::kAdmin, Nothing);
        router_.Add("PATCH", "/v1/admin/node_group", Access::kAdmin, Nothing);
        router_.Add("GET", "/v1/admin/custom_data", Access::kAdmin, Nothing);
        router_.Add("POST", "/claim/initiate", Access::kUser, Nothing);
        router_.Add("PUT", "/v1/user/nodes", Access::kUser, Nothing);
    }

    NoAuthenticator auth_;
    Router router_;
};

TEST_F(ApiPathsMethodsTest, RoutesListsEveryRegisteredRouteByPatternThenMethod) {
    const std::vector<RouteInfo> expected{
        {"GET", "/apiversions", Access::kPublic},
        {"POST", "/claim/initiate", Access::kUser},
        {"GET", "/v1/admin/custom_data", Access::kAdmin},
        {"DELETE", "/v1/admin/node_group", Access::kAdmin},
        {"GET", "/v1/admin/node_group", Access::kAdmin},
        {"PATCH", "/v1/admin/node_group", Access::kAdmin},
        {"POST", "/v1/admin/node_group", Access::kAdmin},
        {"PUT", "/v1/admin/node_group", Access::kAdmin},
        {"GET", "/v1/user/nodes", Access::kUser},
        {"PUT", "/v1/user/nodes", Access::kUser},
    };
    EXPECT_EQ(router_.Routes(), expected);
}

TEST_F(ApiPathsMethodsTest, RegisteringTheSameMethodAndPathAgainReplacesIt) {
    router_.Add("GET", "/v1/user/nodes", Access::kAdmin, Nothing);
    int count = 0;
    for (const auto& route : router_.Routes()) {
        if (route.pattern == "/v1/user/nodes" && route.method == "GET") {
            ++count;
            EXPECT_EQ(route.access, Access::kAdmin);
        }
    }
    EXPECT_EQ(count, 1);
}

TEST_F(ApiPathsMethodsTest, ListsOnlyAdminRoutesByDefault) {
    const auto listed = api::ApiPathsMethods(router_.Routes(), false);
    EXPECT_EQ(
        listed, boost::json::parse(R"([
            {"path": "/{version}/admin/custom_data", "methods": ["GET"]},
            {"path": "/{version}/admin/node_group",
             "methods": ["GET", "POST", "PUT", "DELETE", "PATCH"]}
        ])")
    ) << boost::json::serialize(listed);
}

TEST_F(ApiPathsMethodsTest, ListsEveryRouteWithAllPaths) {
    const auto listed = api::ApiPathsMethods(router_.Routes(), true);
    EXPECT_EQ(
        listed, boost::json::parse(R"([
            {"path": "/apiversions", "methods": ["GET"]},
            {"path": "/claim/initiate", "methods": ["POST"]},
            {"path": "/{version}/admin/custom_data", "methods": ["GET"]},
            {"path": "/{version}/admin/node_group",
             "methods": ["GET", "POST", "PUT", "DELETE", "PATCH"]},
            {"path": "/{version}/user/nodes", "methods": ["GET", "PUT"]}
        ])")
    ) << boost::json::serialize(listed);
}

TEST_F(ApiPathsMethodsTest, AnEmptyTableListsNothing) {
    NoAuthenticator auth;
    const Router empty(auth);
    EXPECT_TRUE(api::ApiPathsMethods(empty.Routes(), false).empty());
    EXPECT_TRUE(api::ApiPathsMethods(empty.Routes(), true).empty());
}

}  // namespace
}  // namespace rainmaker::http

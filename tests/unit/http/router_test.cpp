// Routing, version handling, authentication and the single catch site.
#include "http/server/router.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace rainmaker::http {
namespace {

using core::ApiError;
using core::ErrorCode;

class FakeAuthenticator final : public domain::auth::Authenticator {
public:
    domain::auth::AuthContext Authenticate(std::string_view token) override {
        if (token != "good") {
            throw ApiError(ErrorCode::kUnauthorized);
        }
        return {"u1", "a@b.c", "s1"};
    }
};

class RouterTest : public ::testing::Test {
protected:
    RouterTest() : router_(auth_) {
        router_.Add("GET", "/v1/thing", Access::kPublic, [](const ApiRequest&) {
            return ApiResponse::Success("ok");
        });
        router_.Add("GET", "/v1/mine", Access::kUser, [](const ApiRequest& r) {
            return ApiResponse::Success(r.Caller().user_id);
        });
        router_.Add("GET", "/v1/throws", Access::kPublic, [](const ApiRequest&) -> ApiResponse {
            throw std::runtime_error("boom");
        });
        router_.Add("GET", "/v1/rejects", Access::kPublic, [](const ApiRequest&) -> ApiResponse {
            throw ApiError(ErrorCode::kUserNotFound);
        });
    }

    ApiResponse Call(std::string method, std::string target, std::string token = {}) {
        ApiRequest request;
        request.method = std::move(method);
        request.target = std::move(target);
        request.authorization = std::move(token);
        return router_.Dispatch(request);
    }

    static boost::json::object Body(const ApiResponse& r) {
        return boost::json::parse(r.body).as_object();
    }

    FakeAuthenticator auth_;
    Router router_;
};

TEST_F(RouterTest, RunsTheMatchingHandler) {
    const auto r = Call("GET", "/v1/thing");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r).at("status").as_string(), "success");
}

TEST_F(RouterTest, ToleratesOneTrailingSlash) {
    EXPECT_EQ(Call("GET", "/v1/thing/").status, 200);
}

TEST_F(RouterTest, AnswersUnknownPathWith404Envelope) {
    const auto r = Call("GET", "/v1/other");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r).at("error_code").as_int64(), 100012);
    EXPECT_EQ(Body(r).at("status").as_string(), "failure");
}

TEST_F(RouterTest, AnswersOtherVersionsWith100002) {
    for (const auto* path : {"/v2/thing", "/v9/whatever", "/v10/thing"}) {
        const auto r = Call("GET", path);
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_EQ(Body(r).at("error_code").as_int64(), 100002) << path;
    }
    EXPECT_EQ(Call("GET", "/vx/thing").status, 404);
}

TEST_F(RouterTest, AnswersWrongMethodWith405) {
    const auto r = Call("POST", "/v1/thing");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(Body(r).at("error_code").as_int64(), 100003);
}

TEST_F(RouterTest, AuthenticatesUserRoutes) {
    EXPECT_EQ(Call("GET", "/v1/mine").status, 401);
    EXPECT_EQ(Call("GET", "/v1/mine", "bad").status, 401);
    const auto r = Call("GET", "/v1/mine", "good");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r).at("description").as_string(), "u1");
}

TEST_F(RouterTest, TurnsApiErrorsIntoTheirEnvelope) {
    const auto r = Call("GET", "/v1/rejects");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r).at("error_code").as_int64(), 101025);
    EXPECT_EQ(Body(r).size(), 3u);
}

TEST_F(RouterTest, TurnsOtherExceptionsInto500WithoutDetails) {
    const auto r = Call("GET", "/v1/throws");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(Body(r).at("error_code").as_int64(), 100001);
    EXPECT_EQ(r.body.find("boom"), std::string::npos);
}

}  // namespace
}  // namespace rainmaker::http

namespace rainmaker::http {
namespace {

TEST(RouterBodyLimitTest, OnlyTheRouteGivenALimitTakesMore) {
    FakeAuthenticator auth;
    Router router(auth);
    const auto ok = [](const ApiRequest&) { return ApiResponse::Success("ok"); };
    router.Add("POST", "/v1/upload", Access::kPublic, ok);
    router.Add("PUT", "/v1/upload", Access::kPublic, ok);
    router.Add("POST", "/v1/other", Access::kPublic, ok);
    EXPECT_EQ(router.LargestBodyLimit(), 0U);
    EXPECT_EQ(router.BodyLimit("POST", "/v1/upload", 100), 100U);
    router.SetBodyLimit("POST", "/v1/upload", 5000);
    EXPECT_EQ(router.LargestBodyLimit(), 5000U);
    EXPECT_EQ(router.BodyLimit("POST", "/v1/upload", 100), 5000U);
    EXPECT_EQ(router.BodyLimit("POST", "/v1/upload/?x=1", 100), 5000U);
    EXPECT_EQ(router.BodyLimit("PUT", "/v1/upload", 100), 100U);
    EXPECT_EQ(router.BodyLimit("POST", "/v1/other", 100), 100U);
    EXPECT_EQ(router.BodyLimit("POST", "/v1/unknown", 100), 100U);
    // Never below the server's own limit.
    EXPECT_EQ(router.BodyLimit("POST", "/v1/upload", 9000), 9000U);
    EXPECT_THROW(router.SetBodyLimit("GET", "/v1/upload", 1), std::out_of_range);
}

TEST_F(RouterTest, PrefixRoutesMatchEveryPathUnderThemAndAnExactRouteWins) {
    router_.AddPrefix(
        "GET",
        "/blobs/",
        "/blobs/{blob_key}/{file_name}",
        Access::kPresigned,
        [](const ApiRequest& r) { return ApiResponse::Success(r.target); }
    );
    router_.Add("GET", "/blobs/exact", Access::kPublic, [](const ApiRequest&) {
        return ApiResponse::Success("exact");
    });
    // No token needed (the handler checks the URL's signature), and a bad one is ignored.
    auto r = Call("GET", "/blobs/abc/x.bin", "garbage");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r).at("description").as_string(), "/blobs/abc/x.bin");
    EXPECT_EQ(Body(Call("GET", "/blobs/exact")).at("description").as_string(), "exact");
    // The prefix alone is not under it; another method under it is 405.
    EXPECT_EQ(Call("GET", "/blobs/").status, 404);
    EXPECT_EQ(Call("GET", "/blobs").status, 404);
    EXPECT_EQ(Call("DELETE", "/blobs/abc").status, 405);
    EXPECT_NE(router_.Match("GET", "/blobs/a/b"), nullptr);
    EXPECT_EQ(router_.Match("PUT", "/blobs/a/b"), nullptr);
    EXPECT_EQ(router_.Match("GET", "/nothing"), nullptr);
    // Listed under its pattern.
    bool listed = false;
    for (const auto& route : router_.Routes()) {
        listed = listed || (route.pattern == "/blobs/{blob_key}/{file_name}" &&
                            route.access == Access::kPresigned);
    }
    EXPECT_TRUE(listed);
}

TEST_F(RouterTest, AStreamedRouteTakesItsOwnBodyLimit) {
    router_.AddPrefix(
        "PUT",
        "/uploads/",
        "/uploads/{upload_id}",
        Access::kPresigned,
        [](const ApiRequest&) { return ApiResponse::Success("ok"); }
    );
    router_.SetUploadSink(
        "PUT", "/uploads/{upload_id}", [](const ApiRequest&) { return nullptr; }, 5000000
    );
    EXPECT_EQ(router_.BodyLimit("PUT", "/uploads/abc?expires=1", 1000), 5000000U);
    // Exactly its own, even below the server's limit (the body is not held in memory).
    EXPECT_EQ(router_.BodyLimit("PUT", "/uploads/abc", 9000000), 5000000U);
    EXPECT_EQ(router_.BodyLimit("GET", "/v1/thing", 1000), 1000U);
    EXPECT_EQ(router_.LargestBodyLimit(), 5000000U);
    ASSERT_NE(router_.Match("PUT", "/uploads/abc"), nullptr);
    EXPECT_TRUE(router_.Match("PUT", "/uploads/abc")->open_upload);
}

}  // namespace
}  // namespace rainmaker::http

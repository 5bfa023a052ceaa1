// The error table: one line per error, sane statuses and texts.
#include "core/error.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace rainmaker::core {
namespace {

TEST(ErrorTable, NamesAreUniqueStatusesAreErrorsAndDescriptionsAreSet) {
    std::size_t count = 0;
    const ErrorInfo* all = AllErrors(&count);
    ASSERT_GT(count, 40u);
    std::set<std::string_view> names;
    std::set<std::pair<int, int>> code_and_status;
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_TRUE(names.insert(all[i].name).second) << all[i].name;
        EXPECT_GE(all[i].http_status, 400) << all[i].name;
        EXPECT_LT(all[i].http_status, 600) << all[i].name;
        EXPECT_GE(all[i].code, 100000) << all[i].name;
        EXPECT_LT(all[i].code, 200000) << all[i].name;
        EXPECT_FALSE(all[i].description.empty()) << all[i].name;
        EXPECT_EQ(all[i].name.substr(0, 1), "k") << all[i].name;
    }
}

TEST(ApiError, CarriesTableDefaultsOrTheGivenDescription) {
    const ApiError plain(ErrorCode::kUserNotFound);
    EXPECT_EQ(plain.wire_code(), 101025);
    EXPECT_EQ(plain.http_status(), 404);
    EXPECT_EQ(plain.description(), "User does not exist");
    const ApiError custom(ErrorCode::kInvalidBody, "Invalid request body: x", "log only");
    EXPECT_EQ(custom.wire_code(), 100006);
    EXPECT_EQ(custom.description(), "Invalid request body: x");
    EXPECT_EQ(custom.internal(), "log only");
}

TEST(ApiError, MapsTheCodesClientsBranchOn) {
    EXPECT_EQ(ApiError(ErrorCode::kUnsupportedVersion).wire_code(), 100002);
    EXPECT_EQ(ApiError(ErrorCode::kUnauthorized).http_status(), 401);
    EXPECT_EQ(ApiError(ErrorCode::kTooManyRequests).http_status(), 429);
    EXPECT_EQ(ApiError(ErrorCode::kTooManyRequests).wire_code(), 100070);
    EXPECT_EQ(ApiError(ErrorCode::kBodyTooLarge).http_status(), 413);
    EXPECT_EQ(ApiError(ErrorCode::kNotVerified).wire_code(), 101015);
}

}  // namespace
}  // namespace rainmaker::core

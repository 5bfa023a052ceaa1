// Stored JSON reads back: whatever the API accepted and stored comes back from the store.
#include "domain/stored_json.hpp"

#include <string>

#include <gtest/gtest.h>

#include "domain/users/json_merge.hpp"
#include "http/server/api_request.hpp"

namespace rainmaker::domain {
namespace {

std::string Nested(int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
}

// Found by fuzz/json_body_fuzz: request bodies were parsed with a depth limit of 64 and stored
// JSON read back with Boost's default of 32, so custom data (or a profile, metadata) nested
// deeper than 32 was stored, then read as {}: gone, and the next update dropped every other key.
TEST(StoredJson, ReadsBackTheDeepestBodyTheApiAccepts) {
    http::ApiRequest request;
    request.body = R"({"deep":{"value":)" + Nested(62) + "}}";
    const auto body = request.JsonObject();  // 64 levels: accepted
    const auto stored = users::ApplyCustomDataUpdate(
        boost::json::object{{"kept", boost::json::object{{"value", 1}}}},
        body,
        users::CustomDataActor::kUser
    );
    const auto text = boost::json::serialize(stored);
    EXPECT_EQ(ParseObject(text), stored) << text;
    EXPECT_TRUE(ParseOr(Nested(64), nullptr).is_array());
}

TEST(StoredJson, GivesTheFallbackForDamagedText) {
    EXPECT_EQ(ParseOr("", 7), boost::json::value(7));
    EXPECT_EQ(ParseOr("{", 7), boost::json::value(7));
    EXPECT_TRUE(ParseObject("[1]").empty());
    EXPECT_TRUE(ParseArray("{}").empty());
}

}  // namespace
}  // namespace rainmaker::domain

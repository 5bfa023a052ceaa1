// Desired params checked against a node config, and the params/local merge rule.
#include "domain/nodes/params_validation.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace rainmaker::domain::nodes {
namespace {

const boost::json::value kConfig = boost::json::parse(R"({
  "node_id":"n1","config_version":"2020-03-20","info":{"name":"L","type":"Lightbulb"},
  "devices":[{"name":"Light","type":"esp.device.lightbulb","params":[
    {"name":"Power","data_type":"bool","properties":["read","write"]},
    {"name":"Brightness","data_type":"int","properties":["read","write"],"bounds":{"min":0,"max":100}},
    {"name":"Hue","data_type":"float","properties":["read","write"],"bounds":{"min":0,"max":360}},
    {"name":"Mode","data_type":"string","properties":["read","write"],"valid_strs":["a","b"]},
    {"name":"Name","data_type":"string","properties":["read","write"]},
    {"name":"Temperature","data_type":"float","properties":["read"]},
    {"name":"Blob","data_type":"object","properties":["read","write"]}]}],
  "services":[{"name":"Schedule","params":[
    {"name":"Schedules","data_type":"array","properties":["read","write"],"bounds":{"max":2}}]}]})"
);

boost::json::object Delta(const char* text) {
    return boost::json::parse(text).as_object();
}

std::string Refusal(const char* delta) {
    try {
        ValidateParams(kConfig, Delta(delta));
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.wire_code(), 100006) << delta;
        return e.description();
    }
    return {};
}

TEST(ValidateParams, AcceptsValidValuesAndCastsThemToTheirDataType) {
    const auto out = ValidateParams(
        kConfig, Delta(R"({"Light":{"Power":true,"Brightness":42.0,"Hue":7,"Mode":"b"},
                          "Schedule":{"Schedules":[{"id":1}]}})")
    );
    EXPECT_TRUE(out.at("Light").at("Brightness").is_int64());
    EXPECT_EQ(out.at("Light").at("Brightness").as_int64(), 42);
    EXPECT_TRUE(out.at("Light").at("Hue").is_double());
    EXPECT_EQ(out.at("Schedule").at("Schedules").as_array().size(), 1u);
}

TEST(ValidateParams, RefusesEachInvalidKindNamingTheParam) {
    EXPECT_NE(Refusal(R"({"Fan":{"Power":true}})").find("Fan"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Speed":1}})").find("Light.Speed"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Power":1}})").find("bool"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Brightness":"high"}})").find("integer"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Brightness":4.5}})").find("integer"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Brightness":101}})").find("maximum"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Brightness":-1}})").find("minimum"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Hue":361.5}})").find("maximum"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Mode":"c"}})").find("valid_strs"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Name":5}})").find("string"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Temperature":20}})").find("read-only"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{"Blob":[1]}})").find("object"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Schedule":{"Schedules":[1,2,3]}})").find("maximum"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":5})").find("object"), std::string::npos);
    EXPECT_NE(Refusal(R"({"Light":{}})").find("object"), std::string::npos);
    EXPECT_FALSE(Refusal(R"({})").empty());
}

TEST(ValidateParams, RefusesWithoutAConfig) {
    try {
        ValidateParams(nullptr, Delta(R"({"Light":{"Power":true}})"));
        FAIL();
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.wire_code(), 103002);
    }
}

TEST(MergeReportedParams, ReplacesPerParamAndKeepsTheRest) {
    auto stored =
        Delta(R"({"Light":{"Power":false,"Brightness":10},"Schedule":{"Schedules":[1,2]}})");
    MergeReportedParams(stored, Delta(R"({"Light":{"Power":true},"Schedule":{"Schedules":[3]},
                                           "Extra":{"X":1},"Bad":5})"));
    EXPECT_EQ(stored.at("Light").at("Power"), true);
    EXPECT_EQ(stored.at("Light").at("Brightness"), 10);
    EXPECT_EQ(stored.at("Schedule").at("Schedules").as_array().size(), 1u);
    EXPECT_EQ(stored.at("Extra").at("X"), 1);
    EXPECT_FALSE(stored.contains("Bad"));
}

}  // namespace
}  // namespace rainmaker::domain::nodes

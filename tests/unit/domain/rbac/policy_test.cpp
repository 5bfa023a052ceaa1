// Policy documents: what is accepted, what is refused and why, how statements and node filters
// match.
#include "domain/rbac/policy.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace rainmaker::domain::rbac {
namespace {

boost::json::value Json(std::string_view text) {
    return boost::json::parse(text);
}

int CodeOf(std::string_view text) {
    try {
        ParsePolicy(Json(text));
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

TEST(PolicyTest, TheReferenceSampleParses) {
    const auto policy = ParsePolicy(Json(R"({
        "version": "1.0.0",
        "filters": [{"type": "nodes", "rules": {"tags": ["location:pune", "location:mumbai"],
                                                  "type": ["led_light", "switch"]}}],
        "statement": [{"Effect": "Allow", "Action": ["api:Get"],
                       "Resource": ["/v1/admin/otaimage"]}]})"));
    ASSERT_EQ(policy.filters.size(), 1u);
    EXPECT_EQ(policy.filters[0].tags.size(), 2u);
    EXPECT_EQ(policy.filters[0].types.size(), 2u);
    ASSERT_EQ(policy.statements.size(), 1u);
    EXPECT_EQ(policy.statements[0].effect, Effect::kAllow);
    EXPECT_EQ(policy.statements[0].methods, std::vector<std::string>{"GET"});
    EXPECT_EQ(policy.statements[0].resources, std::vector<std::string>{"/admin/otaimage"});
}

TEST(PolicyTest, LowerCaseKeysAndValuesAsTheGetSampleShowsThem) {
    const auto policy = ParsePolicy(Json(
        R"({"statement": [{"effect": "deny", "action": ["api:PUT", "api:*"], "resource": ["*"]}]})"
    ));
    EXPECT_EQ(policy.statements[0].effect, Effect::kDeny);
    EXPECT_EQ(policy.statements[0].methods, (std::vector<std::string>{"PUT", "*"}));
    EXPECT_TRUE(policy.filters.empty());
}

TEST(PolicyTest, RefusesWhatCouldGrantMoreThanMeant) {
    EXPECT_EQ(CodeOf(R"([])"), 129010);
    EXPECT_EQ(CodeOf(R"({})"), 129010);                 // no statement
    EXPECT_EQ(CodeOf(R"({"statement": []})"), 129010);  // empty
    // A misspelt key is refused rather than ignored.
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                        "Resources": ["/admin/nodes"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statment": [], "statement": [{"Effect": "Allow",
                        "Action": ["api:Get"], "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Maybe", "Action": ["api:Get"],
                                        "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Allow", "Action": ["api:Patch"],
                                        "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                        "Resource": ["admin/nodes"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Allow", "Action": [],
                                        "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                        "Resource": [""]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"filters": [{"type": "users", "rules": {"type": ["x"]}}],
                        "statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                       "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"filters": [{"type": "nodes", "rules": {}}],
                        "statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                       "Resource": ["*"]}]})"),
        129010
    );
    EXPECT_EQ(
        CodeOf(R"({"filters": [{"type": "nodes", "rules": {"tags": ["nocolon"]}}],
                        "statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                       "Resource": ["*"]}]})"),
        129010
    );
    // An empty type or tag (the admin node search reads types as given: "" is no type).
    for (const auto* rules :
         {R"({"type": [""]})", R"({"type": ["Light", ""]})", R"({"tags": [""]})"}) {
        EXPECT_EQ(
            CodeOf(
                std::string(R"({"filters": [{"type": "nodes", "rules": )") + rules +
                R"(}], "statement": [{"Effect": "Allow", "Action": ["api:Get"],
                                       "Resource": ["*"]}]})"
            ),
            129010
        ) << rules;
    }
    EXPECT_EQ(
        CodeOf(R"({"version": 1, "statement": [{"Effect": "Allow",
                        "Action": ["api:Get"], "Resource": ["*"]}]})"),
        129010
    );
}

TEST(PolicyTest, MoreThanTwoKilobytesIs129026) {
    std::string resources;
    for (int i = 0; i < 45; ++i) {
        resources += std::string(i == 0 ? "" : ",") +
                     "\"/admin/a/rather/long/path/to/some/resource/number/" + std::to_string(i) +
                     "\"";
    }
    const auto text = R"({"statement": [{"Effect": "Allow", "Action": ["api:Get"], "Resource": [)" +
                      resources + "]}]}";
    ASSERT_GT(text.size(), kMaxPolicyJsonBytes);
    EXPECT_EQ(CodeOf(text), 129026);
}

TEST(PolicyTest, StatementsMatchMethodAndPathWithOrWithoutTheVersion) {
    const auto policy = ParsePolicy(Json(R"({"statement": [
        {"Effect": "Allow", "Action": ["api:Get"], "Resource": ["/v1/admin/nodes"]},
        {"Effect": "Allow", "Action": ["api:Put", "api:Post"], "Resource": ["/admin/node_group*"]},
        {"Effect": "Allow", "Action": ["api:*"], "Resource": ["/{version}/admin/ota*/status"]}]})")
    );
    const auto& get_nodes = policy.statements[0];
    EXPECT_TRUE(Matches(get_nodes, "GET", "/v1/admin/nodes"));
    EXPECT_FALSE(Matches(get_nodes, "PUT", "/v1/admin/nodes"));
    EXPECT_FALSE(Matches(get_nodes, "GET", "/v1/admin/nodes/tags"));  // exact without '*'
    const auto& groups = policy.statements[1];
    EXPECT_TRUE(Matches(groups, "PUT", "/v1/admin/node_group"));
    EXPECT_TRUE(Matches(groups, "POST", "/v1/admin/node_group"));
    EXPECT_FALSE(Matches(groups, "GET", "/v1/admin/node_group"));
    EXPECT_FALSE(Matches(groups, "DELETE", "/v1/admin/node_group"));
    const auto& status = policy.statements[2];
    EXPECT_TRUE(Matches(status, "DELETE", "/v1/admin/otajob/status"));
    EXPECT_FALSE(Matches(status, "GET", "/v1/admin/otajob/status/summary"));
}

TEST(PolicyTest, WithoutVersionStripsOnlyTheVersionSegment) {
    EXPECT_EQ(WithoutVersion("/v1/admin/nodes"), "/admin/nodes");
    EXPECT_EQ(WithoutVersion("/{version}/admin/nodes/"), "/admin/nodes");
    EXPECT_EQ(WithoutVersion("/admin/nodes"), "/admin/nodes");
    EXPECT_EQ(WithoutVersion("/v10/admin"), "/v10/admin");
    EXPECT_EQ(WithoutVersion("/"), "/");
}

TEST(PolicyTest, NodeFiltersNeedOneTagAndOneTypeWhenBothAreGiven) {
    const NodeFilter filter{{"location:pune", "location:mumbai"}, {"led_light"}};
    const std::vector<std::string> pune{"location:pune", "floor:1"};
    const std::vector<std::string> delhi{"location:delhi"};
    const std::vector<std::string> none;
    EXPECT_TRUE(Matches(filter, NodeFacts{"led_light", pune}));
    EXPECT_FALSE(Matches(filter, NodeFacts{"switch", pune}));
    EXPECT_FALSE(Matches(filter, NodeFacts{"led_light", delhi}));
    EXPECT_FALSE(Matches(filter, NodeFacts{"led_light", none}));
    EXPECT_TRUE(Matches(NodeFilter{{}, {"switch"}}, NodeFacts{"switch", none}));
    EXPECT_TRUE(Matches(PolicyNodes{}, NodeFacts{"anything", none}));
}

TEST(PolicyTest, ScopeDenyWinsOverAllow) {
    const std::vector<std::string> pune{"location:pune"};
    const std::vector<std::string> mumbai{"location:mumbai"};
    NodeScope scope;
    scope.allow.push_back(PolicyNodes{NodeFilter{{}, {"led_light"}}});
    scope.deny.push_back(PolicyNodes{NodeFilter{{"location:mumbai"}, {}}});
    EXPECT_TRUE(scope.Allows(NodeFacts{"led_light", pune}));
    EXPECT_FALSE(scope.Allows(NodeFacts{"led_light", mumbai}));
    EXPECT_FALSE(scope.Allows(NodeFacts{"switch", pune}));
}

}  // namespace
}  // namespace rainmaker::domain::rbac

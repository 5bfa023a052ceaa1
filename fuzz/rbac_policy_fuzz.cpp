// Feeds bytes as the policy_json of POST/PUT /admin/policy (#91/#92, an admin's input) through
// ParsePolicy, then matches what it accepted against routes and nodes the way the route guard
// does: a document it cannot use is refused with an ApiError (129010/129026); one it accepts
// has at least one statement, each with methods and resources, reads back the same from its
// serialized form, and matches without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "domain/rbac/policy.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rainmaker;

[[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
}

bool Same(const domain::rbac::Policy& a, const domain::rbac::Policy& b) {
    if (a.statements.size() != b.statements.size() || a.filters.size() != b.filters.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.statements.size(); ++i) {
        if (a.statements[i].effect != b.statements[i].effect ||
            a.statements[i].methods != b.statements[i].methods ||
            a.statements[i].resources != b.statements[i].resources) {
            return false;
        }
    }
    for (std::size_t i = 0; i < a.filters.size(); ++i) {
        if (a.filters[i].tags != b.filters[i].tags || a.filters[i].types != b.filters[i].types) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    const auto json = core::ParseUntrustedJson(fuzz::AsText(data, size), core::kMaxJsonDepth);
    if (!json) {
        return 0;
    }
    std::optional<domain::rbac::Policy> policy;
    if (!fuzz::Refusable([&] { policy = domain::rbac::ParsePolicy(*json); })) {
        return 0;
    }
    if (policy->statements.empty()) {
        Fail("an accepted policy without statements");
    }
    for (const auto& statement : policy->statements) {
        if (statement.methods.empty() || statement.resources.empty()) {
            Fail("an accepted statement without methods or resources");
        }
    }
    // What the store keeps (the serialized document) reads back as the same policy.
    const auto stored = core::ParseUntrustedJson(core::Serialize(*json), core::kMaxJsonDepth);
    if (!stored || !Same(domain::rbac::ParsePolicy(*stored), *policy)) {
        Fail("the stored form reads back differently");
    }
    static const std::vector<std::string> kRoutes{
        "/v1/admin/nodes",
        "/v1/admin/node_group",
        "/v1/admin/otaimage/package/upload",
        "/v1/user2"};
    static const std::vector<std::string> kTags{"location:pune"};
    for (const auto& statement : policy->statements) {
        for (const auto& route : kRoutes) {
            for (const char* method : {"GET", "PUT"}) {
                (void)domain::rbac::Matches(statement, method, route);
            }
        }
    }
    domain::rbac::NodeScope scope;
    scope.allow.push_back(policy->filters);
    (void)scope.Allows(domain::rbac::NodeFacts{"led_light", kTags});
    return 0;
}

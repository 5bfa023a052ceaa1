// policy_json checked and compiled; statements and node filters matched.
#include "domain/rbac/policy.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

namespace rainmaker::domain::rbac {

using core::ApiError;
using core::ErrorCode;

namespace {

[[noreturn]] void Invalid(const std::string& why) {
    throw ApiError(ErrorCode::kRbacPolicyJsonInvalid, "Json policy is invalid: " + why);
}

// The member `name` of `object`, also found as `alias` (nullptr when neither is there). Both
// at once are refused: one of them would be ignored, and a document must mean what it shows.
const boost::json::value* Member(
    const boost::json::object& object, std::string_view name, std::string_view alias = {}
) {
    const auto* v = object.if_contains(name);
    const auto* a = alias.empty() ? nullptr : object.if_contains(alias);
    if (v != nullptr && a != nullptr) {
        Invalid("both \"" + std::string(name) + "\" and \"" + std::string(alias) + "\" are given");
    }
    return v != nullptr ? v : a;
}

// Refuses a key of `object` outside `allowed`.
void OnlyKeys(
    const boost::json::object& object,
    std::initializer_list<std::string_view> allowed,
    std::string_view where
) {
    for (const auto& [key, value] : object) {
        if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
            Invalid("unknown key \"" + std::string(key) + "\" in " + std::string(where));
        }
    }
}

// A non-empty array of non-empty strings of at most kMaxListItems, or (when `optional` and
// absent) an empty list.
std::vector<std::string> Strings(
    const boost::json::value* value, std::string_view what, bool optional
) {
    std::vector<std::string> out;
    if (value == nullptr) {
        if (!optional) {
            Invalid(std::string(what) + " is missing");
        }
        return out;
    }
    if (!value->is_array() || (!optional && value->as_array().empty()) ||
        value->as_array().size() > kMaxListItems) {
        Invalid(
            std::string(what) + " must be an array of 1 to " + std::to_string(kMaxListItems) +
            " strings"
        );
    }
    for (const auto& item : value->as_array()) {
        if (!item.is_string() || item.as_string().empty()) {
            Invalid(std::string(what) + " must hold non-empty strings");
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

std::string ParseMethod(std::string_view action) {
    const auto lower = core::AsciiLower(action);
    constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kActions{{
        {"api:get", "GET"},
        {"api:post", "POST"},
        {"api:put", "PUT"},
        {"api:delete", "DELETE"},
        {"api:*", "*"},
    }};
    for (const auto& [name, method] : kActions) {
        if (lower == name) {
            return std::string(method);
        }
    }
    Invalid(
        "unknown action \"" + std::string(action) +
        "\" (api:Get, api:Post, api:Put, api:Delete or api:*)"
    );
}

// A resource as route patterns are written: "*", or a path of lower-case letters, digits and
// _-./{}* (no query, no percent-encoding), in version 1 or without a version. Anything else
// could never match a route, and a Deny that never matches would be a silent hole.
std::string ParseResource(std::string_view resource) {
    if (resource == "*") {
        return "*";
    }
    if (!resource.starts_with('/')) {
        Invalid("a resource is \"*\" or a path starting with \"/\"");
    }
    for (const char c : resource) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                        c == '.' || c == '/' || c == '{' || c == '}' || c == '*';
        if (!ok) {
            Invalid(
                "resource \"" + std::string(resource) +
                "\": paths are lower case, without query or percent-encoding"
            );
        }
    }
    auto path = WithoutVersion(resource);
    if (path.size() > 2 && path[1] == 'v' && path[2] >= '0' && path[2] <= '9') {
        Invalid("resource \"" + std::string(resource) + "\": only version 1 (/v1/...) exists");
    }
    return path;
}

Statement ParseStatement(const boost::json::value& value) {
    if (!value.is_object()) {
        Invalid("a statement must be an object");
    }
    const auto& object = value.as_object();
    OnlyKeys(
        object,
        {"Effect", "effect", "Action", "action", "Resource", "resource", "Sid", "sid"},
        "a statement"
    );
    Statement statement;
    const auto* effect = Member(object, "Effect", "effect");
    if (effect == nullptr || !effect->is_string()) {
        Invalid("a statement needs an Effect (Allow or Deny)");
    }
    const auto effect_name = core::AsciiLower(effect->as_string());
    if (effect_name == "allow") {
        statement.effect = Effect::kAllow;
    } else if (effect_name == "deny") {
        statement.effect = Effect::kDeny;
    } else {
        Invalid("Effect must be Allow or Deny");
    }
    for (const auto& action : Strings(Member(object, "Action", "action"), "Action", false)) {
        statement.methods.push_back(ParseMethod(action));
    }
    for (const auto& path : Strings(Member(object, "Resource", "resource"), "Resource", false)) {
        statement.resources.push_back(ParseResource(path));
    }
    return statement;
}

NodeFilter ParseFilter(const boost::json::value& value) {
    if (!value.is_object()) {
        Invalid("a filter must be an object");
    }
    const auto& object = value.as_object();
    OnlyKeys(object, {"type", "rules"}, "a filter");
    const auto* type = object.if_contains("type");
    if (type == nullptr || !type->is_string() || type->as_string() != "nodes") {
        Invalid("a filter's type must be \"nodes\"");
    }
    const auto* rules = object.if_contains("rules");
    if (rules == nullptr || !rules->is_object()) {
        Invalid("a filter needs rules (an object with tags and/or type)");
    }
    OnlyKeys(rules->as_object(), {"tags", "type"}, "filter rules");
    NodeFilter filter;
    filter.tags = Strings(rules->as_object().if_contains("tags"), "filter tags", true);
    filter.types = Strings(rules->as_object().if_contains("type"), "filter type", true);
    for (const auto& tag : filter.tags) {
        const auto colon = tag.find(':');
        if (colon == 0 || colon == std::string::npos || colon + 1 == tag.size()) {
            Invalid("filter tags are \"name:value\"");
        }
    }
    if (filter.tags.empty() && filter.types.empty()) {
        Invalid("filter rules need tags or type");
    }
    return filter;
}

// Whether `pattern` ('*' matches any run of characters, '/' included) matches `text`.
bool Glob(std::string_view pattern, std::string_view text) {
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos;
    std::size_t resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

}  // namespace

std::string WithoutVersion(std::string_view path) {
    for (std::string_view prefix : {"/{version}/", "/v1/"}) {
        if (path.starts_with(prefix)) {
            path.remove_prefix(prefix.size() - 1);
            break;
        }
    }
    if (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    return std::string(path);
}

Policy ParsePolicy(const boost::json::value& policy_json) {
    if (!policy_json.is_object()) {
        Invalid("policy_json must be an object");
    }
    if (core::Serialize(policy_json).size() > kMaxPolicyJsonBytes) {
        throw ApiError(ErrorCode::kRbacPolicyTooLarge);
    }
    const auto& object = policy_json.as_object();
    OnlyKeys(object, {"version", "filters", "statement", "Statement"}, "policy_json");
    if (const auto* version = object.if_contains("version");
        version != nullptr && !version->is_string()) {
        Invalid("version must be a string");
    }
    Policy policy;
    if (const auto* filters = object.if_contains("filters")) {
        if (!filters->is_array() || filters->as_array().size() > kMaxFilters) {
            Invalid("filters must be an array of at most " + std::to_string(kMaxFilters));
        }
        for (const auto& filter : filters->as_array()) {
            policy.filters.push_back(ParseFilter(filter));
        }
    }
    const auto* statements = Member(object, "statement", "Statement");
    if (statements == nullptr || !statements->is_array() || statements->as_array().empty() ||
        statements->as_array().size() > kMaxStatements) {
        Invalid("statement must be an array of 1 to " + std::to_string(kMaxStatements));
    }
    for (const auto& statement : statements->as_array()) {
        policy.statements.push_back(ParseStatement(statement));
    }
    return policy;
}

bool Matches(const Statement& statement, std::string_view method, std::string_view route) {
    return MatchesPath(statement, method, WithoutVersion(route));
}

bool MatchesPath(const Statement& statement, std::string_view method, std::string_view path) {
    const bool method_matches = std::any_of(
        statement.methods.begin(),
        statement.methods.end(),
        [method](const std::string& m) { return m == "*" || m == method; }
    );
    if (!method_matches) {
        return false;
    }
    return std::any_of(
        statement.resources.begin(),
        statement.resources.end(),
        [path](const std::string& resource) { return Glob(resource, path); }
    );
}

bool Matches(const NodeFilter& filter, const NodeFacts& node) {
    const bool tag_ok =
        filter.tags.empty() ||
        std::any_of(filter.tags.begin(), filter.tags.end(), [&](const auto& tag) {
            return std::find(node.tags.begin(), node.tags.end(), tag) != node.tags.end();
        });
    const bool type_ok =
        filter.types.empty() ||
        std::find(filter.types.begin(), filter.types.end(), node.type) != filter.types.end();
    return tag_ok && type_ok;
}

bool Matches(const PolicyNodes& filters, const NodeFacts& node) {
    return filters.empty() || std::any_of(filters.begin(), filters.end(), [&](const auto& f) {
               return Matches(f, node);
           });
}

bool NodeScope::Allows(const NodeFacts& node) const {
    const auto matches = [&node](const PolicyNodes& filters) { return Matches(filters, node); };
    return std::any_of(allow.begin(), allow.end(), matches) &&
           std::none_of(deny.begin(), deny.end(), matches);
}

}  // namespace rainmaker::domain::rbac

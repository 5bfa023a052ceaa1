// The nodes an admin restricted by RBAC roles may reach on one admin route: what the node
// filters of the policies that allow (and deny) the route say.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::domain::rbac {

// One filter of a policy (`{"type":"nodes","rules":{"tags":[...],"type":[...]}}`): a node
// matches when it has one of `tags` (any, when empty) and its type is one of `types` (any,
// when empty).
struct NodeFilter {
    std::vector<std::string> tags;   // "name:value"
    std::vector<std::string> types;  // node types as the node reports them
};

// A policy's filters: a node matches when it matches one of them; no filters match every node.
using PolicyNodes = std::vector<NodeFilter>;

// What a node is, for a scope: its type and its admin tags.
struct NodeFacts {
    std::string_view type;
    const std::vector<std::string>& tags;
};

bool Matches(const NodeFilter& filter, const NodeFacts& node);
bool Matches(const PolicyNodes& filters, const NodeFacts& node);

// A node is in scope when a policy allowing the route matches it and no policy denying the
// route does (deny wins).
struct NodeScope {
    std::vector<PolicyNodes> allow;
    std::vector<PolicyNodes> deny;

    bool Allows(const NodeFacts& node) const;
};

}  // namespace rainmaker::domain::rbac

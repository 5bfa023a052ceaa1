// The admin node search as SQL: a plan of index ranges ("arms") for the filter, then the page
// and the count statements over the same plan.
#include "storage/sqlite/admin_node_search.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace rainmaker::storage::sqlite {

namespace {

// A scope whose allow rules need more ranges than this is checked on each candidate instead.
constexpr std::size_t kMaxScopeArms = 16;

// The filter's type, model and fw_version as compared: model only with a type, fw_version only
// with a model (the route refuses the other combinations).
struct Kind {
    std::string type;
    std::string model;
    std::string fw;
};

Kind KindOf(const AdminNodeFilter& f) {
    Kind k;
    k.type = f.node_type;
    if (!k.type.empty()) {
        k.model = f.model;
        if (!k.model.empty()) {
            k.fw = f.fw_version;
        }
    }
    return k;
}

// One index range of node ids: the nodes with a tag (by_tag: resource_tags_node_search with a
// type, else resource_tags_by_name) or the nodes (nodes_type_* with a type, else the primary
// key), of `kind` as far as given. Its ids come in id order but for a tag with a type and no
// model (SQLite sorts those).
struct Arm {
    bool by_tag = true;
    std::string tag_name;
    std::string tag_value;
    Kind kind;

    auto Key() const {
        return std::tie(by_tag, tag_name, tag_value, kind.type, kind.model, kind.fw);
    }

    bool operator<(const Arm& other) const { return Key() < other.Key(); }
};

Arm TagArm(std::string name, std::string value, const Kind& kind) {
    Arm a;
    a.tag_name = std::move(name);
    a.tag_value = std::move(value);
    a.kind = kind;
    return a;
}

Arm NodeArm(const Kind& kind) {
    Arm a;
    a.by_tag = false;
    a.kind = kind;
    return a;
}

// What the statements read: the intersection of `streams`, each the union of its arms (only
// the first may have several arms: SQLite merges a compound in id order only when it is not
// nested), less each of `except`; no stream: the nodes of the filter's kind. And the scope
// rules that could not be ranges, checked on each candidate.
struct Plan {
    std::vector<std::vector<Arm>> streams;
    std::vector<Arm> except;
    bool nothing = false;                      // the scope reaches no node
    std::vector<const NodeRule*> check_allow;  // non-empty: one of them must match
    std::vector<const NodeRule*> check_deny;   // none of them may match
};

bool Has(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// Whether a rule of the scope can match a node of the filter's type (any, without one).
bool CanMatch(const NodeRule& rule, const Kind& kind) {
    return kind.type.empty() || rule.types.empty() || Has(rule.types, kind.type);
}

// (name, value) of a "name:value" tag; nullopt for a tag without ':' (no node has it: stored
// names never hold ':', values may).
std::optional<std::pair<std::string, std::string>> Split(const std::string& tag) {
    const auto colon = tag.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    return std::make_pair(tag.substr(0, colon), tag.substr(colon + 1));
}

// What a scope rule is as ranges among the candidates of `kind`.
struct RuleRanges {
    bool none = false;   // it matches no candidate
    bool every = false;  // it matches every candidate
    bool ranges = true;  // false: it cannot be ranges (a type "" would read as any type)
    std::vector<Arm> arms;
};

// A rule with tags is the ranges of its tags, of each of its types when the filter gives none;
// a rule with types only is the nodes of each type, or every candidate when the filter has a
// type (it names it, or CanMatch said no).
RuleRanges RangesOf(const NodeRule& rule, const Kind& kind) {
    RuleRanges r;
    if (!CanMatch(rule, kind)) {
        r.none = true;
        return r;
    }
    if (Has(rule.types, "")) {
        r.ranges = false;
        return r;
    }
    if (rule.tags.empty()) {
        if (rule.types.empty() || !kind.type.empty()) {
            r.every = true;
            return r;
        }
        for (const auto& type : rule.types) {
            r.arms.push_back(NodeArm(Kind{type, "", ""}));
        }
        return r;
    }
    const std::vector<std::string> any_type{kind.type};
    const auto& types = kind.type.empty() && !rule.types.empty() ? rule.types : any_type;
    for (const auto& tag : rule.tags) {
        const auto term = Split(tag);
        if (!term) {
            continue;
        }
        for (const auto& type : types) {
            Kind k = kind;
            k.type = type;
            r.arms.push_back(TagArm(term->first, term->second, k));
        }
    }
    r.none = r.arms.empty();
    return r;
}

// The scope as ranges where it can be: the allow rules' union intersected with the search, the
// deny rules' ranges taken out; what cannot be (more than kMaxScopeArms ranges, a union that
// would nest in the query's OR) is checked on each candidate.
void PlanScope(const NodeScopeFilter& scope, const Kind& kind, Plan& plan) {
    if (!scope.allow_all) {
        std::set<Arm> arms;
        bool every = false;
        bool ranges = true;
        std::vector<const NodeRule*> rules;
        for (const auto& rule : scope.allow) {
            auto r = RangesOf(rule, kind);
            if (r.none) {
                continue;
            }
            rules.push_back(&rule);
            every = every || r.every;
            ranges = ranges && r.ranges;
            arms.insert(r.arms.begin(), r.arms.end());
        }
        const bool nested = arms.size() > 1 && !plan.streams.empty() && plan.streams[0].size() > 1;
        if (every) {
            // every candidate is allowed
        } else if (rules.empty()) {
            plan.nothing = true;
            return;
        } else if (!ranges || arms.size() > kMaxScopeArms || nested) {
            plan.check_allow = rules;
        } else {
            std::vector<Arm> stream(arms.begin(), arms.end());
            if (stream.size() > 1) {
                plan.streams.insert(plan.streams.begin(), std::move(stream));
            } else {
                plan.streams.push_back(std::move(stream));
            }
        }
    }
    std::set<Arm> except;
    bool ranges = true;
    std::vector<const NodeRule*> rules;
    for (const auto& rule : scope.deny) {
        auto r = RangesOf(rule, kind);
        if (r.none) {
            continue;
        }
        if (r.every) {
            plan.nothing = true;
            return;
        }
        rules.push_back(&rule);
        ranges = ranges && r.ranges;
        except.insert(r.arms.begin(), r.arms.end());
    }
    if (!ranges || except.size() > kMaxScopeArms) {
        plan.check_deny = rules;
    } else if (!except.empty()) {
        plan.except.assign(except.begin(), except.end());
        if (plan.streams.empty()) {
            plan.streams.push_back({NodeArm(kind)});
        }
    }
}

Plan MakePlan(const AdminNodeFilter& f) {
    Plan plan;
    const Kind kind = KindOf(f);
    if (f.tags && !f.tags->terms.empty()) {
        const std::set<std::pair<std::string, std::string>> terms(
            f.tags->terms.begin(), f.tags->terms.end()
        );
        std::vector<Arm> any;
        for (const auto& term : terms) {
            auto arm = TagArm(term.first, term.second, kind);
            if (f.tags->all) {
                plan.streams.push_back({std::move(arm)});
            } else {
                any.push_back(std::move(arm));
            }
        }
        if (!any.empty()) {
            plan.streams.push_back(std::move(any));
        }
    }
    if (f.scope) {
        PlanScope(*f.scope, kind, plan);
    }
    return plan;
}

// Values bound once and named by number (?N), so text naming them may repeat (the conditions
// on every arm of a union). The statements never use a bare '?'.
class Binder {
public:
    explicit Binder(DynamicQuery& q) : q_(q) {}

    std::string Bind(std::string value) {
        q_.Arg(std::move(value));
        return Name();
    }

    std::string Bind(std::int64_t value) {
        q_.Arg(value);
        return Name();
    }

    // "(?3,?4)"
    std::string List(const std::vector<std::string>& values) {
        std::string out = "(";
        for (const auto& value : values) {
            out += (out.size() > 1 ? "," : "") + Bind(value);
        }
        return out + ")";
    }

private:
    std::string Name() const { return "?" + std::to_string(q_.args.size()); }

    DynamicQuery& q_;
};

// " AND <prefix>node_type = ?N ..." for what `kind` gives.
std::string KindSql(const char* prefix, const Kind& kind, Binder& b) {
    std::string sql;
    const std::pair<const char*, const std::string*> columns[] = {
        {"node_type", &kind.type}, {"model", &kind.model}, {"fw_version", &kind.fw}};
    for (const auto& [column, value] : columns) {
        if (!value->empty()) {
            sql += std::string(" AND ") + prefix + column + " = " + b.Bind(*value);
        }
    }
    return sql;
}

// What each candidate must meet beyond its ranges: conditions on the node's row (status and
// the reported config, over `n`) and the scope rules that are not ranges, with their values
// bound once.
struct Residual {
    struct Rule {
        std::string tags;   // "(VALUES (?1,?2),...)", "" = any tag; "0" = no tag can match
        std::string types;  // "(?3,...)", "" = any type
    };

    std::vector<std::string> row;
    bool check_allow = false;
    std::vector<Rule> allow;
    std::vector<Rule> deny;

    bool Empty() const { return row.empty() && !check_allow && deny.empty(); }

    // " AND ..." for the candidate whose id and type are the columns `id` and `type`.
    std::string Sql(const std::string& id, const std::string& type) const {
        std::string sql;
        for (const auto& condition : row) {
            sql += " AND " + condition;
        }
        if (check_allow) {
            sql += " AND " + AnyOf(allow, id, type);
        }
        if (!deny.empty()) {
            sql += " AND NOT " + AnyOf(deny, id, type);
        }
        return sql;
    }

private:
    static std::string AnyOf(
        const std::vector<Rule>& rules, const std::string& id, const std::string& type
    ) {
        std::string sql = "(";
        for (const auto& rule : rules) {
            std::string one;
            if (!rule.types.empty()) {
                one = type + " IN " + rule.types;
            }
            if (rule.tags == "0") {
                one = "0";
            } else if (!rule.tags.empty()) {
                // The node's own tags: seeks in resource_tags' primary key.
                one += (one.empty() ? "" : " AND ") +
                       std::string(
                           "EXISTS (SELECT 1 FROM resource_tags s WHERE s.resource_type = 'node' "
                           "AND s.resource_id = "
                       ) +
                       id + " AND (s.tag_name, s.tag_value) IN " + rule.tags + ")";
            }
            sql += (sql.size() > 1 ? " OR " : "") + (one.empty() ? "1" : "(" + one + ")");
        }
        return sql.size() > 1 ? sql + ")" : "0";
    }
};

Residual::Rule BindRule(const NodeRule& rule, Binder& b) {
    Residual::Rule r;
    if (!rule.tags.empty()) {
        for (const auto& tag : rule.tags) {
            if (const auto term = Split(tag)) {
                r.tags += (r.tags.empty() ? "(VALUES (" : ", (") + b.Bind(term->first) + ", " +
                          b.Bind(term->second) + ")";
            }
        }
        r.tags = r.tags.empty() ? "0" : r.tags + ")";
    }
    if (!rule.types.empty()) {
        r.types = b.List(rule.types);
    }
    return r;
}

Residual MakeResidual(const AdminNodeFilter& f, const Plan& plan, Binder& b) {
    Residual r;
    switch (f.status) {
        case NodeStatusFilter::kAny:
            break;
        case NodeStatusFilter::kNotActivated:
            r.row.emplace_back("n.revoked = 0 AND n.connected = 0 AND n.connectivity_at = 0");
            break;
        case NodeStatusFilter::kOnline:
            r.row.emplace_back("n.revoked = 0 AND n.connected = 1");
            break;
        case NodeStatusFilter::kOffline:
            r.row.emplace_back("n.revoked = 0 AND n.connected = 0 AND n.connectivity_at > 0");
            break;
        case NodeStatusFilter::kDeactivated:
            r.row.emplace_back("n.revoked = 1");
            break;
        case NodeStatusFilter::kActive:
            r.row.push_back(
                "n.revoked = 0 AND (n.connected = 1 OR (n.connectivity_at > 0 AND "
                "n.connectivity_at >= " +
                b.Bind(f.active_since_ms) + "))"
            );
            break;
        case NodeStatusFilter::kInactive:
            r.row.push_back(
                "n.revoked = 0 AND n.connected = 0 AND n.connectivity_at > 0 AND "
                "n.connectivity_at < " +
                b.Bind(f.active_since_ms)
            );
            break;
    }
    const std::pair<const char*, const std::string*> info[] = {
        {"$.info.subtype", &f.subtype}, {"$.info.project_name", &f.project_name}};
    for (const auto& [path, value] : info) {
        if (!value->empty()) {
            r.row.push_back(
                std::string("json_valid(n.config) AND json_extract(n.config, '") + path +
                "') = " + b.Bind(*value)
            );
        }
    }
    r.check_allow = !plan.check_allow.empty();
    for (const auto* rule : plan.check_allow) {
        r.allow.push_back(BindRule(*rule, b));
    }
    for (const auto* rule : plan.check_deny) {
        r.deny.push_back(BindRule(*rule, b));
    }
    return r;
}

// "SELECT <id> FROM ... WHERE ..." of one arm, from after `start` when given, with the
// residual `r` when given (joining the node's row when it reads it).
std::string ArmSql(const Arm& arm, Binder& b, const std::string* start, const Residual* r) {
    std::string sql;
    std::string id;
    std::string type;
    if (arm.by_tag) {
        id = "t.resource_id";
        type = "t.node_type";
        sql = "SELECT t.resource_id FROM resource_tags t";
        if (r != nullptr && !r->row.empty()) {
            sql += " CROSS JOIN nodes n ON n.node_id = t.resource_id";  // t drives
        }
        // 'node' spelt out: the partial index resource_tags_node_search requires it.
        sql += " WHERE t.resource_type = 'node' AND t.tag_name = " + b.Bind(arm.tag_name) +
               " AND t.tag_value = " + b.Bind(arm.tag_value) + KindSql("t.", arm.kind, b);
    } else {
        id = "n.node_id";
        type = "n.node_type";
        sql = "SELECT n.node_id FROM nodes n WHERE 1 = 1" + KindSql("n.", arm.kind, b);
    }
    if (start != nullptr) {
        sql += " AND " + id + " > " + *start;
    }
    if (r != nullptr) {
        sql += r->Sql(id, type);
    }
    return sql;
}

// "arm UNION arm ... INTERSECT arm ... EXCEPT arm ...": the ids of the plan (at least one
// stream; SQLite applies the operators left to right). The residual goes on one single-arm
// stream when there is one, else on each arm of the first stream.
std::string IdsSql(const Plan& plan, Binder& b, const std::string* start, const Residual& r) {
    const Residual* residual = r.Empty() ? nullptr : &r;
    std::size_t carrier = 0;
    for (std::size_t i = 0; i < plan.streams.size(); ++i) {
        if (plan.streams[i].size() == 1) {
            carrier = i;
            break;
        }
    }
    std::string sql;
    for (std::size_t i = 0; i < plan.streams.size(); ++i) {
        for (std::size_t j = 0; j < plan.streams[i].size(); ++j) {
            if (!sql.empty()) {
                sql += j == 0 ? " INTERSECT " : " UNION ";
            }
            sql += ArmSql(plan.streams[i][j], b, start, i == carrier ? residual : nullptr);
        }
    }
    for (const auto& arm : plan.except) {
        sql += " EXCEPT " + ArmSql(arm, b, start, nullptr);
    }
    return sql;
}

}  // namespace

DynamicQuery AdminNodePageQuery(
    const AdminNodeFilter& filter, std::string_view columns, std::string_view start_id, int limit
) {
    DynamicQuery q;
    Binder b(q);
    const Plan plan = MakePlan(filter);
    if (plan.nothing) {
        q.Add("SELECT ").Add(columns).Add(" FROM nodes WHERE 0");
        return q;
    }
    const Residual r = MakeResidual(filter, plan, b);
    const std::string start = b.Bind(std::string(start_id));
    if (plan.streams.empty()) {
        q.Add("SELECT ")
            .Add(columns)
            .Add(" FROM nodes n WHERE n.node_id > " + start)
            .Add(KindSql("n.", KindOf(filter), b))
            .Add(r.Sql("n.node_id", "n.node_type"))
            .Add(" ORDER BY n.node_id LIMIT " + b.Bind(std::int64_t{limit}));
        return q;
    }
    // The ids of the page first (the merge stops at the limit), then their rows.
    const std::string ids = IdsSql(plan, b, &start, r);
    q.Add("SELECT ")
        .Add(columns)
        .Add(" FROM nodes WHERE node_id IN (" + ids + " ORDER BY 1 LIMIT ")
        .Add(b.Bind(std::int64_t{limit}) + ") ORDER BY node_id");
    return q;
}

DynamicQuery AdminNodeCountQuery(const AdminNodeFilter& filter) {
    DynamicQuery q;
    Binder b(q);
    const Plan plan = MakePlan(filter);
    if (plan.nothing) {
        q.Add("SELECT 0");
        return q;
    }
    const Residual r = MakeResidual(filter, plan, b);
    if (plan.streams.empty()) {
        q.Add("SELECT COUNT(*) FROM nodes n WHERE 1 = 1")
            .Add(KindSql("n.", KindOf(filter), b))
            .Add(r.Sql("n.node_id", "n.node_type"));
        return q;
    }
    const std::string ids = IdsSql(plan, b, nullptr, r);
    if (plan.streams.size() == 1 && plan.streams[0].size() == 1 && plan.except.empty()) {
        q.Add("SELECT COUNT(*) FROM (" + ids + ")");
    } else {
        // ORDER BY keeps SQLite's merge of the ranges (no temporary b-tree of every id).
        q.Add("SELECT COUNT(*) FROM (" + ids + " ORDER BY 1)");
    }
    return q;
}

}  // namespace rainmaker::storage::sqlite

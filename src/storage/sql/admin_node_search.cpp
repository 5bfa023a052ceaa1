// The admin node search as SQL: a plan of index ranges and lists of them ("arms") for the
// filter, then the page and the count statements over the same plan.
#include "storage/sql/admin_node_search.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/json.hpp"

namespace rainmaker::storage::sql {

namespace {

// A scope whose allow (or deny) rules need more ranges than this is read as lists instead.
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

// How an arm reads its node ids, of `kind` as far as given.
enum class Read {
    // One index range: the nodes with a tag (resource_tags_node_search with a type, else
    // resource_tags_by_name), in id order but for a tag with a type and no model (SQLite sorts
    // those).
    kTag,
    // One index range: the nodes (nodes_type_* with a type, else the primary key), in id order.
    kNodes,
    // The ranges of a list of tags bound as one JSON value ([["name","value"],...]), each
    // searched in the same index as kTag, SQLite sorting their ids: the scopes too large for
    // ranges of their own.
    kTagList,
    // The same of tags of a type each ([["name","value","type"],...]; `kind` has no type).
    kTypedTagList,
    // The nodes of a list of types (["type",...]; `kind` has no type), in nodes_type_id.
    kTypeList,
};

struct Arm {
    Read read = Read::kTag;
    std::string tag_name;
    std::string tag_value;
    Kind kind;
    std::string list;  // the JSON array of the list reads

    auto Key() const {
        return std::tie(read, tag_name, tag_value, kind.type, kind.model, kind.fw, list);
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
    a.read = Read::kNodes;
    a.kind = kind;
    return a;
}

// The range arms of one side of a scope (RangesOf, over the candidates of `kind`) as at most
// three list arms: the tags of the filter's type (of any type, without one), the tags of a
// type of their own, the types.
std::vector<Arm> AsLists(const std::set<Arm>& arms, const Kind& kind) {
    boost::json::array tags;
    boost::json::array typed;
    boost::json::array types;
    for (const auto& arm : arms) {
        if (arm.read == Read::kNodes) {
            types.emplace_back(arm.kind.type);
        } else if (arm.kind.type == kind.type) {
            tags.push_back(boost::json::array{
                boost::json::string(arm.tag_name), boost::json::string(arm.tag_value)});
        } else {
            typed.push_back(boost::json::array{
                boost::json::string(arm.tag_name),
                boost::json::string(arm.tag_value),
                boost::json::string(arm.kind.type)});
        }
    }
    std::vector<Arm> out;
    const std::pair<Read, const boost::json::array*> lists[] = {
        {Read::kTagList, &tags}, {Read::kTypedTagList, &typed}, {Read::kTypeList, &types}};
    for (const auto& [read, list] : lists) {
        if (!list->empty()) {
            Arm a;
            a.read = read;
            a.kind = kind;
            a.list = core::Serialize(*list);
            out.push_back(std::move(a));
        }
    }
    return out;
}

// What the statements read: the intersection of `streams`, each the union of its arms (only
// the first may have several arms: SQLite merges a compound in id order only when it is not
// nested), less each of `except`; no stream: the nodes of the filter's kind. And the scope
// sides checked on each candidate instead (list arms).
struct Plan {
    std::vector<std::vector<Arm>> streams;
    std::vector<Arm> except;
    bool nothing = false;          // the scope reaches no node
    std::vector<Arm> check_allow;  // non-empty: a candidate must be in one of these lists
    std::vector<Arm> check_deny;   // a candidate must be in none of these lists
};

bool Has(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// Whether a rule of the scope can match a node of the filter's type (any, without one).
bool CanMatch(const NodeRule& rule, const Kind& kind) {
    return kind.type.empty() || rule.types.empty() || Has(rule.types, kind.type);
}

// (name, value) of a "name:value" tag; nullopt for a tag without ':' (no node has it: stored
// names never hold ':', values may). Rule types are never "" (policies refuse empty strings):
// a range of type "" would read as one of any type.
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
// deny rules' ranges taken out. A side that cannot be (more than kMaxScopeArms ranges, a union
// that would nest in the query's OR) is read as lists: with tag terms in the search, checked on
// each candidate of their ranges (never more candidates than the unrestricted search reads);
// without, the allowed lists are what the statements read (no candidate is every node) and the
// denied ones are taken out with EXCEPT.
void PlanScope(const NodeScopeFilter& scope, const Kind& kind, Plan& plan) {
    const bool tag_terms = !plan.streams.empty();
    if (!scope.allow_all) {
        std::set<Arm> arms;
        bool every = false;
        bool any = false;
        for (const auto& rule : scope.allow) {
            auto r = RangesOf(rule, kind);
            if (r.none) {
                continue;
            }
            any = true;
            every = every || r.every;
            arms.insert(r.arms.begin(), r.arms.end());
        }
        const bool nested = arms.size() > 1 && tag_terms && plan.streams[0].size() > 1;
        if (every) {
            // every candidate is allowed
        } else if (!any) {
            plan.nothing = true;
            return;
        } else if (arms.size() > kMaxScopeArms || nested) {
            if (tag_terms) {
                plan.check_allow = AsLists(arms, kind);
            } else {
                plan.streams.push_back(AsLists(arms, kind));
            }
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
    for (const auto& rule : scope.deny) {
        auto r = RangesOf(rule, kind);
        if (r.none) {
            continue;
        }
        if (r.every) {
            plan.nothing = true;
            return;
        }
        except.insert(r.arms.begin(), r.arms.end());
    }
    if (except.empty()) {
        return;
    }
    if (except.size() <= kMaxScopeArms) {
        plan.except.assign(except.begin(), except.end());
    } else if (tag_terms) {
        plan.check_deny = AsLists(except, kind);
        return;
    } else {
        plan.except = AsLists(except, kind);
    }
    if (plan.streams.empty()) {
        plan.streams.push_back({NodeArm(kind)});
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
// the reported config, over `n`) and the scope sides checked on each candidate, their lists
// bound once (each a JSON array, read once per statement).
struct Residual {
    struct Lists {
        std::string tags;   // "?N" of [["name","value"],...], "" = none
        std::string typed;  // "?N" of [["name","value","type"],...], "" = none
        std::string types;  // "?N" of ["type",...], "" = none

        bool NeedType() const { return !typed.empty() || !types.empty(); }
    };

    std::vector<std::string> row;
    std::optional<Lists> allow;
    std::optional<Lists> deny;

    bool Empty() const { return row.empty() && !allow && !deny; }

    // Whether the candidate's own row is read: for the conditions on it, or for its type when
    // a list names types (resource_tags_by_name, which reads a tag's range in id order, does
    // not hold it: asking a range for t.node_type makes SQLite walk every node tag instead).
    bool NeedRow() const {
        return !row.empty() || (allow && allow->NeedType()) || (deny && deny->NeedType());
    }

    // " AND ..." for the candidate whose id and type are the columns `id` and `type`.
    std::string Sql(const std::string& id, const std::string& type) const {
        std::string sql;
        for (const auto& condition : row) {
            sql += " AND " + condition;
        }
        if (allow) {
            sql += " AND " + InAny(*allow, id, type);
        }
        if (deny) {
            sql += " AND NOT " + InAny(*deny, id, type);
        }
        return sql;
    }

private:
    // The candidate's own tags are read (a seek in resource_tags' primary key: the unary '+'
    // keeps SQLite from seeking each listed tag instead) and looked up in the list, which
    // SQLite reads once into a table of its own.
    static std::string HasTag(const std::string& id, const std::string& columns) {
        return "EXISTS (SELECT 1 FROM resource_tags s WHERE s.resource_type = 'node' AND "
               "s.resource_id = " +
               id + " AND " + columns + ")";
    }

    static std::string InAny(const Lists& lists, const std::string& id, const std::string& type) {
        std::vector<std::string> any;
        // A list's entries: name, value (and type) at $[0], $[1] (and $[2]).
        const std::string name = "json_extract(j.value, '$[0]')";
        const std::string value = "json_extract(j.value, '$[1]')";
        if (!lists.tags.empty()) {
            any.push_back(HasTag(
                id,
                "(+s.tag_name, +s.tag_value) IN (SELECT " + name + ", " + value +
                    " FROM json_each(CAST(" + lists.tags + " AS TEXT)) j)"
            ));
        }
        if (!lists.typed.empty()) {
            any.push_back(HasTag(
                id,
                "(+s.tag_name, +s.tag_value, +" + type + ") IN (SELECT " + name + ", " + value +
                    ", json_extract(j.value, '$[2]') FROM json_each(CAST(" + lists.typed +
                    " AS TEXT)) j)"
            ));
        }
        if (!lists.types.empty()) {
            any.push_back(
                "+" + type + " IN (SELECT j.value FROM json_each(CAST(" + lists.types +
                " AS TEXT)) j)"
            );
        }
        std::string sql;
        for (const auto& one : any) {
            sql += (sql.empty() ? "(" : " OR ") + one;
        }
        return sql.empty() ? "false" : sql + ")";
    }
};

Residual::Lists BindLists(const std::vector<Arm>& lists, Binder& b) {
    Residual::Lists r;
    for (const auto& arm : lists) {
        switch (arm.read) {
            case Read::kTagList:
                r.tags = b.Bind(arm.list);
                break;
            case Read::kTypedTagList:
                r.typed = b.Bind(arm.list);
                break;
            case Read::kTypeList:
                r.types = b.Bind(arm.list);
                break;
            case Read::kTag:
            case Read::kNodes:
                break;  // not lists (PlanScope never checks them on candidates)
        }
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
                // CASE: the extraction never sees a config that is not JSON (AND does not
                // promise PostgreSQL that order).
                std::string("CASE WHEN json_valid(n.config) THEN json_extract(n.config, '") + path +
                "') END = " + b.Bind(*value)
            );
        }
    }
    if (!plan.check_allow.empty()) {
        r.allow = BindLists(plan.check_allow, b);
    }
    if (!plan.check_deny.empty()) {
        r.deny = BindLists(plan.check_deny, b);
    }
    return r;
}

// "SELECT <id> FROM ... WHERE ..." of one arm, from after `start` when given, with the
// residual `r` when given (joining the node's row when it reads it).
std::string ArmSql(const Arm& arm, Binder& b, const std::string* start, const Residual* r) {
    const bool row = r != nullptr && r->NeedRow();
    std::string sql;
    std::string id;
    std::string type;
    switch (arm.read) {
        case Read::kTag:
        case Read::kTagList:
        case Read::kTypedTagList:
            id = "t.resource_id";
            type = row ? "n.node_type" : "t.node_type";
            if (arm.read == Read::kTag) {
                sql = "SELECT t.resource_id FROM resource_tags t";
                if (!arm.kind.type.empty() && arm.kind.model.empty()) {
                    // A type without a model: its range is not in id order, and SQLite would
                    // rather walk every node tag in the primary key than sort it.
                    sql += " INDEXED BY resource_tags_node_search";
                }
            } else {
                // The list drives: each of its tags is one seek into the tag's range. The index
                // is named: knowing neither the list's length nor the ranges', SQLite would
                // rather walk the primary key from start_id on.
                sql = "SELECT DISTINCT t.resource_id FROM json_each(CAST(" + b.Bind(arm.list) +
                      " AS TEXT)) j CROSS JOIN resource_tags t INDEXED BY " +
                      (arm.read == Read::kTagList && arm.kind.type.empty()
                           ? "resource_tags_by_name"
                           : "resource_tags_node_search");
            }
            if (row) {
                sql += " CROSS JOIN nodes n";  // t drives (CROSS: SQLite keeps the order)
            }
            // 'node' spelt out: the partial index resource_tags_node_search requires it.
            sql += row ? " WHERE n.node_id = t.resource_id AND" : " WHERE";
            sql += " t.resource_type = 'node' AND t.tag_name = ";
            if (arm.read == Read::kTag) {
                sql += b.Bind(arm.tag_name) + " AND t.tag_value = " + b.Bind(arm.tag_value);
            } else {
                sql +=
                    "json_extract(j.value, '$[0]') AND t.tag_value = json_extract(j.value, '$[1]')";
            }
            if (arm.read == Read::kTypedTagList) {
                sql += " AND t.node_type = json_extract(j.value, '$[2]')";
            }
            sql += KindSql("t.", arm.kind, b);
            break;
        case Read::kNodes:
            id = "n.node_id";
            type = "n.node_type";
            sql = "SELECT n.node_id FROM nodes n WHERE 1 = 1" + KindSql("n.", arm.kind, b);
            break;
        case Read::kTypeList:
            id = "n.node_id";
            type = "n.node_type";
            sql = "SELECT n.node_id FROM json_each(CAST(" + b.Bind(arm.list) +
                  " AS TEXT)) j CROSS JOIN nodes n INDEXED BY nodes_type_id WHERE n.node_type = "
                  "j.value" +
                  KindSql("n.", arm.kind, b);
            break;
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
// stream; SQLite applies the operators left to right, PostgreSQL INTERSECT first, so there what
// came before an INTERSECT is nested). The residual goes on one single-arm stream when there is
// one, else on each arm of the first stream.
std::string IdsSql(
    const Plan& plan, Binder& b, const std::string* start, const Residual& r, Dialect dialect
) {
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
            if (!sql.empty() && j == 0 && dialect == Dialect::kPostgres) {
                sql = "SELECT * FROM (" + sql + ") AS s" + std::to_string(i) + " INTERSECT ";
            } else if (!sql.empty()) {
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
    const AdminNodeFilter& filter,
    std::string_view columns,
    std::string_view start_id,
    int limit,
    Dialect dialect
) {
    DynamicQuery q;
    Binder b(q);
    const Plan plan = MakePlan(filter);
    if (plan.nothing) {
        q.Add("SELECT ").Add(columns).Add(" FROM nodes WHERE false");
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
    const std::string ids = IdsSql(plan, b, &start, r, dialect);
    q.Add("SELECT ")
        .Add(columns)
        .Add(" FROM nodes WHERE node_id IN (" + ids + " ORDER BY 1 LIMIT ")
        .Add(b.Bind(std::int64_t{limit}) + ") ORDER BY node_id");
    return q;
}

DynamicQuery AdminNodeCountQuery(const AdminNodeFilter& filter, Dialect dialect) {
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
    const std::string ids = IdsSql(plan, b, nullptr, r, dialect);
    if (plan.streams.size() == 1 && plan.streams[0].size() == 1 && plan.except.empty()) {
        q.Add("SELECT COUNT(*) FROM (" + ids + ") AS ids");
    } else {
        // ORDER BY keeps SQLite's merge of the ranges (no temporary b-tree of every id).
        q.Add("SELECT COUNT(*) FROM (" + ids + " ORDER BY 1) AS ids");
    }
    return q;
}

}  // namespace rainmaker::storage::sql

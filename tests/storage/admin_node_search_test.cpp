// The admin node search (#23) over SQLite against a model of the same nodes in memory: every
// shape of filter (type -> model -> fw_version, tags alone, one tag, OR, AND, a repeated term,
// status, subtype, project) with and without RBAC scopes (written as the policies give them,
// rbac::NodeScope, and expected as NodeScope::Allows says: allow and deny filters of tags and
// types, read as index ranges, as lists joined to the indexes, or checked on each candidate),
// walked page by page, must give exactly the model's nodes and total. Also: the copy of a node's
// type, model and firmware on its tag rows (V023) is made for the rows of before V023 and follows
// the node; the statements of the benchmarked shapes are index searches and those of large
// scopes never read every node (EXPLAIN QUERY PLAN); a statement past its time budget stops; the
// service checks each node of a page against the scope again and stops at its budget.
#include "storage/sql/admin_node_search.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/nodes/admin_node_service.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "storage/sql/sql_node_store.hpp"
#include "storage/sqlite/sqlite_connection.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

// A clock whose monotonic time moves 1 ms each time it is read.
class TickingClock final : public core::Clock {
public:
    std::chrono::system_clock::time_point Now() const override {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    }

    std::chrono::steady_clock::time_point Monotonic() const override {
        mono_ += std::chrono::milliseconds(1);
        return mono_;
    }

private:
    mutable std::chrono::steady_clock::time_point mono_{std::chrono::seconds(1000)};
};

}  // namespace
}  // namespace rainmaker::testing

namespace rainmaker::storage::sqlite {
namespace {

namespace rbac = domain::rbac;
using testing::TickingClock;
using Strings = std::vector<std::string>;

constexpr std::int64_t kSince = 5'000;  // the activity window's start (kActive / kInactive)

// A node as the search sees it.
struct Model {
    std::string id;
    std::string type;
    std::string model;
    std::string fw;
    bool revoked = false;
    bool connected = false;
    std::int64_t connectivity_at = 0;
    std::string subtype;  // "" with project "": no config reported
    std::string project;
    std::set<std::string> tags;  // "name:value"
};

bool TermHeld(const Model& n, const std::pair<std::string, std::string>& term) {
    return n.tags.contains(term.first + ":" + term.second);
}

// The meaning of AdminNodeFilter but its scope, written plainly (the scope's is the policies'
// own, NodeScope::Allows).
bool Matches(const AdminNodeFilter& f, const Model& n) {
    if (!f.node_type.empty()) {
        if (n.type != f.node_type) {
            return false;
        }
        if (!f.model.empty()) {
            if (n.model != f.model) {
                return false;
            }
            if (!f.fw_version.empty() && n.fw != f.fw_version) {
                return false;
            }
        }
    }
    if (f.tags && !f.tags->terms.empty()) {
        const auto held = [&](const auto& term) { return TermHeld(n, term); };
        const auto& terms = f.tags->terms;
        if (f.tags->all ? !std::all_of(terms.begin(), terms.end(), held)
                        : !std::any_of(terms.begin(), terms.end(), held)) {
            return false;
        }
    }
    const bool ever = n.connectivity_at > 0;
    switch (f.status) {
        case NodeStatusFilter::kAny:
            break;
        case NodeStatusFilter::kNotActivated:
            if (n.revoked || n.connected || ever) {
                return false;
            }
            break;
        case NodeStatusFilter::kOnline:
            if (n.revoked || !n.connected) {
                return false;
            }
            break;
        case NodeStatusFilter::kOffline:
            if (n.revoked || n.connected || !ever) {
                return false;
            }
            break;
        case NodeStatusFilter::kDeactivated:
            if (!n.revoked) {
                return false;
            }
            break;
        case NodeStatusFilter::kActive:
            if (n.revoked || !(n.connected || (ever && n.connectivity_at >= f.active_since_ms))) {
                return false;
            }
            break;
        case NodeStatusFilter::kInactive:
            if (n.revoked || n.connected || !ever || n.connectivity_at >= f.active_since_ms) {
                return false;
            }
            break;
    }
    const bool reported = !n.subtype.empty() || !n.project.empty();
    if (!f.subtype.empty() && (!reported || n.subtype != f.subtype)) {
        return false;
    }
    if (!f.project_name.empty() && (!reported || n.project != f.project_name)) {
        return false;
    }
    return true;
}

bool Allows(const rbac::NodeScope& scope, const Model& n) {
    const Strings tags(n.tags.begin(), n.tags.end());
    return scope.Allows(rbac::NodeFacts{n.type, tags});
}

// The store filter AdminNodeService gives for an admin restricted by `scope`.
NodeScopeFilter FilterOf(const rbac::NodeScope& scope) {
    domain::auth::AuthContext admin;
    admin.node_scope = std::make_shared<rbac::NodeScope>(scope);
    return *domain::nodes::ScopeFilterOf(admin);
}

// Deterministic numbers (xorshift64), the same on every platform.
class Numbers {
public:
    std::uint64_t Next() {
        x_ ^= x_ << 13;
        x_ ^= x_ >> 7;
        x_ ^= x_ << 17;
        return x_;
    }

    std::size_t Below(std::size_t n) { return static_cast<std::size_t>(Next() % n); }

private:
    std::uint64_t x_ = 0x9E3779B97F4A7C15ULL;
};

TagQuery Terms(bool all, std::vector<std::pair<std::string, std::string>> terms) {
    return TagQuery{std::move(terms), all};
}

class AdminNodeSearchTest : public ::testing::Test {
protected:
    void SetUp() override {
        const Strings types{"", "Light", "Fan", "Switch"};
        const Strings models{"m1", "m2", "m3"};
        const Strings fws{"1.0", "2.0"};
        const Strings tags{
            "city:pune",
            "city:delhi",
            "city:goa",
            "floor:1",
            "floor:2",
            "floor:3",
            "floor:4",
            "key:v:w",  // a value holding ':'
            "site:a b"};
        Numbers r;
        db_.Transaction([&] {
            for (int i = 0; i < 240; ++i) {
                Model m;
                m.id = "n" + std::to_string(r.Next() % 1'000'000'007ULL);
                m.type = types[r.Below(types.size())];
                m.model = models[r.Below(models.size())];
                m.fw = fws[r.Below(fws.size())];
                m.revoked = r.Below(8) == 0;
                m.connected = r.Below(3) == 0;
                m.connectivity_at =
                    r.Below(4) == 0 ? 0 : static_cast<std::int64_t>(r.Below(10'000));
                if (r.Below(5) != 0) {
                    m.subtype = r.Below(2) == 0 ? "a" : "b";
                    m.project = r.Below(2) == 0 ? "p1" : "p2";
                }
                NodeRow row;
                row.node_id = m.id;
                row.created_at = 1;
                row.node_type = m.type;
                row.model = m.model;
                row.fw_version = m.fw;
                row.revoked = m.revoked;
                row.connected = m.connected;
                row.connectivity_at = m.connectivity_at;
                if (!m.subtype.empty()) {
                    row.config = R"({"info":{"subtype":")" + m.subtype + R"(","project_name":")" +
                                 m.project + R"("}})";
                }
                if (!db_.Nodes().Insert(row)) {
                    continue;  // an id drawn twice
                }
                Strings attach;
                for (std::size_t k = r.Below(4); k > 0; --k) {
                    attach.push_back(tags[r.Below(tags.size())]);
                }
                db_.Tags().Attach(TagResource::kNode, m.id, attach);
                m.tags.insert(attach.begin(), attach.end());
                nodes_[m.id] = m;
            }
        });
        // Nodes that report another type, model or firmware after they were tagged, and nodes
        // deleted with their tags.
        int changed = 0;
        for (auto& [id, m] : nodes_) {
            if (++changed % 7 == 0) {
                m.type = types[(changed / 7) % types.size()];
                m.model = models[changed % models.size()];
                m.fw = "3.0";
                db_.Nodes().PutConfig(id, "", m.type, m.model, m.fw);
                m.subtype.clear();
                m.project.clear();
            }
        }
        for (int k = 0; k < 5; ++k) {
            const auto it = std::next(nodes_.begin(), static_cast<long>(k * 11));
            db_.Nodes().DeleteNode(it->first);
            nodes_.erase(it);
        }
    }

    // The nodes `f` finds (its scope left aside) that `scope` allows (all, without one).
    Strings Expected(const AdminNodeFilter& f, const rbac::NodeScope* scope = nullptr) const {
        Strings ids;
        for (const auto& [id, m] : nodes_) {
            if (Matches(f, m) && (scope == nullptr || Allows(*scope, m))) {
                ids.push_back(id);
            }
        }
        return ids;  // the map keeps id order
    }

    // Every page of `page_size` from the store, in order.
    Strings Walk(const AdminNodeFilter& f, int page_size) {
        Strings ids;
        std::string start;
        for (int pages = 0; pages < 1000; ++pages) {
            const auto rows = db_.Nodes().SearchNodes(f, start, page_size);
            for (const auto& row : rows) {
                ids.push_back(row.node_id);
            }
            if (static_cast<int>(rows.size()) < page_size) {
                break;
            }
            start = rows.back().node_id;
        }
        return ids;
    }

    // `f` (with the scope's filter, when given) against the model.
    void ExpectSame(
        AdminNodeFilter f, const std::string& what, const rbac::NodeScope* scope = nullptr
    ) {
        const auto expected = Expected(f, scope);
        if (scope != nullptr) {
            f.scope = FilterOf(*scope);
        }
        EXPECT_EQ(Walk(f, 7), expected) << what;
        EXPECT_EQ(Walk(f, 1000), expected) << what;
        EXPECT_EQ(db_.Nodes().CountNodes(f), static_cast<int>(expected.size())) << what;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    std::map<std::string, Model> nodes_;
};

// The kinds (type -> model -> fw_version) and tag expressions every test crosses.
std::vector<AdminNodeFilter> Kinds() {
    std::vector<AdminNodeFilter> out(1);
    for (const auto* type : {"Light", "Fan", "Nope"}) {
        AdminNodeFilter f;
        f.node_type = type;
        out.push_back(f);
        f.model = "m2";
        out.push_back(f);
        f.fw_version = "2.0";
        out.push_back(f);
    }
    AdminNodeFilter fw3;
    fw3.node_type = "Switch";
    fw3.model = "m1";
    fw3.fw_version = "3.0";
    out.push_back(fw3);
    return out;
}

std::vector<std::optional<TagQuery>> Expressions() {
    return {
        std::nullopt,
        Terms(false, {{"city", "pune"}}),
        Terms(false, {{"key", "v:w"}}),
        Terms(false, {{"site", "a b"}}),
        Terms(false, {{"city", "nowhere"}}),
        Terms(false, {{"city", "pune"}, {"city", "delhi"}}),
        Terms(false, {{"floor", "1"}, {"city", "goa"}, {"floor", "2"}}),
        Terms(false, {{"city", "pune"}, {"city", "pune"}}),
        Terms(true, {{"city", "pune"}, {"floor", "1"}}),
        Terms(true, {{"city", "pune"}, {"city", "delhi"}}),
        Terms(true, {{"city", "pune"}, {"city", "pune"}}),
        Terms(true, {{"floor", "2"}, {"city", "goa"}, {"floor", "3"}}),
    };
}

std::string Describe(const AdminNodeFilter& f) {
    std::string s = "type=" + f.node_type + " model=" + f.model + " fw=" + f.fw_version;
    if (f.tags) {
        s += f.tags->all ? " all:" : " any:";
        for (const auto& [name, value] : f.tags->terms) {
            s += " " + name + ":" + value;
        }
    }
    s += " status=" + std::to_string(static_cast<int>(f.status)) + " subtype=" + f.subtype +
         " project=" + f.project_name;
    if (f.scope) {
        s += " scope(allow_all=" + std::to_string(f.scope->allow_all) +
             " allow=" + std::to_string(f.scope->allow.size()) +
             " deny=" + std::to_string(f.scope->deny.size()) + ")";
    }
    return s;
}

TEST_F(AdminNodeSearchTest, EveryKindAndTagExpressionFindsExactlyTheModelsNodes) {
    ASSERT_GT(nodes_.size(), 200u);
    for (const auto& kind : Kinds()) {
        for (const auto& tags : Expressions()) {
            auto f = kind;
            f.tags = tags;
            ExpectSame(f, Describe(f));
        }
    }
}

TEST_F(AdminNodeSearchTest, StatusAndConfigFiltersNarrowEveryShape) {
    const NodeStatusFilter statuses[] = {
        NodeStatusFilter::kNotActivated,
        NodeStatusFilter::kOnline,
        NodeStatusFilter::kOffline,
        NodeStatusFilter::kDeactivated,
        NodeStatusFilter::kActive,
        NodeStatusFilter::kInactive};
    for (const auto& kind : {Kinds()[0], Kinds()[2]}) {
        for (const auto& tags : Expressions()) {
            for (const auto status : statuses) {
                auto f = kind;
                f.tags = tags;
                f.status = status;
                f.active_since_ms = kSince;
                ExpectSame(f, Describe(f));
            }
            auto f = kind;
            f.tags = tags;
            f.subtype = "a";
            ExpectSame(f, Describe(f));
            f.project_name = "p2";
            f.status = NodeStatusFilter::kOnline;
            ExpectSame(f, Describe(f));
        }
    }
}

rbac::NodeFilter F(Strings tags, Strings types = {}) {
    return rbac::NodeFilter{std::move(tags), std::move(types)};
}

// A scope as the route guard gives it: the node filters of each policy allowing the route and
// of each denying it (a policy without filters matches every node).
rbac::NodeScope Scope(
    std::vector<rbac::PolicyNodes> allow, std::vector<rbac::PolicyNodes> deny = {}
) {
    return rbac::NodeScope{std::move(allow), std::move(deny)};
}

struct NamedScope {
    std::string name;
    rbac::NodeScope scope;
    bool large = false;  // more ranges than the store reads as such, on one side at least
};

// floor:0..19 and city:pune: more tags than the store reads as ranges of their own.
Strings ManyTags() {
    Strings tags;
    for (int i = 0; i < 20; ++i) {
        tags.push_back("floor:" + std::to_string(i));
    }
    tags.push_back("city:pune");
    return tags;
}

// Fan, Switch and 18 types no node has: more types than the store reads as ranges.
Strings ManyTypes() {
    Strings types{"Fan", "Switch"};
    for (int i = 0; i < 18; ++i) {
        types.push_back("T" + std::to_string(i));
    }
    return types;
}

std::vector<NamedScope> Scopes() {
    const auto many = ManyTags();
    const auto types = ManyTypes();
    return {
        {"one tag range", Scope({{F({"city:pune"})}})},
        {"a union of ranges", Scope({{F({"city:pune", "floor:1", "key:v:w"})}})},
        {"a tag of a type", Scope({{F({"city:pune"}, {"Light"})}})},
        {"types only", Scope({{F({}, {"Fan"})}})},
        {"types or a tag", Scope({{F({}, {"Fan", "Light"}), F({"floor:2"})}})},
        {"two policies", Scope({{F({"city:goa"}, {"Switch", "Fan"})}, {F({"floor:3"})}})},
        {"a tag denied", Scope({{F({"city:pune"})}}, {{F({"floor:1"})}})},
        {"all of it denied", Scope({{F({}, {"Light"})}}, {{F({}, {"Light"})}})},
        {"a tag without ':'", Scope({{F({"nocolon"})}})},
        {"a tag without ':' beside one", Scope({{F({"city:pune", "nocolon"}, {"Fan"})}})},
        {"no allowing policy", Scope({})},
        {"a denying policy without filters", Scope({{F({"city:delhi"})}}, {{}})},
        {"types allowed, a tag of a type denied",
         Scope({{F({}, {"Fan", "Light"})}}, {{F({"floor:1"}, {"Fan"})}})},
        {"an allowing policy without filters, denials",
         Scope({{}}, {{F({"city:goa", "floor:4"}), F({}, {"Switch"})}})},
        {"an allowing policy without filters beside a filtered one",
         Scope({{}, {F({"city:goa"})}}, {{F({"floor:2"})}})},
        // More ranges than the store reads as such: lists joined to the indexes, or checked on
        // each candidate of the search's own tag terms.
        {"many tags", Scope({{F(many)}}), true},
        {"many tags of types", Scope({{F(many, {"Fan", "Light"})}}), true},
        {"many types", Scope({{F({}, types)}}), true},
        {"tags, tags of a type and types",
         Scope({{F(many), F({"site:a b"}, {"Light"}), F({}, types)}}),
         true},
        {"a few tags, many denied",
         Scope({{F({"city:delhi", "city:pune", "site:a b"})}}, {{F(many)}}),
         true},
        {"every node but many denied", Scope({{}}, {{F(many, {"Fan"}), F({}, types)}}), true},
        {"many allowed, many denied",
         Scope({{F(many), F({}, types)}}, {{F({"floor:1", "floor:2", "floor:3"}, types)}}),
         true},
    };
}

TEST_F(AdminNodeSearchTest, ScopesNarrowEveryShapeExactly) {
    for (const auto& [name, scope, large] : Scopes()) {
        for (const auto& kind : Kinds()) {
            for (const auto& tags : Expressions()) {
                auto f = kind;
                f.tags = tags;
                ExpectSame(f, name + ": " + Describe(f), &scope);
            }
        }
        AdminNodeFilter f;
        f.status = NodeStatusFilter::kOffline;
        f.tags = Terms(false, {{"city", "pune"}, {"floor", "2"}});
        ExpectSame(f, name + ": " + Describe(f), &scope);
        f.tags.reset();
        f.subtype = "a";
        ExpectSame(f, name + ": " + Describe(f), &scope);
    }
}

TEST_F(AdminNodeSearchTest, TagRowsFollowTheirNode) {
    const auto find = [&](const std::string& type, const std::string& model) {
        AdminNodeFilter f;
        f.node_type = type;
        f.model = model;
        f.tags = Terms(false, {{"batch", "7"}});
        return Walk(f, 100);
    };
    NodeRow row;
    row.node_id = "moving";
    row.node_type = "Old";
    row.model = "m";
    ASSERT_TRUE(db_.Nodes().Insert(row));
    db_.Tags().Attach(TagResource::kNode, "moving", {"batch:7"});
    EXPECT_EQ(find("Old", "m"), Strings{"moving"});
    db_.Nodes().PutConfig("moving", "{}", "New", "m9", "2.0");
    EXPECT_TRUE(find("Old", "m").empty());
    EXPECT_EQ(find("New", "m9"), Strings{"moving"});
    AdminNodeFilter fw;
    fw.node_type = "New";
    fw.model = "m9";
    fw.fw_version = "2.0";
    fw.tags = Terms(true, {{"batch", "7"}});
    EXPECT_EQ(db_.Nodes().CountNodes(fw), 1);
    // A tag of a node that does not exist is not kept, so a node created later with that id
    // starts without it.
    db_.Nodes().DeleteNode("moving");
    db_.Tags().Attach(TagResource::kNode, "moving", {"batch:7"});
    EXPECT_TRUE(db_.Tags().Of(TagResource::kNode, "moving").empty());
    ASSERT_TRUE(db_.Nodes().Insert(row));
    EXPECT_TRUE(find("Old", "m").empty());
    AdminNodeFilter alone;
    alone.tags = Terms(false, {{"batch", "7"}});
    EXPECT_EQ(db_.Nodes().CountNodes(alone), 0);
}

// A store written before V023 (tags of nodes that existed and of one that did not) gets the
// copies of its nodes' facts and loses the stray tags when V023 runs.
TEST(AdminNodeSearchUpgrade, V023CopiesNodeFactsAndDropsStrayTags) {
    testing::TempDir dir;
    const auto file = dir.path() / "db.sqlite";
    {
        Connection c(file.string());
        c.Exec(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"
        );
        for (const auto& migration : Migrations()) {
            if (migration.version < 23) {
                c.Exec(std::string(migration.sql));
                c.Prepare("INSERT INTO schema_migrations(version, name) VALUES (?, ?)")
                    .Bind(1, migration.version)
                    .Bind(2, migration.name)
                    .Run();
            }
        }
        c.Exec(
            "INSERT INTO nodes(node_id, created_at, node_type, model, fw_version) VALUES "
            "('a', 1, 'Light', 'm1', '1.0'), ('b', 1, 'Fan', 'm2', '2.0');"
            "INSERT INTO resource_tags(resource_type, resource_id, tag_name, tag_value, "
            "created_at) VALUES ('node', 'a', 'city', 'pune', 1), ('node', 'b', 'city', 'pune', "
            "1), ('node', 'gone', 'city', 'pune', 1), ('group', 'g', 'city', 'pune', 1)"
        );
    }
    SqliteDatabase db(file);
    AdminNodeFilter light;
    light.node_type = "Light";
    light.model = "m1";
    light.fw_version = "1.0";
    light.tags = Terms(false, {{"city", "pune"}});
    EXPECT_EQ(db.Nodes().CountNodes(light), 1);
    AdminNodeFilter alone;
    alone.tags = light.tags;
    EXPECT_EQ(db.Nodes().CountNodes(alone), 2);  // not the tag of "gone"
    EXPECT_TRUE(db.Tags().Of(TagResource::kNode, "gone").empty());
    EXPECT_EQ(db.Tags().Of(TagResource::kGroup, "g"), Strings{"city:pune"});
}

// The plan of each statement of the benchmarked shapes: index searches only (no SCAN of a
// table, no sort of every match).
TEST_F(AdminNodeSearchTest, BenchmarkedShapesAreIndexSearches) {
    std::vector<AdminNodeFilter> shapes;
    AdminNodeFilter tm;
    tm.node_type = "Light";
    tm.model = "m2";
    for (const auto& tags : Expressions()) {
        if (tags) {
            auto f = tm;
            f.tags = tags;
            shapes.push_back(f);
            AdminNodeFilter alone;
            alone.tags = tags;
            shapes.push_back(alone);
        }
    }
    shapes.push_back(tm);
    const auto site = FilterOf(Scope({{F({"city:pune"})}}, {{F({"floor:4"})}}));
    AdminNodeFilter scoped;
    scoped.scope = site;
    shapes.push_back(scoped);
    auto scoped_tm = tm;
    scoped_tm.scope = site;
    scoped_tm.tags = Terms(false, {{"city", "delhi"}, {"floor", "1"}});
    shapes.push_back(scoped_tm);
    for (const auto& f : shapes) {
        for (const auto& query :
             {sql::SqlNodeStore::SearchQuery(f, "", 100), sql::SqlNodeStore::CountQuery(f)}) {
            const auto plan = query.Plan(db_);
            ASSERT_FALSE(plan.empty());
            std::string text;
            for (const auto& line : plan) {
                text += line + "\n";
            }
            for (const auto& line : plan) {
                const auto step = line.substr(line.find_first_not_of(' '));
                // A scan of the count's derived table of ids (named "ids") reads only them.
                EXPECT_TRUE(
                    step.rfind("SCAN ", 0) != 0 || step.rfind("SCAN (subquery", 0) == 0 ||
                    step == "SCAN ids"
                ) << Describe(f)
                  << "\n"
                  << text;
                EXPECT_EQ(step.find("TEMP B-TREE"), std::string::npos) << Describe(f) << "\n"
                                                                       << text;
            }
        }
    }
}

// A type without a model: each tag term is the range of the tag and type in
// resource_tags_node_search (SQLite sorts it), never every node tag walked in id order.
TEST_F(AdminNodeSearchTest, ATypeWithoutAModelReadsTheRangesOfTheType) {
    for (const auto& tags : Expressions()) {
        if (!tags) {
            continue;
        }
        AdminNodeFilter f;
        f.node_type = "Light";
        f.tags = tags;
        for (const auto& query :
             {sql::SqlNodeStore::SearchQuery(f, "", 100), sql::SqlNodeStore::CountQuery(f)}) {
            std::string text;
            for (const auto& line : query.Plan(db_)) {
                text += line + "\n";
            }
            for (const auto& line : query.Plan(db_)) {
                const auto step = line.substr(line.find_first_not_of(' '));
                if (step.rfind("SEARCH t ", 0) == 0) {
                    EXPECT_NE(
                        step.find("resource_tags_node_search (tag_name=? AND tag_value=? AND "
                                  "node_type=?)"),
                        std::string::npos
                    ) << Describe(f)
                      << "\n"
                      << text;
                }
            }
        }
    }
}

// The statements of scopes too large for ranges of their own: without tag terms in the search
// the scope's lists drive (each of their tags and types a seek into its index; SQLite sorts
// what they find), never a read of every node (of the filter's kind) checked one by one; with
// tag terms, each candidate of their ranges has its own tags read by primary key and looked up
// in the lists. Only a scope allowing every node reads every node (its count, as unrestricted).
TEST_F(AdminNodeSearchTest, LargeScopesNeverReadEveryNodeOneByOne) {
    std::vector<AdminNodeFilter> kinds(1);
    kinds.emplace_back();
    kinds.back().node_type = "Light";
    kinds.push_back(kinds.back());
    kinds.back().model = "m2";
    for (const auto& [name, scope, large] : Scopes()) {
        if (!large) {
            continue;
        }
        const bool every = FilterOf(scope).allow_all;
        for (auto f : kinds) {
            for (const auto& tags : {std::optional<TagQuery>{}, Expressions()[6]}) {
                f.tags = tags;
                f.scope = FilterOf(scope);
                for (const auto& query :
                     {sql::SqlNodeStore::SearchQuery(f, "", 100),
                      sql::SqlNodeStore::CountQuery(f)}) {
                    std::string text;
                    for (const auto& line : query.Plan(db_)) {
                        text += line + "\n";
                    }
                    const auto what = name + ": " + Describe(f) + "\n" + query.sql + "\n" + text;
                    if (query.sql == "SELECT 0" || query.sql.ends_with(" WHERE false")) {
                        continue;  // the scope reaches no node of the kind: nothing is read
                    }
                    for (const auto& line : query.Plan(db_)) {
                        const auto step = line.substr(line.find_first_not_of(' '));
                        const bool scan =
                            step.rfind("SCAN ", 0) == 0 && step.rfind("SCAN (subquery", 0) != 0 &&
                            step != "SCAN ids" && step.rfind("SCAN j VIRTUAL TABLE", 0) != 0;
                        EXPECT_TRUE(!scan || (every && !f.tags)) << what;
                        // Tags are read from their ranges (never the primary key walked from
                        // start_id), nodes by id or type (or all of them for `every`).
                        if (step.rfind("SEARCH t ", 0) == 0) {
                            EXPECT_NE(step.find("(tag_name=? AND tag_value=?"), std::string::npos)
                                << what;
                        }
                        if (step.rfind("SEARCH n ", 0) == 0) {
                            EXPECT_TRUE(
                                step.find("(node_id=?)") != std::string::npos ||
                                step.find("(node_type=?") != std::string::npos ||
                                (every && step.find("(node_id>?)") != std::string::npos)
                            ) << what;
                        }
                        if (step.find(" s USING ") != std::string::npos) {
                            EXPECT_EQ(
                                step,
                                "SEARCH s USING PRIMARY KEY (resource_type=? AND resource_id=?)"
                            ) << what;
                        }
                    }
                    // Checks on each candidate only where the search's tag terms bound them.
                    EXPECT_TRUE(f.tags || text.find("CORRELATED") == std::string::npos) << what;
                }
            }
        }
    }
}

TEST(SqliteTimeBudget, AStatementPastItStopsAndNothingStartsAfter) {
    testing::TempDir dir;
    SqliteDatabase db(dir.path() / "db.sqlite");
    TickingClock clock;
    // Some millions of virtual machine instructions: the clock is read every thousand.
    const std::string heavy =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000) "
        "SELECT COUNT(*) FROM c";
    const auto budget = [&](int ms, const std::function<void()>& work) {
        db.WithTimeBudget(clock, std::chrono::milliseconds(ms), work);
    };
    EXPECT_THROW(budget(20, [&] { db.Count(heavy); }), TimeBudgetSpent);
    EXPECT_THROW(budget(20, [&] { db.Snapshot([&] { db.Count(heavy); }); }), TimeBudgetSpent);
    // The connections stay usable, without the budget once it has ended.
    EXPECT_EQ(db.Count(heavy), 300000);
    db.Snapshot([&] { EXPECT_EQ(db.Count(heavy), 300000); });
    // Within its budget a statement runs to its end.
    budget(3'600'000, [&] { EXPECT_EQ(db.Count(heavy), 300000); });
    // A budget spent: the next statement does not start, however small.
    EXPECT_THROW(budget(1, [&] { db.Count("SELECT 1"); }), TimeBudgetSpent);
    // Within an outer budget the earlier end wins; the outer one comes back after.
    budget(3'600'000, [&] {
        EXPECT_THROW(budget(20, [&] { db.Count(heavy); }), TimeBudgetSpent);
        EXPECT_EQ(db.Count(heavy), 300000);
    });
    EXPECT_THROW(budget(20, [&] { budget(3'600'000, [&] { db.Count(heavy); }); }), TimeBudgetSpent);
}

// V023 on a store of before it: the tag rows of nodes get their node's type, model and firmware
// version, tags of nodes that no longer exist go, the tags of other resources stay as they
// were, and the search by type + tag finds the node through the new index.
TEST(NodeTagSearchMigration, CopiesTheNodesFactsDropsOrphansAndLeavesOtherTagsAlone) {
    testing::TempDir dir;
    const auto file = dir.path() / "db.sqlite";
    {
        // The store as the migrations up to V021 left it (the runner applies what is missing).
        Connection c(file.string());
        c.Exec(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"
        );
        bool v023 = false;
        for (const auto& m : Migrations()) {
            v023 = v023 || m.version == 23;
            if (m.version > 21) {
                continue;
            }
            c.Exec(std::string(m.sql));
            c.Prepare("INSERT INTO schema_migrations(version, name) VALUES (?, ?)")
                .Bind(1, m.version)
                .Bind(2, m.name)
                .Run();
        }
        ASSERT_TRUE(v023);
        c.Exec(
            "INSERT INTO nodes(node_id, created_at, node_type, model, fw_version) VALUES "
            "('lamp', 1, 'Light', 'm1', '1.0'), ('fan', 1, 'Fan', 'm2', '2.0'), "
            "('bare', 1, '', '', '')"
        );
        c.Exec(
            "INSERT INTO resource_tags(resource_type, resource_id, tag_name, tag_value, "
            "created_at) VALUES ('node', 'lamp', 'city', 'pune', 1), "
            "('node', 'lamp', 'floor', '1', 2), ('node', 'fan', 'city', 'pune', 3), "
            "('node', 'bare', 'city', 'pune', 4), ('node', 'gone', 'city', 'pune', 5), "
            "('group', 'g1', 'city', 'pune', 6), ('user', 'lamp', 'city', 'pune', 7)"
        );
    }
    SqliteDatabase db(file);
    EXPECT_GE(db.SchemaVersion(), 23);
    const auto rows = db.FindAll(
        "SELECT resource_type || '/' || resource_id || '/' || tag_name || ':' || tag_value || "
        "' ' || created_at || ' ' || IFNULL(node_type, 'NULL') || ' ' || IFNULL(model, 'NULL') "
        "|| ' ' || IFNULL(fw_version, 'NULL') FROM resource_tags ORDER BY 1",
        [](const Statement& s) { return s.Text(0); }
    );
    EXPECT_EQ(
        rows,
        (Strings{
            "group/g1/city:pune 6 NULL NULL NULL",
            "node/bare/city:pune 4   ",
            "node/fan/city:pune 3 Fan m2 2.0",
            "node/lamp/city:pune 1 Light m1 1.0",
            "node/lamp/floor:1 2 Light m1 1.0",
            "user/lamp/city:pune 7 NULL NULL NULL"})
    );
    const auto search = [&](const std::string& type, const std::string& model, const std::string& fw
                        ) {
        AdminNodeFilter f;
        f.node_type = type;
        f.model = model;
        f.fw_version = fw;
        f.tags = Terms(false, {{"city", "pune"}});
        Strings ids;
        for (const auto& row : db.Nodes().SearchNodes(f, "", 10)) {
            ids.push_back(row.node_id);
        }
        EXPECT_EQ(db.Nodes().CountNodes(f), static_cast<int>(ids.size()));
        return ids;
    };
    EXPECT_EQ(search("Light", "", ""), Strings{"lamp"});
    EXPECT_EQ(search("Light", "m1", "1.0"), Strings{"lamp"});
    EXPECT_EQ(search("Fan", "m2", ""), Strings{"fan"});
    EXPECT_EQ(search("", "", ""), (Strings{"bare", "fan", "lamp"}));
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

namespace rainmaker::domain::nodes {
namespace {

using testing::TickingClock;

class NoRevocations final : public CertificateRevocations {
public:
    void Changed() override {}
};

rbac::NodeScope Scope(
    std::vector<rbac::PolicyNodes> allow, std::vector<rbac::PolicyNodes> deny = {}
) {
    return rbac::NodeScope{std::move(allow), std::move(deny)};
}

// AdminNodeService::Search for an RBAC-restricted admin: pages by next_id and totals equal the
// nodes NodeScope::Allows, whatever the size of the scope.
class AdminNodeScopedSearch : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 60; ++i) {
            storage::NodeRow row;
            row.node_id = "node" + std::to_string(1000 + i * 7 % 60);
            row.node_type = i % 3 == 0 ? "Light" : "Fan";
            ASSERT_TRUE(db_.Nodes().Insert(row));
            std::vector<std::string> tags{"site:" + std::to_string(i % 4)};
            if (i % 5 == 0) {
                tags.push_back("vip:yes");
            }
            db_.Tags().Attach(storage::TagResource::kNode, row.node_id, tags);
            nodes_[row.node_id] = {row.node_type, {tags.begin(), tags.end()}};
        }
        admin_.user_id = "support";
        admin_.role = auth::PlatformRole::kAdmin;
    }

    // The nodes (of `type`, when given) `scope` allows.
    std::vector<std::string> Expected(
        const rbac::NodeScope& scope, const std::optional<std::string>& type
    ) const {
        std::vector<std::string> ids;
        for (const auto& [id, node] : nodes_) {
            const std::vector<std::string> tags(node.second.begin(), node.second.end());
            if ((!type || node.first == *type) && scope.Allows(rbac::NodeFacts{node.first, tags})) {
                ids.push_back(id);
            }
        }
        return ids;
    }

    // Every page of 4 the service answers `admin_` for nodes of `type`; each page's total is
    // the number of ids found.
    std::vector<std::string> Walk(std::optional<std::string> type) {
        AdminNodeQuery q;
        q.type = std::move(type);
        q.num_records = 4;
        std::vector<std::string> ids;
        int total = -1;
        for (int pages = 0; pages < 100; ++pages) {
            const auto page = service_.Search(admin_, q);
            for (const auto& info : page.nodes) {
                ids.push_back(info.node.node_id);
            }
            EXPECT_TRUE(total == -1 || total == page.total);
            total = page.total;
            if (page.next_id.empty()) {
                break;
            }
            q.start_id = page.next_id;
        }
        EXPECT_EQ(total, static_cast<int>(ids.size()));
        return ids;
    }

    // Walks for `scope`, as a whole and by type, against Expected.
    void ExpectReach(const rbac::NodeScope& scope, const std::string& what) {
        admin_.node_scope = std::make_shared<rbac::NodeScope>(scope);
        EXPECT_EQ(Walk(std::nullopt), Expected(scope, std::nullopt)) << what;
        EXPECT_EQ(Walk("Fan"), Expected(scope, "Fan")) << what;
        EXPECT_EQ(Walk("Light"), Expected(scope, "Light")) << what;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    NoRevocations revocations_;
    AdminNodeService service_{db_, revocations_, clock_};
    std::map<std::string, std::pair<std::string, std::set<std::string>>> nodes_;  // type, tags
    auth::AuthContext admin_;
};

TEST_F(AdminNodeScopedSearch, PagesAndTotalsAreTheScopesNodes) {
    rbac::NodeScope scope;
    scope.allow.push_back({rbac::NodeFilter{{"site:1", "site:2"}, {}}});
    scope.allow.push_back({rbac::NodeFilter{{}, {"Light"}}});
    scope.deny.push_back({rbac::NodeFilter{{"vip:yes"}, {}}});
    const auto all = Expected(scope, std::nullopt);
    ASSERT_GT(all.size(), 10u);
    ASSERT_LT(all.size(), nodes_.size());
    ExpectReach(scope, "ranges");

    // The same scope with more rules than the store reads as ranges (tags matching no node).
    auto large = scope;
    for (int i = 0; i < 40; ++i) {
        large.allow.push_back({rbac::NodeFilter{{"none:" + std::to_string(i)}, {}}});
        large.deny.push_back({rbac::NodeFilter{{"none:" + std::to_string(i)}, {"Fan"}}});
    }
    ASSERT_EQ(Expected(large, std::nullopt), all);
    ExpectReach(large, "lists");
}

TEST_F(AdminNodeScopedSearch, AnAllowingPolicyWithoutFiltersReachesEveryNodeNotDenied) {
    ExpectReach(Scope({{}}), "allow without filters");
    ASSERT_EQ(Walk(std::nullopt).size(), nodes_.size());
    const auto denied =
        Scope({{}, {rbac::NodeFilter{{"site:1"}, {}}}}, {{rbac::NodeFilter{{"vip:yes"}, {"Fan"}}}});
    ExpectReach(denied, "allow without filters, vip fans denied");
    ASSERT_LT(Expected(denied, std::nullopt).size(), nodes_.size());
}

TEST_F(AdminNodeScopedSearch, ADenyingPolicyWithoutFiltersReachesNoNode) {
    const auto none = Scope({{}, {rbac::NodeFilter{{"site:1"}, {}}}}, {{}});
    ASSERT_TRUE(Expected(none, std::nullopt).empty());
    ExpectReach(none, "deny without filters");
    AdminNodeQuery q;
    q.tags = "site:1";
    const auto page = service_.Search(admin_, q);
    EXPECT_TRUE(page.nodes.empty());
    EXPECT_EQ(page.total, 0);
}

// The page is checked against the scope again, in C++, after the store's query: a node the
// query found though the scope leaves it out (here: the copy of its type on its tag rows, which
// the query reads, made wrong by hand) fails the search instead of being answered.
TEST_F(AdminNodeScopedSearch, ANodeOutOfTheScopeOnAPageFailsTheSearch) {
    const auto scope = Scope({{rbac::NodeFilter{{"site:1"}, {"Fan"}}}});
    admin_.node_scope = std::make_shared<rbac::NodeScope>(scope);
    const auto before = Walk(std::nullopt);
    ASSERT_EQ(before, Expected(scope, std::nullopt));
    std::string light;
    for (const auto& [id, node] : nodes_) {
        if (node.first == "Light" && node.second.contains("site:1")) {
            light = id;
            break;
        }
    }
    ASSERT_FALSE(light.empty());
    db_.Execute(
        "UPDATE resource_tags SET node_type = 'Fan' WHERE resource_type = 'node' AND "
        "resource_id = ?",
        light
    );
    try {
        service_.Search(admin_, AdminNodeQuery{});
        ADD_FAILURE() << "node " << light << " answered out of the scope";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kInternal);
        EXPECT_EQ(e.wire_code(), 100001);
        EXPECT_NE(e.internal().find(light), std::string::npos) << e.internal();
    }
    // An unrestricted admin has no scope to check against.
    admin_.node_scope = nullptr;
    EXPECT_EQ(service_.Search(admin_, AdminNodeQuery{}).total, static_cast<int>(nodes_.size()));
}

// A search that takes the store longer than its budget stops and answers 100001 (here the
// clock moves 1 ms each time the store reads it: once a statement, and every thousand virtual
// machine instructions).
TEST_F(AdminNodeScopedSearch, ASearchPastItsBudgetAnswers100001) {
    TickingClock ticking;
    AdminNodeService within(db_, revocations_, ticking, AdminNodeConfig{std::chrono::hours(1)});
    AdminNodeQuery q;
    EXPECT_EQ(within.Search(admin_, q).total, static_cast<int>(nodes_.size()));
    AdminNodeService tight(
        db_, revocations_, ticking, AdminNodeConfig{std::chrono::milliseconds(20)}
    );
    try {
        tight.Search(admin_, q);  // 60 nodes: 60 tag reads and more, one tick each at least
        ADD_FAILURE() << "the search ran past its budget";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kSearchTimeBudget);
        EXPECT_EQ(e.wire_code(), 100001);
        EXPECT_EQ(e.http_status(), 500);
    }
    // A small page within the budget still answers.
    q.num_records = 2;
    EXPECT_EQ(tight.Search(admin_, q).nodes.size(), 2u);
}

}  // namespace
}  // namespace rainmaker::domain::nodes

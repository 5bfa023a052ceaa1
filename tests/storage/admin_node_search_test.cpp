// The admin node search (#23) over SQLite against a model of the same nodes in memory: every
// shape of filter (type -> model -> fw_version, tags alone, one tag, OR, AND, a repeated term,
// status, subtype, project) with and without RBAC scopes (allow and deny rules of tags and
// types, scopes read as index ranges and scopes checked on each candidate, scopes too large for
// the store's query), walked page by page, must give exactly the model's nodes and total. Also:
// the copy of a node's type, model and firmware on its tag rows (V023) follows the node, and the
// statements of the benchmarked shapes are index searches (EXPLAIN QUERY PLAN).
#include "storage/sqlite/admin_node_search.hpp"

#include <algorithm>
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
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_connection.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/sqlite/sqlite_node_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::sqlite {
namespace {

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

bool RuleMatches(const NodeRule& rule, const Model& n) {
    const bool tag_ok =
        rule.tags.empty() || std::any_of(rule.tags.begin(), rule.tags.end(), [&](const auto& t) {
            return n.tags.contains(t);
        });
    const bool type_ok =
        rule.types.empty() ||
        std::find(rule.types.begin(), rule.types.end(), n.type) != rule.types.end();
    return tag_ok && type_ok;
}

// The meaning of AdminNodeFilter, written plainly.
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
    if (f.scope) {
        const auto& s = *f.scope;
        const auto in = [&](const NodeRule& r) { return RuleMatches(r, n); };
        if (!s.allow_all && !std::any_of(s.allow.begin(), s.allow.end(), in)) {
            return false;
        }
        if (std::any_of(s.deny.begin(), s.deny.end(), in)) {
            return false;
        }
    }
    return true;
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

    Strings Expected(const AdminNodeFilter& f) const {
        Strings ids;
        for (const auto& [id, m] : nodes_) {
            if (Matches(f, m)) {
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

    void ExpectSame(const AdminNodeFilter& f, const std::string& what) {
        const auto expected = Expected(f);
        EXPECT_EQ(Walk(f, 7), expected) << what;
        EXPECT_EQ(Walk(f, 1000), expected) << what;
        EXPECT_EQ(db_.Nodes().CountNodes(f), static_cast<int>(expected.size())) << what;
    }

    testing::TempDir dir_;
    SqliteDatabase db_{dir_.path() / "db.sqlite"};
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

NodeRule Rule(Strings tags, Strings types = {}) {
    return NodeRule{std::move(tags), std::move(types)};
}

NodeScopeFilter Scope(std::vector<NodeRule> allow, std::vector<NodeRule> deny = {}) {
    NodeScopeFilter s;
    s.allow = std::move(allow);
    s.deny = std::move(deny);
    return s;
}

std::vector<NodeScopeFilter> Scopes() {
    std::vector<NodeScopeFilter> out{
        Scope({Rule({"city:pune"})}),                            // one tag range
        Scope({Rule({"city:pune", "floor:1", "key:v:w"})}),      // a union of ranges
        Scope({Rule({"city:pune"}, {"Light"})}),                 // a tag of a type
        Scope({Rule({}, {"Fan"})}),                              // types only
        Scope({Rule({}, {"Fan", "Light"}), Rule({"floor:2"})}),  // both
        Scope({Rule({"city:goa"}, {"Switch", "Fan"}), Rule({"floor:3"})}),
        Scope({Rule({"city:pune"})}, {Rule({"floor:1"})}),    // a tag denied
        Scope({Rule({}, {"Light"})}, {Rule({}, {"Light"})}),  // all of it denied
        Scope({Rule({"nocolon"})}),                           // matches no node
        Scope({}),                                            // allows no node
        Scope({Rule({"city:delhi"})}, {Rule({})}),            // denies every node
    };
    out.push_back(Scope({Rule({}, {"Fan", "Light"})}, {Rule({"floor:1"}, {"Fan"})}));
    out.push_back(Scope({Rule({"city:pune", "nocolon"}, {"", "Fan"})}));  // type "": checked
    out.push_back(Scope({Rule({"floor:2"}), Rule({}, {""})}, {Rule({}, {""})}));
    NodeScopeFilter all;
    all.allow_all = true;
    all.deny = {Rule({"city:goa", "floor:4"}), Rule({}, {"Switch"})};
    out.push_back(all);
    // More ranges than the store reads as such: checked on each candidate.
    Strings many;
    for (int i = 0; i < 20; ++i) {
        many.push_back("floor:" + std::to_string(i));
    }
    many.push_back("city:pune");
    out.push_back(Scope({Rule(many)}));
    out.push_back(Scope({Rule({"city:delhi", "city:pune", "site:a b"})}, {Rule(many)}));
    return out;
}

TEST_F(AdminNodeSearchTest, ScopesNarrowEveryShapeExactly) {
    for (const auto& scope : Scopes()) {
        for (const auto& kind : Kinds()) {
            for (const auto& tags : Expressions()) {
                auto f = kind;
                f.tags = tags;
                f.scope = scope;
                ExpectSame(f, Describe(f));
            }
        }
        AdminNodeFilter f;
        f.scope = scope;
        f.status = NodeStatusFilter::kOffline;
        f.tags = Terms(false, {{"city", "pune"}, {"floor", "2"}});
        ExpectSame(f, Describe(f));
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
    const auto site = Scope({Rule({"city:pune"})}, {Rule({"floor:4"})});
    AdminNodeFilter scoped;
    scoped.scope = site;
    shapes.push_back(scoped);
    auto scoped_tm = tm;
    scoped_tm.scope = site;
    scoped_tm.tags = Terms(false, {{"city", "delhi"}, {"floor", "1"}});
    shapes.push_back(scoped_tm);
    for (const auto& f : shapes) {
        for (const auto& query :
             {SqliteNodeStore::SearchQuery(f, "", 100), SqliteNodeStore::CountQuery(f)}) {
            const auto plan = query.Plan(db_);
            ASSERT_FALSE(plan.empty());
            std::string text;
            for (const auto& line : plan) {
                text += line + "\n";
            }
            for (const auto& line : plan) {
                const auto step = line.substr(line.find_first_not_of(' '));
                EXPECT_TRUE(step.rfind("SCAN ", 0) != 0 || step.rfind("SCAN (subquery", 0) == 0)
                    << Describe(f) << "\n"
                    << text;
                EXPECT_EQ(step.find("TEMP B-TREE"), std::string::npos) << Describe(f) << "\n"
                                                                       << text;
            }
        }
    }
}

}  // namespace
}  // namespace rainmaker::storage::sqlite

namespace rainmaker::domain::nodes {
namespace {

class NoRevocations final : public CertificateRevocations {
public:
    void Changed() override {}
};

// AdminNodeService::Search for an RBAC-restricted admin: pages by next_id and totals equal the
// nodes the scope allows, whether the store's query carries the scope or, for a scope too large
// for it, the nodes are checked one by one.
TEST(AdminNodeScopedSearch, PagesAndTotalsAreTheScopesNodes) {
    testing::TempDir dir;
    storage::sqlite::SqliteDatabase db(dir.path() / "db.sqlite");
    testing::FakeClock clock;
    NoRevocations revocations;
    AdminNodeService service(db, revocations, clock);
    std::map<std::string, std::pair<std::string, std::set<std::string>>> nodes;  // type, tags
    for (int i = 0; i < 60; ++i) {
        storage::NodeRow row;
        row.node_id = "node" + std::to_string(1000 + i * 7 % 60);
        row.node_type = i % 3 == 0 ? "Light" : "Fan";
        ASSERT_TRUE(db.Nodes().Insert(row));
        std::vector<std::string> tags{"site:" + std::to_string(i % 4)};
        if (i % 5 == 0) {
            tags.push_back("vip:yes");
        }
        db.Tags().Attach(storage::TagResource::kNode, row.node_id, tags);
        nodes[row.node_id] = {row.node_type, {tags.begin(), tags.end()}};
    }
    auth::AuthContext admin;
    admin.user_id = "support";
    admin.role = auth::PlatformRole::kAdmin;
    auto scope = std::make_shared<rbac::NodeScope>();
    scope->allow.push_back({rbac::NodeFilter{{"site:1", "site:2"}, {}}});
    scope->allow.push_back({rbac::NodeFilter{{}, {"Light"}}});
    scope->deny.push_back({rbac::NodeFilter{{"vip:yes"}, {}}});
    const auto expected = [&](const std::optional<std::string>& type) {
        std::vector<std::string> ids;
        for (const auto& [id, node] : nodes) {
            const std::vector<std::string> tags(node.second.begin(), node.second.end());
            if ((!type || node.first == *type) &&
                scope->Allows(rbac::NodeFacts{node.first, tags})) {
                ids.push_back(id);
            }
        }
        return ids;
    };
    const auto walk = [&](std::optional<std::string> type) {
        AdminNodeQuery q;
        q.type = std::move(type);
        q.num_records = 4;
        std::vector<std::string> ids;
        int total = -1;
        for (int pages = 0; pages < 100; ++pages) {
            const auto page = service.Search(admin, q);
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
    };
    admin.node_scope = scope;
    ASSERT_TRUE(StoreSearchTakes(*ScopeFilterOf(admin)));
    const auto all = expected(std::nullopt);
    ASSERT_GT(all.size(), 10u);
    ASSERT_LT(all.size(), nodes.size());
    EXPECT_EQ(walk(std::nullopt), all);
    EXPECT_EQ(walk("Fan"), expected("Fan"));
    EXPECT_EQ(walk("Light"), expected("Light"));

    // The same scope with more rules than the store's query takes (rules matching no node).
    auto large = std::make_shared<rbac::NodeScope>(*scope);
    for (int i = 0; i < 40; ++i) {
        large->allow.push_back({rbac::NodeFilter{{"none:" + std::to_string(i)}, {}}});
    }
    admin.node_scope = large;
    ASSERT_FALSE(StoreSearchTakes(*ScopeFilterOf(admin)));
    EXPECT_EQ(walk(std::nullopt), all);
    EXPECT_EQ(walk("Fan"), expected("Fan"));
}

}  // namespace
}  // namespace rainmaker::domain::nodes

// The admin node search (GET /admin/nodes, #23) over 1,000,000 nodes, in process, beside
// hand-written SQL on the same file in the same run:
//
//   1. fills a store (migrations applied) with 1,000,000 nodes: 10 types x 10 models x 5
//      firmware versions, each node tagged location:<one of 10 cities> and floor:<1..20>
//      (2,000,000 tag rows);
//   2. times AdminNodeService::Search (a page of 100 with its total and each node's tags, as the
//      route answers) for type + model + tags (one tag, an OR and an AND of two), type + model
//      alone, and tags alone (one, OR, AND); beside it, interleaved run by run, the same answer
//      from hand-written SQL on a second connection to the file (the index ranges the store
//      reads: the page's ids and rows, their tags in one statement, the count); then, in a loop
//      of their own, the statements the store ran before V023 (a primary-key probe of
//      resource_tags per candidate node, an IN list for tags alone);
//   3. times the search of an admin restricted by an RBAC scope (tags floor:1..5, and the same
//      with location:surat denied) beside the same search unrestricted, and the same scope made
//      large with 33 more tags no node has (past the 16 ranges the store reads as such: its
//      tags as lists bound as JSON, joined to the tag indexes without tag terms in the search,
//      checked on each candidate of their ranges with them); the OR of two terms under a scope
//      of several ranges is checked on each candidate too (a union would nest in the OR);
//   4. prints EXPLAIN QUERY PLAN of each statement the store runs (SqliteNodeStore::SearchQuery
//      and CountQuery with their arguments bound) and the size of the tag indexes.
//
//   admin_nodes_query [--runs N] [--nodes N]
//
// Prints Markdown. The database lives in a temporary directory removed at the end.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/clock.hpp"
#include "domain/nodes/admin_node_service.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/tags/tags.hpp"
#include "fixed_clock.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/sqlite/sqlite_node_store.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

class NoRevocations final : public domain::nodes::CertificateRevocations {
public:
    void Changed() override {}
};

void Check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
    }
}

const char* kCities[] = {
    "pune",
    "delhi",
    "mumbai",
    "chennai",
    "kolkata",
    "bangalore",
    "hyderabad",
    "jaipur",
    "surat",
    "lucknow"};

class Raw {
public:
    explicit Raw(const std::filesystem::path& file) {
        Check(sqlite3_open(file.c_str(), &db_), db_, "open");
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    }

    ~Raw() { sqlite3_close(db_); }

    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;

    void Exec(const std::string& sql) {
        Check(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), db_, "exec");
    }

    void Fill(int count) {
        Exec("BEGIN");
        sqlite3_stmt* node = nullptr;
        sqlite3_stmt* tag = nullptr;
        Check(
            sqlite3_prepare_v2(
                db_,
                "INSERT INTO nodes(node_id, created_at, config, node_type, model, fw_version, "
                "connected, connectivity_at) VALUES (?, 1, '{}', ?, ?, ?, ?, ?)",
                -1,
                &node,
                nullptr
            ),
            db_,
            "prepare"
        );
        Check(
            sqlite3_prepare_v2(
                db_,
                "INSERT INTO resource_tags(resource_type, resource_id, tag_name, tag_value, "
                "created_at) VALUES ('node', ?, ?, ?, 1)",
                -1,
                &tag,
                nullptr
            ),
            db_,
            "prepare"
        );
        std::uint64_t x = 88172645463325252ULL;
        for (int i = 0; i < count; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char id[32];
            std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(x));
            const std::string type = "type" + std::to_string(x % 10);
            const std::string model = "model" + std::to_string((x / 10) % 10);
            const std::string fw = "1." + std::to_string((x / 100) % 5);
            sqlite3_bind_text(node, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(node, 2, type.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(node, 3, model.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(node, 4, fw.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(node, 5, static_cast<int>((x / 500) % 2));
            sqlite3_bind_int64(
                node, 6, static_cast<sqlite3_int64>(1798761600000LL - (x % 1000000))
            );
            Check(sqlite3_step(node), db_, "insert node");
            sqlite3_reset(node);
            const std::string city = kCities[(x / 1000) % 10];
            const std::string floor = std::to_string((x / 10000) % 20 + 1);
            for (const auto& [name, value] :
                 {std::pair<std::string, std::string>{"location", city}, {"floor", floor}}) {
                sqlite3_bind_text(tag, 1, id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(tag, 2, name.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(tag, 3, value.c_str(), -1, SQLITE_TRANSIENT);
                Check(sqlite3_step(tag), db_, "insert tag");
                sqlite3_reset(tag);
            }
        }
        sqlite3_finalize(node);
        sqlite3_finalize(tag);
        Exec("COMMIT");
    }

    // Runs `sql` to the end; returns the first column of each row.
    std::vector<std::string> Column(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        Check(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), db_, "prepare");
        std::vector<std::string> out;
        while (sqlite3_step(s) == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(s, 0);
            out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
        }
        sqlite3_finalize(s);
        return out;
    }

    // A page as GET /admin/nodes answers it by hand: the rows of `page_sql` (node ids first),
    // the tags of those nodes in one statement, and the count. Returns the count.
    std::int64_t Page(const std::string& page_sql, const std::string& count_sql) {
        const auto ids = Column(page_sql);
        if (!ids.empty()) {
            std::string in;
            for (const auto& id : ids) {
                in += (in.empty() ? "'" : ",'") + id + "'";
            }
            Column(
                "SELECT resource_id, tag_name || ':' || tag_value FROM resource_tags WHERE "
                "resource_type = 'node' AND resource_id IN (" +
                in + ") ORDER BY 1, 2"
            );
        }
        const auto count = Column(count_sql);
        return count.empty() ? -1 : std::atoll(count[0].c_str());
    }

private:
    sqlite3* db_ = nullptr;
};

struct Stats {
    double p50 = 0;
    double p99 = 0;
};

Stats Of(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

double Ms(const std::function<void()>& run) {
    const auto start = Clock::now();
    run();
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Times the runs interleaved (a, b, c, a, b, c, ...) after one warm-up each, so a change in the
// shared machine's load falls on all of them alike.
std::vector<Stats> Interleaved(int runs, const std::vector<std::function<void()>>& each) {
    std::vector<std::vector<double>> ms(each.size());
    for (const auto& run : each) {
        run();
    }
    for (int i = 0; i < runs; ++i) {
        for (std::size_t k = 0; k < each.size(); ++k) {
            ms[k].push_back(Ms(each[k]));
        }
    }
    std::vector<Stats> out;
    for (auto& samples : ms) {
        out.push_back(Of(std::move(samples)));
    }
    return out;
}

struct Case {
    const char* label;
    std::string type;
    std::string model;
    std::string tags;
    std::string raw_page;   // hand-written: SELECT * of the page's nodes, ids first
    std::string raw_count;  // hand-written: the total
    std::string old_page;   // the store's statements before V023
    std::string old_count;
};

const std::string kTm = "node_type = 'type3' AND model = 'model7'";

std::string Probe(const std::string& name, const std::string& value) {
    return "EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_type = 'node' AND "
           "t.resource_id = nodes.node_id AND t.tag_name = '" +
           name + "' AND t.tag_value = '" + value + "')";
}

// The ids of one tag's nodes (of type3/model7 with `tm`), in id order.
std::string Range(const std::string& name, const std::string& value, bool tm, bool page) {
    return "SELECT resource_id FROM resource_tags WHERE resource_type = 'node' AND tag_name = '" +
           name + "' AND tag_value = '" + value + "'" + (tm ? " AND " + kTm : "") +
           (page ? " AND resource_id > ''" : "");
}

std::string PageOfIds(const std::string& ids) {
    return "SELECT * FROM nodes WHERE node_id IN (" + ids +
           " ORDER BY 1 LIMIT 101) ORDER BY "
           "node_id";
}

Case Shape(
    const char* label,
    bool tm,
    const std::vector<std::pair<std::string, std::string>>& terms,
    const char* op  // "OR", "AND" or "" (one term or none)
) {
    Case c;
    c.label = label;
    if (tm) {
        c.type = "type3";
        c.model = "model7";
    }
    std::string probes;
    std::string page_ids;
    std::string count_ids;
    std::string in_list;
    for (const auto& [name, value] : terms) {
        const std::string joiner =
            std::string(" ") + (std::string(op) == "OR" ? "UNION" : "INTERSECT") + " ";
        c.tags += (c.tags.empty() ? "" : std::string(" ") + op + " ") + name + ":" + value;
        probes += (probes.empty() ? "" : std::string(" ") + op + " ") + Probe(name, value);
        page_ids += (page_ids.empty() ? "" : joiner) + Range(name, value, tm, true);
        count_ids += (count_ids.empty() ? "" : joiner) + Range(name, value, tm, false);
        in_list += std::string(in_list.empty() ? "" : " OR ") + "(tag_name = '" + name +
                   "' AND tag_value = '" + value + "')";
    }
    if (terms.empty()) {
        const std::string where = " WHERE node_id > '' AND " + kTm;
        c.raw_page = "SELECT * FROM nodes" + where + " ORDER BY node_id LIMIT 101";
        c.raw_count = "SELECT COUNT(*) FROM nodes WHERE " + kTm;
        c.old_page = c.raw_page;
        c.old_count = c.raw_count;
        return c;
    }
    c.raw_page = PageOfIds(page_ids);
    c.raw_count = "SELECT COUNT(*) FROM (" + count_ids + (terms.size() > 1 ? " ORDER BY 1)" : ")");
    if (tm) {
        const std::string where = " WHERE node_id > '' AND " + kTm + " AND (" + probes + ")";
        c.old_page = "SELECT * FROM nodes" + where + " ORDER BY node_id LIMIT 101";
        c.old_count = "SELECT COUNT(*) FROM nodes WHERE " + kTm + " AND (" + probes + ")";
    } else {
        const std::string need = std::string(op) == "AND" ? std::to_string(terms.size()) : "1";
        const std::string in =
            " node_id IN (SELECT resource_id FROM resource_tags WHERE "
            "resource_type = 'node' AND (" +
            in_list + ") GROUP BY resource_id HAVING COUNT(*) >= " + need + ")";
        c.old_page =
            "SELECT * FROM nodes WHERE node_id > '' AND" + in + " ORDER BY node_id LIMIT 101";
        c.old_count = "SELECT COUNT(*) FROM nodes WHERE" + in;
    }
    return c;
}

domain::nodes::AdminNodeQuery QueryOf(
    const std::string& type, const std::string& model, const std::string& tags
) {
    domain::nodes::AdminNodeQuery q;
    if (!type.empty()) {
        q.type = type;
        q.model = model;
    }
    if (!tags.empty()) {
        q.tags = tags;
    }
    q.num_records = 100;
    return q;
}

// The filter AdminNodeService::Search gives the store for `q` and `caller`.
storage::AdminNodeFilter FilterOf(
    const domain::nodes::AdminNodeQuery& q, const domain::auth::AuthContext& caller
) {
    storage::AdminNodeFilter f;
    f.node_type = q.type.value_or("");
    f.model = q.model.value_or("");
    if (q.tags) {
        f.tags = domain::tags::ParseExpression(*q.tags).query;
    }
    f.scope = domain::nodes::ScopeFilterOf(caller);
    return f;
}

void PrintPlans(
    storage::sqlite::SqliteDatabase& db, const std::string& label, const storage::AdminNodeFilter& f
) {
    std::printf("%s\n```\n", label.c_str());
    for (const auto& query :
         {storage::sqlite::SqliteNodeStore::SearchQuery(f, "", 101),
          storage::sqlite::SqliteNodeStore::CountQuery(f)}) {
        for (const auto& line : query.Plan(db)) {
            std::printf("%s\n", line.c_str());
        }
        std::printf("--\n");
    }
    std::printf("```\n");
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 200;
    int count = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--nodes") {
            count = std::max(1, std::atoi(argv[i + 1]));
        }
    }
    char pattern[] = "/tmp/rm-bench-nodes-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        return 1;
    }
    const std::filesystem::path dir = pattern;
    const auto file = dir / "rainmaker.db";
    int status = 0;
    try {
        storage::sqlite::SqliteDatabase db(file);
        Raw raw(file);
        const auto fill_start = Clock::now();
        raw.Fill(count);
        std::printf(
            "filled %d nodes and %d tags in %.1f s\n\n",
            count,
            2 * count,
            std::chrono::duration<double>(Clock::now() - fill_start).count()
        );
        bench::FixedClock clock(1798761600);
        NoRevocations revocations;
        // The largest budget the configuration takes: the bench measures, it does not cut.
        domain::nodes::AdminNodeService service(
            db, revocations, clock, domain::nodes::AdminNodeConfig{std::chrono::seconds(60)}
        );
        domain::auth::AuthContext admin;  // an admin with no RBAC role
        admin.role = domain::auth::PlatformRole::kAdmin;

        const std::vector<Case> cases{
            Shape("type + model + 1 tag", true, {{"location", "pune"}}, ""),
            Shape(
                "type + model + tag OR tag",
                true,
                {{"location", "delhi"}, {"location", "pune"}},
                "OR"
            ),
            Shape(
                "type + model + tag AND tag", true, {{"floor", "3"}, {"location", "pune"}}, "AND"
            ),
            Shape("type + model, no tags", true, {}, ""),
            Shape("1 tag, no type", false, {{"location", "pune"}}, ""),
            Shape(
                "tag OR tag, no type", false, {{"location", "delhi"}, {"location", "pune"}}, "OR"
            ),
            Shape("tag AND tag, no type", false, {{"floor", "3"}, {"location", "pune"}}, "AND"),
        };

        // The statements of before take up to seconds a run over tags alone: fewer runs.
        const int old_runs = std::min(runs, 30);
        std::printf(
            "| query (page of 100 + total, %d runs) | matches | store p50 | store p99 | raw SQL "
            "p50 | raw SQL p99 | store / raw (p50) | before V023 p50 (%d runs) | before V023 p99 "
            "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            runs,
            old_runs
        );
        std::vector<std::pair<std::string, storage::AdminNodeFilter>> plans;
        for (const auto& c : cases) {
            const auto q = QueryOf(c.type, c.model, c.tags);
            int total = 0;
            std::int64_t raw_total = 0;
            std::int64_t old_total = 0;
            auto stats = Interleaved(
                runs,
                {[&] { total = service.Search(admin, q).total; },
                 [&] { raw_total = raw.Page(c.raw_page, c.raw_count); }}
            );
            // Apart: the statements of before fill the caches with what the others do not read.
            stats.push_back(Interleaved(old_runs, {[&] {
                                            old_total = raw.Page(c.old_page, c.old_count);
                                        }})[0]);
            if (raw_total != total || old_total != total) {
                throw std::runtime_error(
                    std::string(c.label) + ": totals differ: store " + std::to_string(total) +
                    ", raw " + std::to_string(raw_total) + ", before " + std::to_string(old_total)
                );
            }
            std::printf(
                "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f | %.2f ms | %.2f ms |\n",
                c.label,
                total,
                stats[0].p50,
                stats[0].p99,
                stats[1].p50,
                stats[1].p99,
                stats[0].p50 / stats[1].p50,
                stats[2].p50,
                stats[2].p99
            );
            plans.emplace_back(c.label, FilterOf(q, admin));
        }

        // An admin whose roles reach the nodes on floors 1-5 (a quarter of them), and one
        // whose roles also deny those in Surat.
        auto floors = std::make_shared<domain::rbac::NodeScope>();
        floors->allow.push_back({domain::rbac::NodeFilter{
            {"floor:1", "floor:2", "floor:3", "floor:4", "floor:5"}, {}}});
        auto floors_but_surat = std::make_shared<domain::rbac::NodeScope>(*floors);
        floors_but_surat->deny.push_back({domain::rbac::NodeFilter{{"location:surat"}, {}}});

        struct Scoped {
            const char* label;
            std::shared_ptr<const domain::rbac::NodeScope> scope;
            domain::nodes::AdminNodeQuery query;
        };

        const std::vector<Scoped> scoped{
            {"type + model + 1 tag, floors 1-5",
             floors,
             QueryOf("type3", "model7", "location:pune")},
            {"type + model + 1 tag, floors 1-5 but Surat",
             floors_but_surat,
             QueryOf("type3", "model7", "location:pune")},
            {"no filter, floors 1-5", floors, QueryOf("", "", "")},
            {"no filter, floors 1-5 but Surat", floors_but_surat, QueryOf("", "", "")},
            // The scope's union would nest in the search's OR: checked on each candidate.
            {"type + model + tag OR tag, floors 1-5",
             floors,
             QueryOf("type3", "model7", "location:delhi OR location:pune")},
            {"tag OR tag, floors 1-5", floors, QueryOf("", "", "location:delhi OR location:pune")},
        };
        // The large scope without tag terms sorts every id in reach: fewer runs.
        const int large_runs = std::min(runs, 30);
        std::printf(
            "\nRBAC-restricted admin (%d runs; large scope: %d runs)\n\n| query | in reach | "
            "scoped p50 | scoped p99 | same query unrestricted p50 | scoped / unrestricted | "
            "large scope p50 | large scope p99 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
            runs,
            large_runs
        );
        for (const auto& s : scoped) {
            auto restricted = admin;
            restricted.user_id = "support";
            restricted.node_scope = s.scope;
            // The same scope with 33 more allowed tags no node has: past the ranges the store
            // reads as such, so its tags are lists.
            auto large = std::make_shared<domain::rbac::NodeScope>(*s.scope);
            for (int i = 0; i < 33; ++i) {
                large->allow.push_back({domain::rbac::NodeFilter{{"none:" + std::to_string(i)}, {}}}
                );
            }
            auto large_scoped = restricted;
            large_scoped.node_scope = large;
            int total = 0;
            int large_total = 0;
            const auto stats = Interleaved(
                runs,
                {[&] { total = service.Search(restricted, s.query).total; },
                 [&] { service.Search(admin, s.query); }}
            );
            const auto wide = Interleaved(
                large_runs, {[&] { large_total = service.Search(large_scoped, s.query).total; }}
            );
            if (large_total != total) {
                throw std::runtime_error(
                    std::string(s.label) + ": totals differ: " + std::to_string(total) +
                    " with the scope, " + std::to_string(large_total) + " with the large scope"
                );
            }
            std::printf(
                "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f | %.2f ms | %.2f ms |\n",
                s.label,
                total,
                stats[0].p50,
                stats[0].p99,
                stats[1].p50,
                stats[0].p50 / stats[1].p50,
                wide[0].p50,
                wide[0].p99
            );
            plans.emplace_back(std::string(s.label) + " (scoped)", FilterOf(s.query, restricted));
            plans.emplace_back(
                std::string(s.label) + " (large scope)", FilterOf(s.query, large_scoped)
            );
        }

        std::printf("\nSizes (dbstat):\n\n| b-tree | MB |\n|---|---:|\n");
        std::vector<std::string> sizes;
        try {
            sizes = raw.Column(
                "SELECT name || ' | ' || printf('%.1f', SUM(pgsize) / 1048576.0) FROM dbstat "
                "WHERE name IN ('nodes', 'resource_tags', 'resource_tags_node_search', "
                "'resource_tags_by_tag', 'resource_tags_by_name') GROUP BY name ORDER BY name"
            );
        } catch (const std::exception&) {
            sizes.emplace_back("(this SQLite has no dbstat) | -");
        }
        for (const auto& row : sizes) {
            std::printf("| %s |\n", row.c_str());
        }

        std::printf("\nEXPLAIN QUERY PLAN of the store's statements (the page, then the count):\n\n"
        );
        for (const auto& [label, filter] : plans) {
            PrintPlans(db, label, filter);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "admin_nodes_query: %s\n", e.what());
        status = 1;
    }
    std::filesystem::remove_all(dir);
    return status;
}

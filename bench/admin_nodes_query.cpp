// The admin node search (GET /admin/nodes, #23) over 1,000,000 nodes, in process, beside
// hand-written SQL on the same file in the same run:
//
//   1. fills a store (migrations applied) with 1,000,000 nodes: 10 types x 10 models x 5
//      firmware versions, each node tagged location:<one of 10 cities> and floor:<1..20>
//      (2,000,000 tag rows);
//   2. times AdminNodeService::Search for type + model + tags (a page of 100 with its total and
//      each node's tags, as the route answers), with one tag, with an OR of two and an AND of
//      two, and with tags alone; and the same page and count as hand-written SQL on a second
//      connection to the file;
//   3. prints EXPLAIN QUERY PLAN of each query the store runs (the same SQL text).
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
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/clock.hpp"
#include "domain/nodes/admin_node_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

class FixedClock final : public core::Clock {
public:
    std::chrono::system_clock::time_point Now() const override {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1798761600));
    }

    std::chrono::steady_clock::time_point Monotonic() const override {
        return std::chrono::steady_clock::now();
    }
};

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

    // Runs `sql` to the end; returns the rows.
    int Rows(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        Check(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), db_, "prepare");
        int n = 0;
        while (sqlite3_step(s) == SQLITE_ROW) {
            ++n;
        }
        sqlite3_finalize(s);
        return n;
    }

    std::vector<std::string> Plan(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        Check(
            sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr),
            db_,
            "prepare"
        );
        std::vector<std::string> out;
        while (sqlite3_step(s) == SQLITE_ROW) {
            out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
        }
        sqlite3_finalize(s);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

struct Stats {
    double p50 = 0;
    double p99 = 0;
};

Stats Time(int runs, const std::function<void()>& run) {
    run();
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        run();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

struct Case {
    const char* label;
    std::string type;
    std::string model;
    std::string tags;
    std::string page_sql;   // hand-written: the page of 100 with each node's tags
    std::string count_sql;  // hand-written: the total
};

const std::string kTagProbe =
    "EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_type = 'node' AND t.resource_id = "
    "nodes.node_id AND t.tag_name = '%N' AND t.tag_value = '%V')";

std::string Probe(const std::string& name, const std::string& value) {
    std::string s = kTagProbe;
    s.replace(s.find("%N"), 2, name);
    s.replace(s.find("%V"), 2, value);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 200;
    int count = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::atoi(argv[i + 1]);
        } else if (flag == "--nodes") {
            count = std::atoi(argv[i + 1]);
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
        FixedClock clock;
        NoRevocations revocations;
        domain::nodes::AdminNodeService service(db, revocations, clock);

        const std::string cols = "SELECT node_id, node_type, model, fw_version FROM nodes";
        const std::string tm = " WHERE node_id > '' AND node_type = 'type3' AND model = 'model7'";
        const std::string page_tail = " ORDER BY node_id LIMIT 101";
        const std::string tags_of =
            "SELECT tag_name || ':' || tag_value FROM resource_tags WHERE resource_type = 'node' "
            "AND resource_id IN (SELECT node_id FROM (%PAGE%)) ORDER BY 1";
        std::vector<Case> cases;
        const auto hand = [&](const char* label,
                              std::string type,
                              std::string model,
                              std::string tags,
                              const std::string& where) {
            const std::string page = cols + where + page_tail;
            std::string with_tags = tags_of;
            with_tags.replace(with_tags.find("%PAGE%"), 6, page);
            cases.push_back(
                {label,
                 std::move(type),
                 std::move(model),
                 std::move(tags),
                 page + ";" + with_tags,
                 "SELECT COUNT(*) FROM nodes" + where}
            );
        };
        hand(
            "type + model + 1 tag",
            "type3",
            "model7",
            "location:pune",
            tm + " AND (" + Probe("location", "pune") + ")"
        );
        hand(
            "type + model + tag OR tag",
            "type3",
            "model7",
            "location:pune OR location:delhi",
            tm + " AND (" + Probe("location", "delhi") + " OR " + Probe("location", "pune") + ")"
        );
        hand(
            "type + model + tag AND tag",
            "type3",
            "model7",
            "location:pune AND floor:3",
            tm + " AND (" + Probe("floor", "3") + " AND " + Probe("location", "pune") + ")"
        );
        hand("type + model, no tags", "type3", "model7", "", tm);
        hand(
            "1 tag, no type",
            "",
            "",
            "location:pune",
            " WHERE node_id > '' AND node_id IN (SELECT resource_id FROM resource_tags WHERE "
            "resource_type = 'node' AND (tag_name = 'location' AND tag_value = 'pune') GROUP BY "
            "resource_id HAVING COUNT(*) >= 1)"
        );

        std::printf(
            "| query (page of 100 + total, %d runs) | matches | store p50 | store p99 | "
            "raw SQL p50 | raw SQL p99 |\n|---|---|---|---|---|---|\n",
            runs
        );
        for (const auto& c : cases) {
            domain::nodes::AdminNodeQuery q;
            if (!c.type.empty()) {
                q.type = c.type;
                q.model = c.model;
            }
            if (!c.tags.empty()) {
                q.tags = c.tags;
            }
            q.num_records = 100;
            int total = 0;
            rainmaker::domain::auth::AuthContext admin;  // an admin with no RBAC role
            admin.role = rainmaker::domain::auth::PlatformRole::kAdmin;
            const auto store = Time(runs, [&] { total = service.Search(admin, q).total; });
            const auto page_end = c.page_sql.find(';');
            const auto sql = Time(runs, [&] {
                raw.Rows(c.page_sql.substr(0, page_end));
                raw.Rows(c.page_sql.substr(page_end + 1));
                raw.Rows(c.count_sql);
            });
            std::printf(
                "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms |\n",
                c.label,
                total,
                store.p50,
                store.p99,
                sql.p50,
                sql.p99
            );
        }
        std::printf("\nEXPLAIN QUERY PLAN of the store's statements:\n\n");
        for (const auto& c : cases) {
            std::printf("%s\n```\n", c.label);
            for (const auto* sql : {&c.page_sql, &c.count_sql}) {
                const auto end = sql->find(';');
                for (const auto& line : raw.Plan(sql->substr(0, end))) {
                    std::printf("%s\n", line.c_str());
                }
                std::printf("--\n");
            }
            std::printf("```\n");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "admin_nodes_query: %s\n", e.what());
        status = 1;
    }
    std::filesystem::remove_all(dir);
    return status;
}

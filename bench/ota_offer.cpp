// Offering an OTA job to 10,000 nodes, in process, beside hand-written SQL on the same file in
// the same run:
//
//   1. fills a store (migrations applied) with N connected nodes and one image;
//   2. times OtaJobService::Create of a FFFF-FFFF job (a row per node, every node queued for its
//      push) and OtaDelivery::DrainQueue with no pace (each node's best offer chosen, its row
//      triggered, its otaurl built and handed to a publisher that counts); then N otafetch
//      messages of a second job through NodeIngest in batches of 512 per transaction, as the
//      broker link applies them;
//   3. times the same work as hand-written SQL on a second connection: one INSERT ... SELECT of
//      the rows and the queue, then per node one read of the job and image, one UPDATE of its
//      row and an snprintf of the payload, in one transaction.
//
//   ota_offer [--nodes N] [--runs N]
//
// Prints Markdown. The database lives in a temporary directory removed at the end.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/clock.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "domain/ota/ota_job_service.hpp"
#include "fixed_clock.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

class CountingPublisher final : public domain::nodes::NodePublisher {
public:
    bool Publish(std::string_view, std::string_view, std::string_view payload) override {
        ++count;
        bytes += payload.size();
        return true;
    }

    std::size_t count = 0;
    std::size_t bytes = 0;
};

class Urls final : public domain::ota::ImageUrlSource {
public:
    std::string DownloadUrl(const std::string& key, const std::string& name, std::chrono::seconds)
        const override {
        return "https://ota.example.com/fw/" + key + "/" + name +
               "?X-Expires=86400&X-Signature=" + std::string(64, 'f');
    }
};

void Check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
    }
}

double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::string NodeId(int i) {
    char id[32];
    std::snprintf(id, sizeof id, "node%018d", i);
    return id;
}

// The baseline: the same rows and payloads with hand-written statements.
class Raw {
public:
    explicit Raw(const std::filesystem::path& file) {
        Check(sqlite3_open(file.c_str(), &db_), db_, "open");
        sqlite3_busy_timeout(db_, 10000);
    }

    ~Raw() { sqlite3_close(db_); }

    void Exec(const char* sql) {
        Check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), db_, sql);
    }

    // Rows for every node and every connected node queued.
    void Create(const std::string& job) {
        Exec("BEGIN IMMEDIATE");
        Run("INSERT INTO ota_job_nodes(ota_job_id, node_id, status, updated_at) SELECT ?1, "
            "node_id, "
            "'pending', 0 FROM nodes",
            job);
        Run("INSERT OR IGNORE INTO ota_push_queue(node_id) SELECT n.node_id FROM ota_job_nodes n "
            "JOIN nodes d ON d.node_id = n.node_id WHERE n.ota_job_id = ?1 AND d.connected = 1",
            job);
        Exec("COMMIT");
    }

    // Takes the queue, reads each node's job and image, marks it triggered, builds the otaurl.
    std::size_t Offer() {
        std::size_t bytes = 0;
        Exec("BEGIN IMMEDIATE");
        sqlite3_stmt* take = Prepare("SELECT node_id FROM ota_push_queue ORDER BY seq");
        sqlite3_stmt* read = Prepare(
            "SELECT j.ota_job_id, i.blob_key, i.file_size, i.file_md5, i.fw_version, j.metadata "
            "FROM ota_job_nodes n JOIN ota_jobs j ON j.ota_job_id = n.ota_job_id JOIN ota_images "
            "i ON i.ota_image_id = j.ota_image_id WHERE n.node_id = ?1 AND j.status = 'active' "
            "ORDER BY j.priority, j.created_at LIMIT 1"
        );
        sqlite3_stmt* mark = Prepare(
            "UPDATE ota_job_nodes SET status = 'triggered', updated_at = 1 WHERE ota_job_id = ?1 "
            "AND node_id = ?2"
        );
        std::vector<std::string> nodes;
        while (sqlite3_step(take) == SQLITE_ROW) {
            nodes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(take, 0)));
        }
        char payload[1024];
        for (const auto& node : nodes) {
            sqlite3_bind_text(read, 1, node.c_str(), -1, SQLITE_STATIC);
            if (sqlite3_step(read) == SQLITE_ROW) {
                const auto* job = reinterpret_cast<const char*>(sqlite3_column_text(read, 0));
                const int n = std::snprintf(
                    payload,
                    sizeof payload,
                    R"({"ota_job_id":"%s","url":"https://ota.example.com/fw/%s/x.bin","file_size":%lld,"file_md5":"%s","fw_version":"%s","metadata":%s})",
                    job,
                    reinterpret_cast<const char*>(sqlite3_column_text(read, 1)),
                    static_cast<long long>(sqlite3_column_int64(read, 2)),
                    reinterpret_cast<const char*>(sqlite3_column_text(read, 3)),
                    reinterpret_cast<const char*>(sqlite3_column_text(read, 4)),
                    reinterpret_cast<const char*>(sqlite3_column_text(read, 5))
                );
                bytes += static_cast<std::size_t>(n);
                sqlite3_bind_text(mark, 1, job, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(mark, 2, node.c_str(), -1, SQLITE_STATIC);
                Check(sqlite3_step(mark), db_, "mark");
                sqlite3_reset(mark);
            }
            sqlite3_reset(read);
        }
        Exec("DELETE FROM ota_push_queue");
        Exec("COMMIT");
        sqlite3_finalize(take);
        sqlite3_finalize(read);
        sqlite3_finalize(mark);
        return bytes;
    }

private:
    sqlite3_stmt* Prepare(const char* sql) {
        sqlite3_stmt* s = nullptr;
        Check(sqlite3_prepare_v2(db_, sql, -1, &s, nullptr), db_, sql);
        return s;
    }

    void Run(const char* sql, const std::string& arg) {
        sqlite3_stmt* s = Prepare(sql);
        sqlite3_bind_text(s, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
        Check(sqlite3_step(s), db_, sql);
        sqlite3_finalize(s);
    }

    sqlite3* db_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
    int nodes = 10000;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--nodes") {
            nodes = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        }
    }
    char pattern[] = "/tmp/ota-offer-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::filesystem::path dir = made;
    bench::FixedClock clock(1798761600);
    std::vector<double> create_ms;
    std::vector<double> drain_ms;
    std::vector<double> fetch_ms;
    std::vector<double> raw_create_ms;
    std::vector<double> raw_offer_ms;
    std::size_t sent = 0;
    std::size_t sent_bytes = 0;
    std::size_t raw_bytes = 0;
    try {
        for (int run = 0; run < runs; ++run) {
            const auto file = dir / ("run" + std::to_string(run) + ".db");
            storage::sqlite::SqliteDatabase db(file);
            db.Transaction([&] {
                for (int i = 0; i < nodes; ++i) {
                    storage::NodeRow n;
                    n.node_id = NodeId(i);
                    n.created_at = 1;
                    db.Nodes().Insert(n);
                    db.Nodes().PutConfig(n.node_id, "{}", "Lightbulb", "m", "1.0.0");
                    db.Nodes().ApplyPresence(n.node_id, true, 1000, 1);
                }
                storage::OtaImageRow image;
                image.ota_image_id = "image-2";
                image.image_name = "light-2.0.0";
                image.type = image.model = "led_light";
                image.fw_version = "2.0.0";
                image.blob_key = std::string(64, 'a');
                image.file_size = 1572864;
                image.file_md5 = std::string(32, 'b');
                image.uploaded_by = "admin";
                db.OtaImages().Insert(image);
            });
            CountingPublisher publisher;
            Urls urls;
            domain::ota::OtaDeliveryConfig config;
            config.push_per_second = nodes;  // no pace: the work itself
            domain::ota::OtaDelivery delivery(db, publisher, urls, clock, config);
            domain::ota::OtaJobService jobs(db, clock);
            domain::nodes::MappingService mapping(db, clock);
            domain::nodes::NodeIngest ingest(db, mapping, clock);
            delivery.RegisterIngest(ingest);
            const domain::auth::AuthContext admin{
                "admin", "admin@x.com", "s", domain::auth::PlatformRole::kAdmin};

            domain::ota::JobInput in;
            in.ota_job_name = "rollout";
            in.ota_image_id = "image-2";
            in.groups = std::vector<std::string>{"FFFF-FFFF"};
            in.metadata = boost::json::parse(R"({"download_window":{"start":0,"end":1439}})");
            auto t0 = Clock::now();
            const auto job = jobs.Create(admin, in);
            create_ms.push_back(Ms(Clock::now() - t0));
            t0 = Clock::now();
            while (delivery.DrainQueue() > 0) {
            }
            drain_ms.push_back(Ms(Clock::now() - t0));
            sent = publisher.count;
            sent_bytes = publisher.bytes;

            // A second job, dynamic and of a higher priority, that every node asks for (its
            // pushes are taken off the queue unsent).
            in.ota_job_name = "fetched";
            in.groups.reset();
            in.node_type = "Lightbulb";  // dynamic: each fetch makes the node's row
            in.priority = 1;
            jobs.Create(admin, in);
            db.Transaction([&] { db.OtaJobs().TakeQueued(nodes); });
            t0 = Clock::now();
            for (int from = 0; from < nodes; from += 512) {
                db.Transaction([&] {
                    for (int i = from; i < std::min(nodes, from + 512); ++i) {
                        const auto id = NodeId(i);
                        ingest.Handle(
                            id, "otafetch", R"({"node_id":")" + id + R"(","fw_version":"1.0.0"})"
                        );
                    }
                });
            }
            fetch_ms.push_back(Ms(Clock::now() - t0));
            if (publisher.count != sent + static_cast<std::size_t>(nodes)) {
                throw std::runtime_error("not every otafetch was answered");
            }

            // The baseline on a fresh copy of the same world (a second job and its rows).
            Raw raw(file);
            raw.Exec(
                "INSERT INTO ota_jobs(ota_job_id, ota_job_name, ota_image_id, priority, status, "
                "created_by, created_at, metadata) VALUES ('raw-job', 'raw', 'image-2', 0, "
                "'active', 'admin', 0, '{\"download_window\":{\"start\":0,\"end\":1439}}')"
            );
            t0 = Clock::now();
            raw.Create("raw-job");
            raw_create_ms.push_back(Ms(Clock::now() - t0));
            t0 = Clock::now();
            raw_bytes = raw.Offer();
            raw_offer_ms.push_back(Ms(Clock::now() - t0));
            (void)job;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ota_offer: %s\n", e.what());
        std::filesystem::remove_all(dir);
        return 1;
    }
    std::filesystem::remove_all(dir);

    const double n = nodes;
    std::printf("Offering an OTA job to %d connected nodes (median of %d runs).\n\n", nodes, runs);
    std::printf("| step | rainmaker-server (ms) | µs per node | raw SQL (ms) | ratio |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    const double c = Median(create_ms);
    const double rc = Median(raw_create_ms);
    const double d = Median(drain_ms);
    const double ro = Median(raw_offer_ms);
    std::printf(
        "| create a FFFF-FFFF job (rows + push queue) | %.1f | %.1f | %.1f | %.2f |\n",
        c,
        c * 1000 / n,
        rc,
        c / rc
    );
    std::printf(
        "| push to every node (choose, mark, build otaurl) | %.1f | %.1f | %.1f | %.2f |\n",
        d,
        d * 1000 / n,
        ro,
        d / ro
    );
    const double f = Median(fetch_ms);
    std::printf(
        "| answer one otafetch per node (batches of 512) | %.1f | %.1f | — | — |\n", f, f * 1000 / n
    );
    std::printf(
        "\notaurl messages: %zu pushed (%.0f bytes each; the raw payload %.0f bytes, a shorter "
        "URL).\n",
        sent,
        static_cast<double>(sent_bytes) / static_cast<double>(sent),
        static_cast<double>(raw_bytes) / n
    );
    return 0;
}

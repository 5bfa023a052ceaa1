// Feeds bytes as what a node publishes on otafetch and otastatus (device-protocol §6): through
// NodeIngest into OtaDelivery over a real SQLite store holding two active jobs for the node
// (one triggered, one dynamic) and another node's job, and through the parsers alone. Any
// node with a certificate can send these.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "domain/ota/ota_messages.hpp"
#include "fuzz_support.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using namespace rainmaker;

constexpr std::string_view kNode = "fuzz-node-1";
constexpr std::string_view kOtherNode = "fuzz-node-2";

class NoPublisher final : public domain::nodes::NodePublisher {
public:
    // Inputs run in transactions that roll back: their otaurl effects never run.
    bool Publish(std::string_view, std::string_view, std::string_view) override { return true; }
};

class Urls final : public domain::ota::ImageUrlSource {
public:
    std::string DownloadUrl(const std::string& key, const std::string&, std::chrono::seconds)
        const override {
        return "https://fw.test/" + key;
    }
};

struct Rollback {};

[[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
}

storage::NodeRow Node(std::string_view id) {
    storage::NodeRow node;
    node.node_id = std::string(id);
    node.created_at = 1;
    return node;
}

storage::OtaJobRow Job(std::string id, std::string name, bool dynamic) {
    storage::OtaJobRow job;
    job.ota_job_id = std::move(id);
    job.ota_job_name = std::move(name);
    job.ota_image_id = "image-1";
    job.dynamic = dynamic;
    job.node_type = dynamic ? "Lightbulb" : "";
    job.metadata = R"({"download_window":{"start":0,"end":120}})";
    job.created_by = "admin";
    job.created_at = 1;
    return job;
}

struct World {
    World()
        : db(dir.path() / "rainmaker.db"),
          mapping(db, clock),
          ingest(db, mapping, clock),
          delivery(db, publisher, urls, clock) {
        fuzz::SilenceLogs();
        delivery.RegisterIngest(ingest);
        for (const auto id : {kNode, kOtherNode}) {
            db.Nodes().Insert(Node(id));
            db.Nodes().PutConfig(id, "{}", "Lightbulb", "m", "1.0.0");
            db.Nodes().ApplyPresence(id, true, 1000, 1);
        }
        storage::OtaImageRow image;
        image.ota_image_id = "image-1";
        image.image_name = "fuzz";
        image.type = image.model = "led_light";
        image.fw_version = "2.0.0";
        image.blob_key = std::string(64, 'a');
        image.file_size = 1024;
        image.file_md5 = std::string(32, 'b');
        image.uploaded_by = "admin";
        db.OtaImages().Insert(image);
        auto& jobs = db.OtaJobs();
        jobs.Insert(Job("job-listed", "listed", false));
        jobs.AddNodes("job-listed", {std::string(kNode)}, 1);
        jobs.SetNodeStatus("job-listed", kNode, "triggered", "", 1);
        jobs.Insert(Job("job-dynamic", "dynamic", true));
        jobs.Insert(Job("job-other", "other", false));
        jobs.AddNodes("job-other", {std::string(kOtherNode)}, 1);
    }

    testing::TempDir dir;  // first member: removed after the store is closed
    testing::FakeClock clock;
    storage::sqlite::SqliteDatabase db;
    NoPublisher publisher;
    Urls urls;
    domain::nodes::MappingService mapping;
    domain::nodes::NodeIngest ingest;
    domain::ota::OtaDelivery delivery;
};

World& Instance() {
    static World world;
    return world;
}

const std::set<std::string> kStatuses = {
    "pending",
    "triggered",
    "started",
    "in_progress",
    "delayed",
    "success",
    "failed",
    "rejected",
    "timed_out"};

// The rows of `jobs`, as one text.
std::string Rows(
    World& w, std::initializer_list<const char*> jobs = {"job-listed", "job-dynamic", "job-other"}
) {
    std::string out;
    for (const char* job : jobs) {
        for (const auto& row : w.db.OtaJobs().ListNodes(job, std::nullopt, "", 100)) {
            if (!kStatuses.contains(row.status)) {
                Fail("a node status outside the documented set: " + row.status);
            }
            if (row.additional_info.size() > domain::ota::kMaxAdditionalInfoBytes) {
                Fail("additional_info stored past its limit");
            }
            out += std::string(job) + " " + row.node_id + " " + row.status + " " +
                   row.additional_info + "\n";
        }
    }
    return out;
}

void Parsers(std::string_view bytes) {
    const auto value = core::ParseUntrustedJson(bytes, 32);
    if (!value || !value->is_object()) {
        return;
    }
    try {
        const auto report = domain::ota::ParseOtaStatus(value->as_object());
        if (report.ota_job_id.empty() || report.ota_job_id.size() > domain::ota::kMaxJobIdLength ||
            report.additional_info.size() > domain::ota::kMaxAdditionalInfoBytes) {
            Fail("an otastatus accepted past its limits");
        }
        const auto next = domain::ota::NodeStatusAfter("triggered", report.status);
        if (!kStatuses.contains(std::string(next))) {
            Fail("an otastatus moved a node outside the documented set");
        }
    } catch (const std::invalid_argument&) {
    }
    try {
        domain::ota::ParseOtaFetch(kNode, value->as_object());
    } catch (const std::invalid_argument&) {
    }
}

}  // namespace

// Input: a selector byte (even: otafetch, odd: otastatus), then the payload.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = Instance();
    if (size == 0) {
        return 0;
    }
    const bool status = (data[0] & 1u) != 0;
    const std::string_view payload = fuzz::AsText(data + 1, size - 1);
    Parsers(payload);
    try {
        w.db.Transaction([&] {
            const std::string before = Rows(w);
            const std::string other_before = Rows(w, {"job-other"});
            const auto outcome = w.ingest.Handle(kNode, status ? "otastatus" : "otafetch", payload);
            const std::string after = Rows(w);
            if (outcome != domain::nodes::IngestOutcome::kApplied && before != after) {
                Fail("a refused message changed a job");
            }
            // The other node's job, read alone (another job's additional_info may hold any
            // text, "job-other" included).
            const std::string other_after = Rows(w, {"job-other"});
            if (other_before != other_after ||
                other_after.find("job-other " + std::string(kNode) + " ") != std::string::npos) {
                Fail("a node changed another node's job");
            }
            // What the node would be sent now is an otaurl of §6.1.
            const auto node = w.db.Nodes().Find(kNode);
            const auto choice = w.delivery.Choose(*node, "", domain::ota::OfferMode::kDeliver);
            if (choice.best) {
                const auto sent =
                    core::ParseUntrustedJson(w.delivery.OtaUrlPayload(*choice.best), 8);
                if (!sent || !sent->is_object() || !sent->as_object().contains("url") ||
                    !sent->as_object().contains("metadata")) {
                    Fail("not an otaurl");
                }
            }
            throw Rollback{};
        });
    } catch (const Rollback&) {
    }
    return 0;
}

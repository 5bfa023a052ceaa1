// OTA jobs and their delivery (domain/ota: OtaJobService, OtaDelivery, OtaUserService) over
// SQLite, the file blob store and NodeIngest: #35's rules (each refusal with nothing changed),
// targeting (nodes, admin groups, FFFF-FFFF, dynamic jobs, RBAC scopes), the paced push, the
// offer rules (priority, the target version, terminal statuses, cancelled and expired jobs,
// user approval), otafetch and otastatus as nodes send them, timeouts, #36-#39, images and
// groups a job holds, tags on jobs, and the user's side (#41-#43).
#include "domain/ota/ota_job_service.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_service.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/ota_user_service.hpp"
#include "domain/tags/tag_service.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/esp_image.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::ota {
namespace {

using core::ApiError;
using core::ErrorCode;
using Strings = std::vector<std::string>;

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

std::string Str(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : "(not a string)";
}

struct Sent {
    std::string node_id;
    std::string suffix;
    boost::json::object payload;
};

class RecordingPublisher final : public nodes::NodePublisher {
public:
    bool Publish(std::string_view node_id, std::string_view suffix, std::string_view payload)
        override {
        const auto parsed = core::ParseUntrustedJson(payload, 16);
        sent.push_back(
            {std::string(node_id),
             std::string(suffix),
             parsed && parsed->is_object() ? parsed->as_object() : boost::json::object{}}
        );
        return accept;
    }

    // The otaurl messages sent, as "node job" strings.
    Strings OtaUrls() const {
        Strings out;
        for (const auto& s : sent) {
            if (s.suffix == "otaurl") {
                out.push_back(
                    s.node_id + " " + std::string(s.payload.at("ota_job_id").as_string())
                );
            }
        }
        return out;
    }

    std::vector<Sent> sent;
    bool accept = true;
};

class FakeUrls final : public ImageUrlSource {
public:
    std::string DownloadUrl(
        const std::string& blob_key, const std::string& file_name, std::chrono::seconds valid_for
    ) const override {
        return "https://fw.test/" + blob_key + "/" + file_name +
               "?for=" + std::to_string(valid_for.count());
    }
};

std::string Image(const std::string& version, int filler) {
    testing::EspImageSpec spec;
    spec.version = version;
    spec.project_name = "led_light";
    spec.filler = static_cast<std::uint8_t>(filler);
    spec.sha256 = [](std::string_view b) { return crypto::Sha256(b); };
    return testing::BuildEspImage(spec);
}

class OtaJobServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto* user : {"admin1", "admin2", "alice", "bob", "eve"}) {
            storage::UserRow u;
            u.user_id = user;
            u.user_name = std::string(user) + "@x.com";
            u.password_hash = "hash";
            u.created_at = 1;
            u.confirmed = true;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        for (int i = 1; i <= 5; ++i) {
            AddNode("n" + std::to_string(i), i <= 3 ? "Lightbulb" : "Switch", "1.0.0", i <= 3);
        }
        // alice is n1's primary, bob its secondary.
        storage::UserNodeRow primary;
        primary.user_id = "alice";
        primary.node_id = "n1";
        db_.Nodes().PutMapping(primary);
        storage::UserNodeRow secondary;
        secondary.user_id = "bob";
        secondary.node_id = "n1";
        secondary.role = core::ResourceRole::kSecondary;
        secondary.direct_role = core::ResourceRole::kSecondary;
        db_.Nodes().PutMapping(secondary);
        v2_ = Upload("light v2", "2.0.0", 1);
        v3_ = Upload("light v3", "3.0.0", 2);
        v1_ = Upload("light v1", "1.0.0", 3);
    }

    void AddNode(
        const std::string& id, const std::string& type, const std::string& fw, bool online
    ) {
        storage::NodeRow n;
        n.node_id = id;
        n.created_at = 1;
        ASSERT_TRUE(db_.Nodes().Insert(n));
        db_.Nodes().PutConfig(id, "{}", type, "m", fw);
        if (online) {
            db_.Nodes().ApplyPresence(id, true, 1000, 1);
        }
    }

    std::string Upload(const std::string& name, const std::string& version, int filler) {
        UploadInput in;
        in.image_name = name;
        in.base64_fwimage = crypto::Base64Encode(Image(version, filler));
        return images_.Upload(admin_, in).ota_image_id;
    }

    JobInput Job(const std::string& name, const std::string& image, Strings nodes = {}) {
        JobInput in;
        in.ota_job_name = name;
        in.ota_image_id = image;
        if (!nodes.empty()) {
            in.nodes = std::move(nodes);
        }
        return in;
    }

    std::string Create(const JobInput& in) { return jobs_.Create(admin_, in); }

    std::string Status(const std::string& job, const std::string& node) {
        const auto row = db_.OtaJobs().FindNode(job, node);
        return row ? row->status : "(none)";
    }

    nodes::IngestOutcome Fetch(const std::string& node, const std::string& fw = "") {
        boost::json::object payload{{"node_id", node}};
        if (!fw.empty()) {
            payload["fw_version"] = fw;
        }
        return ingest_.Handle(node, "otafetch", core::Serialize(payload));
    }

    nodes::IngestOutcome Report(
        const std::string& node,
        const std::string& job,
        const std::string& status,
        const std::string& info = ""
    ) {
        return ingest_.Handle(
            node,
            "otastatus",
            core::Serialize(boost::json::object{
                {"ota_job_id", job}, {"status", status}, {"additional_info", info}, {"ts", 1}})
        );
    }

    std::int64_t Total() {
        JobQuery q;
        q.all = true;
        return jobs_.List(admin_, q).total;
    }

    auth::AuthContext Scoped(const std::string& user, Strings types) {
        auto scope = std::make_shared<rbac::NodeScope>();
        scope->allow.push_back(rbac::PolicyNodes{rbac::NodeFilter{{}, std::move(types)}});
        return auth::AuthContext{
            user, user + "@x.com", "s-" + user, auth::PlatformRole::kAdmin, std::move(scope)};
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    storage::files::FileBlobStore blobs_{dir_.path() / "blobs"};
    testing::FakeClock clock_;
    RecordingPublisher publisher_;
    FakeUrls urls_;
    OtaImageService images_{db_, blobs_, clock_};
    OtaDelivery delivery_{
        db_, publisher_, urls_, clock_, OtaDeliveryConfig{2, std::chrono::hours(1)}};
    OtaJobService jobs_{db_, clock_};
    OtaUserService user_{db_, delivery_};
    nodes::MappingService mapping_{db_, clock_};
    nodes::NodeIngest ingest_{db_, mapping_, clock_};
    nodes::NodeService nodes_{db_, publisher_};
    groups::GroupService admin_groups_{db_, nodes_, clock_, groups::GroupKind::kAdmin};
    auth::AuthContext admin_{"admin1", "admin1@x.com", "s1", auth::PlatformRole::kAdmin};
    auth::AuthContext alice_{"alice", "alice@x.com", "s2"};
    auth::AuthContext bob_{"bob", "bob@x.com", "s3"};
    auth::AuthContext eve_{"eve", "eve@x.com", "s4"};
    std::string v1_;
    std::string v2_;
    std::string v3_;

    void SetUpIngest() { delivery_.RegisterIngest(ingest_); }
};

// ---- #35: every refusal, with nothing changed

TEST_F(OtaJobServiceTest, CreateRefusesEachBadInputWithNothingChanged) {
    const auto with = [&](auto change) {
        auto in = Job("bad", v2_, {"n1"});
        change(in);
        return CodeOf([&] { Create(in); });
    };
    EXPECT_EQ(with([](JobInput& in) { in.ota_job_name.reset(); }), 105001);
    EXPECT_EQ(with([](JobInput& in) { in.ota_job_name = ""; }), 105001);
    EXPECT_EQ(with([](JobInput& in) { in.ota_job_name = std::string(129, 'x'); }), 100036);
    EXPECT_EQ(with([](JobInput& in) { in.description = std::string(1025, 'x'); }), 100036);
    EXPECT_EQ(with([](JobInput& in) { in.ota_image_id.reset(); }), 104018);
    EXPECT_EQ(
        with([](JobInput& in) {
            in.secure_boot = boost::json::object{{"key_names", boost::json::array{"k"}}};
        }),
        100012
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.secure_boot = boost::json::object{
                {"key_names", boost::json::array{"k"}}, {"auto_select_key", true}};
        }),
        105068
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.force_push = true;
            in.secure_boot = boost::json::object{{"auto_select_key", true}};
        }),
        105069
    );
    for (const auto& bad :
         {boost::json::value(0),
          boost::json::value(11),
          boost::json::value("5"),
          boost::json::value(2.5)}) {
        EXPECT_EQ(with([&](JobInput& in) { in.priority = bad; }), 105054) << bad;
    }
    EXPECT_EQ(with([](JobInput& in) { in.timeout = 0; }), 105055);
    EXPECT_EQ(with([](JobInput& in) { in.timeout = 30 * 24 * 3600 + 1; }), 105055);
    EXPECT_EQ(with([](JobInput& in) { in.timeout = "60"; }), 105055);
    EXPECT_EQ(
        with([](JobInput& in) {
            in.user_approval = true;
            in.timeout = 60;
        }),
        105056
    );
    EXPECT_EQ(with([](JobInput& in) { in.notify = true; }), 105057);
    EXPECT_EQ(with([](JobInput& in) { in.user_ota_image_access = true; }), 105073);
    EXPECT_EQ(with([](JobInput& in) { in.metadata = boost::json::array{}; }), 100006);
    EXPECT_EQ(with([](JobInput& in) { in.metadata = boost::json::object{{"other", 1}}; }), 100006);
    EXPECT_EQ(
        with([](JobInput& in) {
            in.metadata = boost::json::parse(R"({"download_window":{"start":0,"end":1440}})");
        }),
        100006
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.metadata = boost::json::parse(R"({"download_window":{"start":-1,"end":10}})");
        }),
        100006
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.metadata = boost::json::parse(R"({"validity":{"start":20,"end":10}})");
        }),
        100006
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.metadata = boost::json::parse(R"({"validity":{"start":1,"end":2,"x":3}})");
        }),
        100006
    );
    EXPECT_EQ(with([](JobInput& in) { in.node_type = "Lightbulb"; }), 105052);
    EXPECT_EQ(with([](JobInput& in) { in.nodes.reset(); }), 105002);
    EXPECT_EQ(with([](JobInput& in) { in.nodes = Strings{}; }), 105002);
    EXPECT_EQ(
        with([](JobInput& in) {
            in.nodes = Strings{};
            for (int i = 0; i < 101; ++i) {
                in.nodes->push_back("x" + std::to_string(i));
            }
        }),
        105029
    );
    EXPECT_EQ(
        with([](JobInput& in) {
            in.groups = Strings{};
            for (int i = 0; i < 11; ++i) {
                in.groups->push_back("g" + std::to_string(i));
            }
        }),
        105028
    );
    EXPECT_EQ(with([](JobInput& in) { in.ota_image_id = "nosuch"; }), 104015);
    EXPECT_EQ(with([](JobInput& in) { in.nodes = Strings{"n1", "nosuch"}; }), 100015);
    EXPECT_EQ(with([](JobInput& in) { in.groups = Strings{"nosuch"}; }), 108023);
    images_.SetArchived(v3_, "true");
    EXPECT_EQ(with([&](JobInput& in) { in.ota_image_id = v3_; }), 104034);
    // Nothing was made, nothing queued, nothing sent.
    EXPECT_EQ(Total(), 0);
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 0);
    EXPECT_TRUE(publisher_.sent.empty());

    Create(Job("taken", v2_, {"n1"}));
    EXPECT_EQ(CodeOf([&] { Create(Job("taken", v2_, {"n2"})); }), 105005);
    EXPECT_EQ(Total(), 1);
    // Accepted edge values.
    auto in = Job("edges", v2_, {"n1", "n1"});
    in.priority = 10;
    in.timeout = 30 * 24 * 3600;
    in.metadata = boost::json::parse(
        R"({"download_window":{"start":1380,"end":120},"validity":{"start":1,"end":2}})"
    );
    const auto id = Create(in);
    EXPECT_EQ(db_.OtaJobs().CountNodes(id, std::nullopt), 1);  // n1 once
    EXPECT_EQ(db_.OtaJobs().Find(id)->expires_at, clock_.NowSeconds() + 30 * 24 * 3600);
}

// ---- targeting

TEST_F(OtaJobServiceTest, GroupsAndAllNodesAreExpandedWhenTheJobIsMade) {
    groups::GroupFields fleet;
    fleet.group_name = "fleet";
    fleet.nodes = Strings{"n2", "n4"};
    const auto group = admin_groups_.Create(admin_, fleet);
    groups::GroupFields empty;
    empty.group_name = "empty";
    const auto empty_group = admin_groups_.Create(admin_, empty);

    auto in = Job("grouped", v2_, {"n1", "n2"});
    in.groups = Strings{group};
    const auto id = Create(in);
    EXPECT_EQ(db_.OtaJobs().NodeIds(id), (Strings{"n1", "n2", "n4"}));
    const auto groups = db_.OtaJobs().Groups(id);
    ASSERT_EQ(groups.size(), 1U);
    EXPECT_EQ(groups[0].group_name, "fleet");
    // Another admin's group is no group of this admin's; a group without nodes gives none.
    const auth::AuthContext other{"admin2", "admin2@x.com", "s9", auth::PlatformRole::kAdmin};
    auto theirs = Job("theirs", v2_);
    theirs.groups = Strings{group};
    EXPECT_EQ(CodeOf([&] { jobs_.Create(other, theirs); }), 108023);
    auto none = Job("none", v2_);
    none.groups = Strings{empty_group};
    EXPECT_EQ(CodeOf([&] { Create(none); }), 105002);

    auto all = Job("everyone", v3_);
    all.groups = Strings{"FFFF-FFFF"};
    const auto everyone = Create(all);
    EXPECT_EQ(db_.OtaJobs().CountNodes(everyone, std::nullopt), 5);
    EXPECT_TRUE(db_.OtaJobs().Find(everyone)->all_nodes);

    // A group an active job names is not deleted (108028); once the job ended, it is.
    EXPECT_EQ(CodeOf([&] { admin_groups_.Delete(admin_, group, false); }), 108028);
    jobs_.CancelOrArchive(admin_, id, false);
    admin_groups_.Delete(admin_, group, false);
    EXPECT_EQ(db_.OtaJobs().Groups(id)[0].group_name, "fleet");  // the name it had
}

TEST_F(OtaJobServiceTest, AdminsRestrictedByRbacTargetOnlyWhatTheyReach) {
    const auto lights = Scoped("admin1", {"Lightbulb"});
    EXPECT_EQ(CodeOf([&] { jobs_.Create(lights, Job("sw", v2_, {"n1", "n4"})); }), 100015);
    auto all = Job("all", v2_);
    all.groups = Strings{"FFFF-FFFF"};
    EXPECT_EQ(CodeOf([&] { jobs_.Create(lights, all); }), 100004);
    auto dynamic = Job("dyn", v2_);
    dynamic.node_type = "Lightbulb";
    EXPECT_EQ(CodeOf([&] { jobs_.Create(lights, dynamic); }), 100004);
    groups::GroupFields mixed;
    mixed.group_name = "mixed";
    mixed.nodes = Strings{"n1", "n4"};
    const auto group = admin_groups_.Create(admin_, mixed);
    auto grouped = Job("grouped", v2_);
    grouped.groups = Strings{group};
    EXPECT_EQ(CodeOf([&] { jobs_.Create(lights, grouped); }), 100004);
    EXPECT_EQ(Total(), 0);

    const auto mine = jobs_.Create(lights, Job("mine", v2_, {"n1", "n2"}));
    const auto wide = Create(all);
    // They read and change only jobs whose every node they reach.
    JobQuery q;
    q.all = true;
    const auto page = jobs_.List(lights, q);
    ASSERT_EQ(page.jobs.size(), 1U);
    EXPECT_EQ(page.jobs[0].job.ota_job_id, mine);
    EXPECT_EQ(page.total, 1);
    EXPECT_EQ(CodeOf([&] { jobs_.Summary(lights, wide); }), 105012);
    NodeStatusQuery sq;
    sq.ota_job_id = wide;
    EXPECT_EQ(CodeOf([&] { jobs_.NodeStatuses(lights, sq); }), 105012);
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(lights, wide, false); }), 105015);
    EXPECT_EQ(db_.OtaJobs().Find(wide)->status, "active");
    EXPECT_EQ(jobs_.Summary(lights, mine).total, 2);
    // An admin whose filter reaches no node sees none of them.
    EXPECT_TRUE(jobs_.List(Scoped("admin1", {"NoSuchType"}), q).jobs.empty());

    // A job whose nodes were all deleted is not reached vacuously.
    db_.Nodes().DeleteNode("n1");
    db_.Nodes().DeleteNode("n2");
    ASSERT_TRUE(db_.OtaJobs().NodeIds(mine).empty());
    EXPECT_TRUE(jobs_.List(lights, q).jobs.empty());
    EXPECT_EQ(CodeOf([&] { jobs_.Summary(lights, mine); }), 105012);
    EXPECT_EQ(jobs_.Summary(admin_, mine).total, 0);

    // Nor is a job that once targeted a node beyond their filter, deleted since.
    const auto once_wide = Create(Job("once wide", v2_, {"n3", "n4"}));
    db_.Nodes().DeleteNode("n4");
    ASSERT_EQ(db_.OtaJobs().NodeIds(once_wide), std::vector<std::string>{"n3"});
    EXPECT_EQ(CodeOf([&] { jobs_.Summary(lights, once_wide); }), 105012);
    EXPECT_TRUE(jobs_.List(lights, q).jobs.empty());
}

// ---- delivery

TEST_F(OtaJobServiceTest, AJobThatStartsIsPushedToItsConnectedNodesAtThePace) {
    SetUpIngest();
    auto in = Job("rollout", v2_, {"n1", "n2", "n3", "n4"});
    in.metadata = boost::json::parse(R"({"download_window":{"start":0,"end":120}})");
    const auto id = Create(in);
    // n1-n3 are connected: queued, not sent yet; n4 waits for its otafetch.
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 3);
    EXPECT_TRUE(publisher_.sent.empty());
    EXPECT_EQ(delivery_.DrainQueue(), 2);  // push_per_second = 2
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id, "n2 " + id}));
    EXPECT_EQ(delivery_.DrainQueue(), 1);
    EXPECT_EQ(delivery_.DrainQueue(), 0);
    EXPECT_EQ(Status(id, "n3"), "triggered");
    EXPECT_EQ(Status(id, "n4"), "pending");
    // The otaurl of §6.1.
    const auto& url = publisher_.sent[0].payload;
    const auto image = db_.OtaImages().Find(v2_);
    EXPECT_EQ(Str(url.at("ota_job_id")), id);
    EXPECT_EQ(Str(url.at("url")), "https://fw.test/" + image->blob_key + "/light v2.bin?for=3600");
    EXPECT_EQ(url.at("file_size"), image->file_size);
    EXPECT_EQ(Str(url.at("file_md5")), image->file_md5);
    EXPECT_EQ(url.at("fw_version"), "2.0.0");
    EXPECT_EQ(
        url.at("metadata"), boost::json::parse(R"({"download_window":{"start":0,"end":120}})")
    );

    // n4 connects later and asks.
    EXPECT_EQ(Fetch("n4", "1.0.0"), nodes::IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.OtaUrls().back(), "n4 " + id);
    EXPECT_EQ(Status(id, "n4"), "triggered");
    // A node no job targets gets nothing.
    const auto before = publisher_.sent.size();
    EXPECT_EQ(Fetch("n5"), nodes::IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.sent.size(), before);
    // otafetch of another node's id, or malformed: refused.
    EXPECT_EQ(
        ingest_.Handle("n5", "otafetch", R"({"node_id":"n4","fw_version":"1.0.0"})"),
        nodes::IngestOutcome::kMalformed
    );
    EXPECT_EQ(
        ingest_.Handle("n4", "otafetch", R"({"fw_version":7})"), nodes::IngestOutcome::kMalformed
    );
    EXPECT_EQ(publisher_.sent.size(), before);
}

TEST_F(OtaJobServiceTest, ANodeThatGotTheJobThroughItsOtafetchIsNotPushedItAgain) {
    SetUpIngest();
    const auto id = Create(Job("fetched first", v2_, {"n1", "n2"}));
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 2);
    // n1 asks before its turn in the push queue comes: it gets the job then, and only then.
    EXPECT_EQ(Fetch("n1", "1.0.0"), nodes::IngestOutcome::kApplied);
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id}));
    EXPECT_EQ(delivery_.DrainQueue(), 1);
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id, "n2 " + id}));
    EXPECT_EQ(Status(id, "n1"), "triggered");
}

TEST_F(OtaJobServiceTest, StatusesMoveTheNodeAndEndTheJob) {
    SetUpIngest();
    const auto id = Create(Job("statuses", v2_, {"n1", "n2"}));
    delivery_.DrainQueue();
    EXPECT_EQ(
        Report("n1", id, "in-progress", "Starting OTA Upgrade"), nodes::IngestOutcome::kApplied
    );
    EXPECT_EQ(Status(id, "n1"), "started");
    EXPECT_EQ(
        Report("n1", id, "in-progress", "Downloaded 50% Firmware Image"),
        nodes::IngestOutcome::kApplied
    );
    EXPECT_EQ(Status(id, "n1"), "in_progress");
    EXPECT_EQ(db_.OtaJobs().FindNode(id, "n1")->additional_info, "Downloaded 50% Firmware Image");
    EXPECT_EQ(
        Report("n2", id, "delayed", "Outside the download window"), nodes::IngestOutcome::kApplied
    );
    EXPECT_EQ(Status(id, "n2"), "delayed");

    // Refused, with nothing changed: a job that does not target the node, an unknown job, an
    // unknown status, a too long text, wrong types.
    const auto other = Create(Job("other", v3_, {"n3"}));
    for (const auto* bad :
         {R"({"ota_job_id":"OTHER","status":"success"})",
          R"({"ota_job_id":"nosuch","status":"success"})",
          R"({"ota_job_id":"ID","status":"done"})",
          R"({"ota_job_id":"ID","status":"SUCCESS"})",
          R"({"status":"success"})",
          R"({"ota_job_id":"","status":"success"})",
          R"({"ota_job_id":7,"status":"success"})",
          R"({"ota_job_id":"ID","status":"success","additional_info":7})",
          R"({"ota_job_id":"ID","status":"success","ts":"now"})",
          R"([1])",
          "not json"}) {
        std::string payload = bad;
        for (const auto& [from, to] : {std::pair{"OTHER", other}, std::pair{"ID", id}}) {
            if (const auto at = payload.find(from); at != std::string::npos) {
                payload.replace(at, std::string_view(from).size(), to);
            }
        }
        EXPECT_EQ(ingest_.Handle("n1", "otastatus", payload), nodes::IngestOutcome::kMalformed)
            << payload;
    }
    EXPECT_EQ(
        Report("n1", id, "success", std::string(kMaxAdditionalInfoBytes + 1, 'x')),
        nodes::IngestOutcome::kMalformed
    );
    EXPECT_EQ(
        ingest_.Handle("n1", "otastatus", std::string(kMaxOtaStatusBytes + 1, ' ')),
        nodes::IngestOutcome::kTooLarge
    );
    EXPECT_EQ(Status(id, "n1"), "in_progress");
    EXPECT_EQ(Status(other, "n1"), "(none)");

    EXPECT_EQ(Report("n1", id, "success", "OTA Upgrade finished"), nodes::IngestOutcome::kApplied);
    EXPECT_EQ(db_.OtaJobs().Find(id)->status, "active");  // n2 is not done
    EXPECT_EQ(
        Report("n2", id, "failed", "Image validation failed"), nodes::IngestOutcome::kApplied
    );
    EXPECT_EQ(db_.OtaJobs().Find(id)->status, "completed");
    // A terminal status stands.
    EXPECT_EQ(Report("n1", id, "failed"), nodes::IngestOutcome::kApplied);
    EXPECT_EQ(Status(id, "n1"), "success");
    EXPECT_EQ(delivery_.counters().statuses_stale, 1U);

    const auto counts = jobs_.Summary(admin_, id);
    EXPECT_EQ(counts.success, 1);
    EXPECT_EQ(counts.failed, 1);
    EXPECT_EQ(counts.total, 2);
    EXPECT_EQ(counts.Completed(), 2);
}

TEST_F(OtaJobServiceTest, OffersFollowPriorityVersionAndTerminalStatuses) {
    SetUpIngest();
    auto low = Job("low", v2_, {"n4", "n5"});
    low.priority = 8;
    const auto low_id = Create(low);
    auto high = Job("high", v3_, {"n4"});
    high.priority = 2;
    const auto high_id = Create(high);
    // n4 asks: the higher priority (2) first.
    Fetch("n4", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls().back(), "n4 " + high_id);
    EXPECT_EQ(Status(low_id, "n4"), "pending");
    // Until it reports a terminal status, it is offered again when it asks.
    Fetch("n4", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls().back(), "n4 " + high_id);
    // Rejected: never offered again; the next job goes to it (queued, at the pace).
    Report("n4", high_id, "rejected", "Project Name mismatch");
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 0);  // n4 is not connected: it asks itself
    Fetch("n4", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls().back(), "n4 " + low_id);
    Report("n4", low_id, "success");
    const auto sent = publisher_.sent.size();
    Fetch("n4", "2.0.0");
    EXPECT_EQ(publisher_.sent.size(), sent);  // nothing left for it

    // A node that runs the image's version already is not offered the job: it ends for it.
    Fetch("n5", "2.0.0");
    EXPECT_EQ(publisher_.sent.size(), sent);
    EXPECT_EQ(Status(low_id, "n5"), "rejected");
    EXPECT_NE(
        db_.OtaJobs().FindNode(low_id, "n5")->additional_info.find("2.0.0"), std::string::npos
    );
    EXPECT_EQ(db_.OtaJobs().Find(low_id)->status, "completed");
    // The same job, pushed to a node on its version (the stored config's), sends nothing.
    const auto same = Create(Job("same", v1_, {"n1"}));
    delivery_.DrainQueue();
    EXPECT_EQ(publisher_.sent.size(), sent);
    EXPECT_EQ(Status(same, "n1"), "rejected");

    // A connected node whose job failed gets the next one pushed.
    auto first = Job("first", v2_, {"n2"});
    first.priority = 1;
    const auto first_id = Create(first);
    const auto second_id = Create(Job("second", v3_, {"n2"}));
    delivery_.DrainQueue();
    EXPECT_EQ(publisher_.OtaUrls().back(), "n2 " + first_id);
    Report("n2", first_id, "failed", "Download failed");
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 1);
    delivery_.DrainQueue();
    EXPECT_EQ(publisher_.OtaUrls().back(), "n2 " + second_id);
}

TEST_F(OtaJobServiceTest, CancelledAndExpiredJobsAreNotOffered) {
    SetUpIngest();
    auto timed = Job("timed", v2_, {"n1", "n4"});
    timed.timeout = 60;
    const auto timed_id = Create(timed);
    const auto cancelled_id = Create(Job("cancelled", v3_, {"n5"}));
    jobs_.CancelOrArchive(admin_, cancelled_id, false);
    delivery_.DrainQueue();  // n1 only
    Report("n1", timed_id, "in-progress");
    EXPECT_EQ(jobs_.ExpireDue(), 0);
    clock_.Advance(std::chrono::seconds(61));
    EXPECT_EQ(jobs_.ExpireDue(), 1);
    EXPECT_EQ(db_.OtaJobs().Find(timed_id)->status, "expired");
    EXPECT_EQ(Status(timed_id, "n1"), "timed_out");
    EXPECT_EQ(Status(timed_id, "n4"), "timed_out");
    const auto sent = publisher_.sent.size();
    Fetch("n4", "1.0.0");
    Fetch("n5", "1.0.0");
    EXPECT_EQ(publisher_.sent.size(), sent);
    // A late report still says what the node did.
    Report("n1", timed_id, "success");
    EXPECT_EQ(Status(timed_id, "n1"), "success");
    // A cancelled job's queued pushes are not sent either.
    const auto queued = Create(Job("queued", v2_, {"n2"}));
    jobs_.CancelOrArchive(admin_, queued, false);
    EXPECT_EQ(delivery_.DrainQueue(), 0);
    EXPECT_EQ(Status(queued, "n2"), "pending");
}

// otastatus is sealed: a node never offered the job reports no progress on it; after timed_out,
// and in a job no longer active, only how the node ended is recorded.
TEST_F(OtaJobServiceTest, StatusesNeitherReopenEndedNodesNorComeFromNodesNeverOffered) {
    SetUpIngest();
    auto timed = Job("sealed", v2_, {"n1", "n4"});
    timed.timeout = 60;
    const auto id = Create(timed);
    delivery_.DrainQueue();  // n1 only: n4 is offline
    ASSERT_EQ(Status(id, "n4"), "pending");
    EXPECT_EQ(Report("n4", id, "in-progress"), nodes::IngestOutcome::kMalformed);
    EXPECT_EQ(Report("n4", id, "delayed"), nodes::IngestOutcome::kMalformed);
    EXPECT_EQ(Status(id, "n4"), "pending");

    clock_.Advance(std::chrono::seconds(61));
    EXPECT_EQ(jobs_.ExpireDue(), 1);
    ASSERT_EQ(Status(id, "n1"), "timed_out");
    for (const char* status : {"in-progress", "delayed"}) {
        Report("n1", id, status);
        EXPECT_EQ(Status(id, "n1"), "timed_out") << status;
    }
    Report("n1", id, "failed");
    EXPECT_EQ(Status(id, "n1"), "failed");

    // Cancelled after the offer: progress is ignored, the end recorded.
    const auto cancelled = Create(Job("cancelled", v3_, {"n2"}));
    delivery_.DrainQueue();
    ASSERT_EQ(Status(cancelled, "n2"), "triggered");
    jobs_.CancelOrArchive(admin_, cancelled, false);
    Report("n2", cancelled, "in-progress");
    EXPECT_EQ(Status(cancelled, "n2"), "triggered");
    Report("n2", cancelled, "success");
    EXPECT_EQ(Status(cancelled, "n2"), "success");
}

// otafetch of a job the node holds already: no status write (in_progress is not knocked back
// to triggered) and the otaurl again at most once per refetch_interval (5 s).
TEST_F(OtaJobServiceTest, OtafetchSpamNeitherRewritesNorRepublishes) {
    SetUpIngest();
    const auto id = Create(Job("spam", v2_, {"n1"}));
    delivery_.DrainQueue();
    const auto sent = publisher_.sent.size();
    Fetch("n1", "1.0.0");  // just offered
    EXPECT_EQ(publisher_.sent.size(), sent);
    Report("n1", id, "in-progress");
    Report("n1", id, "in-progress");
    ASSERT_EQ(Status(id, "n1"), "in_progress");
    const auto updated = db_.OtaJobs().FindNode(id, "n1")->updated_at;
    clock_.Advance(std::chrono::seconds(1));
    for (int i = 0; i < 10; ++i) {
        Fetch("n1", "1.0.0");
    }
    EXPECT_EQ(publisher_.sent.size(), sent);
    EXPECT_EQ(Status(id, "n1"), "in_progress");
    EXPECT_EQ(db_.OtaJobs().FindNode(id, "n1")->updated_at, updated);
    // Later (a node that restarted): the URL again, the status kept.
    clock_.Advance(std::chrono::seconds(30));
    Fetch("n1", "1.0.0");
    Fetch("n1", "1.0.0");
    EXPECT_EQ(publisher_.sent.size(), sent + 1);
    EXPECT_EQ(Status(id, "n1"), "in_progress");
}

TEST_F(OtaJobServiceTest, DynamicJobsReachMatchingNodesAndNeverComplete) {
    SetUpIngest();
    auto in = Job("switches", v2_);
    in.node_type = "Switch";
    in.node_fw_version = "1.0.0";
    const auto id = Create(in);
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 0);  // no switch is connected
    EXPECT_EQ(db_.OtaJobs().CountNodes(id, std::nullopt), 0);
    Fetch("n4", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls().back(), "n4 " + id);
    EXPECT_EQ(Status(id, "n4"), "triggered");
    Fetch("n1", "1.0.0");  // a Lightbulb
    EXPECT_EQ(Status(id, "n1"), "(none)");
    Report("n4", id, "success");
    EXPECT_EQ(db_.OtaJobs().Find(id)->status, "active");  // never completes
    // A node reporting another version no longer matches.
    Fetch("n5", "0.9.0");
    EXPECT_EQ(Status(id, "n5"), "(none)");
    // A job made while matching nodes are connected pushes to them.
    db_.Nodes().ApplyPresence("n5", true, 2000, 1);
    auto lights = Job("lights", v3_);
    lights.node_type = "Lightbulb";
    Create(lights);
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 3);
}

TEST_F(OtaJobServiceTest, UserApprovalJobsWaitForAUser) {
    SetUpIngest();
    auto in = Job("approve me", v2_, {"n1", "n2"});
    in.user_approval = true;
    in.description = "Fixes the flicker";
    const auto id = Create(in);
    EXPECT_EQ(db_.OtaJobs().CountQueued(), 0);
    Fetch("n1", "1.0.0");
    EXPECT_TRUE(publisher_.OtaUrls().empty());

    // #41: the users of n1 see it; without user_ota_image_acccess no URL.
    for (const auto* who : {&alice_, &bob_}) {
        const auto check = user_.Check(*who, "n1");
        EXPECT_TRUE(check.ota_available);
        EXPECT_EQ(check.ota_job_id, id);
        EXPECT_EQ(check.description, "Fixes the flicker");
        EXPECT_EQ(check.fw_version, "2.0.0");
        EXPECT_FALSE(check.url.has_value());
    }
    EXPECT_EQ(CodeOf([&] { user_.Check(eve_, "n1"); }), 100010);
    EXPECT_EQ(CodeOf([&] { user_.Check(alice_, "nosuch"); }), 100010);
    EXPECT_EQ(CodeOf([&] { user_.Check(alice_, ""); }), 105018);
    // #43 before anything was sent: the node's row (pending).
    EXPECT_EQ(user_.Status(alice_, "n1", id).status, "pending");
    EXPECT_EQ(CodeOf([&] { user_.Status(alice_, "n1", "nosuch"); }), 105024);
    EXPECT_EQ(CodeOf([&] { user_.Status(eve_, "n1", id); }), 100010);
    EXPECT_EQ(CodeOf([&] { user_.Status(alice_, "n1", ""); }), 105014);

    // #42 refusals change nothing.
    EXPECT_EQ(CodeOf([&] { user_.Approve(eve_, id, "n1"); }), 100010);
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, "nosuch", "n1"); }), 105036);
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, "", "n1"); }), 105014);
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, id, ""); }), 105018);
    const auto plain = Create(Job("plain", v3_, {"n1"}));
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, plain, "n1"); }), 105061);
    jobs_.CancelOrArchive(admin_, plain, false);
    db_.Nodes().ApplyPresence("n1", false, 3000, 2);
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, id, "n1"); }), 102001);
    EXPECT_FALSE(db_.OtaJobs().FindNode(id, "n1")->approved);
    EXPECT_TRUE(publisher_.OtaUrls().empty());

    db_.Nodes().ApplyPresence("n1", true, 4000, 3);
    user_.Approve(bob_, id, "n1");  // a secondary may
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id}));
    EXPECT_EQ(user_.Status(alice_, "n1", id).status, "triggered");
    // Approved: offered again when the node asks (not within 30 s of the last offer); n2 (not
    // approved) still waits.
    Fetch("n1", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id}));
    clock_.Advance(std::chrono::seconds(30));
    Fetch("n1", "1.0.0");
    Fetch("n2", "1.0.0");
    EXPECT_EQ(publisher_.OtaUrls(), (Strings{"n1 " + id, "n1 " + id}));
    Report("n1", id, "success");
    EXPECT_EQ(CodeOf([&] { user_.Approve(alice_, id, "n1"); }), 105061);
    EXPECT_FALSE(user_.Check(alice_, "n1").ota_available);

    // force_push: pushed without approval; user_ota_image_acccess: the URL for users.
    clock_.Advance(std::chrono::seconds(1));
    auto forced = Job("forced", v3_, {"n2"});
    forced.user_approval = true;
    forced.force_push = true;
    forced.user_ota_image_access = true;
    forced.notify = true;
    const auto forced_id = Create(forced);
    delivery_.DrainQueue();
    EXPECT_EQ(publisher_.OtaUrls().back(), "n2 " + forced_id);
    storage::UserNodeRow on_n2;
    on_n2.user_id = "eve";
    on_n2.node_id = "n2";
    db_.Nodes().PutMapping(on_n2);
    const auto check = user_.Check(eve_, "n2");
    EXPECT_EQ(check.ota_job_id, id);  // priority 5 both: the older job first
    EXPECT_FALSE(check.url.has_value());
    Report("n2", id, "rejected");
    const auto next = user_.Check(eve_, "n2");
    EXPECT_EQ(next.ota_job_id, forced_id);
    ASSERT_TRUE(next.url.has_value());
    EXPECT_NE(next.url->find(db_.OtaImages().Find(v3_)->blob_key), std::string::npos);
}

// ---- #36-#39

TEST_F(OtaJobServiceTest, ListCancelArchiveAndStatusPages) {
    SetUpIngest();
    const auto a = Create(Job("alpha one", v2_, {"n1", "n2", "n3"}));
    const auto b = Create(Job("beta", v3_, {"n4"}));
    const auto c = Create(Job("alpha two", v2_, {"n5"}));
    JobQuery q;
    EXPECT_EQ(jobs_.List(admin_, q).total, 3);
    q.ota_job_name = "alpha";
    EXPECT_EQ(jobs_.List(admin_, q).total, 2);
    q = {};
    q.ota_job_id = b;
    ASSERT_EQ(jobs_.List(admin_, q).jobs.size(), 1U);
    q.ota_job_id = "nosuch";
    EXPECT_EQ(CodeOf([&] { jobs_.List(admin_, q); }), 105012);
    q = {};
    q.num_records = 2;
    const auto first = jobs_.List(admin_, q);
    ASSERT_EQ(first.jobs.size(), 2U);
    ASSERT_FALSE(first.next_id.empty());
    q.start_id = first.next_id;
    const auto second = jobs_.List(admin_, q);
    ASSERT_EQ(second.jobs.size(), 1U);
    EXPECT_TRUE(second.next_id.empty());
    q.num_records = 0;
    EXPECT_EQ(CodeOf([&] { jobs_.List(admin_, q); }), 100021);

    // Cancel, then archive; the codes of #37.
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(admin_, "", false); }), 105014);
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(admin_, "nosuch", false); }), 105015);
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(admin_, a, true); }), 105032);  // active
    const auto cancelled = jobs_.CancelOrArchive(admin_, a, false);
    EXPECT_EQ(cancelled.job.status, "cancelled");
    EXPECT_EQ(cancelled.counts.total, 3);
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(admin_, a, false); }), 105015);
    EXPECT_TRUE(jobs_.CancelOrArchive(admin_, a, true).job.archived);
    EXPECT_EQ(CodeOf([&] { jobs_.CancelOrArchive(admin_, a, true); }), 105032);
    q = {};
    EXPECT_EQ(jobs_.List(admin_, q).total, 2);  // not archived
    q.archived = true;
    EXPECT_EQ(jobs_.List(admin_, q).total, 1);
    q.archived = false;
    q.all = true;
    EXPECT_EQ(jobs_.List(admin_, q).total, 3);
    // The newest job of an image (not archived unless asked).
    q = {};
    q.ota_image_id = v2_;
    const auto latest = jobs_.List(admin_, q);
    ASSERT_EQ(latest.jobs.size(), 1U);
    EXPECT_EQ(latest.jobs[0].job.ota_job_id, c);
    q.archived = true;
    EXPECT_EQ(jobs_.List(admin_, q).jobs[0].job.ota_job_id, a);

    // #38: per node, with node_groups, the node_id filter and pages.
    const auto d = Create(Job("delta", v3_, {"n1", "n2", "n3"}));
    delivery_.DrainQueue();
    delivery_.DrainQueue();
    Report("n2", d, "in-progress", "Starting");
    NodeStatusQuery sq;
    sq.ota_job_id = d;
    sq.num_records = 2;
    sq.summary = true;
    const auto p1 = jobs_.NodeStatuses(admin_, sq);
    ASSERT_EQ(p1.nodes.size(), 2U);
    EXPECT_EQ(p1.total, 3);
    EXPECT_EQ(p1.nodes[1].status, "started");
    EXPECT_EQ(p1.nodes[1].additional_info, "Starting");
    EXPECT_EQ(p1.nodes[1].updated_at, clock_.NowSeconds() * 1000);
    ASSERT_TRUE(p1.summary.has_value());
    EXPECT_EQ(p1.summary->triggered, 2);
    EXPECT_EQ(p1.summary->started, 1);
    sq.start_id = p1.next_id;
    const auto p2 = jobs_.NodeStatuses(admin_, sq);
    ASSERT_EQ(p2.nodes.size(), 1U);
    EXPECT_EQ(p2.nodes[0].node_id, "n3");
    sq = {};
    sq.ota_job_id = d;
    sq.node_id = "n2";
    const auto one = jobs_.NodeStatuses(admin_, sq);
    ASSERT_EQ(one.nodes.size(), 1U);
    EXPECT_EQ(one.total, 1);
    sq.ota_job_id = "";
    EXPECT_EQ(CodeOf([&] { jobs_.NodeStatuses(admin_, sq); }), 105014);
    sq.ota_job_id = "nosuch";
    EXPECT_EQ(CodeOf([&] { jobs_.NodeStatuses(admin_, sq); }), 105012);
    EXPECT_EQ(CodeOf([&] { jobs_.Summary(admin_, ""); }), 105014);
    EXPECT_EQ(CodeOf([&] { jobs_.Summary(admin_, "nosuch"); }), 105012);
}

// ---- what a job holds

TEST_F(OtaJobServiceTest, ImagesAJobUsesAreKept) {
    const auto id = Create(Job("uses v2", v2_, {"n1"}));
    UploadInput again;
    again.image_name = "light v2";
    again.base64_fwimage = crypto::Base64Encode(Image("2.0.1", 9));
    EXPECT_EQ(CodeOf([&] { images_.Upload(admin_, again); }), 104008);
    EXPECT_EQ(CodeOf([&] { images_.Delete(v2_, false); }), 104020);
    EXPECT_EQ(CodeOf([&] { images_.Delete(v2_, true); }), 104020);
    jobs_.CancelOrArchive(admin_, id, false);
    // Only cancelled jobs name it now: deleted with force_delete only.
    EXPECT_EQ(CodeOf([&] { images_.Delete(v2_, false); }), 104020);
    EXPECT_TRUE(db_.OtaImages().Find(v2_).has_value());
    images_.Delete(v2_, true);
    EXPECT_FALSE(db_.OtaImages().Find(v2_).has_value());
    // The job keeps the id it was made with; an image only cancelled jobs named is replaced.
    EXPECT_EQ(db_.OtaJobs().Find(id)->ota_image_id, v2_);
    const auto cancelled = Create(Job("uses v3", v3_, {"n1"}));
    jobs_.CancelOrArchive(admin_, cancelled, false);
    UploadInput v3;
    v3.image_name = "light v3";
    v3.base64_fwimage = crypto::Base64Encode(Image("3.0.1", 10));
    EXPECT_EQ(images_.Upload(admin_, v3).fw_version, "3.0.1");
}

TEST_F(OtaJobServiceTest, JobsAndImagesTakeAdminTags) {
    tags::TagService tags{db_};
    const auto id = Create(Job("tagged", v2_, {"n1"}));
    tags.Attach(admin_, std::string("OTAJob"), id, Strings{"wave:1"});
    tags.Attach(admin_, std::string("OTAImage"), v2_, Strings{"channel:beta"});
    EXPECT_EQ(db_.Tags().Of(storage::TagResource::kOtaJob, id), (Strings{"wave:1"}));
    EXPECT_EQ(
        CodeOf([&] {
            tags.Attach(admin_, std::string("OTAJob"), std::string("nosuch"), Strings{"a:b"});
        }),
        135001
    );
    // An image's tags go with it.
    images_.Delete(v3_, false);
    tags.Attach(admin_, std::string("OTAImage"), v1_, Strings{"x:y"});
    images_.Delete(v1_, false);
    EXPECT_TRUE(db_.Tags().Of(storage::TagResource::kOtaImage, v1_).empty());
}

}  // namespace
}  // namespace rainmaker::domain::ota

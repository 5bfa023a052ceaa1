// OTA jobs end to end over the real broker with simulated stock firmware (rainmaker-sim
// --ota): an admin uploads an image and makes a job for three nodes; the two online ones get
// their otaurl (one updates: in-progress, then success with its new version; one rejects), the
// one offline gets it through otafetch when it connects; statuses, counters and the summary
// follow; a job is cancelled and archived; a user-approval job goes to a node when its user
// approves it (#41-#43); what a job holds (its image, its admin group) is kept; bad requests are
// refused with nothing changed. Stock firmware's download (--ota download) checks what it gets,
// and a secure boot job delivers the signed firmware.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;

class OtaJobsTest : public ::testing::Test, protected DeviceLab {
protected:
    OtaJobsTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          eve_(SignUpAndLogin(client_, server_, "eve@example.com")),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    std::string UploadImage(const std::string& name, const std::string& version) {
        EspImageSpec spec;
        spec.version = version;
        const auto r = client_.Post(
            "/v1/admin/otaimage",
            object{{"image_name", name}, {"base64_fwimage", ToBase64(BuildEspImage(spec))}},
            admin_.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
        return r.Str("ota_image_id");
    }

    HttpResult CreateJob(const object& body, const std::string& query = "") {
        return client_.Post("/v1/admin/otajob" + query, body, admin_.accesstoken);
    }

    std::string Job(const object& body, const std::string& query = "") {
        const auto r = CreateJob(body, query);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.Str("ota_job_id");
    }

    // The node's status in the job (#38 with node_id), "" when none.
    std::string NodeStatus(const std::string& job, const std::string& node) {
        const auto r = client_.Get(
            "/v1/admin/otajob/status?ota_job_id=" + job + "&node_id=" + node, admin_.accesstoken
        );
        if (r.status != 200 || r.json.at("node_ota_status").as_array().empty()) {
            return "";
        }
        return std::string(r.json.at("node_ota_status").at(0).at("status").as_string());
    }

    // Polls #38 until the node's status is `status`.
    std::string WaitStatus(
        const std::string& job, const std::string& node, const std::string& status
    ) {
        std::string now;
        for (int i = 0; i < 200 && (now = NodeStatus(job, node)) != status; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return now;
    }

    HttpResult Summary(const std::string& job) {
        return client_.Get("/v1/admin/otajob/status/summary?ota_job_id=" + job, admin_.accesstoken);
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens eve_;
    Tokens admin_;
};

// What the simulated nodes are told to do quickly: ask 300 ms after starting, update in 300 ms.
const std::vector<std::string> kFast = {"--otafetch-delay-ms", "300", "--ota-duration-ms", "300"};

std::vector<std::string> Fast(std::vector<std::string> more = {}) {
    auto args = kFast;
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

TEST_F(OtaJobsTest, ARolloutReachesOnlineAndLaterNodesAndIsFollowed) {
    const auto updater = Claim(alice_, "updater");
    const auto rejecter = Claim(alice_, "rejecter");
    const auto later = Claim(alice_, "later");
    auto sim_updater = RunMapped(alice_, updater, nullptr, Fast());
    auto sim_rejecter = RunMapped(alice_, rejecter, nullptr, Fast({"--ota", "reject"}));
    // Both asked once already (nothing to offer yet).
    const auto image = UploadImage("light 2.0", "2.0.0");

    const auto job = Job(object{
        {"ota_job_name", "Light 2.0 rollout"},
        {"description", "Brighter"},
        {"ota_image_id", image},
        {"nodes", array{updater.node_id, rejecter.node_id, later.node_id}},
        {"priority", 3},
        {"timeout", 3600},
        {"metadata", boost::json::parse(R"({"download_window":{"start":0,"end":1439}})")}});
    ASSERT_FALSE(job.empty());

    // The online nodes are pushed to (paced by the ota-push job): one updates, one rejects.
    const auto url = sim_updater->WaitFor("otaurl");
    ASSERT_FALSE(url.empty());
    const auto sent = boost::json::parse(url.substr(std::string("otaurl ").size())).as_object();
    EXPECT_EQ(sent.at("ota_job_id"), boost::json::value(job));
    EXPECT_EQ(sent.at("fw_version"), "2.0.0");
    EXPECT_TRUE(sent.at("url").as_string().starts_with("https://")) << url;
    EXPECT_EQ(
        sent.at("metadata"), boost::json::parse(R"({"download_window":{"start":0,"end":1439}})")
    );
    EXPECT_FALSE(sim_updater->WaitFor("otastatus " + job + " in-progress").empty());
    EXPECT_FALSE(sim_updater->WaitFor("otastatus " + job + " success").empty());
    EXPECT_FALSE(
        sim_rejecter->WaitFor("otastatus " + job + " rejected Same version received").empty()
    );
    EXPECT_EQ(WaitStatus(job, updater.node_id, "success"), "success");
    EXPECT_EQ(WaitStatus(job, rejecter.node_id, "rejected"), "rejected");
    EXPECT_EQ(NodeStatus(job, later.node_id), "pending");
    // The updated node's config reports its new version; its fresh otafetch gets nothing.
    const auto details = Eventually(
        "/v1/user/nodes?node_id=" + updater.node_id + "&node_details=true",
        alice_,
        [](const HttpResult& r) {
            return r.status == 200 && r.body.find(R"("fw_version":"2.0.0")") != std::string::npos;
        }
    );
    EXPECT_NE(details.body.find(R"("fw_version":"2.0.0")"), std::string::npos) << details.body;

    // The node offline when the job started gets it when it connects and asks.
    auto sim_later = Run(later, Fast());
    EXPECT_FALSE(sim_later->WaitFor("otastatus " + job + " success").empty());
    EXPECT_EQ(WaitStatus(job, later.node_id, "success"), "success");

    const auto summary = Summary(job);
    ASSERT_EQ(summary.status, 200) << summary.body;
    EXPECT_EQ(summary.json.at("success"), 2) << summary.body;
    EXPECT_EQ(summary.json.at("rejected"), 1);
    EXPECT_EQ(summary.json.at("total"), 3);
    const auto listed = client_.Get("/v1/admin/otajob?ota_job_id=" + job, admin_.accesstoken);
    ASSERT_EQ(listed.status, 200) << listed.body;
    const auto& view = listed.json.at("ota_jobs").at(0);
    EXPECT_EQ(view.at("status"), "completed") << listed.body;
    EXPECT_EQ(view.at("success_count"), 2);
    EXPECT_EQ(view.at("completed_count"), 3);
    EXPECT_EQ(view.at("priority"), 3);
    EXPECT_EQ(view.at("description"), "Brighter");
    const auto statuses = client_.Get(
        "/v1/admin/otajob/status?ota_job_id=" + job + "&num_records=2&summary=true",
        admin_.accesstoken
    );
    ASSERT_EQ(statuses.status, 200) << statuses.body;
    EXPECT_EQ(statuses.json.at("node_ota_status").as_array().size(), 2U);
    EXPECT_EQ(statuses.json.at("total"), 3);
    EXPECT_TRUE(statuses.json.as_object().contains("next_id"));
    EXPECT_EQ(statuses.json.at("summary").at("success"), 2);
    // The image a job used is kept (the job is not cancelled).
    const auto del = client_.Delete(
        "/v1/admin/otaimage?ota_image_id=" + image + "&force_delete=true", admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(del, 400, 104020));
    // Users never reach the admin routes.
    EXPECT_TRUE(IsFailure(client_.Get("/v1/admin/otajob", alice_.accesstoken), 400, 100004));
}

// Stock firmware's esp_https_ota (rainmaker-sim --ota download): the node downloads each
// offered image over our HTTPS listener (CA and host name checked), checks its size and MD5,
// and its project name (rejected when another project's); outside the metadata's download
// window it reports delayed and downloads nothing. A secure boot job delivers the firmware
// signed with the keys it names: the node downloads those bytes (their size and MD5).
TEST_F(OtaJobsTest, StockFirmwareDownloadsCheckedImagesAndSignedOnes) {
    const auto node = Claim(alice_, "downloader");
    auto sim = RunMapped(alice_, node, nullptr, Fast({"--ota", "download"}));
    const auto image = UploadImage("light 2.0", "2.0.0");
    const auto job = Job(object{
        {"ota_job_name", "download"}, {"ota_image_id", image}, {"nodes", array{node.node_id}}});
    EXPECT_FALSE(sim->WaitFor("otastatus " + job + " in-progress Downloaded 100%").empty())
        << ::testing::PrintToString(sim->lines());
    EXPECT_FALSE(sim->WaitFor("otastatus " + job + " success").empty());
    EXPECT_EQ(WaitStatus(job, node.node_id, "success"), "success");
    // Progress on the way, as firmware with progress reports sends it.
    const auto& lines = sim->lines();
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.starts_with("otastatus " + job + " in-progress Downloaded 50% Firmware Image");
    })) << ::testing::PrintToString(lines);

    // Another project's image: downloaded, then rejected.
    EspImageSpec other;
    other.version = "3.0.0";
    other.project_name = "smart_plug";
    auto r = client_.Post(
        "/v1/admin/otaimage",
        object{{"image_name", "plug 3.0"}, {"base64_fwimage", ToBase64(BuildEspImage(other))}},
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto plug_job = Job(object{
        {"ota_job_name", "wrong project"},
        {"ota_image_id", r.Str("ota_image_id")},
        {"nodes", array{node.node_id}}});
    EXPECT_FALSE(sim->WaitFor("otastatus " + plug_job + " rejected Project Name mismatch").empty());
    EXPECT_EQ(WaitStatus(plug_job, node.node_id, "rejected"), "rejected");

    // Outside the download window (the hour after the next one, UTC): delayed.
    const auto minute = (std::chrono::duration_cast<std::chrono::minutes>(
                             std::chrono::system_clock::now().time_since_epoch()
                        )
                             .count()) %
                        1440;
    const auto v3 = UploadImage("light 3.0", "3.0.0");
    const auto later_job = Job(object{
        {"ota_job_name", "later"},
        {"ota_image_id", v3},
        {"nodes", array{node.node_id}},
        {"metadata",
         object{
             {"download_window",
              object{{"start", (minute + 60) % 1440}, {"end", (minute + 120) % 1440}}}}}});
    EXPECT_FALSE(
        sim->WaitFor("otastatus " + later_job + " delayed Outside the download window").empty()
    );
    EXPECT_EQ(WaitStatus(later_job, node.node_id, "delayed"), "delayed");
    ASSERT_EQ(
        client_.Put("/v1/admin/otajob", object{{"ota_job_id", later_job}}, admin_.accesstoken)
            .status,
        200
    );

    // A secure boot job: a superadmin's key; the node gets the signed firmware's bytes.
    const auto root = CreateAdminAndLogin(client_, server_, "root@example.com", "--superadmin");
    r = client_.Post(
        "/v1/admin/key",
        object{{"key_name", "fleet-key"}, {"key_spec", "RSA_3072"}},
        root.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    // Signing with a key is a superadmin's: an admin's job takes only firmware signed before.
    const object signed_body{
        {"ota_job_name", "signed"},
        {"ota_image_id", v3},
        {"nodes", array{node.node_id}},
        {"secure_boot", object{{"key_names", array{"fleet-key"}}}}};
    EXPECT_TRUE(IsFailure(CreateJob(signed_body), 400, 105070));
    r = client_.Post("/v1/admin/otajob", signed_body, root.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string signed_job = r.Str("ota_job_id");
    const auto offered = sim->WaitFor("otaurl");
    ASSERT_FALSE(offered.empty());
    const auto sent = boost::json::parse(offered.substr(std::string("otaurl ").size())).as_object();
    r = client_.Get("/v1/admin/secure_sign/signing_keys?image_id=" + v3, root.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json.at("total").as_int64(), 1) << r.body;
    EXPECT_EQ(sent.at("ota_job_id"), boost::json::value(signed_job));
    // The signed firmware's bytes: the image padded to 4 KiB and a 4 KiB signature sector.
    const auto listed = client_.Get("/v1/admin/otaimage?ota_image_id=" + v3, admin_.accesstoken);
    const auto& unsigned_image = listed.json.at("ota_images").at(0);
    const auto plain_size = unsigned_image.at("file_size").as_int64();
    EXPECT_EQ(sent.at("file_size").as_int64(), (plain_size + 4095) / 4096 * 4096 + 4096) << offered;
    EXPECT_NE(sent.at("file_md5"), unsigned_image.at("file_md5")) << offered;
    EXPECT_FALSE(sim->WaitFor("otastatus " + signed_job + " success").empty());
    EXPECT_EQ(WaitStatus(signed_job, node.node_id, "success"), "success");
}

TEST_F(OtaJobsTest, CancelArchiveAndWhatAJobHolds) {
    const auto idle = Claim(alice_, "idle");  // never connects
    const auto image = UploadImage("light 3.0", "3.0.0");
    const auto group = client_.Post(
        "/v1/admin/node_group",
        object{{"group_name", "fleet"}, {"nodes", array{idle.node_id}}},
        admin_.accesstoken
    );
    ASSERT_EQ(group.status, 200) << group.body;
    const auto job = Job(object{
        {"ota_job_name", "to cancel"},
        {"ota_image_id", image},
        {"groups", array{group.Str("group_id")}}});
    EXPECT_EQ(NodeStatus(job, idle.node_id), "pending");
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/admin/node_group?group_id=" + group.Str("group_id"), admin_.accesstoken
        ),
        400,
        108028
    ));
    const auto status =
        client_.Get("/v1/admin/otajob/status?ota_job_id=" + job, admin_.accesstoken);
    EXPECT_EQ(status.json.at("node_groups").at(0).at("group_name"), "fleet") << status.body;

    // Archive needs an ended job; cancel needs an active one.
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/admin/otajob", object{{"ota_job_id", job}, {"archive", "true"}}, admin_.accesstoken
        ),
        404,
        105032
    ));
    const auto cancelled =
        client_.Put("/v1/admin/otajob", object{{"ota_job_id", job}}, admin_.accesstoken);
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.Str("status"), "cancelled");
    EXPECT_TRUE(cancelled.json.as_object().contains("cancelled_timestamp"));
    EXPECT_EQ(cancelled.json.at("total_count"), 1);
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/admin/otajob", object{{"ota_job_id", job}}, admin_.accesstoken),
        404,
        105015
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put("/v1/admin/otajob", object{{"ota_job_id", "nosuch"}}, admin_.accesstoken),
        404,
        105015
    ));
    EXPECT_TRUE(
        IsFailure(client_.Put("/v1/admin/otajob", object{}, admin_.accesstoken), 400, 105014)
    );
    const auto archived = client_.Put(
        "/v1/admin/otajob", object{{"ota_job_id", job}, {"archive", "true"}}, admin_.accesstoken
    );
    ASSERT_EQ(archived.status, 200) << archived.body;
    EXPECT_EQ(archived.json.at("archived"), true);
    EXPECT_EQ(client_.Get("/v1/admin/otajob", admin_.accesstoken).json.at("total"), 0);
    EXPECT_EQ(
        client_.Get("/v1/admin/otajob?archived=true", admin_.accesstoken).json.at("total"), 1
    );
    // Once the job ended: the group goes; the image only cancelled jobs use goes with force_delete.
    EXPECT_EQ(
        client_.Delete("/v1/admin/node_group?group_id=" + group.Str("group_id"), admin_.accesstoken)
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/admin/otaimage?ota_image_id=" + image, admin_.accesstoken), 400, 104020
    ));
    EXPECT_EQ(
        client_
            .Delete(
                "/v1/admin/otaimage?ota_image_id=" + image + "&force_delete=true",
                admin_.accesstoken
            )
            .status,
        200
    );

    // Bad requests change nothing.
    const auto other = UploadImage("light 3.1", "3.1.0");
    EXPECT_TRUE(IsFailure(
        CreateJob(object{{"ota_image_id", other}, {"nodes", array{idle.node_id}}}), 400, 105001
    ));
    EXPECT_TRUE(IsFailure(
        CreateJob(object{{"ota_job_name", "x"}, {"ota_image_id", other}, {"nodes", "n"}}),
        400,
        100006
    ));
    EXPECT_TRUE(IsFailure(
        CreateJob(
            object{{"ota_job_name", "x"}, {"ota_image_id", other}, {"nodes", array{idle.node_id}}},
            "?notify=true"
        ),
        400,
        105057
    ));
    EXPECT_TRUE(IsFailure(
        CreateJob(
            object{{"ota_job_name", "x"}, {"ota_image_id", other}, {"nodes", array{idle.node_id}}},
            "?user_approval=maybe"
        ),
        400,
        100021
    ));
    EXPECT_TRUE(IsFailure(
        CreateJob(object{
            {"ota_job_name", "x"},
            {"ota_image_id", other},
            {"nodes", array{idle.node_id}},
            {"secure_boot", object{{"auto_select_key", true}}}}),
        400,
        100012
    ));
    EXPECT_TRUE(IsFailure(
        CreateJob(object{
            {"ota_job_name", "x"},
            {"ota_image_id", other},
            {"node_type", "Lightbulb"},
            {"nodes", array{idle.node_id}}}),
        400,
        105052
    ));
    EXPECT_TRUE(
        IsFailure(client_.Get("/v1/admin/otajob/status/summary", admin_.accesstoken), 400, 105014)
    );
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/otajob/status?ota_job_id=nosuch", admin_.accesstoken), 404, 105012
    ));
    EXPECT_EQ(client_.Get("/v1/admin/otajob?all=true", admin_.accesstoken).json.at("total"), 1);
}

TEST_F(OtaJobsTest, AUserApprovesAnUpdateForTheirNode) {
    const auto node = Claim(alice_, "light");
    auto sim = RunMapped(alice_, node, nullptr, Fast());
    const auto image = UploadImage("light 4.0", "4.0.0");
    const auto job = Job(
        object{
            {"ota_job_name", "optional 4.0"},
            {"description", "New effects"},
            {"ota_image_id", image},
            {"nodes", array{node.node_id}},
            {"user_ota_image_acccess", true}},
        "?user_approval=true"
    );
    // Not pushed before a user approves.
    EXPECT_TRUE(sim->Collect("otaurl", std::chrono::milliseconds(1500)).empty());
    const std::string q = "?node_id=" + node.node_id;
    const auto check = client_.Get("/v1/user/nodes/ota_update" + q, alice_.accesstoken);
    ASSERT_EQ(check.status, 200) << check.body;
    EXPECT_EQ(check.json.at("ota_available"), true);
    EXPECT_EQ(check.Str("ota_job_id"), job);
    EXPECT_EQ(check.Str("fw_version"), "4.0.0");
    EXPECT_EQ(check.Str("description"), "New effects");
    EXPECT_TRUE(check.Str("url").starts_with("https://")) << check.body;
    EXPECT_TRUE(
        IsFailure(client_.Get("/v1/user/nodes/ota_update" + q, eve_.accesstoken), 400, 100010)
    );
    EXPECT_TRUE(IsFailure(client_.Get("/v1/user/nodes/ota_update", alice_.accesstoken), 400, 105018)
    );
    const auto status_q = "/v1/user/nodes/ota_status" + q + "&ota_job_id=" + job;
    EXPECT_EQ(client_.Get(status_q, alice_.accesstoken).Str("status"), "pending");
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/ota_status" + q + "&ota_job_id=nosuch", alice_.accesstoken),
        404,
        105024
    ));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/user/nodes/ota_update",
            object{{"ota_job_id", "nosuch"}, {"node_id", node.node_id}},
            alice_.accesstoken
        ),
        400,
        105036
    ));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/user/nodes/ota_update",
            object{{"ota_job_id", job}, {"node_id", node.node_id}},
            eve_.accesstoken
        ),
        400,
        100010
    ));

    const auto approved = client_.Post(
        "/v1/user/nodes/ota_update",
        object{{"ota_job_id", job}, {"node_id", node.node_id}},
        alice_.accesstoken
    );
    ASSERT_EQ(approved.status, 200) << approved.body;
    EXPECT_FALSE(sim->WaitFor("otastatus " + job + " success").empty());
    const auto done = Eventually(status_q, alice_, [](const HttpResult& r) {
        return r.Str("status") == "success";
    });
    EXPECT_EQ(done.Str("status"), "success") << done.body;
    EXPECT_GT(done.json.at("timestamp").as_int64(), 1'600'000'000'000);
    const auto none = Eventually("/v1/user/nodes/ota_update" + q, alice_, [](const HttpResult& r) {
        return r.status == 200 && r.json.at("ota_available") == false;
    });
    EXPECT_EQ(none.json.at("ota_available"), false) << none.body;

    // An offline node cannot be pushed to now.
    const auto image5 = UploadImage("light 5.0", "5.0.0");
    const auto job5 = Job(
        object{
            {"ota_job_name", "optional 5.0"},
            {"ota_image_id", image5},
            {"nodes", array{node.node_id}}},
        "?user_approval=true"
    );
    sim->Kill();
    const auto offline = Eventually("/v1/user/nodes/status" + q, alice_, [](const HttpResult& r) {
        return r.status == 200 && r.body.find(R"("connected":false)") != std::string::npos;
    });
    ASSERT_NE(offline.body.find(R"("connected":false)"), std::string::npos) << offline.body;
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/user/nodes/ota_update",
            object{{"ota_job_id", job5}, {"node_id", node.node_id}},
            alice_.accesstoken
        ),
        400,
        102001
    ));
}

}  // namespace
}  // namespace rainmaker::testing

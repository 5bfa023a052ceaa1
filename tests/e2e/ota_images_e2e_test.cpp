// OTA images end to end (#29-#32): an admin uploads a 2 MB ESP app image inline (past the
// server's 1 MiB body limit: the route has its own), the server reads version and project from
// it, keeps it under the data directory by its SHA-256 and lists, archives, unarchives and
// deletes it; bad uploads are refused with nothing stored; users get 100004; the images and
// their bytes survive a restart.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;
namespace fs = std::filesystem;

class OtaImagesTest : public ::testing::Test {
protected:
    OtaImagesTest()
        : client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    HttpResult Upload(const std::string& name, const std::string& bytes, object extra = {}) {
        extra["image_name"] = name;
        extra["base64_fwimage"] = ToBase64(bytes);
        return client_.Post("/v1/admin/otaimage", extra, admin_.accesstoken);
    }

    HttpResult List(const std::string& query = "") {
        return client_.Get("/v1/admin/otaimage" + query, admin_.accesstoken);
    }

    std::size_t BlobFiles() {
        std::size_t n = 0;
        const auto dir = server_.data_dir() / "blobs" / "sha256";
        if (!fs::exists(dir)) {
            return 0;
        }
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    }

    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Tokens admin_;
};

std::string BigImage() {
    EspImageSpec spec;
    spec.version = "2.0.0";
    spec.project_name = "led_light";
    spec.segment_bytes = 1024 * 1024;  // two segments: a 2 MB image, 2.8 MB of base64
    return BuildEspImage(spec);
}

TEST_F(OtaImagesTest, UploadListArchiveDeleteAndRestart) {
    const std::string image = BigImage();
    const auto up = Upload("Light 2.0", image);
    ASSERT_EQ(up.status, 200) << up.body.substr(0, 300);
    EXPECT_EQ(up.Str("status"), "success");
    const std::string id = up.Str("ota_image_id");
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(up.Str("fw_version"), "2.0.0");
    EXPECT_EQ(up.Str("model"), "led_light");

    auto r = List("?ota_image_id=" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& listed = r.json.at("ota_images").at(0);
    EXPECT_EQ(listed.at("image_name"), "Light 2.0");
    EXPECT_EQ(listed.at("fw_version"), "2.0.0");
    EXPECT_EQ(listed.at("model"), "led_light");
    EXPECT_EQ(listed.at("type"), "led_light");
    EXPECT_EQ(
        listed.at("file_size").to_number<std::int64_t>(), static_cast<std::int64_t>(image.size())
    );
    EXPECT_EQ(listed.at("file_md5").as_string().size(), 32U);
    EXPECT_EQ(listed.at("archived"), false);
    const std::string sha(listed.at("file_sha256").as_string());
    const auto blob = server_.data_dir() / "blobs" / "sha256" / sha.substr(0, 2) / sha;
    ASSERT_TRUE(fs::exists(blob));
    EXPECT_EQ(fs::file_size(blob), image.size());

    // Given values win over the image's.
    auto given =
        Upload("Light custom", BuildEspImage({}), object{{"fw_version", "7.7"}, {"model", "L-7"}});
    ASSERT_EQ(given.status, 200) << given.body;
    EXPECT_EQ(given.Str("fw_version"), "7.7");
    EXPECT_EQ(given.Str("model"), "L-7");

    // Archive: gone from the default list, in the archived one; then back.
    r = client_.Put(
        "/v1/admin/otaimage?ota_image_id=" + id + "&archive=true", object{}, admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Put(
        "/v1/admin/otaimage?ota_image_id=" + id + "&archive=true", object{}, admin_.accesstoken
    );
    EXPECT_EQ(r.ErrorCode(), 104023);
    EXPECT_EQ(List().json.at("total"), 1);
    r = List("?archived=true");
    EXPECT_EQ(r.json.at("total"), 1);
    EXPECT_EQ(r.json.at("ota_images").at(0).at("ota_image_id").as_string(), id);
    EXPECT_EQ(List("?all=true").json.at("total"), 2);
    r = client_.Put(
        "/v1/admin/otaimage?ota_image_id=" + id + "&archive=maybe", object{}, admin_.accesstoken
    );
    EXPECT_EQ(r.ErrorCode(), 104026);
    r = client_.Put("/v1/admin/otaimage?ota_image_id=" + id, object{}, admin_.accesstoken);
    EXPECT_EQ(r.ErrorCode(), 104022);
    r = client_.Put(
        "/v1/admin/otaimage?ota_image_id=" + id + "&archive=false", object{}, admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;

    // Filters and pages.
    EXPECT_EQ(List("?image_name=Light&contains=true").json.at("total"), 2);
    EXPECT_EQ(List("?image_name=Light").json.at("total"), 0);
    EXPECT_EQ(List("?model=L-7").json.at("total"), 1);
    r = List("?num_records=1");
    EXPECT_EQ(r.json.at("ota_images").as_array().size(), 1U);
    ASSERT_TRUE(r.json.as_object().contains("next_id")) << r.body;
    r = List("?num_records=1&start_id=" + std::string(r.json.at("next_id").as_string()));
    EXPECT_EQ(r.json.at("ota_images").as_array().size(), 1U);
    EXPECT_FALSE(r.json.as_object().contains("next_id")) << r.body;
    EXPECT_EQ(List("?num_records=0").ErrorCode(), 100021);

    // A restart keeps the rows and the bytes.
    server_.Restart();
    HttpClient again(server_.port());
    const auto relogin = Login(again, "ops@example.com");
    r = again.Get("/v1/admin/otaimage?ota_image_id=" + id, relogin.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(fs::exists(blob));

    // Delete: the row and its bytes go.
    r = again.Delete("/v1/admin/otaimage?ota_image_id=" + id, relogin.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(fs::exists(blob));
    r = again.Delete("/v1/admin/otaimage?ota_image_id=" + id, relogin.accesstoken);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.ErrorCode(), 104015);
    EXPECT_EQ(again.Delete("/v1/admin/otaimage", relogin.accesstoken).ErrorCode(), 104018);
}

TEST_F(OtaImagesTest, BadUploadsAreRefusedWithNothingStored) {
    auto r = Upload("foreign", std::string(4096, '\x7F'));
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    EXPECT_EQ(r.ErrorCode(), 104003);
    auto truncated = BuildEspImage({});
    truncated.pop_back();
    EXPECT_EQ(Upload("truncated", truncated).ErrorCode(), 104003);
    EXPECT_EQ(
        client_
            .Post(
                "/v1/admin/otaimage",
                object{{"image_name", "x"}, {"base64_fwimage", "@@@@"}},
                admin_.accesstoken
            )
            .ErrorCode(),
        104011
    );
    EXPECT_EQ(
        client_.Post("/v1/admin/otaimage", object{{"base64_fwimage", "AAAA"}}, admin_.accesstoken)
            .ErrorCode(),
        104002
    );
    EXPECT_EQ(
        client_.Post("/v1/admin/otaimage", object{{"image_name", "x"}}, admin_.accesstoken)
            .ErrorCode(),
        104001
    );
    // 5 MiB: the catalog's "smaller than 5 mb".
    EXPECT_EQ(Upload("huge", std::string(5 * 1024 * 1024, '\xE9')).ErrorCode(), 104010);
    // Users are not admins.
    r = client_.Post(
        "/v1/admin/otaimage",
        object{{"image_name", "mine"}, {"base64_fwimage", ToBase64(BuildEspImage({}))}},
        alice_.accesstoken
    );
    EXPECT_EQ(r.ErrorCode(), 100004);
    EXPECT_EQ(client_.Get("/v1/admin/otaimage", alice_.accesstoken).ErrorCode(), 100004);

    EXPECT_EQ(List("?all=true").json.at("total"), 0);
    EXPECT_EQ(BlobFiles(), 0U);
}

TEST_F(OtaImagesTest, OnlyTheUploadRouteTakesLargeBodies) {
    // Another route keeps the server's 1 MiB.
    const std::string padded = "{\"group_name\":\"" + std::string(2 * 1024 * 1024, 'x') + "\"}";
    auto r = client_.Request(
        "POST",
        "/v1/admin/node_group",
        padded,
        {{"Content-Type", "application/json"}, {"Authorization", admin_.accesstoken}}
    );
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(r.IsFailureEnvelope()) << r.body;
    // The upload route refuses a declared length past its own limit before reading it.
    const std::string answer = client_.Raw(
        "POST /v1/admin/otaimage HTTP/1.1\r\nHost: x\r\nAuthorization: " + admin_.accesstoken +
        "\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    );
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0U) << answer.substr(0, 200);
}

}  // namespace
}  // namespace rainmaker::testing

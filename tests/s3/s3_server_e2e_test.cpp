// The server with storage.blob_backend = "s3" against the tests' S3 server (every request
// signed, checked with AWS's signer): images (inline, presigned and confirmed) and files are
// objects of the bucket, the URLs handed out are S3's own presigned URLs (uploads go straight
// to the bucket, downloads come from it), bad uploads are refused with nothing kept, deleting an
// image removes its object, and a server whose bucket refuses its credentials does not start.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "s3/fake_s3.hpp"
#include "support/accounts.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/md5_base64.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

std::string Firmware(const std::string& version, std::size_t segment_bytes = 40) {
    EspImageSpec spec;
    spec.version = version;
    spec.project_name = "led_light";
    spec.segment_bytes = segment_bytes;
    return BuildEspImage(spec);
}

std::string S3Toml(const FakeS3& s3, const std::string& secret = FakeS3::kSecretAccessKey) {
    return "[http]\npublic_host = \"ota.test\"\n"
           "[storage]\nblob_backend = \"s3\"\n"
           "[storage.s3]\nendpoint = \"" +
           s3.endpoint() +
           "\"\nbucket = \"firmware\"\nprefix = \"rm/\"\n"
           "access_key_id = \"" +
           FakeS3::kAccessKeyId + "\"\nsecret_access_key = \"" + secret + "\"\n";
}

class S3ServerTest : public ::testing::Test {
protected:
    S3ServerTest()
        : config_(S3Toml(s3_)),
          server_(config_.Options()),
          client_(server_.port()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    // Blobs the local store would hold (the admin command that made the admin opens it).
    std::size_t LocalBlobFiles() const {
        std::size_t n = 0;
        const auto dir = server_.data_dir() / "blobs";
        if (std::filesystem::exists(dir)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
                n += e.is_regular_file() ? 1 : 0;
            }
        }
        return n;
    }

    FakeS3 s3_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens admin_;
};

TEST_F(S3ServerTest, ImagesAreObjectsOfTheBucketAndTravelThroughItsUrls) {
    const std::string bucket_url = s3_.endpoint() + "/firmware/rm/";

    // Inline (#29): stored in the bucket, nothing on the local disk.
    const std::string inline_image = Firmware("1.0.0");
    auto r = client_.Post(
        "/v1/admin/otaimage",
        object{{"image_name", "inline"}, {"base64_fwimage", ToBase64(inline_image)}},
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(s3_.CountObjects("rm/blobs/"), 1U);
    EXPECT_EQ(LocalBlobFiles(), 0U);

    // Presigned (#33): the URL is the bucket's; the PUT goes there, with the Content-MD5 asked.
    const std::string image = Firmware("2.0.0", 1536 * 1024);
    const std::string md5 = Md5Base64(image);
    r = client_.Get(
        "/v1/admin/otaimage/upload_request?image_name=light&md5_checksum=" + md5, admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.Str("ota_image_id");
    const std::string url = r.Str("upload_url");
    EXPECT_EQ(url.rfind(bucket_url + "uploads/" + id + "?", 0), 0U) << url;
    // Nothing arrived yet; a body that is not the one asked for is refused by S3.
    r = client_.Post(
        "/v1/admin/otaimage/upload_confirm", object{{"ota_image_id", id}}, admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 104032)) << r.body;
    EXPECT_EQ(FetchUrl("PUT", url, image + "x", {{"Content-MD5", md5}}).status, 400);
    EXPECT_EQ(FetchUrl("PUT", url, image).status, 403);
    r = client_.Post(
        "/v1/admin/otaimage/upload_confirm", object{{"ota_image_id", id}}, admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 104032)) << r.body;

    auto put = FetchUrl("PUT", url, image, {{"Content-MD5", md5}});
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(s3_.CountObjects("rm/uploads/"), 1U);
    r = client_.Post(
        "/v1/admin/otaimage/upload_confirm", object{{"ota_image_id", id}}, admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("fw_version"), "2.0.0");
    EXPECT_EQ(s3_.CountObjects("rm/uploads/"), 0U);  // taken in
    EXPECT_EQ(s3_.CountObjects("rm/blobs/"), 2U);
    const std::string image_url = r.Str("image_url");
    EXPECT_EQ(image_url.rfind(bucket_url + "blobs/", 0), 0U) << image_url;
    auto got = FetchUrl("GET", image_url);
    EXPECT_EQ(got.status, 200);
    EXPECT_TRUE(got.body == image);
    EXPECT_EQ(FetchUrl("GET", image_url.substr(0, image_url.find('?'))).status, 403);

    // Deleting the image removes its object.
    r = client_.Delete("/v1/admin/otaimage?ota_image_id=" + id, admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(s3_.CountObjects("rm/blobs/"), 1U);
    EXPECT_EQ(FetchUrl("GET", image_url).status, 404);
}

TEST_F(S3ServerTest, FilesKeepTheirLimitsWhenTheyGoStraightToTheBucket) {
    const auto alice = SignUpAndLogin(client_, server_, "alice@example.com");
    auto request = [&, n = 0]() mutable {
        auto r = client_.Get(
            "/v1/user/file/upload_request?file_name=log" + std::to_string(++n) +
                ".txt&entity_type=log",
            alice.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
        return std::make_pair(r.Str("file_id"), r.Str("file_url"));
    };
    const auto confirm = [&](const std::string& id) {
        return client_.Post(
            "/v1/user/file/upload_confirm", object{{"file_id", id}}, alice.accesstoken
        );
    };

    // An S3 URL cannot limit a PUT: a user's file past 10 MB is refused at its confirmation,
    // and what was PUT is removed.
    auto [big_id, big_url] = request();
    EXPECT_EQ(big_url.rfind(s3_.endpoint() + "/firmware/rm/uploads/" + big_id, 0), 0U);
    ASSERT_EQ(FetchUrl("PUT", big_url, std::string(10 * 1024 * 1024 + 1, 'x')).status, 200);
    auto r = confirm(big_id);
    EXPECT_TRUE(IsFailure(r, 500, 134015)) << r.body;
    EXPECT_EQ(s3_.CountObjects("rm/uploads/"), 0U);
    EXPECT_EQ(s3_.CountObjects("rm/blobs/"), 0U);
    r = client_.Get("/v1/user/file", alice.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 0) << r.body;

    auto [id, url] = request();
    ASSERT_EQ(FetchUrl("PUT", url, "a log line\n").status, 200);
    r = confirm(id);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto got = FetchUrl("GET", r.Str("file_url"));
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, "a log line\n");
    EXPECT_EQ(LocalBlobFiles(), 0U);
    // Another user cannot take alice's upload in by confirming it.
    auto [other_id, other_url] = request();
    ASSERT_EQ(FetchUrl("PUT", other_url, "second").status, 200);
    const auto bob = SignUpAndLogin(client_, server_, "bob@example.com");
    r = client_.Post(
        "/v1/user/file/upload_confirm", object{{"file_id", other_id}}, bob.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 134006)) << r.body;
    EXPECT_EQ(s3_.CountObjects("rm/uploads/"), 1U);  // still waiting for alice
}

TEST(S3ServerStart, RefusesToStartWhenTheBucketRefusesItsCredentials) {
    FakeS3 s3;
    TomlConfig config(S3Toml(s3, "wrong-secret"));
    TempDir data;
    const auto log = data.path() / "server.log";
    const std::string command =
        std::string(RAINMAKER_SERVER_BIN) + " --config " + config.path().string() + " --data-dir " +
        (data.path() / "d").string() + " --http-port 0 --https-port 0 --mqtt-port 0 > " +
        log.string() + " 2>&1";
    const int status = std::system(command.c_str());
    EXPECT_NE(status, 0);
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(output.find("credentials are refused"), std::string::npos) << output;
}

}  // namespace
}  // namespace rainmaker::testing

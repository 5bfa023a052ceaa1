// Presigned OTA uploads and downloads end to end, over HTTPS with a client that verifies our CA
// and the public host name (as esp_https_ota does): #33 upload URL → PUT with Content-MD5 →
// #34 confirm → the image_url downloads the same bytes (whole, or a range, as firmware that
// resumes asks); packages through #33/#34 and #44/#45; an end user's image (#40). Every bad
// input is refused with nothing changed: a wrong or missing Content-MD5, a URL altered, signed
// for another object or expired, a body past the limit, an invalid image or package.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/https_client.hpp"
#include "support/md5_base64.hpp"
#include "support/server_process.hpp"
#include "support/zip_builder.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string Firmware(const std::string& version, std::size_t segment_bytes = 40) {
    EspImageSpec spec;
    spec.version = version;
    spec.project_name = "led_light";
    spec.segment_bytes = segment_bytes;
    return BuildEspImage(spec);
}

// "https://host:port/path?query" with the path changed by `edit`.
std::string WithPath(const std::string& url, const std::string& from, const std::string& to) {
    std::string out = url;
    const auto at = out.find(from);
    EXPECT_NE(at, std::string::npos) << url;
    if (at != std::string::npos) {
        out.replace(at, from.size(), to);
    }
    return out;
}

class OtaUploadsTest : public ::testing::Test {
protected:
    explicit OtaUploadsTest(const std::string& toml = "")
        : config_("[http]\npublic_host = \"ota.test\"\n" + toml),
          server_(config_.Options()),
          client_(server_.port()),
          https_(server_.https_port(), Options()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    HttpsOptions Options() const {
        HttpsOptions options;
        options.ca_file = server_.ca_file().string();
        options.host = "ota.test";
        return options;
    }

    HttpResult RequestUpload(const std::string& query) {
        return client_.Get("/v1/admin/otaimage/upload_request?" + query, admin_.accesstoken);
    }

    HttpsOutcome Put(
        const std::string& url, const std::string& bytes, const std::string& content_md5 = ""
    ) {
        std::map<std::string, std::string> headers{{"Content-Type", "application/octet-stream"}};
        if (!content_md5.empty()) {
            headers["Content-MD5"] = content_md5;
        }
        return https_.Fetch("PUT", url, bytes, headers);
    }

    HttpResult Confirm(const std::string& id, object extra = {}) {
        extra["ota_image_id"] = id;
        return client_.Post("/v1/admin/otaimage/upload_confirm", extra, admin_.accesstoken);
    }

    std::size_t BlobFiles() {
        std::size_t n = 0;
        const auto dir = server_.data_dir() / "blobs" / "sha256";
        if (fs::exists(dir)) {
            for (const auto& e : fs::recursive_directory_iterator(dir)) {
                n += e.is_regular_file() ? 1 : 0;
            }
        }
        return n;
    }

    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    HttpsClient https_;
    Tokens admin_;
};

TEST_F(OtaUploadsTest, UploadConfirmAndDownloadOverHttpsOnThePublicHost) {
    // Large enough for curl's Expect: 100-continue and for several pieces on the way out.
    const std::string image = Firmware("2.0.0", 1536 * 1024);
    const std::string md5 = Md5Base64(image);
    auto r = RequestUpload("image_name=light&md5_checksum=" + md5);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.Str("ota_image_id");
    const std::string url = r.Str("upload_url");
    EXPECT_EQ(
        url.rfind("https://ota.test:" + std::to_string(server_.https_port()) + "/uploads/" + id, 0),
        0U
    ) << url;

    // The server answers Expect: 100-continue once the signature is checked (curl would
    // otherwise wait 10 s before sending the body).
    HttpsOptions continuing = Options();
    continuing.expect_continue_ms = 10000;
    const auto started = std::chrono::steady_clock::now();
    const auto put = HttpsClient(server_.https_port(), continuing)
                         .Fetch(
                             "PUT",
                             url,
                             image,
                             {{"Content-MD5", md5}, {"Content-Type", "application/octet-stream"}}
                         );
    ASSERT_EQ(put.curl_code, 0) << put.curl_error;
    EXPECT_EQ(put.result.status, 200) << put.result.body;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);

    r = Confirm(id);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("ota_image_id"), id);
    EXPECT_EQ(r.Str("fw_version"), "2.0.0");
    const std::string image_url = r.Str("image_url");
    EXPECT_EQ(image_url.rfind("https://ota.test:", 0), 0U) << image_url;

    // The whole image, as a node downloads it.
    auto got = https_.Fetch("GET", image_url);
    ASSERT_EQ(got.curl_code, 0) << got.curl_error;
    EXPECT_EQ(got.result.status, 200);
    EXPECT_EQ(got.result.body.size(), image.size());
    EXPECT_TRUE(got.result.body == image);
    EXPECT_EQ(got.result.headers["content-type"], "application/octet-stream");
    EXPECT_EQ(got.result.headers["content-length"], std::to_string(image.size()));
    EXPECT_EQ(got.result.headers["accept-ranges"], "bytes");
    // A download resumed where it stopped; the last bytes; a range past the end.
    got = https_.Fetch("GET", image_url, {}, {{"Range", "bytes=1000000-"}});
    EXPECT_EQ(got.result.status, 206);
    EXPECT_TRUE(got.result.body == image.substr(1000000));
    EXPECT_EQ(
        got.result.headers["content-range"],
        "bytes 1000000-" + std::to_string(image.size() - 1) + "/" + std::to_string(image.size())
    );
    got = https_.Fetch("GET", image_url, {}, {{"Range", "bytes=-10"}});
    EXPECT_EQ(got.result.status, 206);
    EXPECT_TRUE(got.result.body == image.substr(image.size() - 10));
    got = https_.Fetch("GET", image_url, {}, {{"Range", "bytes=99999999-"}});
    EXPECT_TRUE(IsFailure(got.result, 416, 100006));
    EXPECT_EQ(got.result.headers["content-range"], "bytes */" + std::to_string(image.size()));

    // The listing's image_url works too.
    r = client_.Get("/v1/admin/otaimage?ota_image_id=" + id, admin_.accesstoken);
    const std::string listed(r.json.at("ota_images").at(0).at("image_url").as_string());
    EXPECT_TRUE(https_.Fetch("GET", listed).result.body == image);

    // Without the signature, altered, for another object, with another method: 403 / 405.
    const std::string bare = image_url.substr(0, image_url.find('?'));
    EXPECT_TRUE(IsFailure(https_.Fetch("GET", bare).result, 403, 100004));
    std::string altered = image_url;
    altered.back() = altered.back() == '0' ? '1' : '0';
    EXPECT_TRUE(IsFailure(https_.Fetch("GET", altered).result, 403, 100004));
    const std::string other_name = WithPath(image_url, "/light.bin?", "/other.bin?");
    EXPECT_TRUE(IsFailure(https_.Fetch("GET", other_name).result, 403, 100004));
    const auto expires_at = image_url.find("expires=") + 8;
    std::string later = image_url;
    later[expires_at] = static_cast<char>(later[expires_at] + 1);
    EXPECT_TRUE(IsFailure(https_.Fetch("GET", later).result, 403, 100004));
    EXPECT_EQ(https_.Fetch("DELETE", image_url).result.status, 405);
    // The same URL works on the plain listener too (behind a TLS-terminating proxy).
    const std::string path = image_url.substr(image_url.find("/blobs/"));
    EXPECT_EQ(client_.Get(path).status, 200);

    // Deleting the image takes its bytes: its URLs answer 404.
    r = client_.Delete("/v1/admin/otaimage?ota_image_id=" + id, admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(IsFailure(https_.Fetch("GET", image_url).result, 404, 104015));
    EXPECT_EQ(BlobFiles(), 0U);
}

TEST_F(OtaUploadsTest, ADamagedBlobIsNeverServedWhole) {
    const std::string image = Firmware("6.0.0", 300 * 1024);
    auto r = client_.Post(
        "/v1/admin/otaimage",
        object{{"image_name", "damaged"}, {"base64_fwimage", ToBase64(image)}},
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string url = r.Str("image_url");
    ASSERT_TRUE(https_.Fetch("GET", url).result.body == image);
    // A range, so that the blob is remembered as checked before it is damaged.
    const auto first = https_.Fetch("GET", url, {}, {{"Range", "bytes=0-99"}});
    ASSERT_EQ(first.result.status, 206);
    ASSERT_TRUE(first.result.body == image.substr(0, 100));
    // A byte of the stored file changes (bit rot, a bad disk).
    r = client_.Get("/v1/admin/otaimage?image_name=damaged", admin_.accesstoken);
    const std::string sha(r.json.at("ota_images").at(0).at("file_sha256").as_string());
    const auto file = server_.data_dir() / "blobs" / "sha256" / sha.substr(0, 2) / sha;
    {
        std::fstream blob(file, std::ios::in | std::ios::out | std::ios::binary);
        blob.seekp(200 * 1024);
        blob.put('\x7F');
    }
    // The whole: cut short before its last piece (the client sees fewer bytes than announced).
    const auto whole = https_.Fetch("GET", url);
    EXPECT_EQ(whole.curl_code, CURLE_PARTIAL_FILE) << whole.curl_error;
    EXPECT_LT(whole.result.body.size(), image.size());
    // A range: refused, the whole is checked first.
    const auto part = https_.Fetch("GET", url, {}, {{"Range", "bytes=0-99"}});
    EXPECT_TRUE(IsFailure(part.result, 500, 104006));
    // The server is fine.
    EXPECT_EQ(client_.Get("/healthz").status, 200);
}

TEST_F(OtaUploadsTest, BadUploadsAreRefusedWithNothingChanged) {
    const std::string image = Firmware("3.0.0");
    const std::string md5 = Md5Base64(image);
    auto r = RequestUpload("image_name=checked&md5_checksum=" + md5);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.Str("ota_image_id");
    const std::string url = r.Str("upload_url");
    // Signed with a Content-MD5: a PUT without it, or with another, is not this URL's request.
    EXPECT_TRUE(IsFailure(Put(url, image).result, 403, 100004));
    const std::string other_md5 = Md5Base64("other bytes");
    EXPECT_TRUE(IsFailure(Put(url, "other bytes", other_md5).result, 403, 100004));
    // The header of the URL, but a body that does not match it.
    EXPECT_TRUE(IsFailure(Put(url, image + "x", md5).result, 400, 100006));
    EXPECT_TRUE(IsFailure(Put(url, image, "!!notbase64").result, 400, 100006));
    // Another upload's id under this URL's signature.
    r = RequestUpload("image_name=another");
    const std::string other_id = r.Str("ota_image_id");
    const std::string other_url = r.Str("upload_url");
    EXPECT_TRUE(IsFailure(Put(WithPath(url, id, other_id), image, md5).result, 403, 100004));
    EXPECT_TRUE(
        IsFailure(Put(WithPath(other_url, "/uploads/", "/blobs/"), image).result, 405, 100003)
    );
    EXPECT_EQ(BlobFiles(), 0U);
    r = Confirm(id);
    EXPECT_TRUE(IsFailure(r, 400, 104032));

    // An upload that is not an image: refused at the confirmation, and deleted.
    EXPECT_EQ(Put(other_url, "definitely not firmware").result.status, 200);
    EXPECT_EQ(BlobFiles(), 1U);
    EXPECT_TRUE(IsFailure(Confirm(other_id), 500, 104031));
    EXPECT_EQ(BlobFiles(), 0U);
    // The URL may be used again, with good bytes.
    EXPECT_EQ(Put(other_url, image).result.status, 200);
    EXPECT_EQ(Confirm(other_id).status, 200);

    // Bad requests.
    EXPECT_TRUE(IsFailure(RequestUpload("image_type=firmware"), 400, 104002));
    EXPECT_TRUE(IsFailure(RequestUpload("image_name=x&image_type=elf"), 400, 100021));
    EXPECT_TRUE(IsFailure(RequestUpload("image_name=x&md5_checksum=abc"), 400, 100021));
    EXPECT_TRUE(IsFailure(Confirm(""), 400, 104018));
    EXPECT_TRUE(IsFailure(Confirm("unknown"), 400, 104015));
    EXPECT_TRUE(IsFailure(
        client_.Post(
            "/v1/admin/otaimage/upload_confirm",
            object{{"ota_image_id", id}, {"image_type", "x"}},
            admin_.accesstoken
        ),
        400,
        100006
    ));
    // Users are not admins.
    const auto alice = SignUpAndLogin(client_, server_, "alice@example.com");
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/otaimage/upload_request?image_name=x", alice.accesstoken),
        400,
        100004
    ));
}

class OtaUploadLimitsTest : public OtaUploadsTest {
protected:
    OtaUploadLimitsTest()
        : OtaUploadsTest(
              "[ota]\nmax_upload_bytes = 65536\nupload_url_ttl_seconds = 2\n"
              "image_url_ttl_seconds = 2\n"
          ) {}
};

TEST_F(OtaUploadLimitsTest, BodiesPastTheLimitAndExpiredUrlsAreRefused) {
    auto r = RequestUpload("image_name=big");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string url = r.Str("upload_url");
    // Past ota.max_upload_bytes: 413 before the body is read.
    const auto big = Put(url, std::string(100 * 1024, 'b'));
    EXPECT_TRUE(IsFailure(big.result, 413, 100036)) << big.curl_error;
    EXPECT_EQ(BlobFiles(), 0U);
    const std::string image = Firmware("1.0.0");
    EXPECT_EQ(Put(url, image).result.status, 200);
    r = Confirm(r.Str("ota_image_id"));
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string image_url = r.Str("image_url");
    const std::string pending_url = RequestUpload("image_name=late").Str("upload_url");
    std::this_thread::sleep_for(3500ms);
    auto got = https_.Fetch("GET", image_url);
    EXPECT_TRUE(IsFailure(got.result, 403, 100004));
    EXPECT_NE(got.result.body.find("expired"), std::string::npos) << got.result.body;
    got = Put(pending_url, image);
    EXPECT_TRUE(IsFailure(got.result, 403, 100004));
    EXPECT_NE(got.result.body.find("expired"), std::string::npos) << got.result.body;
    // A new listing gives a fresh URL.
    r = client_.Get("/v1/admin/otaimage", admin_.accesstoken);
    const std::string fresh(r.json.at("ota_images").at(0).at("image_url").as_string());
    EXPECT_TRUE(https_.Fetch("GET", fresh).result.body == image);
}

TEST_F(OtaUploadsTest, PackagesThroughTheConfirmationAndThroughThePackageRoutes) {
    const std::string firmware = Firmware("4.0.0", 200 * 1024);
    const std::string zip =
        BuildZip({{"led_light.bin", firmware}, {"bootloader.bin", "boot"}, {"qa/report.txt", "ok"}}
        );
    auto r = RequestUpload("image_name=led_light_4.0.0&image_type=package");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.Str("ota_image_id");
    ASSERT_EQ(Put(r.Str("upload_url"), zip, Md5Base64(zip)).result.status, 200);
    r = Confirm(id, object{{"image_type", "package"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("fw_version"), "4.0.0");
    EXPECT_TRUE(https_.Fetch("GET", r.Str("image_url")).result.body == firmware);
    EXPECT_EQ(BlobFiles(), 1U);  // the firmware; the archive went

    // Two firmware files: refused, deleted.
    r = RequestUpload("image_name=two&image_type=package");
    const std::string two = r.Str("ota_image_id");
    ASSERT_EQ(
        Put(r.Str("upload_url"), BuildZip({{"led_light.bin", firmware}, {"x.bin", firmware}})
        ).result.status,
        200
    );
    r = Confirm(two);
    EXPECT_TRUE(IsFailure(r, 500, 104031));
    EXPECT_NE(r.body.find("exactly one"), std::string::npos) << r.body;
    EXPECT_EQ(BlobFiles(), 1U);

    // The older flow: #44 gives a URL for a file name, #45 registers it.
    r = client_.Get("/v1/admin/otaimage/package/upload?file_name=light.zip", admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string url = r.Str("url");
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/admin/otaimage/package/upload?file_name=light.tar", admin_.accesstoken),
        400,
        104039
    ));
    const object body{{"image_name", "Light 4"}, {"type", "lamp"}, {"file_path", "light.zip"}};
    EXPECT_TRUE(
        IsFailure(client_.Post("/v1/admin/otaimage/package", body, admin_.accesstoken), 400, 104032)
    );
    ASSERT_EQ(Put(url, zip).result.status, 200);
    r = client_.Post("/v1/admin/otaimage/package", body, admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("type"), "lamp");
    EXPECT_TRUE(https_.Fetch("GET", r.Str("image_url")).result.body == firmware);
    r = client_.Get("/v1/admin/otaimage?image_name=Light%204", admin_.accesstoken);
    EXPECT_EQ(r.json.at("total"), 1) << r.body;
}

TEST_F(OtaUploadsTest, AUserUploadsAnImageForTheirOwnNode) {
    const auto alice = SignUpAndLogin(client_, server_, "alice@example.com");
    const std::string image = Firmware("5.0.0");
    auto r = client_.Post(
        "/v1/user/otaimage",
        object{{"image_name", "my light"}, {"base64_fwimage", ToBase64(image)}},
        alice.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("status"), "success");
    EXPECT_TRUE(https_.Fetch("GET", r.Str("image_url")).result.body == image);
    // Not an admin image: listed nowhere.
    r = client_.Get("/v1/admin/otaimage?all=true", admin_.accesstoken);
    EXPECT_EQ(r.json.at("total"), 0) << r.body;
    // #29's refusals.
    r = client_.Post(
        "/v1/user/otaimage",
        object{{"image_name", "x"}, {"base64_fwimage", ToBase64("not firmware")}},
        alice.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 104003));
    r = client_.Post("/v1/user/otaimage", object{{"image_name", "x"}}, alice.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 104001));
    r = client_.Post(
        "/v1/user/otaimage", object{{"base64_fwimage", ToBase64(image)}}, alice.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 104002));
    r = client_.Post("/v1/user/otaimage", object{{"image_name", "x"}, {"base64_fwimage", "x"}});
    EXPECT_TRUE(IsFailure(r, 401, 100004));
}

}  // namespace
}  // namespace rainmaker::testing

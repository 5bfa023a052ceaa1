// Secure boot signing end to end (#110-#115): a superadmin makes keys, uploads an image and
// links its bootloader through the files API (#46/#47, file_type bootloader), asks for a
// signing and follows it until the secure-sign job has signed both; the signed images download
// over HTTPS, padded and followed by their signature sector, and are listed by key and by
// image. The keys outlive a restart (sealed under keys/signing-sealing.key). An admin who is
// not a superadmin reaches none of it; the private key is never answered.
#include <chrono>
#include <openssl/evp.h>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/https_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;
using namespace std::chrono_literals;

class SecureSignTest : public ::testing::Test {
protected:
    SecureSignTest()
        : config_("[http]\npublic_host = \"sign.test\"\n"),
          server_(config_.Options()),
          client_(server_.port()),
          root_(CreateAdminAndLogin(client_, server_, "root@example.com", "--superadmin")),
          ops_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")) {}

    HttpsClient Https() {
        HttpsOptions options;
        options.ca_file = server_.ca_file().string();
        options.host = "sign.test";
        return HttpsClient(server_.https_port(), options);
    }

    // The request's answer once it is no longer in progress (or the last one after 20 s).
    static HttpResult WaitForSigning(
        HttpClient& client, const Tokens& root, const std::string& request_id
    ) {
        HttpResult r;
        for (int i = 0; i < 200; ++i) {
            r = client.Get("/v1/admin/secure_sign?request_id=" + request_id, root.accesstoken);
            if (r.status != 200 || r.Str("signing_status") != "in_progress") {
                break;
            }
            std::this_thread::sleep_for(100ms);
        }
        return r;
    }

    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    Tokens root_;
    Tokens ops_;
};

TEST_F(SecureSignTest, ASuperadminSignsAnImageAndItsBootloaderWithKeysThatOutliveARestart) {
    // Keys: one of each spec; refusals first.
    auto r = client_.Post(
        "/v1/admin/key",
        object{{"key_name", "bad name"}, {"key_spec", "RSA_3072"}},
        root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 136011)) << r.body;
    r = client_.Post(
        "/v1/admin/key", object{{"key_name", "k"}, {"key_spec", "DSA"}}, root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 136014)) << r.body;
    r = client_.Post(
        "/v1/admin/key", object{{"key_name", "k"}, {"key_spec", "RSA_3072"}}, ops_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 100004)) << r.body;
    r = client_.Post(
        "/v1/admin/key",
        object{
            {"key_name", "Light_Key"},
            {"key_spec", "RSA_3072"},
            {"description", "lights"},
            {"tags", boost::json::array{"env:prod"}}},
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string rsa_digest = r.Str("digest");
    EXPECT_EQ(rsa_digest.size(), 64U);
    r = client_.Post(
        "/v1/admin/key",
        object{{"key_name", "Grill_Key"}, {"key_spec", "ECC_NIST_P256"}},
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Post(
        "/v1/admin/key",
        object{{"key_name", "Grill_Key"}, {"key_spec", "ECC_NIST_P256"}},
        root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 136002)) << r.body;
    r = client_.Get("/v1/admin/key", root_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(r.json.is_array()) << r.body;
    EXPECT_EQ(r.json.as_array().size(), 2U);
    EXPECT_EQ(r.body.find("PRIVATE"), std::string::npos);
    EXPECT_EQ(r.body.find("private_key"), std::string::npos);
    r = client_.Get("/v1/admin/key?key_name=nope", root_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 404, 136019)) << r.body;

    // An image, and its bootloader linked through the files API.
    EspImageSpec spec;
    spec.version = "4.0.0";
    const std::string firmware = BuildEspImage(spec);
    r = client_.Post(
        "/v1/admin/otaimage",
        object{{"image_name", "light"}, {"base64_fwimage", ToBase64(firmware)}},
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string image_id = r.Str("ota_image_id");
    r = client_.Post(
        "/v1/admin/secure_sign",
        object{
            {"ota_image_id", image_id},
            {"key_names", boost::json::array{"Light_Key"}},
            {"sign_boot_loader", true}},
        root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 136028)) << r.body;
    const std::string bootloader(20000, '\x33');
    r = client_.Get(
        "/v1/admin/file/upload_request?file_name=bootloader.bin&entity_type=ota_image&entity_id=" +
            image_id,
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string file_id = r.Str("file_id");
    auto https = Https();
    ASSERT_EQ(
        https
            .Fetch(
                "PUT", r.Str("file_url"), bootloader, {{"Content-Type", "application/octet-stream"}}
            )
            .result.status,
        200
    );
    r = client_.Post(
        "/v1/admin/file/upload_confirm",
        object{{"file_id", file_id}, {"file_type", "bootloader"}},
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;

    // The signing, with the reference sample's spelling image_id.
    r = client_.Post(
        "/v1/admin/secure_sign",
        object{
            {"image_id", image_id},
            {"key_names", boost::json::array{"Light_Key", "Grill_Key"}},
            {"sign_boot_loader", true}},
        ops_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 100004)) << r.body;
    r = client_.Post(
        "/v1/admin/secure_sign",
        object{{"image_id", image_id}, {"key_names", boost::json::array{"Light_Key", "Light_Key"}}},
        root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 136022)) << r.body;
    r = client_.Post(
        "/v1/admin/secure_sign",
        object{
            {"image_id", image_id},
            {"key_names", boost::json::array{"Light_Key", "Grill_Key"}},
            {"sign_boot_loader", true}},
        root_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string request_id = r.Str("request_id");
    r = WaitForSigning(client_, root_, request_id);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.Str("signing_status"), "success") << r.body;
    for (const auto& [field, part] :
         {std::pair<std::string, const std::string*>{"signed_firmware_url", &firmware},
          {"signed_bootloader_url", &bootloader}}) {
        const auto got = https.Fetch("GET", r.Str(field));
        ASSERT_EQ(got.result.status, 200) << field;
        const std::size_t padded = (part->size() + 4095) / 4096 * 4096;
        ASSERT_EQ(got.result.body.size(), padded + 4096) << field;
        EXPECT_EQ(got.result.body.compare(0, part->size(), *part), 0) << field;
        EXPECT_EQ(static_cast<unsigned char>(got.result.body[padded]), 0xE7) << field;
        EXPECT_EQ(got.result.body[padded + 1], 2) << field;         // RSA first
        EXPECT_EQ(got.result.body[padded + 1216 + 1], 3) << field;  // then ECDSA
    }

    // Listed by key and by image.
    r = client_.Get("/v1/admin/secure_sign/signed_images?key_name=Light_Key", root_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 2);
    EXPECT_EQ(r.json.at("keys").at(0).at("public_key_digest").as_string(), rsa_digest);
    EXPECT_EQ(r.json.at("images").at(0).at("image_id").as_string(), image_id);
    r = client_.Get("/v1/admin/secure_sign/signing_keys?image_id=" + image_id, root_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 2);
    EXPECT_EQ(r.json.at("signing_details").at(0).at("keys").as_array().size(), 2U);
    r = client_.Get("/v1/admin/secure_sign/signing_keys", root_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 104021)) << r.body;
    r = client_.Get("/v1/admin/secure_sign?request_id=nope", root_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 136029)) << r.body;

    // OTA jobs name the keys to sign with (the service tests follow the signed bytes to the
    // node's offer): force_push takes only firmware signed before with exactly those keys.
    r = client_.Post(
        "/v1/admin/otajob?force_push=true",
        object{
            {"ota_job_name", "signed"},
            {"ota_image_id", image_id},
            {"nodes", boost::json::array{"some-node"}},
            {"secure_boot", object{{"key_names", boost::json::array{"Grill_Key"}}}}},
        root_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 105070)) << r.body;

    // The keys outlive a restart (sealed under keys/signing-sealing.key): they still sign.
    server_.Restart();
    HttpClient again(server_.port());
    const auto root = Login(again, "root@example.com");
    r = again.Post(
        "/v1/admin/secure_sign",
        object{{"ota_image_id", image_id}, {"key_names", boost::json::array{"Grill_Key"}}},
        root.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    r = WaitForSigning(again, root, r.Str("request_id"));
    EXPECT_EQ(r.Str("signing_status"), "success") << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

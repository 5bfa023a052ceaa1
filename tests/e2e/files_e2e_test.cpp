// Files end to end (#46-#51 and the SDK's DELETE /user/file): an upload request, the PUT of its
// URL over HTTPS (our CA, the public host name), the confirmation, the listing whose file_url
// downloads the same bytes; a user's public and private files as other users see them; the
// refusals (a body past the user limit before any byte, a missing name, an unknown id, metadata
// that is not an object) with nothing changed.
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/https_client.hpp"
#include "support/md5_base64.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

class FilesTest : public ::testing::Test {
protected:
    FilesTest()
        : config_("[http]\npublic_host = \"files.test\"\n"),
          server_(config_.Options()),
          client_(server_.port()),
          https_(server_.https_port(), Options()),
          admin_(CreateAdminAndLogin(client_, server_, "ops@example.com", "--admin")),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")) {}

    HttpsOptions Options() const {
        HttpsOptions options;
        options.ca_file = server_.ca_file().string();
        options.host = "files.test";
        return options;
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

    // Requests, PUTs and confirms a user file of `who`; its file_id.
    std::string UserFile(
        const Tokens& who, const std::string& name, const std::string& bytes, bool is_public
    ) {
        auto r = client_.Get(
            "/v1/user/file/upload_request?file_name=" + name + "&entity_type=log", who.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
        const std::string id = r.Str("file_id");
        EXPECT_EQ(Put(r.Str("file_url"), bytes).result.status, 200);
        r = client_.Post(
            "/v1/user/file/upload_confirm",
            object{{"file_id", id}, {"file_type", "log"}, {"public", is_public}},
            who.accesstoken
        );
        EXPECT_EQ(r.status, 200) << r.body;
        return id;
    }

    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    HttpsClient https_;
    Tokens admin_;
    Tokens alice_;
    Tokens bob_;
};

TEST_F(FilesTest, AnAdminUploadsConfirmsListsAndDownloadsAFile) {
    const std::string bytes(200 * 1024, 'r');
    const std::string md5 = Md5Base64(bytes);
    // Refusals first: nothing is pending after them.
    auto r = client_.Get(
        "/v1/admin/file/upload_request?entity_type=cert&entity_id=c1", admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 134002)) << r.body;
    r = client_.Get("/v1/admin/file/upload_request?file_name=x&entity_id=c1", admin_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134009)) << r.body;
    r = client_.Get(
        "/v1/admin/file/upload_request?file_name=x&entity_type=ota_image&entity_id=nope",
        admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 104015)) << r.body;
    // A user is not an admin.
    r = client_.Get("/v1/admin/file?", alice_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 100004)) << r.body;

    r = client_.Get(
        "/v1/admin/file/upload_request?file_name=qa.pdf&entity_type=cert&entity_id=c1"
        "&md5_checksum=" +
            md5,
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("status"), "success");
    const std::string id = r.Str("file_id");
    const std::string url = r.Str("file_url");
    EXPECT_EQ(url.rfind("https://files.test:", 0), 0U) << url;
    // Not confirmable before its PUT; a PUT without the Content-MD5 it was signed with refused.
    r = client_.Post("/v1/admin/file/upload_confirm", object{{"file_id", id}}, admin_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134003)) << r.body;
    EXPECT_EQ(Put(url, bytes).result.status, 403);
    const auto put = Put(url, bytes, md5);
    ASSERT_EQ(put.curl_code, 0) << put.curl_error;
    ASSERT_EQ(put.result.status, 200) << put.result.body;
    // metadata that is not an object: refused, nothing changed.
    r = client_.Post(
        "/v1/admin/file/upload_confirm",
        object{{"file_id", id}, {"metadata", "x"}},
        admin_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 100006)) << r.body;
    // The reference's sample spells metadata "metatdata": read as metadata.
    r = client_.Post(
        "/v1/admin/file/upload_confirm",
        object{
            {"file_id", id},
            {"description", "bootloader QA"},
            {"metatdata", object{{"key", "value"}}},
            {"file_type", "qa_report"}},
        admin_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Str("file_id"), id);
    const std::string file_url = r.Str("file_url");
    auto got = https_.Fetch("GET", file_url);
    ASSERT_EQ(got.curl_code, 0) << got.curl_error;
    EXPECT_EQ(got.result.status, 200);
    EXPECT_TRUE(got.result.body == bytes);
    r = client_.Post("/v1/admin/file/upload_confirm", object{{"file_id", id}}, admin_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 500, 134013)) << r.body;

    r = client_.Get("/v1/admin/file?file_type=qa_report", admin_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 1);
    const auto& listed = r.json.at("file_details").at(0).as_object();
    EXPECT_EQ(listed.at("file_id").as_string(), id);
    EXPECT_EQ(listed.at("file_name").as_string(), "qa.pdf");
    EXPECT_EQ(listed.at("entity_id").as_string(), "c1");
    EXPECT_EQ(listed.at("description").as_string(), "bootloader QA");
    EXPECT_EQ(listed.at("metadata").at("key").as_string(), "value");
    got = https_.Fetch("GET", std::string(listed.at("file_url").as_string()));
    EXPECT_TRUE(got.result.body == bytes);
    r = client_.Get("/v1/admin/file?file_type=bootloader", admin_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 0);
    r = client_.Get("/v1/admin/file?file_id=nope", admin_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134019)) << r.body;
}

TEST_F(FilesTest, UsersSeeTheirOwnFilesAndOthersPublicOnesByIdAndDeleteTheirOwn) {
    // Past the 10 MB user limit: refused before the body is read.
    auto r = client_.Get(
        "/v1/user/file/upload_request?file_name=big.bin&entity_type=log", alice_.accesstoken
    );
    ASSERT_EQ(r.status, 200) << r.body;
    const auto big = Put(r.Str("file_url"), std::string(10 * 1024 * 1024 + 1, 'b'));
    EXPECT_EQ(big.result.status, 413) << big.result.body;
    r = client_.Post(
        "/v1/user/file/upload_confirm", object{{"file_id", r.Str("file_id")}}, alice_.accesstoken
    );
    EXPECT_TRUE(IsFailure(r, 400, 134003)) << r.body;

    const std::string secret = UserFile(alice_, "secret.txt", "alice's secret", false);
    const std::string open = UserFile(alice_, "open.txt", "alice's open file", true);
    r = client_.Get("/v1/user/file", alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("total").as_int64(), 2);
    // Bob sees none of them listed, the public one by its id, not the private one.
    r = client_.Get("/v1/user/file", bob_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 0);
    r = client_.Get("/v1/user/file?file_id=" + open, bob_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string url(r.json.at("file_details").at(0).at("file_url").as_string());
    EXPECT_EQ(https_.Fetch("GET", url).result.body, "alice's open file");
    r = client_.Get("/v1/user/file?file_id=" + secret, bob_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134019)) << r.body;
    // Nor may he delete or confirm hers.
    r = client_.Delete("/v1/user/file?file_id=" + open, bob_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134003)) << r.body;
    r = client_.Post("/v1/user/file/upload_confirm", object{{"file_id", secret}}, bob_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134006)) << r.body;
    // Alice deletes hers: gone from the listing, its URL answers 404.
    r = client_.Delete("/v1/user/file?file_id=" + open, alice_.accesstoken);
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_.Get("/v1/user/file", alice_.accesstoken);
    EXPECT_EQ(r.json.at("total").as_int64(), 1);
    EXPECT_EQ(https_.Fetch("GET", url).result.status, 404);
    r = client_.Delete("/v1/user/file", alice_.accesstoken);
    EXPECT_TRUE(IsFailure(r, 400, 134005)) << r.body;
}

}  // namespace
}  // namespace rainmaker::testing

// Secure boot signing (domain/signing: #110-#115) over SQLite and the file blob store: keys made
// and listed without their private halves (sealed in the database, opening only with their
// sealing key and id); every refusal of #114 and #110 with nothing stored; a request signed by
// the secure-sign job into a signed firmware (and bootloader) whose blocks name the keys in
// order; listings by key and by image; a key that no longer opens fails its request with a
// reason.
#include "domain/signing/signing_service.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/key_sealer.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/ota_job_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/esp_image.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::signing {
namespace {

using core::ErrorCode;
using testing::CodeOf;

class SigningServiceTest : public ::testing::Test {
protected:
    SigningServiceTest() {
        images_.SetUrls(&urls_);
        storage::UserRow u;
        u.user_id = "root1";
        u.user_name = "root@x.com";
        u.confirmed = true;
        db_.Users().Insert(u);
        testing::EspImageSpec spec;
        spec.version = "3.1.0";
        spec.sha256 = [](std::string_view b) { return crypto::Sha256(b); };
        firmware_ = testing::BuildEspImage(spec);
        ota::UploadInput in;
        in.image_name = "light";
        in.base64_fwimage = crypto::Base64Encode(firmware_);
        image_id_ = images_.Upload(root_, in).ota_image_id;
    }

    CreatedKey Key(const std::string& name, const std::string& spec = "ECC_NIST_P256") {
        KeyInput in;
        in.key_name = name;
        in.key_spec = spec;
        return service_.CreateKey(root_, in);
    }

    std::string Sign(std::vector<std::string> keys, bool bootloader = false) {
        SignInput in;
        in.ota_image_id = image_id_;
        in.key_names = std::move(keys);
        in.sign_bootloader = bootloader;
        return service_.RequestSigning(root_, in);
    }

    // A bootloader linked to the image as #46/#47 would link it.
    void LinkBootloader(const std::string& bytes) {
        storage::FileRow file;
        file.file_id = "bootfile";
        file.scope = "admin";
        file.owner = "root1";
        file.file_name = "bootloader.bin";
        file.entity_type = "ota_image";
        file.entity_id = image_id_;
        file.file_type = "bootloader";
        file.blob_key = blobs_.Put(bytes);
        file.file_size = static_cast<std::int64_t>(bytes.size());
        file.file_md5 = crypto::Md5Hex(bytes);
        ASSERT_TRUE(db_.Files().Insert(file));
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    storage::files::FileBlobStore blobs_{dir_.path() / "blobs"};
    testing::FakeClock clock_;
    crypto::UrlSigner signer_{std::string(32, 'k')};
    ota::PresignedUrls urls_{signer_, clock_, "https://sign.test:8443"};
    ota::OtaImageService images_{db_, blobs_, clock_};
    std::unique_ptr<crypto::KeySealer> sealer_ =
        crypto::KeySealer::FromKeyForTest(std::string(32, 's'));
    SigningService service_{db_, images_, *sealer_, clock_};
    auth::AuthContext root_ = [] {
        auth::AuthContext c{"root1", "root@x.com", "s1"};
        c.role = auth::PlatformRole::kSuperAdmin;
        return c;
    }();
    std::string firmware_;
    std::string image_id_;
};

TEST_F(SigningServiceTest, KeysAreMadeSealedAndListedWithoutTheirPrivateHalf) {
    const auto rsa = Key("Light_Key", "RSA_3072");
    const auto ec = Key("fleet/grill-key");
    EXPECT_EQ(rsa.digest.size(), 64U);
    EXPECT_NE(rsa.digest, ec.digest);
    const auto keys = service_.Keys(std::nullopt);
    ASSERT_EQ(keys.size(), 2U);
    EXPECT_EQ(keys[0].key_name, "Light_Key");
    EXPECT_EQ(keys[0].key_spec, "RSA_3072");
    EXPECT_EQ(keys[0].key_id, rsa.key_id);
    EXPECT_EQ(keys[0].public_key_digest, rsa.digest);
    EXPECT_EQ(keys[0].public_key.find("PRIVATE"), std::string::npos);
    // Stored sealed: the row opens only with its sealing key and for its own id.
    const auto row = db_.Signing().FindKey("Light_Key");
    ASSERT_TRUE(row);
    EXPECT_EQ(row->sealed_private_key.rfind("v1:", 0), 0U);
    EXPECT_NO_THROW(sealer_->Open(row->sealed_private_key, row->key_id));
    EXPECT_THROW(sealer_->Open(row->sealed_private_key, ec.key_id), std::runtime_error);
    EXPECT_EQ(service_.Keys("fleet/grill-key").at(0).key_id, ec.key_id);
    EXPECT_EQ(CodeOf([&] { service_.Keys("nope"); }), ErrorCode::kKeyNotFound);
}

TEST_F(SigningServiceTest, KeyRefusalsStoreNothing) {
    const auto refuse = [&](KeyInput in) { return CodeOf([&] { service_.CreateKey(root_, in); }); };
    KeyInput ok;
    ok.key_name = "k1";
    ok.key_spec = "ECC_NIST_P256";
    auto in = ok;
    in.key_name.reset();
    EXPECT_EQ(refuse(in), ErrorCode::kKeyNameMissing);
    for (const std::string& bad :
         std::vector<std::string>{"has space", "dot.name", std::string(257, 'a')}) {
        in = ok;
        in.key_name = bad;
        EXPECT_EQ(refuse(in), ErrorCode::kKeyNameInvalid) << bad;
    }
    in = ok;
    in.key_spec = "RSA_2048";
    EXPECT_EQ(refuse(in), ErrorCode::kKeySpecInvalid);
    in.key_spec.reset();
    EXPECT_EQ(refuse(in), ErrorCode::kKeySpecInvalid);
    in = ok;
    in.description = std::string(257, 'd');
    EXPECT_EQ(refuse(in), ErrorCode::kKeyDescriptionTooLong);
    in = ok;
    in.tags = std::vector<std::string>{"ok", ""};
    EXPECT_EQ(refuse(in), ErrorCode::kKeyTagsInvalid);
    EXPECT_TRUE(service_.Keys(std::nullopt).empty());
    in = ok;
    in.key_name = std::string(256, 'a');
    in.tags = std::vector<std::string>{"env:prod"};
    EXPECT_NO_THROW(service_.CreateKey(root_, in));
    EXPECT_EQ(refuse(in), ErrorCode::kKeyNameExists);
    EXPECT_EQ(service_.Keys(std::nullopt).at(0).tags, std::vector<std::string>{"env:prod"});
}

TEST_F(SigningServiceTest, SigningRefusalsMakeNoRequest) {
    Key("a");
    Key("b");
    const auto refuse = [&](SignInput in) {
        return CodeOf([&] { service_.RequestSigning(root_, in); });
    };
    SignInput in;
    in.key_names = std::vector<std::string>{"a"};
    EXPECT_EQ(refuse(in), ErrorCode::kSignImageIdMissing);
    in.ota_image_id = image_id_;
    in.key_names.reset();
    EXPECT_EQ(refuse(in), ErrorCode::kSigningKeyNameInvalid);
    in.key_names = std::vector<std::string>{};
    EXPECT_EQ(refuse(in), ErrorCode::kSigningKeyNameInvalid);
    in.key_names = std::vector<std::string>{"a", "bad name"};
    EXPECT_EQ(refuse(in), ErrorCode::kSigningKeyNameInvalid);
    in.key_names = std::vector<std::string>{"a", "b", "c", "d"};
    EXPECT_EQ(refuse(in), ErrorCode::kSigningTooManyKeys);
    in.key_names = std::vector<std::string>{"a", "b", "a"};
    EXPECT_EQ(refuse(in), ErrorCode::kSigningDuplicateKeys);
    in.key_names = std::vector<std::string>{"a", "unknown"};
    EXPECT_EQ(refuse(in), ErrorCode::kSigningKeyUnknown);
    in.key_names = std::vector<std::string>{"a"};
    in.sign_bootloader = true;
    EXPECT_EQ(refuse(in), ErrorCode::kNoBootloaderToSign);
    in.sign_bootloader = false;
    in.ota_image_id = "no-such-image";
    EXPECT_EQ(refuse(in), ErrorCode::kSignImageNotFound);
    // A raw image: stored without an app description.
    storage::OtaImageRow raw;
    raw.ota_image_id = "rawimage";
    raw.image_name = "raw";
    raw.type = "raw";
    raw.model = "m";
    raw.fw_version = "1";
    raw.blob_key = blobs_.Put("raw bytes");
    raw.uploaded_by = "root1";
    db_.OtaImages().Insert(raw);
    in.ota_image_id = "rawimage";
    EXPECT_EQ(refuse(in), ErrorCode::kRawImageNotSignable);
    EXPECT_TRUE(db_.Signing().PendingRequests(10).empty());
    EXPECT_EQ(service_.RunPending(), 0);
    EXPECT_EQ(CodeOf([&] { service_.Status(""); }), ErrorCode::kSignRequestIdMissing);
    EXPECT_EQ(CodeOf([&] { service_.Status("nope"); }), ErrorCode::kSignRequestNotFound);
}

TEST_F(SigningServiceTest, TheJobSignsTheFirmwareAndItsBootloaderWithTheKeysInOrder) {
    const auto rsa = Key("rsa", "RSA_3072");
    const auto ec = Key("ec");
    Key("unused");
    const std::string bootloader(30000, '\x42');
    LinkBootloader(bootloader);
    const auto id = Sign({"ec", "rsa"}, true);
    auto state = service_.Status(id);
    EXPECT_EQ(state.row.status, "in_progress");
    EXPECT_TRUE(state.signed_firmware_url.empty());

    EXPECT_EQ(service_.RunPending(), 1);
    state = service_.Status(id);
    EXPECT_EQ(state.row.status, "success") << state.row.description;
    EXPECT_EQ(state.signed_firmware_url.rfind("https://sign.test:8443/blobs/", 0), 0U);
    EXPECT_EQ(state.signed_bootloader_url.rfind("https://sign.test:8443/blobs/", 0), 0U);
    EXPECT_EQ(service_.RunPending(), 0);

    const auto signings = service_.SigningsOf(image_id_, "", 25);
    ASSERT_EQ(signings.total, 2);
    std::set<std::string> types;
    for (const auto& image : signings.images) {
        types.insert(image.row.file_type);
        ASSERT_EQ(image.keys.size(), 2U);
        EXPECT_EQ(image.keys[0].key_name, "ec");
        EXPECT_EQ(image.keys[0].public_key_digest, ec.digest);
        EXPECT_EQ(image.keys[1].public_key_digest, rsa.digest);
        // The stored bytes: the part padded to 4 KiB, then a sector whose first two blocks
        // are the ECDSA one (version 3) and the RSA one (version 2).
        const auto bytes = blobs_.Get(image.row.blob_key);
        ASSERT_TRUE(bytes);
        const std::string& part = image.row.file_type == kSignedBootloader ? bootloader : firmware_;
        const std::size_t padded = (part.size() + 4095) / 4096 * 4096;
        ASSERT_EQ(bytes->size(), padded + 4096);
        EXPECT_EQ(bytes->compare(0, part.size(), part), 0);
        EXPECT_EQ(static_cast<unsigned char>((*bytes)[padded]), 0xE7);
        EXPECT_EQ((*bytes)[padded + 1], 3);
        EXPECT_EQ((*bytes)[padded + 1216 + 1], 2);
        EXPECT_EQ(static_cast<unsigned char>((*bytes)[padded + 2 * 1216]), 0xFF);
        EXPECT_EQ(image.row.file_md5, crypto::Md5Hex(*bytes));
    }
    EXPECT_EQ(
        types, (std::set<std::string>{std::string(kSignedFirmware), std::string(kSignedBootloader)})
    );
    // By key: both parts for each key used; none for the unused one.
    const auto by_rsa = service_.SignedByKey("rsa", "", 1);
    EXPECT_EQ(by_rsa.total, 2);
    EXPECT_EQ(by_rsa.images.size(), 1U);
    EXPECT_FALSE(by_rsa.next_id.empty());
    EXPECT_EQ(service_.SignedByKey("rsa", by_rsa.next_id, 1).images.size(), 1U);
    EXPECT_EQ(by_rsa.keys.at(0).public_key_digest, rsa.digest);
    EXPECT_EQ(
        CodeOf([&] { service_.SignedByKey("unused", "", 25); }), ErrorCode::kNoImagesSignedByKey
    );
    EXPECT_EQ(CodeOf([&] { service_.SignedByKey("ghost", "", 25); }), ErrorCode::kKeyNotFound);
    EXPECT_EQ(
        CodeOf([&] { service_.SignedByKey(std::nullopt, "", 25); }), ErrorCode::kKeyNameMissing
    );
    EXPECT_EQ(
        CodeOf([&] { service_.SigningsOf(std::nullopt, "", 25); }), ErrorCode::kSignImageIdMissing
    );
    // Signed bytes stay while a signed image names them: another row naming the same bytes
    // going does not take them.
    const auto signed_key = signings.images[0].row.blob_key;
    storage::OtaImageRow twin;
    twin.ota_image_id = "twin";
    twin.image_name = "twin";
    twin.type = "t";
    twin.model = "m";
    twin.fw_version = "1";
    twin.project_name = "p";
    twin.blob_key = signed_key;
    twin.uploaded_by = "root1";
    ASSERT_TRUE(db_.OtaImages().Insert(twin));
    images_.Delete("twin", false);
    EXPECT_TRUE(blobs_.Get(signed_key));
    // The image deleted: its signed images go with the sweep, and their bytes.
    EXPECT_EQ(service_.ExpireOrphans(), 0);
    images_.Delete(image_id_, false);
    EXPECT_EQ(service_.ExpireOrphans(), 2);
    EXPECT_FALSE(blobs_.Get(signed_key));
    EXPECT_EQ(service_.SigningsOf(image_id_, "", 25).total, 0);
}

TEST_F(SigningServiceTest, ARequestIsSignedOnceAndAnInterruptedOneAgain) {
    Key("k");
    const auto first = Sign({"k"});
    // Another worker holds it: skipped. A stopped server's claim is released at start.
    ASSERT_TRUE(db_.Signing().ClaimRequest(first));
    EXPECT_FALSE(db_.Signing().ClaimRequest(first));
    EXPECT_EQ(service_.RunPending(), 0);
    EXPECT_EQ(service_.Status(first).row.status, "signing");
    EXPECT_EQ(service_.ResumeInterrupted(), 1);
    EXPECT_EQ(service_.RunPending(), 1);
    EXPECT_EQ(service_.Status(first).row.status, "success");
    EXPECT_EQ(service_.SigningsOf(image_id_, "", 25).total, 1);
    // At most 100 requests in progress; a run signs 4, the next the rest.
    for (int i = 0; i < 100; ++i) {
        Sign({"k"});
    }
    EXPECT_EQ(CodeOf([&] { Sign({"k"}); }), ErrorCode::kTooManyRequests);
    EXPECT_EQ(service_.RunPending(), 4);
    EXPECT_NO_THROW(Sign({"k"}));
    EXPECT_EQ(db_.Signing().CountUnfinished(), 97);
}

TEST_F(SigningServiceTest, AKeyThatNoLongerOpensFailsItsRequestWithAReason) {
    Key("k");
    const auto id = Sign({"k"});
    // The server restarted with another sealing key: the request fails, nothing is stored.
    const auto other = crypto::KeySealer::FromKeyForTest(std::string(32, 'o'));
    SigningService elsewhere(db_, images_, *other, clock_);
    EXPECT_EQ(elsewhere.RunPending(), 1);
    const auto state = service_.Status(id);
    EXPECT_EQ(state.row.status, "failed");
    EXPECT_NE(state.row.description.find("does not open"), std::string::npos)
        << state.row.description;
    EXPECT_TRUE(state.signed_firmware_url.empty());
    EXPECT_EQ(service_.SigningsOf(image_id_, "", 25).total, 0);
}

TEST_F(SigningServiceTest, AnOtaJobWithKeyNamesDeliversTheFirmwareSignedWithThem) {
    ota::OtaJobService jobs(db_, clock_);
    jobs.SetSigning(&service_);
    storage::NodeRow node;
    node.node_id = "n1";
    node.created_at = 1;
    ASSERT_TRUE(db_.Nodes().Insert(node));
    db_.Nodes().PutConfig("n1", "{}", "Lightbulb", "m", "1.0.0");
    Key("k");
    auth::AuthContext admin{"admin1", "admin@x.com", "s2"};
    admin.role = auth::PlatformRole::kAdmin;
    const auto job_of = [&](const auth::AuthContext& who,
                            const std::string& name,
                            std::vector<std::string> keys,
                            bool force) {
        ota::JobInput in;
        in.ota_job_name = name;
        in.ota_image_id = image_id_;
        in.nodes = std::vector<std::string>{"n1"};
        in.force_push = force;
        boost::json::array names;
        for (auto& key : keys) {
            names.emplace_back(key);
        }
        in.secure_boot = boost::json::object{{"key_names", std::move(names)}};
        return jobs.Create(who, in);
    };
    const auto job = [&](const std::string& name, std::vector<std::string> keys, bool force) {
        return job_of(root_, name, std::move(keys), force);
    };
    // force_push takes only firmware signed before; unknown keys are refused; nothing is made.
    EXPECT_EQ(CodeOf([&] { job("j0", {"k"}, true); }), ErrorCode::kOtaForcePushNeedsSignedImage);
    EXPECT_EQ(CodeOf([&] { job("j0", {"k", "ghost"}, false); }), ErrorCode::kSigningKeyUnknown);
    EXPECT_EQ(CodeOf([&] { job("j0", {}, false); }), ErrorCode::kSigningKeyNameInvalid);
    // Signing with a key is a superadmin's: another admin's job needs firmware signed before.
    EXPECT_EQ(
        CodeOf([&] { job_of(admin, "j0", {"k"}, false); }), ErrorCode::kOtaForcePushNeedsSignedImage
    );
    EXPECT_EQ(service_.SigningsOf(image_id_, "", 25).total, 0);
    EXPECT_FALSE(db_.OtaJobs().FindByName("j0"));

    // Signed when the job is made, recorded as a signing; the offer carries the signed bytes.
    const auto id = job("j1", {"k"}, false);
    const auto row = db_.OtaJobs().Find(id);
    ASSERT_TRUE(row);
    ASSERT_FALSE(row->signed_image_id.empty());
    const auto signings = service_.SigningsOf(image_id_, "", 25);
    ASSERT_EQ(signings.total, 1);
    const auto& signed_image = signings.images.at(0).row;
    EXPECT_EQ(signed_image.signed_image_id, row->signed_image_id);
    const auto offers = db_.OtaJobs().Offers("n1", "Lightbulb", "m", "1.0.0");
    ASSERT_EQ(offers.size(), 1U);
    EXPECT_EQ(offers[0].image.blob_key, signed_image.blob_key);
    EXPECT_EQ(offers[0].image.file_md5, signed_image.file_md5);
    EXPECT_EQ(
        offers[0].image.file_size,
        static_cast<std::int64_t>((firmware_.size() + 4095) / 4096 * 4096 + 4096)
    );
    EXPECT_EQ(offers[0].image.fw_version, "3.1.0");
    // A second job with the same keys (force_push too) reuses the signed firmware.
    jobs.CancelOrArchive(root_, id, false);
    EXPECT_NO_THROW(job("j2", {"k"}, true));
    jobs.CancelOrArchive(root_, db_.OtaJobs().FindByName("j2")->ota_job_id, false);
    EXPECT_NO_THROW(job_of(admin, "j3", {"k"}, false));
    EXPECT_EQ(service_.SigningsOf(image_id_, "", 25).total, 1);
}

}  // namespace
}  // namespace rainmaker::domain::signing

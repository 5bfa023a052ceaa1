// Presigned OTA uploads (domain/ota: #33, #34, #44, #45) and users' images (#40) over SQLite
// and the file blob store: every refusal with nothing changed; the bytes of a PUT checked
// against Content-MD5 and md5_checksum; a confirmation that validates an image or a package
// and turns the pending upload into an image under its id; invalid uploads deleted; the expiry
// sweep removing pending uploads and users' images with their bytes, never bytes an image
// still holds.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/esp_image.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/zip_builder.hpp"

namespace rainmaker::domain::ota {
namespace {

using namespace std::chrono_literals;
using core::ApiError;

template <typename F>
core::ErrorCode ErrorOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.code();
    }
    return core::ErrorCode::kInternal;
}

// A FileBlobStore that reports the free space a test sets.
class SmallDisk final : public storage::BlobStore {
public:
    explicit SmallDisk(storage::BlobStore& inner) : inner_(inner) {}

    std::uint64_t free = 0;

    std::string Put(std::string_view bytes) override { return inner_.Put(bytes); }

    std::optional<std::string> Get(std::string_view key) override { return inner_.Get(key); }

    std::optional<std::uint64_t> Size(std::string_view key) override { return inner_.Size(key); }

    bool Remove(std::string_view key) override { return inner_.Remove(key); }

    std::unique_ptr<storage::BlobWriter> NewWriter() override { return inner_.NewWriter(); }

    std::unique_ptr<storage::BlobReader> Open(std::string_view key) override {
        return inner_.Open(key);
    }

    std::optional<std::uint64_t> FreeBytes() override { return free; }

private:
    storage::BlobStore& inner_;
};

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

std::string Image(std::string version = "1.0.0", std::string project = "led_light", int fill = 1) {
    testing::EspImageSpec spec;
    spec.version = std::move(version);
    spec.project_name = std::move(project);
    spec.filler = static_cast<std::uint8_t>(fill);
    spec.segment_bytes = 100 * 1024;  // past one 64 KiB read
    spec.sha256 = [](std::string_view b) { return crypto::Sha256(b); };
    return testing::BuildEspImage(spec);
}

std::string Base64Md5(std::string_view bytes) {
    crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
    md5.Update(bytes);
    return crypto::Base64Encode(md5.Final());
}

class OtaUploadServiceTest : public ::testing::Test {
protected:
    OtaUploadServiceTest() {
        service_.SetUrls(&urls_);
        for (const char* id : {"admin1", "user1", "user2"}) {
            storage::UserRow u;
            u.user_id = id;
            u.user_name = std::string(id) + "@x.com";
            u.confirmed = true;
            db_.Users().Insert(u);
        }
    }

    // What the PUT of an upload URL does once its body is read.
    void Put(const std::string& id, const std::string& bytes, const std::string& header = "") {
        auto writer = service_.StartUpload(id, bytes.size());
        crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
        for (std::size_t at = 0; at < bytes.size(); at += 10000) {
            writer->Write(std::string_view(bytes).substr(at, 10000));
        }
        md5.Update(bytes);
        service_.ReceiveUpload(id, *writer, md5.Final(), header);
    }

    std::string Request(
        const std::string& name, const std::string& type = "", std::string md5 = ""
    ) {
        UploadRequestInput in;
        in.image_name = name;
        if (!type.empty()) {
            in.image_type = type;
        }
        if (!md5.empty()) {
            in.md5_checksum = std::move(md5);
        }
        return service_.RequestUpload(admin_, in).ota_image_id;
    }

    OtaImage Confirm(const std::string& id, ConfirmInput in = {}) {
        in.ota_image_id = id;
        return service_.ConfirmUpload(admin_, in);
    }

    std::set<std::string> BlobKeys() {
        std::set<std::string> keys;
        for (const auto& e :
             std::filesystem::recursive_directory_iterator(dir_.path() / "blobs" / "sha256")) {
            if (e.is_regular_file()) {
                keys.insert(e.path().filename().string());
            }
        }
        return keys;
    }

    std::int64_t Images() {
        ImageQuery q;
        q.all = true;
        return service_.List(q).total;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    storage::files::FileBlobStore blobs_{dir_.path() / "blobs"};
    testing::FakeClock clock_;
    crypto::UrlSigner signer_{std::string(32, 'k')};
    PresignedUrls urls_{signer_, clock_, "https://ota.test:8443"};
    OtaImageConfig config_ = [] {
        OtaImageConfig c;
        c.max_inline_image_bytes = 512 * 1024;
        c.max_upload_bytes = 1024 * 1024;
        c.max_pending_uploads = 3;
        c.max_user_images = 2;
        c.max_concurrent_uploads = 2;
        c.upload_min_free_bytes = 1000;
        return c;
    }();
    OtaImageService service_{db_, blobs_, clock_, config_};
    auth::AuthContext admin_{"admin1", "admin@x.com", "s1"};
    auth::AuthContext user_{"user1", "user1@x.com", "s2"};
};

TEST_F(OtaUploadServiceTest, RequestPutConfirmMakesAnImageUnderTheUploadsId) {
    const std::string bytes = Image("2.1.0", "smart_plug");
    const std::string md5 = Base64Md5(bytes);
    UploadRequestInput in;
    in.image_name = "plug";
    in.md5_checksum = md5;
    const auto ticket = service_.RequestUpload(admin_, in);
    EXPECT_EQ(ticket.ota_image_id.size(), 22U);
    EXPECT_EQ(
        ticket.upload_url.rfind("https://ota.test:8443/uploads/" + ticket.ota_image_id + "?", 0), 0U
    );
    // Not an image before its confirmation.
    EXPECT_EQ(Images(), 0);
    EXPECT_EQ(CodeOf([&] { Confirm(ticket.ota_image_id); }), 104032);
    Put(ticket.ota_image_id, bytes, md5);
    EXPECT_EQ(BlobKeys(), std::set<std::string>{crypto::Sha256Hex(bytes)});
    const auto image = Confirm(ticket.ota_image_id);
    EXPECT_EQ(image.ota_image_id, ticket.ota_image_id);
    EXPECT_EQ(image.image_name, "plug");
    EXPECT_EQ(image.fw_version, "2.1.0");
    EXPECT_EQ(image.model, "smart_plug");
    EXPECT_EQ(image.file_size, static_cast<std::int64_t>(bytes.size()));
    EXPECT_EQ(image.file_md5, crypto::Md5Hex(bytes));
    EXPECT_EQ(image.file_sha256, crypto::Sha256Hex(bytes));
    EXPECT_EQ(
        image.image_url.rfind("https://ota.test:8443/blobs/" + image.file_sha256 + "/plug.bin?", 0),
        0U
    ) << image.image_url;
    EXPECT_EQ(Images(), 1);
    ImageQuery q;
    q.ota_image_id = image.ota_image_id;
    EXPECT_FALSE(service_.List(q).images.at(0).image_url.empty());
    // Confirmed again (a retry): the same image, nothing new.
    EXPECT_EQ(Confirm(ticket.ota_image_id).ota_image_id, image.ota_image_id);
    EXPECT_EQ(Images(), 1);
    // The pending upload is gone: a PUT to its URL now finds nothing.
    EXPECT_EQ(CodeOf([&] { Put(ticket.ota_image_id, bytes); }), 104015);
    EXPECT_EQ(BlobKeys().size(), 1U);
}

TEST_F(OtaUploadServiceTest, RefusesBadRequestsWithNothingStored) {
    UploadRequestInput in;
    EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 104002);
    in.image_name = std::string(129, 'n');
    EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 100036);
    in.image_name = "x";
    in.image_type = "zipfile";
    EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 100021);
    in.image_type = "firmware";
    // Not base64, not padded, 17 bytes: not an MD5.
    for (const char* md5 : {"abc", "1B2M2Y8AsgTpgAmY7PhCfg", "MTIzNDU2Nzg5MDEyMzQ1Njc="}) {
        in.md5_checksum = md5;
        EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 100021) << md5;
    }
    // At most max_pending_uploads (3) per admin until some expire.
    in.md5_checksum = "1B2M2Y8AsgTpgAmY7PhCfg==";
    for (int i = 0; i < 3; ++i) {
        service_.RequestUpload(admin_, in);
    }
    EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 100070);
    clock_.Advance(3601s);
    EXPECT_EQ(CodeOf([&] { service_.RequestUpload(admin_, in); }), 0);
    EXPECT_TRUE(BlobKeys().empty());
    EXPECT_EQ(Images(), 0);
}

TEST_F(OtaUploadServiceTest, APutMustMatchItsContentMd5AndTheRequestedChecksum) {
    const std::string bytes = Image();
    const std::string other = Image("9.9.9");
    const std::string id = Request("a", "", Base64Md5(bytes));
    // A header that is not the body's MD5; a body that is not the requested checksum's.
    EXPECT_EQ(CodeOf([&] { Put(id, bytes, Base64Md5(other)); }), 100006);
    EXPECT_EQ(CodeOf([&] { Put(id, other, Base64Md5(other)); }), 100006);
    EXPECT_EQ(CodeOf([&] { Put(id, bytes, "not base64!"); }), 100006);
    EXPECT_TRUE(BlobKeys().empty());  // refused writers left nothing
    EXPECT_EQ(CodeOf([&] { Put("nosuchupload", bytes); }), 104015);
    EXPECT_EQ(CodeOf([&] { Put(id, bytes, Base64Md5(bytes)); }), 0);
    // A second PUT replaces the first bytes (and frees them).
    const std::string id2 = Request("b");
    Put(id2, other);
    Put(id2, bytes);
    EXPECT_EQ(BlobKeys(), std::set<std::string>{crypto::Sha256Hex(bytes)});
    // Past the upload's time: refused.
    const std::string id3 = Request("c");
    clock_.Advance(3601s);
    EXPECT_EQ(CodeOf([&] { Put(id3, bytes); }), 104015);
}

TEST_F(OtaUploadServiceTest, AnInvalidUploadIsDeletedAndTheUrlMayBeUsedAgain) {
    const std::string id = Request("broken");
    std::string bytes = Image();
    bytes[bytes.size() - 5] ^= 0x01;  // the appended SHA-256 no longer matches
    Put(id, bytes);
    try {
        Confirm(id);
        ADD_FAILURE() << "a damaged image was confirmed";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.wire_code(), 104031);
        EXPECT_EQ(e.http_status(), 500);
        EXPECT_NE(e.description().find("SHA-256"), std::string::npos) << e.description();
    }
    EXPECT_TRUE(BlobKeys().empty());
    EXPECT_EQ(CodeOf([&] { Confirm(id); }), 104032);
    // Not an image at all.
    Put(id, "hello, world");
    EXPECT_EQ(CodeOf([&] { Confirm(id); }), 104031);
    // The same URL, good bytes this time.
    Put(id, Image("1.2.3"));
    EXPECT_EQ(Confirm(id).fw_version, "1.2.3");
    EXPECT_EQ(Images(), 1);
}

TEST_F(OtaUploadServiceTest, GivenValuesOverrideTheImageAndRawImagesNeedThem) {
    const std::string id = Request("given");
    Put(id, Image("1.0.0", "led_light"));
    ConfirmInput in;
    in.fw_version = "7.7";
    in.model = "L-7";
    in.type = "lights";
    const auto image = Confirm(id, in);
    EXPECT_EQ(image.fw_version, "7.7");
    EXPECT_EQ(image.model, "L-7");
    EXPECT_EQ(image.type, "lights");
    EXPECT_EQ(image.project_name, "led_light");

    const std::string raw = Request("raw", "raw");
    Put(raw, "any bytes at all");
    EXPECT_EQ(CodeOf([&] { Confirm(raw); }), 104004);
    ConfirmInput version_only;
    version_only.fw_version = "1";
    EXPECT_EQ(CodeOf([&] { Confirm(raw, version_only); }), 104005);
    ConfirmInput both = version_only;
    both.model = "m";
    const auto stored = Confirm(raw, both);
    EXPECT_EQ(stored.model, "m");
    EXPECT_EQ(stored.type, "m");
    EXPECT_EQ(stored.file_size, 16);

    ConfirmInput bad;
    bad.image_type = "zip";
    EXPECT_EQ(CodeOf([&] { Confirm(Request("t"), bad); }), 100006);
    EXPECT_EQ(CodeOf([&] { Confirm(""); }), 104018);
    EXPECT_EQ(CodeOf([&] { Confirm("unknown"); }), 104015);
}

TEST_F(OtaUploadServiceTest, APackageBecomesAnImageOfItsFirmware) {
    const std::string firmware = Image("3.0.0", "led_light");
    const std::string zip = testing::BuildZip(
        {{"led_light.bin", firmware}, {"bootloader.bin", "boot"}, {"docs/qa.pdf", "pdf"}}
    );
    const std::string id = Request("led_light_3.0.0", "package");
    Put(id, zip);
    const auto image = Confirm(id);
    EXPECT_EQ(image.fw_version, "3.0.0");
    EXPECT_EQ(image.file_sha256, crypto::Sha256Hex(firmware));
    EXPECT_EQ(image.file_md5, crypto::Md5Hex(firmware));
    EXPECT_EQ(image.file_size, static_cast<std::int64_t>(firmware.size()));
    // The image keeps its firmware; the archive went.
    EXPECT_EQ(BlobKeys(), std::set<std::string>{crypto::Sha256Hex(firmware)});
    EXPECT_EQ(service_.Bytes(image.ota_image_id), firmware);

    // Two firmwares, a firmware not named after its project: refused, bytes deleted.
    for (const auto& bad :
         {testing::BuildZip({{"led_light.bin", firmware}, {"other.bin", firmware}}),
          testing::BuildZip({{"renamed.bin", firmware}})}) {
        const std::string bad_id = Request("bad", "package");
        Put(bad_id, bad);
        EXPECT_EQ(CodeOf([&] { Confirm(bad_id); }), 104031);
        EXPECT_EQ(BlobKeys().size(), 1U);
    }
    // The confirmation's image_type wins over the request's: a firmware sent as a package.
    const std::string firmware_id = Request("as firmware", "package");
    Put(firmware_id, Image("4.0.0"));
    EXPECT_EQ(CodeOf([&] { Confirm(firmware_id); }), 104031);
    Put(firmware_id, Image("4.0.0"));
    ConfirmInput as_firmware;
    as_firmware.image_type = "firmware";
    EXPECT_EQ(Confirm(firmware_id, as_firmware).fw_version, "4.0.0");
}

TEST_F(OtaUploadServiceTest, TheOlderPackageFlowRegistersAnUploadedFile) {
    EXPECT_EQ(CodeOf([&] { service_.RequestPackageUpload(admin_, std::nullopt); }), 104039);
    for (const char* name : {"fw.bin", ".zip", "a/b.zip", "x.zip\n"}) {
        EXPECT_EQ(CodeOf([&] { service_.RequestPackageUpload(admin_, std::string(name)); }), 104039)
            << name;
    }
    EXPECT_EQ(
        CodeOf([&] { service_.RequestPackageUpload(admin_, std::string(124, 'p') + ".zip"); }),
        104039
    );
    const std::string url = service_.RequestPackageUpload(admin_, std::string("light_1.0.zip"));
    const std::string id =
        url.substr(url.find("/uploads/") + 9, url.find('?') - url.find("/uploads/") - 9);
    PackageInput in;
    in.file_path = "light_1.0.zip";
    EXPECT_EQ(CodeOf([&] { service_.RegisterPackage(admin_, in); }), 104002);
    in.image_name = "Light 1.0";
    EXPECT_EQ(CodeOf([&] { service_.RegisterPackage(admin_, in); }), 104032);
    const std::string firmware = Image("1.0.0", "led_light");
    Put(id, testing::BuildZip({{"build/led_light.bin", firmware}}));
    in.type = "lamp";
    const auto image = service_.RegisterPackage(admin_, in);
    EXPECT_EQ(image.image_name, "Light 1.0");
    EXPECT_EQ(image.type, "lamp");
    EXPECT_EQ(image.file_sha256, crypto::Sha256Hex(firmware));
    EXPECT_NE(image.ota_image_id, id);
    // Registered once: the file is gone.
    EXPECT_EQ(CodeOf([&] { service_.RegisterPackage(admin_, in); }), 104015);
    in.file_path = "other.zip";
    EXPECT_EQ(CodeOf([&] { service_.RegisterPackage(admin_, in); }), 104015);
    in.file_path.reset();
    EXPECT_EQ(CodeOf([&] { service_.RegisterPackage(admin_, in); }), 104039);
}

TEST_F(OtaUploadServiceTest, TheSweepRemovesExpiredUploadsButNotBytesAnImageHolds) {
    const std::string shared = Image("5.0.0");
    const std::string alone = Image("6.0.0");
    const std::string image_id = Request("kept");
    Put(image_id, shared);
    Confirm(image_id);
    Put(Request("same bytes"), shared);
    Put(Request("own bytes"), alone);
    EXPECT_EQ(BlobKeys().size(), 2U);
    clock_.Advance(3599s);
    EXPECT_EQ(service_.ExpireUploads(), 0);
    clock_.Advance(2s);
    EXPECT_EQ(service_.ExpireUploads(), 2);
    EXPECT_EQ(BlobKeys(), std::set<std::string>{crypto::Sha256Hex(shared)});
    EXPECT_EQ(Images(), 1);
    // An upload whose bytes came late waits upload_url_ttl from their arrival.
    const std::string late = Request("late");
    clock_.Advance(3000s);
    Put(late, alone);
    clock_.Advance(3000s);
    EXPECT_EQ(service_.ExpireUploads(), 0);
    EXPECT_EQ(Confirm(late).fw_version, "6.0.0");
}

TEST_F(OtaUploadServiceTest, AUsersImageLastsAsLongAsItsUrlAndIsTheirsOnly) {
    UploadInput in;
    in.image_name = "mine";
    in.base64_fwimage = crypto::Base64Encode(Image("1.1.1", "led_light"));
    const auto first = service_.UploadUserImage(user_, in);
    EXPECT_EQ(first.fw_version, "1.1.1");
    EXPECT_EQ(first.model, "led_light");
    EXPECT_NE(first.image_url.find("/blobs/"), std::string::npos);
    EXPECT_EQ(Images(), 0);  // not an admin image
    // The same name replaces it; past max_user_images (2) the oldest goes.
    in.base64_fwimage = crypto::Base64Encode(Image("1.1.2", "led_light"));
    service_.UploadUserImage(user_, in);
    EXPECT_EQ(BlobKeys().size(), 1U);
    for (const char* name : {"second", "third"}) {
        in.image_name = name;
        in.base64_fwimage = crypto::Base64Encode(Image(name, "led_light"));
        service_.UploadUserImage(user_, in);
    }
    EXPECT_EQ(db_.OtaUploads().UserImages("user1").size(), 2U);
    EXPECT_EQ(BlobKeys().size(), 2U);
    // Another user's image of the same name is theirs.
    in.image_name = "second";
    service_.UploadUserImage(auth::AuthContext{"user2", "user2@x.com", "s3"}, in);
    EXPECT_EQ(db_.OtaUploads().UserImages("user2").size(), 1U);
    // #29's checks.
    UploadInput bad;
    bad.image_name = "x";
    EXPECT_EQ(CodeOf([&] { service_.UploadUserImage(user_, bad); }), 104001);
    bad.base64_fwimage = "@@@";
    EXPECT_EQ(CodeOf([&] { service_.UploadUserImage(user_, bad); }), 104011);
    bad.base64_fwimage = crypto::Base64Encode("not an image");
    EXPECT_EQ(CodeOf([&] { service_.UploadUserImage(user_, bad); }), 104003);
    bad.image_name.reset();
    EXPECT_EQ(CodeOf([&] { service_.UploadUserImage(user_, bad); }), 104002);
    // A deleted user's images go at the next sweep; the others when their URL expires.
    db_.Transaction([&] { db_.Users().Delete("user2"); });
    EXPECT_EQ(service_.ExpireUploads(), 1);
    clock_.Advance(24h + 1s);
    EXPECT_EQ(service_.ExpireUploads(), 2);
    EXPECT_TRUE(BlobKeys().empty());
}

TEST_F(OtaUploadServiceTest, WithoutUrlsUploadsAreRefusedAndImagesHaveNoUrl) {
    OtaImageService bare{db_, blobs_, clock_, config_};
    UploadRequestInput in;
    in.image_name = "x";
    EXPECT_EQ(CodeOf([&] { bare.RequestUpload(admin_, in); }), 104013);
    UploadInput inline_image;
    inline_image.image_name = "inline";
    inline_image.base64_fwimage = crypto::Base64Encode(Image());
    EXPECT_TRUE(bare.Upload(admin_, inline_image).image_url.empty());
    EXPECT_FALSE(service_.Upload(admin_, inline_image).image_url.empty());
}

// A PUT is refused before its first body byte unless its upload is pending: a valid URL of an
// upload gone since cannot make the server write its body to disk.
TEST_F(OtaUploadServiceTest, StartUploadRefusesUploadsThatAreNotPending) {
    using core::ErrorCode;
    EXPECT_EQ(
        ErrorOf([&] { service_.StartUpload("NoSuchUpload", 10); }), ErrorCode::kOtaObjectNotFound
    );
    const std::string expired = Request("late");
    clock_.Advance(3601s);
    EXPECT_EQ(ErrorOf([&] { service_.StartUpload(expired, 10); }), ErrorCode::kOtaObjectNotFound);
    const std::string bytes = Image();
    const std::string confirmed = Request("done");
    Put(confirmed, bytes);
    Confirm(confirmed);
    EXPECT_EQ(ErrorOf([&] { service_.StartUpload(confirmed, 10); }), ErrorCode::kOtaObjectNotFound);
}

TEST_F(OtaUploadServiceTest, StartUploadAllowsOnePutPerUploadAndCapsThoseInFlight) {
    using core::ErrorCode;
    const std::string a = Request("a");
    const std::string b = Request("b");
    const std::string c = Request("c");
    {
        auto first = service_.StartUpload(a, 100);
        EXPECT_EQ(ErrorOf([&] { service_.StartUpload(a, 100); }), ErrorCode::kUploadInProgress);
        auto second = service_.StartUpload(b, 100);
        // max_concurrent_uploads = 2
        EXPECT_EQ(ErrorOf([&] { service_.StartUpload(c, 100); }), ErrorCode::kTooManyRequests);
    }
    // The writers gone (the requests answered or cut short), their slots are free again.
    auto again = service_.StartUpload(a, 100);
    auto third = service_.StartUpload(c, 100);
    EXPECT_NE(again, nullptr);
    EXPECT_NE(third, nullptr);
}

TEST_F(OtaUploadServiceTest, StartUploadNeedsFreeSpaceForTheDeclaredBodyAndThoseInFlight) {
    using core::ErrorCode;
    SmallDisk disk(blobs_);
    OtaImageService service(db_, disk, clock_, config_);
    const std::string a = Request("a");
    const std::string b = Request("b");
    disk.free = 5000;  // upload_min_free_bytes = 1000
    EXPECT_EQ(ErrorOf([&] { service.StartUpload(a, 4001); }), ErrorCode::kUploadStorageFull);
    // Undeclared (chunked): counted as max_upload_bytes.
    EXPECT_EQ(
        ErrorOf([&] { service.StartUpload(a, std::nullopt); }), ErrorCode::kUploadStorageFull
    );
    auto first = service.StartUpload(a, 3000);
    // 3000 reserved by the PUT in flight.
    EXPECT_EQ(ErrorOf([&] { service.StartUpload(b, 1001); }), ErrorCode::kUploadStorageFull);
    EXPECT_NE(service.StartUpload(b, 1000), nullptr);
}

}  // namespace
}  // namespace rainmaker::domain::ota

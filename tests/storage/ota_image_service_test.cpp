// OTA images (domain/ota) over SQLite and the file blob store: #29 upload (values from the
// image or given, every refusal with nothing changed, replacing a name, shared blobs), #30
// filters and pagination, #31 delete (the blob goes with its last image), #32 archive.
#include "domain/ota/ota_image_service.hpp"

#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/esp_image.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::ota {
namespace {

using core::ApiError;

template <typename F>
int CodeOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

std::string Image(
    std::string version = "1.0.0", std::string project = "led_light", int filler = 0x5A
) {
    testing::EspImageSpec spec;
    spec.version = std::move(version);
    spec.project_name = std::move(project);
    spec.filler = static_cast<std::uint8_t>(filler);
    spec.sha256 = [](std::string_view b) { return crypto::Sha256(b); };
    return testing::BuildEspImage(spec);
}

UploadInput In(std::string name, const std::string& bytes) {
    UploadInput in;
    in.image_name = std::move(name);
    in.base64_fwimage = crypto::Base64Encode(bytes);
    return in;
}

class OtaImageServiceTest : public ::testing::Test {
protected:
    std::size_t BlobFiles() {
        std::size_t n = 0;
        for (const auto& e :
             std::filesystem::recursive_directory_iterator(dir_.path() / "blobs" / "sha256")) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    }

    std::vector<std::string> Names(const ImageQuery& q) {
        std::vector<std::string> out;
        for (const auto& image : service_.List(q).images) {
            out.push_back(image.image_name);
        }
        return out;
    }

    std::int64_t Total() {
        ImageQuery q;
        q.all = true;
        return service_.List(q).total;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    storage::files::FileBlobStore blobs_{dir_.path() / "blobs"};
    testing::FakeClock clock_;
    OtaImageConfig config_ = [] {
        OtaImageConfig c;
        c.max_inline_image_bytes = 64 * 1024;
        return c;
    }();
    OtaImageService service_{db_, blobs_, clock_, config_};
    auth::AuthContext admin_{"admin1", "admin@x.com", "s1"};
};

TEST_F(OtaImageServiceTest, UploadReadsTheImageForWhatIsNotGiven) {
    const auto bytes = Image("3.2.1", "smart_plug");
    const auto image = service_.Upload(admin_, In("plug v3", bytes));
    EXPECT_EQ(image.ota_image_id.size(), 22U);
    EXPECT_EQ(image.image_name, "plug v3");
    EXPECT_EQ(image.fw_version, "3.2.1");
    EXPECT_EQ(image.model, "smart_plug");
    EXPECT_EQ(image.type, "smart_plug");
    EXPECT_EQ(image.project_name, "smart_plug");
    EXPECT_EQ(image.idf_version, "v5.1.2");
    EXPECT_EQ(image.file_size, static_cast<std::int64_t>(bytes.size()));
    EXPECT_EQ(image.file_md5, crypto::Md5Hex(bytes));
    EXPECT_EQ(image.file_sha256, crypto::Sha256Hex(bytes));
    EXPECT_FALSE(image.archived);
    EXPECT_EQ(image.upload_timestamp, clock_.NowSeconds());
    EXPECT_EQ(service_.Bytes(image.ota_image_id), bytes);

    ImageQuery q;
    q.ota_image_id = image.ota_image_id;
    const auto listed = service_.List(q);
    ASSERT_EQ(listed.images.size(), 1U);
    EXPECT_EQ(listed.images[0].fw_version, "3.2.1");
    EXPECT_EQ(listed.images[0].file_md5, image.file_md5);
    EXPECT_EQ(listed.total, 1);
}

TEST_F(OtaImageServiceTest, GivenValuesWin) {
    auto in = In("given", Image("1.0.0", "led_light"));
    in.fw_version = "9.9";
    in.model = "M-100";
    in.type = "lights";
    const auto image = service_.Upload(admin_, in);
    EXPECT_EQ(image.fw_version, "9.9");
    EXPECT_EQ(image.model, "M-100");
    EXPECT_EQ(image.type, "lights");
    EXPECT_EQ(image.project_name, "led_light");
    // Empty given values count as absent.
    auto empty = In("empty", Image("1.0.1", "led_light", 1));
    empty.fw_version = "";
    empty.model = "";
    EXPECT_EQ(service_.Upload(admin_, empty).fw_version, "1.0.1");
}

TEST_F(OtaImageServiceTest, MissingVersionOrModelInBoth) {
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In("a", Image("", "proj"))); }), 104004);
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In("b", Image("1.0", ""))); }), 104005);
    auto given = In("c", Image("", ""));
    given.fw_version = "1.0";
    given.model = "m";
    const auto image = service_.Upload(admin_, given);
    EXPECT_EQ(image.type, "m");  // no project name: the model
    EXPECT_EQ(Total(), 1);
}

TEST_F(OtaImageServiceTest, RefusesBadUploadsWithNothingChanged) {
    const auto good = Image();
    service_.Upload(admin_, In("kept", good));
    const auto files = BlobFiles();

    auto no_name = In("", good);
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, no_name); }), 104002);
    no_name.image_name.reset();
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, no_name); }), 104002);
    auto no_image = In("x", good);
    no_image.base64_fwimage.reset();
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, no_image); }), 104001);
    no_image.base64_fwimage = "";
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, no_image); }), 104001);

    auto bad64 = In("x", good);
    bad64.base64_fwimage = "not*base64!";
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, bad64); }), 104011);
    bad64.base64_fwimage = crypto::Base64Encode(good).substr(1);
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, bad64); }), 104011);

    // At the limit, and far past it (refused before decoding).
    EXPECT_EQ(
        CodeOf([&] { service_.Upload(admin_, In("x", std::string(64 * 1024, '\xE9'))); }), 104010
    );
    auto huge = In("x", good);
    huge.base64_fwimage = std::string(1024 * 1024, 'A');
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, huge); }), 104010);

    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In("x", "not an image")); }), 104003);
    auto truncated = good.substr(0, good.size() - 1);
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In("x", truncated)); }), 104003);
    auto flipped = good;
    flipped[300] ^= 0x40;
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In("x", flipped)); }), 104003);

    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, In(std::string(129, 'n'), good)); }), 100036);
    auto long_version = In("x", good);
    long_version.fw_version = std::string(65, '1');
    EXPECT_EQ(CodeOf([&] { service_.Upload(admin_, long_version); }), 100036);

    EXPECT_EQ(Total(), 1);
    EXPECT_EQ(BlobFiles(), files);
}

TEST_F(OtaImageServiceTest, AcceptsBase64WithLineBreaks) {
    const auto bytes = Image();
    auto text = crypto::Base64Encode(bytes);
    for (std::size_t at = 76; at < text.size(); at += 77) {
        text.insert(at, "\n");
    }
    UploadInput in;
    in.image_name = "wrapped";
    in.base64_fwimage = text + "\r\n";
    EXPECT_EQ(service_.Bytes(service_.Upload(admin_, in).ota_image_id), bytes);
}

TEST_F(OtaImageServiceTest, ANameInUseIsReplacedAndItsBlobReleased) {
    const auto v1 = service_.Upload(admin_, In("same name", Image("1.0")));
    EXPECT_EQ(BlobFiles(), 1U);
    const auto v2 = service_.Upload(admin_, In("same name", Image("2.0")));
    EXPECT_NE(v1.ota_image_id, v2.ota_image_id);
    EXPECT_EQ(BlobFiles(), 1U);  // v1's bytes went with it
    EXPECT_EQ(Total(), 1);
    EXPECT_EQ(CodeOf([&] { service_.Bytes(v1.ota_image_id); }), 104015);
    EXPECT_EQ(service_.Bytes(v2.ota_image_id), Image("2.0"));
}

TEST_F(OtaImageServiceTest, ImagesShareABlobUntilTheLastGoes) {
    const auto bytes = Image();
    const auto a = service_.Upload(admin_, In("a", bytes));
    const auto b = service_.Upload(admin_, In("b", bytes));
    EXPECT_EQ(BlobFiles(), 1U);
    service_.Delete(a.ota_image_id, false);
    EXPECT_EQ(BlobFiles(), 1U);
    EXPECT_EQ(service_.Bytes(b.ota_image_id), bytes);
    service_.Delete(b.ota_image_id, false);
    EXPECT_EQ(BlobFiles(), 0U);
    EXPECT_EQ(Total(), 0);
}

TEST_F(OtaImageServiceTest, DeleteRefusals) {
    const auto a = service_.Upload(admin_, In("a", Image()));
    EXPECT_EQ(CodeOf([&] { service_.Delete("", false); }), 104018);
    EXPECT_EQ(CodeOf([&] { service_.Delete("nope", true); }), 104015);
    EXPECT_EQ(Total(), 1);
    service_.Delete(a.ota_image_id, true);
    EXPECT_EQ(CodeOf([&] { service_.Delete(a.ota_image_id, false); }), 104015);
}

TEST_F(OtaImageServiceTest, ADamagedBlobIsAFetchError) {
    const auto a = service_.Upload(admin_, In("a", Image()));
    {
        std::ofstream out(blobs_.PathOf(a.file_sha256), std::ios::binary | std::ios::trunc);
        out << "damaged";
    }
    EXPECT_EQ(CodeOf([&] { service_.Bytes(a.ota_image_id); }), 104006);
    std::filesystem::remove(blobs_.PathOf(a.file_sha256));
    EXPECT_EQ(CodeOf([&] { service_.Bytes(a.ota_image_id); }), 104006);
}

TEST_F(OtaImageServiceTest, ArchiveAndUnarchive) {
    const auto a = service_.Upload(admin_, In("a", Image()));
    EXPECT_EQ(CodeOf([&] { service_.SetArchived("", "true"); }), 104018);
    EXPECT_EQ(CodeOf([&] { service_.SetArchived(a.ota_image_id, std::nullopt); }), 104022);
    EXPECT_EQ(CodeOf([&] { service_.SetArchived(a.ota_image_id, ""); }), 104022);
    EXPECT_EQ(CodeOf([&] { service_.SetArchived(a.ota_image_id, "yes"); }), 104026);
    EXPECT_EQ(CodeOf([&] { service_.SetArchived("nope", "true"); }), 104015);
    EXPECT_EQ(CodeOf([&] { service_.SetArchived(a.ota_image_id, "false"); }), 104024);
    service_.SetArchived(a.ota_image_id, "true");
    EXPECT_EQ(CodeOf([&] { service_.SetArchived(a.ota_image_id, "true"); }), 104023);
    ImageQuery q;
    q.ota_image_id = a.ota_image_id;
    EXPECT_TRUE(service_.List(q).images.at(0).archived);
    service_.SetArchived(a.ota_image_id, "false");
    EXPECT_FALSE(service_.List(q).images.at(0).archived);
}

TEST_F(OtaImageServiceTest, ListFilters) {
    auto upload =
        [&](const std::string& name, const std::string& type, const std::string& model, int filler
        ) {
            auto in = In(name, Image("1.0", "p", filler));
            in.type = type;
            in.model = model;
            return service_.Upload(admin_, in).ota_image_id;
        };
    upload("light-1.0", "light", "L1", 1);
    const auto old_light = upload("light-0.9", "light", "L1", 2);
    upload("switch-1.0", "switch", "S1", 3);
    upload("LIGHT-big", "light", "L2", 4);
    service_.SetArchived(old_light, "true");

    ImageQuery q;
    EXPECT_EQ(Names(q).size(), 3U);  // unarchived by default
    q.archived = true;
    EXPECT_EQ(Names(q), std::vector<std::string>{"light-0.9"});
    q.all = true;
    EXPECT_EQ(Names(q).size(), 4U);
    EXPECT_EQ(service_.List(q).total, 4);

    ImageQuery by_type;
    by_type.type = "light";
    const auto lights = Names(by_type);
    EXPECT_EQ(
        std::set<std::string>(lights.begin(), lights.end()),
        (std::set<std::string>{"light-1.0", "LIGHT-big"})
    );
    by_type.model = "L1";
    EXPECT_EQ(Names(by_type), std::vector<std::string>{"light-1.0"});

    ImageQuery by_name;
    by_name.image_name = "light";
    EXPECT_TRUE(Names(by_name).empty());  // whole names only
    by_name.contains = true;
    EXPECT_EQ(Names(by_name), std::vector<std::string>{"light-1.0"});  // case-sensitive, unarchived
    by_name.all = true;
    EXPECT_EQ(Names(by_name).size(), 2U);
    by_name.image_name = "%";  // no LIKE wildcards
    EXPECT_TRUE(Names(by_name).empty());

    // By id: that image, archived or not; an unknown id is 104015.
    ImageQuery by_id;
    by_id.ota_image_id = old_light;
    EXPECT_EQ(Names(by_id), std::vector<std::string>{"light-0.9"});
    by_id.ota_image_id = "unknown";
    EXPECT_EQ(CodeOf([&] { service_.List(by_id); }), 104015);
}

TEST_F(OtaImageServiceTest, PagesFollowNextIdToTheEnd) {
    std::set<std::string> uploaded;
    for (int i = 0; i < 7; ++i) {
        uploaded.insert(
            service_.Upload(admin_, In("img" + std::to_string(i), Image("1", "p", i))).ota_image_id
        );
    }
    ImageQuery q;
    q.num_records = 3;
    std::set<std::string> seen;
    int pages = 0;
    for (;;) {
        const auto page = service_.List(q);
        ++pages;
        EXPECT_EQ(page.total, 7);
        EXPECT_LE(page.images.size(), 3U);
        for (const auto& image : page.images) {
            EXPECT_TRUE(seen.insert(image.ota_image_id).second);
        }
        if (page.next_id.empty()) {
            break;
        }
        q.start_id = page.next_id;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, uploaded);
    q.num_records = 0;
    EXPECT_EQ(CodeOf([&] { service_.List(q); }), 100021);
}

}  // namespace
}  // namespace rainmaker::domain::ota

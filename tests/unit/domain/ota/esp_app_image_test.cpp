// The ESP app image reader: a valid image with and without its appended SHA-256, trailing
// bytes, and each kind of damage (magic, segment count, lengths, truncation at every length,
// checksum, hash, app description) refused with 104003.
#include "domain/ota/esp_app_image.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/digest.hpp"
#include "support/esp_image.hpp"

namespace rainmaker::domain::ota {
namespace {

using testing::BuildEspImage;
using testing::EspImageSpec;

int CodeOf(std::string_view bytes) {
    try {
        ParseEspAppImage(bytes);
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

std::string DescriptionOf(std::string_view bytes) {
    try {
        ParseEspAppImage(bytes);
    } catch (const core::ApiError& e) {
        return e.description();
    }
    return "";
}

EspImageSpec Hashed() {
    EspImageSpec spec;
    spec.sha256 = [](std::string_view b) { return crypto::Sha256(b); };
    return spec;
}

TEST(EspAppImageTest, ReadsTheAppDescription) {
    EspImageSpec spec;
    spec.version = "2.4.1-rc1";
    spec.project_name = "switch";
    spec.idf_version = "v5.2.1";
    spec.secure_version = 3;
    const auto bytes = BuildEspImage(spec);
    const auto image = ParseEspAppImage(bytes);
    EXPECT_EQ(image.version, "2.4.1-rc1");
    EXPECT_EQ(image.project_name, "switch");
    EXPECT_EQ(image.idf_version, "v5.2.1");
    EXPECT_EQ(image.time, "12:00:00");
    EXPECT_EQ(image.date, "Dec  1 2026");
    EXPECT_EQ(image.secure_version, 3U);
    EXPECT_EQ(image.segment_count, 2U);
    EXPECT_EQ(image.chip_id, 0);
    EXPECT_FALSE(image.hash_appended);
    EXPECT_EQ(image.image_bytes, bytes.size());
    EXPECT_EQ(image.image_bytes % 16, 0U);
    EXPECT_EQ(image.app_elf_sha256.size(), 64U);
    EXPECT_EQ(image.app_elf_sha256.substr(0, 4), "0108");
}

TEST(EspAppImageTest, ChecksTheAppendedHash) {
    const auto bytes = BuildEspImage(Hashed());
    const auto image = ParseEspAppImage(bytes);
    EXPECT_TRUE(image.hash_appended);
    EXPECT_EQ(image.image_bytes, bytes.size());

    auto bad = bytes;
    bad.back() = static_cast<char>(bad.back() ^ 1);
    EXPECT_EQ(CodeOf(bad), 104003);
    EXPECT_NE(DescriptionOf(bad).find("SHA-256 does not match"), std::string::npos);
    // The flag cleared on a hashed image: the hash bytes are then trailing data, the image
    // before them is still valid, but the hash no longer covers a header that changed.
    auto unflagged = bytes;
    unflagged[testing::kEspHashAppendedOffset] = 0;
    EXPECT_EQ(ParseEspAppImage(unflagged).image_bytes, bytes.size() - 32);
    auto flag_two = bytes;
    flag_two[testing::kEspHashAppendedOffset] = 2;
    EXPECT_EQ(CodeOf(flag_two), 104003);
}

TEST(EspAppImageTest, AllowsBytesAfterTheImage) {
    auto bytes = BuildEspImage(Hashed());
    const auto size = bytes.size();
    bytes += std::string(4096, '\xFF');  // e.g. a signature sector
    EXPECT_EQ(ParseEspAppImage(bytes).image_bytes, size);
}

TEST(EspAppImageTest, RefusesEveryTruncation) {
    for (const auto& spec : {EspImageSpec{}, Hashed()}) {
        const auto bytes = BuildEspImage(spec);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            EXPECT_EQ(CodeOf(std::string_view(bytes).substr(0, n)), 104003) << n;
        }
    }
}

TEST(EspAppImageTest, RefusesAForeignMagic) {
    auto bytes = BuildEspImage({});
    bytes[0] = static_cast<char>(0xE8);
    EXPECT_EQ(CodeOf(bytes), 104003);
    EXPECT_NE(DescriptionOf(bytes).find("magic"), std::string::npos);
    EXPECT_EQ(CodeOf("PK\x03\x04 a zip, not an image at all"), 104003);
    EXPECT_EQ(CodeOf(std::string(64, '\0')), 104003);
}

TEST(EspAppImageTest, RefusesBadSegmentCountsAndLengths) {
    const auto bytes = BuildEspImage({});
    auto zero = bytes;
    zero[testing::kEspSegmentCountOffset] = 0;
    EXPECT_EQ(CodeOf(zero), 104003);
    auto seventeen = bytes;
    seventeen[testing::kEspSegmentCountOffset] = 17;
    EXPECT_EQ(CodeOf(seventeen), 104003);
    auto one_more = bytes;
    one_more[testing::kEspSegmentCountOffset] = 3;  // the padding is read as a segment header
    EXPECT_EQ(CodeOf(one_more), 104003);
    // A length past the end, and the largest length (no overflow in the bounds check).
    for (const std::uint8_t top : {0x01, 0xFF}) {
        auto longer = bytes;
        longer[testing::kEspFirstSegmentLengthOffset + 3] = static_cast<char>(top);
        EXPECT_EQ(CodeOf(longer), 104003);
        EXPECT_NE(DescriptionOf(longer).find("past the end"), std::string::npos);
    }
}

TEST(EspAppImageTest, RefusesAWrongChecksum) {
    const auto bytes = BuildEspImage({});
    auto flipped_data = bytes;
    flipped_data[testing::kEspAppDescOffset + 260] ^= 0x10;  // code in the first segment
    EXPECT_EQ(CodeOf(flipped_data), 104003);
    EXPECT_NE(DescriptionOf(flipped_data).find("checksum"), std::string::npos);
    auto flipped_sum = bytes;
    flipped_sum.back() ^= 0x01;
    EXPECT_EQ(CodeOf(flipped_sum), 104003);
}

TEST(EspAppImageTest, RefusesAMissingOrBadAppDescription) {
    // The description's magic spoiled (the checksum byte fixed, so only that is wrong).
    auto bytes = BuildEspImage({});
    bytes[testing::kEspAppDescOffset] ^= 0x01;
    bytes.back() ^= 0x01;
    EXPECT_EQ(CodeOf(bytes), 104003);
    EXPECT_NE(DescriptionOf(bytes).find("app description"), std::string::npos);

    // A first segment shorter than a description.
    EspImageSpec tiny;
    tiny.segment_bytes = 0;
    auto small = BuildEspImage(tiny);
    EXPECT_NO_THROW(ParseEspAppImage(small));

    EspImageSpec control;
    control.project_name = "bad\x01name";
    EXPECT_EQ(CodeOf(BuildEspImage(control)), 104003);
    EspImageSpec latin1;
    latin1.version = "1.0\xE9";
    EXPECT_EQ(CodeOf(BuildEspImage(latin1)), 104003);
    EspImageSpec utf8;
    utf8.version = "1.0-\xC3\xA9t\xC3\xA9";
    EXPECT_EQ(ParseEspAppImage(BuildEspImage(utf8)).version, "1.0-\xC3\xA9t\xC3\xA9");
    // A 32-byte version without its NUL is read whole.
    EspImageSpec full;
    full.version = std::string(32, 'v');
    EXPECT_EQ(ParseEspAppImage(BuildEspImage(full)).version, std::string(32, 'v'));
}

TEST(EspAppImageTest, RefusesAFirstSegmentTooShortForTheDescription) {
    // A hand-made image whose only segment holds 16 bytes.
    std::string image(24, '\0');
    image[0] = static_cast<char>(0xE9);
    image[1] = 1;
    std::string data(16, 'x');
    image += std::string("\x00\x00\x40\x3F\x10\x00\x00\x00", 8) + data;
    std::uint8_t sum = 0xEF;
    for (const char c : data) {
        sum ^= static_cast<std::uint8_t>(c);
    }
    while (image.size() % 16 != 15) {
        image.push_back('\0');
    }
    image.push_back(static_cast<char>(sum));
    EXPECT_EQ(CodeOf(image), 104003);
    EXPECT_NE(DescriptionOf(image).find("app description"), std::string::npos);
}

}  // namespace
}  // namespace rainmaker::domain::ota

namespace rainmaker::domain::ota {
namespace {

// The fuzz seeds (fuzz/make_esp_image_seeds.py, written independently of the C++ builder):
// the valid ones are read, the spoiled ones refused.
TEST(EspAppImageSeedsTest, TheFuzzSeedsAreWhatTheirNamesSay) {
    const std::filesystem::path dir =
        std::filesystem::path(RAINMAKER_SOURCE_DIR) / "fuzz" / "corpus" / "esp_image_fuzz";
    int valid = 0;
    int bad = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        const std::string name = entry.path().filename().string();
        if (name.starts_with("valid_")) {
            EXPECT_EQ(CodeOf(bytes), 0) << name << ": " << DescriptionOf(bytes);
            ++valid;
        } else {
            EXPECT_EQ(CodeOf(bytes), 104003) << name;
            ++bad;
        }
    }
    EXPECT_GE(valid, 5);
    EXPECT_GE(bad, 5);
}

}  // namespace
}  // namespace rainmaker::domain::ota

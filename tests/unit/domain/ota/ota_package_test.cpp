// The OTA package reader over archives libzip writes: the one firmware .bin is found (in any
// folder, beside a bootloader and other files) and inflated; every other shape is refused with
// 104031 and a description naming what is wrong, and a firmware past the limit stops at it.
#include "domain/ota/ota_package.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/ota/esp_app_image.hpp"
#include "support/esp_image.hpp"
#include "support/zip_builder.hpp"

namespace rainmaker::domain::ota {
namespace {

using testing::BuildZip;
using testing::ZipEntry;

struct Read {
    OtaPackage package;
    std::string firmware;
};

Read ReadZip(const std::string& zip, PackageLimits limits = {}) {
    storage::MemoryBlobReader reader(zip);
    Read out;
    out.package = ReadOtaPackage(
        reader, [&](std::string_view chunk) { out.firmware.append(chunk); }, limits
    );
    return out;
}

// The description of the refusal, or "" when the archive was accepted.
std::string Refusal(const std::string& zip, PackageLimits limits = {}) {
    try {
        ReadZip(zip, limits);
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.wire_code(), 104031);
        return e.description();
    }
    return "";
}

TEST(OtaPackage, FindsTheOneFirmwareBesideABootloaderAndOtherFiles) {
    const std::string image = testing::BuildEspImage({});
    const std::string big(300 * 1024, 'z');  // several pieces
    const auto read = ReadZip(BuildZip({
        {"build/led_light.bin", image + big},
        {"build/bootloader/bootloader.bin", "boot"},
        {"README.md", "notes"},
        {"partition_table/partitions.csv", "nvs,data"},
        {"build/", ""},
    }));
    EXPECT_EQ(read.firmware, image + big);
    EXPECT_EQ(read.package.firmware_entry, "build/led_light.bin");
    EXPECT_EQ(read.package.firmware_name, "led_light");
    EXPECT_EQ(read.package.firmware_bytes, image.size() + big.size());
    EXPECT_TRUE(read.package.has_bootloader);
    // Stored (not deflated) and an upper-case extension are fine too; no bootloader is fine.
    const auto stored = ReadZip(BuildZip({{"fw.BIN", image, true}}));
    EXPECT_EQ(stored.firmware, image);
    EXPECT_EQ(stored.package.firmware_name, "fw");
    EXPECT_FALSE(stored.package.has_bootloader);
}

TEST(OtaPackage, RefusesEveryOtherShape) {
    const std::string image = testing::BuildEspImage({});
    EXPECT_NE(Refusal("not a zip at all").find("not a zip archive"), std::string::npos);
    EXPECT_NE(Refusal("").find("not a zip archive"), std::string::npos);
    EXPECT_NE(
        Refusal(BuildZip({{"a.bin", image}, {"b.bin", image}})).find("2 firmware .bin files"),
        std::string::npos
    );
    EXPECT_NE(
        Refusal(BuildZip({{"bootloader.bin", "x"}, {"notes.txt", "y"}})).find("no firmware"),
        std::string::npos
    );
    EXPECT_NE(
        Refusal(BuildZip({{"fw.bin", image}, {"bootloader.bin", "1"}, {"x/bootloader.bin", "2"}})
        ).find("more than one bootloader.bin"),
        std::string::npos
    );
    EXPECT_NE(Refusal(BuildZip({{"dir/.bin", image}})).find("named .bin"), std::string::npos);
    // Past the entry limit, and a firmware past the size limit (whatever the archive claims).
    std::vector<ZipEntry> many;
    for (int i = 0; i < 12; ++i) {
        many.push_back({"f" + std::to_string(i) + ".txt", "x"});
    }
    PackageLimits limits;
    limits.max_entries = 10;
    EXPECT_NE(Refusal(BuildZip(many), limits).find("12 entries"), std::string::npos);
    limits = {};
    limits.max_firmware_bytes = 1000;
    EXPECT_NE(
        Refusal(BuildZip({{"fw.bin", std::string(5000, 'a')}}), limits).find("larger than 1000"),
        std::string::npos
    );
}

std::string LittleEndian(std::uint64_t value, int width) {
    std::string out;
    for (int i = 0; i < width; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
    return out;
}

// An end-of-central-directory record claiming `entries` and a directory of `bytes` at `at`.
std::string Eocd(std::uint64_t entries, std::uint64_t bytes, std::uint64_t at) {
    return "PK\x05\x06" + LittleEndian(0, 4) + LittleEndian(entries, 2) + LittleEndian(entries, 2) +
           LittleEndian(bytes, 4) + LittleEndian(at, 4) + LittleEndian(0, 2);
}

// The limits are read from the end-of-central-directory records before libzip parses (and
// allocates for) the directory they describe: archives that only claim a huge directory are
// refused for what they claim (libzip alone would call them merely "not a zip archive").
TEST(OtaPackage, RefusesAHugeDirectoryFromItsEndRecordsBeforeParsingIt) {
    const std::string filler(100, 'x');
    EXPECT_NE(Refusal(filler + Eocd(60000, 100, 0)).find("60000 entries"), std::string::npos)
        << Refusal(filler + Eocd(60000, 100, 0));
    const std::string big_directory = Refusal(filler + Eocd(5, 2 << 20, 0));
    EXPECT_NE(big_directory.find("central directory is 2097152 bytes"), std::string::npos)
        << big_directory;
    // ZIP64: the counts of the ZIP64 record (the classic record says 0xFFFF).
    const std::string zip64_record = "PK\x06\x06" + LittleEndian(44, 8) + LittleEndian(45, 2) +
                                     LittleEndian(45, 2) + LittleEndian(0, 4) + LittleEndian(0, 4) +
                                     LittleEndian(1000000000, 8) + LittleEndian(1000000000, 8) +
                                     LittleEndian(50, 8) + LittleEndian(0, 8);
    const std::string locator =
        "PK\x06\x07" + LittleEndian(0, 4) + LittleEndian(filler.size(), 8) + LittleEndian(1, 4);
    PackageLimits limits;
    limits.max_entries = 70000;  // above the classic record's 0xFFFF
    const std::string zip64 =
        Refusal(filler + zip64_record + locator + Eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF), limits);
    EXPECT_NE(zip64.find("1000000000 entries"), std::string::npos) << zip64;
    // A real archive within the limits still reads.
    const std::string image = testing::BuildEspImage({});
    EXPECT_EQ(ReadZip(BuildZip({{"fw.bin", image}})).firmware, image);
}

TEST(OtaPackage, RefusesADamagedFirmwareEntry) {
    const std::string payload(2000, 'P');
    std::string zip = BuildZip({{"fw.bin", payload, true}});
    const auto at = zip.find(payload);
    ASSERT_NE(at, std::string::npos);
    zip[at + 1000] = 'Q';  // the stored bytes no longer match their CRC
    EXPECT_NE(Refusal(zip).find("damaged"), std::string::npos) << Refusal(zip);
    // Cut short: the directory at its end is gone.
    const std::string whole = BuildZip({{"fw.bin", payload}});
    EXPECT_NE(Refusal(whole.substr(0, whole.size() / 2)).find("not a zip"), std::string::npos);
}

TEST(OtaPackage, RefusesAnEncryptedFirmware) {
    std::string zip;
    try {
        zip = BuildZip({{"fw.bin", "secret", false, "password"}});
    } catch (const std::runtime_error&) {
        GTEST_SKIP() << "this libzip cannot write encrypted entries";
    }
    EXPECT_NE(Refusal(zip).find("encrypted"), std::string::npos) << Refusal(zip);
}

TEST(OtaPackage, WhatTheFirmwareSinkThrowsIsPassedOn) {
    const std::string zip = BuildZip({{"fw.bin", "bytes"}});
    storage::MemoryBlobReader reader(zip);
    EXPECT_THROW(
        ReadOtaPackage(reader, [](std::string_view) { throw std::runtime_error("disk full"); }),
        std::runtime_error
    );
}

// The fuzz seeds (fuzz/make_ota_package_seeds.py) are what their names say: valid_* are
// packages whose firmware is an image, bad_* are refused by the reader or by the image parser.
TEST(OtaPackage, TheFuzzSeedsAreWhatTheirNamesSay) {
    const auto dir = std::filesystem::path(RAINMAKER_SOURCE_DIR) / "fuzz/corpus/ota_package_fuzz";
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), {}};
        const std::string name = entry.path().filename().string();
        bool valid = true;
        try {
            ParseEspAppImage(ReadZip(bytes).firmware);
        } catch (const core::ApiError&) {
            valid = false;
        }
        EXPECT_EQ(valid, name.rfind("valid_", 0) == 0) << name;
        ++seen;
    }
    EXPECT_GE(seen, 5);
}

}  // namespace
}  // namespace rainmaker::domain::ota

// Feeds bytes as an OTA firmware package (the .zip an admin PUTs to an upload URL, #33
// image_type=package and #44) through ReadOtaPackage over libzip, then the firmware it finds
// through ParseEspAppImage, as the confirmation (#34, #45) does: anything else than a zip with
// exactly one <name>.bin (and at most one bootloader.bin) is refused with an ApiError (104031);
// an accepted package hands out exactly the bytes it counts, never past the firmware limit,
// under a name without folders, and reads the same twice.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "domain/ota/esp_app_image.hpp"
#include "domain/ota/ota_package.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rainmaker;
using domain::ota::OtaPackage;

[[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
}

// Small limits, so that a zip bomb is stopped within the fuzzer's memory and time.
constexpr std::uint64_t kMaxFirmware = 1 << 20;
constexpr std::size_t kMaxEntries = 64;

struct Read {
    OtaPackage package;
    std::string firmware;
};

std::optional<Read> ReadOnce(std::string_view bytes) {
    domain::ota::PackageLimits limits;
    limits.max_firmware_bytes = kMaxFirmware;
    limits.max_entries = kMaxEntries;
    storage::MemoryBlobReader reader(bytes);
    Read read;
    if (!fuzz::Refusable([&] {
            read.package = domain::ota::ReadOtaPackage(
                reader, [&](std::string_view chunk) { read.firmware.append(chunk); }, limits
            );
        })) {
        return std::nullopt;
    }
    return read;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    const std::string_view bytes = fuzz::AsText(data, size);
    const auto read = ReadOnce(bytes);
    if (!read) {
        return 0;
    }
    const auto& package = read->package;
    if (package.firmware_bytes != read->firmware.size() || package.firmware_bytes > kMaxFirmware) {
        Fail("the firmware's bytes differ from what was counted, or pass the limit");
    }
    if (package.entries > kMaxEntries || package.firmware_name.empty() ||
        package.firmware_name.find_first_of("/\\") != std::string::npos) {
        Fail("an accepted package past the entry limit, or with a bad firmware name");
    }
    const auto again = ReadOnce(bytes);
    if (!again || again->firmware != read->firmware ||
        again->package.firmware_entry != package.firmware_entry) {
        Fail("the package reads differently the second time");
    }
    // What the confirmation does next with the firmware.
    fuzz::Refusable([&] { domain::ota::ParseEspAppImage(read->firmware); });
    return 0;
}

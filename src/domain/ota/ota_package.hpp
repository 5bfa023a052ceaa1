// An OTA firmware package (#33 image_type=package, #44/#45): a .zip from untrusted hands that
// must hold exactly one firmware image, named <project_name>.bin, and may hold a
// bootloader.bin and other files (any directory; names compared without their folders, .bin in
// any case). Read with libzip through a BlobReader: the archive is never held in memory whole,
// and only the firmware entry is inflated, its bytes counted as they come (the sizes an archive
// declares are not trusted: a zip bomb stops at the limit).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/blob_store.hpp"

namespace rainmaker::domain::ota {

struct PackageLimits {
    std::uint64_t max_firmware_bytes = std::uint64_t{200} * 1024 * 1024;  // the catalog's 200 MB
    std::size_t max_entries = 1000;
    // The central directory libzip would read whole (and allocate for) before any check.
    std::uint64_t max_directory_bytes = std::uint64_t{1} << 20;
};

struct OtaPackage {
    std::string firmware_entry;  // the firmware's name in the archive, folders included
    std::string firmware_name;   // without its folders and its .bin: the project name it claims
    std::uint64_t firmware_bytes = 0;
    bool has_bootloader = false;
    std::size_t entries = 0;
};

// Reads the package in `zip` and passes the firmware's bytes to `firmware` a piece at a time.
// Throws core::ApiError kOtaUploadInvalid (104031) with a description naming what is wrong: not
// a zip archive, too many entries or a central directory past max_directory_bytes (both read
// from the end-of-central-directory records before libzip parses anything), no firmware .bin or
// more than one, more than one bootloader.bin, an encrypted or damaged (CRC) firmware entry, a
// firmware past max_firmware_bytes. `firmware` may throw to stop; what it throws is passed on.
OtaPackage ReadOtaPackage(
    storage::BlobReader& zip,
    const std::function<void(std::string_view)>& firmware,
    const PackageLimits& limits = {}
);

}  // namespace rainmaker::domain::ota

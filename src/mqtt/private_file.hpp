// Files the broker reads (configuration, certificates, keys, CRL), written so that it never
// reads half of one.
#pragma once

#include <filesystem>
#include <string>

namespace rainmaker::mqtt {

// Writes `text` to `path` aside (<path>.tmp, mode `perms`) and renames it into place. Throws
// std::runtime_error or std::filesystem::filesystem_error.
void WritePrivateFile(
    const std::filesystem::path& path,
    const std::string& text,
    std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                   std::filesystem::perms::owner_write
);

}  // namespace rainmaker::mqtt

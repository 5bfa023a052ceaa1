// Builds .zip archives in memory with libzip, for the tests of OTA packages (the reader, the
// service, end to end) and the fuzz seeds: entries stored or deflated, optionally encrypted.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>
#include <zip.h>

#include "support/temp_dir.hpp"

namespace rainmaker::testing {

struct ZipEntry {
    std::string name;
    std::string bytes;
    bool stored = false;        // no compression (the bytes appear as they are)
    std::string password = {};  // not empty: AES-256 encrypted
};

// The archive's bytes. Throws std::runtime_error when libzip refuses (e.g. no AES support).
inline std::string BuildZip(const std::vector<ZipEntry>& entries) {
    TempDir dir;
    const auto path = (dir.path() / "package.zip").string();
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    if (archive == nullptr) {
        throw std::runtime_error("zip_open failed");
    }
    for (const auto& entry : entries) {
        zip_source_t* source =
            zip_source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0);
        const zip_int64_t index =
            source == nullptr ? -1
                              : zip_file_add(archive, entry.name.c_str(), source, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(source);
            zip_discard(archive);
            throw std::runtime_error("zip_file_add failed");
        }
        const auto i = static_cast<zip_uint64_t>(index);
        if (entry.stored) {
            zip_set_file_compression(archive, i, ZIP_CM_STORE, 0);
        }
        if (!entry.password.empty() &&
            zip_file_set_encryption(archive, i, ZIP_EM_AES_256, entry.password.c_str()) != 0) {
            zip_discard(archive);
            throw std::runtime_error("zip encryption unsupported");
        }
    }
    if (zip_close(archive) != 0) {
        zip_discard(archive);
        throw std::runtime_error("zip_close failed");
    }
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace rainmaker::testing

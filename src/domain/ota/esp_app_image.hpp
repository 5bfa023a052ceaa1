// The ESP-IDF application image ("App Image Format" of the ESP-IDF documentation), read from
// untrusted bytes: the 24-byte image header (magic 0xE9, segment count, chip id,
// hash_appended), up to 16 segments of {load address, length, data}, zero padding to the
// checksum byte (XOR of every segment's data, seeded 0xEF, at the last byte of a 16-byte
// block), the SHA-256 of everything before it when hash_appended is 1, and the
// esp_app_desc_t (magic 0xABCD5432) at the start of the first segment's data, which names the
// firmware: version, project name, build time and date, IDF version, secure version.
// Bytes after the image (a secure boot signature sector) are allowed and not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/blob_store.hpp"

namespace rainmaker::domain::ota {

inline constexpr std::uint8_t kEspImageMagic = 0xE9;
inline constexpr std::uint32_t kEspAppDescMagic = 0xABCD5432;
inline constexpr std::size_t kEspImageMaxSegments = 16;
inline constexpr std::size_t kEspImageHeaderBytes = 24;
inline constexpr std::size_t kEspSegmentHeaderBytes = 8;
inline constexpr std::size_t kEspAppDescBytes = 256;

struct EspAppImage {
    std::uint16_t chip_id = 0;
    std::size_t segment_count = 0;
    bool hash_appended = false;
    std::size_t image_bytes = 0;  // through the checksum byte, and the hash when appended
    // From esp_app_desc_t, each text up to its first NUL.
    std::uint32_t secure_version = 0;
    std::string version;
    std::string project_name;
    std::string time;
    std::string date;
    std::string idf_version;
    std::string app_elf_sha256;  // 64 lower-case hex
};

// The image in `bytes`. Throws core::ApiError kOtaImageParseError (104003), its description
// naming what is wrong, for anything that is not a complete, consistent image: another
// magic, too many segments, a segment past the end, a wrong checksum or appended hash, a
// missing or foreign app description, text in it that is not UTF-8 or holds control
// characters.
EspAppImage ParseEspAppImage(std::string_view bytes);

// The same, read piece by piece from a stored blob (an upload of up to 200 MB is never held in
// memory whole). Also throws std::runtime_error when the reader fails.
EspAppImage ParseEspAppImage(storage::BlobReader& bytes);

}  // namespace rainmaker::domain::ota

// Builds small ESP app images the way ESP-IDF lays them out (its "App Image Format"): the
// image header, segments, zero padding to the checksum byte, optionally the appended SHA-256,
// and the app description at the start of the first segment. For the parser's tests, the OTA
// service and e2e tests and the fuzz seeds; every field can be spoiled afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace rainmaker::testing {

struct EspImageSpec {
    std::string version = "1.0.0";
    std::string project_name = "led_light";
    std::string idf_version = "v5.1.2";
    std::string time = "12:00:00";
    std::string date = "Dec  1 2026";
    std::uint32_t secure_version = 0;
    std::size_t extra_segments = 1;  // after the first one (app description + code)
    std::size_t segment_bytes = 40;  // filler bytes in each segment
    std::uint8_t filler = 0x5A;      // varies the bytes (and so the SHA-256)
    // Given: hash_appended = 1 and the SHA-256 (raw 32 bytes) this returns is appended.
    std::function<std::string(std::string_view)> sha256;
};

namespace esp_image_detail {

inline void PutU32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}

inline void PutText(std::string& out, std::string_view text, std::size_t size) {
    std::string field(text.substr(0, size));
    field.resize(size, '\0');
    out += field;
}

}  // namespace esp_image_detail

// Offsets callers spoil: the header's segment count and hash flag, where the first segment's
// data (the app description) starts.
inline constexpr std::size_t kEspSegmentCountOffset = 1;
inline constexpr std::size_t kEspHashAppendedOffset = 23;
inline constexpr std::size_t kEspFirstSegmentLengthOffset = 28;
inline constexpr std::size_t kEspAppDescOffset = 32;

inline std::string BuildEspImage(const EspImageSpec& spec) {
    using esp_image_detail::PutText;
    using esp_image_detail::PutU32;
    std::string image;
    // esp_image_header_t (24 bytes).
    image.push_back(static_cast<char>(0xE9));
    image.push_back(static_cast<char>(1 + spec.extra_segments));
    image.push_back(2);                        // spi_mode DIO
    image.push_back(0x20);                     // spi_speed / spi_size
    PutU32(image, 0x40081000);                 // entry_addr
    image.push_back(static_cast<char>(0xEE));  // wp_pin
    image.append(3, '\0');                     // spi_pin_drv
    image.append(2, '\0');                     // chip_id 0: ESP32
    image.push_back(0);                        // min_chip_rev
    image.append(2, '\0');                     // min_chip_rev_full
    image.push_back(static_cast<char>(0x8B));  // max_chip_rev_full (399)
    image.push_back(0x01);
    image.append(4, '\0');  // reserved
    image.push_back(spec.sha256 ? 1 : 0);

    // esp_app_desc_t (256 bytes) at the start of the first segment.
    std::string desc;
    PutU32(desc, 0xABCD5432);
    PutU32(desc, spec.secure_version);
    desc.append(8, '\0');
    PutText(desc, spec.version, 32);
    PutText(desc, spec.project_name, 32);
    PutText(desc, spec.time, 16);
    PutText(desc, spec.date, 16);
    PutText(desc, spec.idf_version, 32);
    for (int i = 0; i < 32; ++i) {
        desc.push_back(static_cast<char>(i * 7 + 1));  // app_elf_sha256
    }
    desc.resize(256, '\0');

    std::uint8_t checksum = 0xEF;
    auto segment = [&](std::uint32_t load, const std::string& data) {
        PutU32(image, load);
        PutU32(image, static_cast<std::uint32_t>(data.size()));
        image += data;
        for (const char c : data) {
            checksum ^= static_cast<std::uint8_t>(c);
        }
    };
    std::string first = desc;
    for (std::size_t i = 0; i < spec.segment_bytes; ++i) {
        first.push_back(static_cast<char>(spec.filler + i));
    }
    segment(0x3F400020, first);
    for (std::size_t s = 0; s < spec.extra_segments; ++s) {
        std::string data;
        for (std::size_t i = 0; i < spec.segment_bytes; ++i) {
            data.push_back(static_cast<char>(spec.filler ^ (s * 31 + i)));
        }
        segment(0x3FFB0000 + static_cast<std::uint32_t>(s) * 0x1000, data);
    }
    while (image.size() % 16 != 15) {
        image.push_back('\0');
    }
    image.push_back(static_cast<char>(checksum));
    if (spec.sha256) {
        image += spec.sha256(image);
    }
    return image;
}

// Standard padded base64 (RFC 4648 §4) of `bytes`, for request bodies (the e2e tests link no
// crypto library).
inline std::string ToBase64(std::string_view bytes) {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t v = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                                (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                                static_cast<std::uint8_t>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) {
            out.push_back(kAlphabet[(v >> shift) & 0x3F]);
        }
    }
    if (i < bytes.size()) {
        std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
        if (i + 1 < bytes.size()) {
            v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
        }
        out.push_back(kAlphabet[(v >> 18) & 0x3F]);
        out.push_back(kAlphabet[(v >> 12) & 0x3F]);
        out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 0x3F] : '=');
        out.push_back('=');
    }
    return out;
}

}  // namespace rainmaker::testing

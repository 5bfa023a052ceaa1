// Little-endian unsigned integers in bytes (ESP image headers, zip records, TLV values).
#pragma once

#include <cstdint>
#include <string_view>

namespace rainmaker::core {

// The unsigned integer `bytes` hold, least significant byte first (at most 8 bytes count).
inline std::uint64_t ReadLittleEndian(std::string_view bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = bytes.size() < 8 ? bytes.size() : 8; i > 0; --i) {
        value = (value << 8) | static_cast<unsigned char>(bytes[i - 1]);
    }
    return value;
}

}  // namespace rainmaker::core

// Hand-written base64 with strict decoding: malformed text is refused, never silently repaired.
#include "crypto/base64.hpp"

#include <array>
#include <cstdint>

namespace rainmaker::crypto {

namespace {

constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using DecodeTable = std::array<std::int8_t, 256>;

constexpr DecodeTable MakeDecodeTable(std::string_view alphabet) {
    DecodeTable table{};
    for (auto& entry : table) {
        entry = -1;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}

constexpr DecodeTable kStandardTable = MakeDecodeTable(kStandardAlphabet);
constexpr DecodeTable kUrlTable = MakeDecodeTable(kUrlAlphabet);

enum class Padding { kRequired, kOptional };

std::uint32_t Byte(char c) {
    return static_cast<unsigned char>(c);
}

std::string Encode(std::string_view bytes, std::string_view alphabet, bool pad) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n =
            (Byte(bytes[i]) << 16) | (Byte(bytes[i + 1]) << 8) | Byte(bytes[i + 2]);
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        out.push_back(alphabet[(n >> 6) & 63]);
        out.push_back(alphabet[n & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = Byte(bytes[i]) << 16;
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        if (pad) {
            out.append("==");
        }
    } else if (rest == 2) {
        const std::uint32_t n = (Byte(bytes[i]) << 16) | (Byte(bytes[i + 1]) << 8);
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        out.push_back(alphabet[(n >> 6) & 63]);
        if (pad) {
            out.push_back('=');
        }
    }
    return out;
}

std::optional<std::string> Decode(
    std::string_view text, const DecodeTable& table, Padding padding
) {
    // Padding may only be the last one or two characters of a text whose length is a multiple
    // of four; what remains must then be a possible unpadded length (never 1 mod 4).
    const std::size_t last = text.find_last_not_of('=');
    const std::size_t pad_count =
        last == std::string_view::npos ? text.size() : text.size() - last - 1;
    if (pad_count > 2) {
        return std::nullopt;
    }
    if ((pad_count > 0 || padding == Padding::kRequired) && text.size() % 4 != 0) {
        return std::nullopt;
    }
    const std::string_view body = text.substr(0, text.size() - pad_count);
    const std::size_t tail = body.size() % 4;
    if (tail == 1 || (pad_count > 0 && pad_count != 4 - tail)) {
        return std::nullopt;
    }

    std::string out;
    out.reserve(body.size() / 4 * 3 + 2);
    std::uint32_t accumulator = 0;
    std::size_t sextets = 0;
    for (const char c : body) {
        const std::int8_t value = table[static_cast<unsigned char>(c)];
        if (value < 0) {
            return std::nullopt;
        }
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
        if (++sextets == 4) {
            out.push_back(static_cast<char>((accumulator >> 16) & 0xFF));
            out.push_back(static_cast<char>((accumulator >> 8) & 0xFF));
            out.push_back(static_cast<char>(accumulator & 0xFF));
            accumulator = 0;
            sextets = 0;
        }
    }
    // Unused low bits must be zero, otherwise several texts would decode to the same bytes.
    if (sextets == 2) {
        if ((accumulator & 0x0F) != 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((accumulator >> 4) & 0xFF));
    } else if (sextets == 3) {
        if ((accumulator & 0x03) != 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((accumulator >> 10) & 0xFF));
        out.push_back(static_cast<char>((accumulator >> 2) & 0xFF));
    }
    return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
    return Encode(bytes, kUrlAlphabet, false);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
    return Decode(text, kUrlTable, Padding::kOptional);
}

std::string Base64Encode(std::string_view bytes) {
    return Encode(bytes, kStandardAlphabet, true);
}

std::optional<std::string> Base64Decode(std::string_view text) {
    return Decode(text, kStandardTable, Padding::kRequired);
}

}  // namespace rainmaker::crypto

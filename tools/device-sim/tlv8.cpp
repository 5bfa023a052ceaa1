// TLV8 for the simulated node.
#include "tlv8.hpp"

#include <algorithm>

namespace rainmaker::sim {

std::string EncodeTlv8(const std::vector<Tlv8Item>& items) {
    std::string out;
    for (const auto& item : items) {
        std::size_t at = 0;
        do {
            const std::size_t n = std::min<std::size_t>(255, item.value.size() - at);
            out.push_back(static_cast<char>(item.type));
            out.push_back(static_cast<char>(n));
            out.append(item.value, at, n);
            at += n;
        } while (at < item.value.size());
    }
    return out;
}

std::optional<std::vector<Tlv8Item>> DecodeTlv8(std::string_view bytes) {
    std::vector<Tlv8Item> items;
    std::size_t at = 0;
    bool previous_full = false;
    while (at < bytes.size()) {
        if (bytes.size() - at < 2) {
            return std::nullopt;
        }
        const auto type = static_cast<std::uint8_t>(bytes[at]);
        const auto length = static_cast<unsigned char>(bytes[at + 1]);
        at += 2;
        if (bytes.size() - at < length) {
            return std::nullopt;
        }
        if (previous_full && items.back().type == type) {
            items.back().value.append(bytes.substr(at, length));
        } else {
            items.push_back({type, std::string(bytes.substr(at, length))});
        }
        previous_full = length == 255;
        at += length;
    }
    return items;
}

const std::string* FindTlv8(const std::vector<Tlv8Item>& items, std::uint8_t type) {
    for (const auto& item : items) {
        if (item.type == type) {
            return &item.value;
        }
    }
    return nullptr;
}

}  // namespace rainmaker::sim

// The node side of the command-response TLV8 (device-protocol §2.4), written for the simulator
// on its own (not shared with the server), so that the two implementations check each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::sim {

struct Tlv8Item {
    std::uint8_t type = 0;
    std::string value;
};

// Items in order; a value over 255 bytes goes as consecutive items of its type.
std::string EncodeTlv8(const std::vector<Tlv8Item>& items);

// Items of `bytes` with split values joined (a 255-byte item continued by one of its type);
// nullopt when the bytes end inside an item.
std::optional<std::vector<Tlv8Item>> DecodeTlv8(std::string_view bytes);

// The value of the first item of `type`, nullptr when there is none.
const std::string* FindTlv8(const std::vector<Tlv8Item>& items, std::uint8_t type);

}  // namespace rainmaker::sim

// TLV8 encoding and decoding of command-response messages.
#include "domain/commands/tlv.hpp"

#include <algorithm>
#include <array>

#include "core/little_endian.hpp"

namespace rainmaker::domain::commands {

namespace {

constexpr std::size_t kMaxItemBytes = 255;

TlvItem Item(TlvType type, std::string value) {
    return TlvItem{static_cast<std::uint8_t>(type), std::move(value)};
}

std::string LittleEndian(std::uint64_t value, std::size_t bytes) {
    std::string out(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i) {
        out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
    }
    return out;
}

}  // namespace

std::string EncodeTlv(const std::vector<TlvItem>& items) {
    std::string out;
    for (const auto& item : items) {
        std::string_view rest = item.value;
        // An empty value is one item of length 0; a longer one is cut in 255-byte pieces.
        do {
            const std::size_t n = std::min(rest.size(), kMaxItemBytes);
            out += static_cast<char>(item.type);
            out += static_cast<char>(n);
            out.append(rest.substr(0, n));
            rest.remove_prefix(n);
        } while (!rest.empty());
    }
    return out;
}

std::optional<std::vector<TlvItem>> DecodeTlv(std::string_view bytes) {
    std::vector<TlvItem> items;
    bool continues = false;  // the last item was a full 255-byte piece
    while (!bytes.empty()) {
        if (bytes.size() < 2) {
            return std::nullopt;
        }
        const auto type = static_cast<std::uint8_t>(bytes[0]);
        const auto length = static_cast<std::size_t>(static_cast<unsigned char>(bytes[1]));
        if (bytes.size() < 2 + length) {
            return std::nullopt;
        }
        const std::string_view value = bytes.substr(2, length);
        if (continues && items.back().type == type) {
            items.back().value.append(value);
        } else {
            items.push_back(TlvItem{type, std::string(value)});
        }
        continues = length == kMaxItemBytes;
        bytes.remove_prefix(2 + length);
    }
    return items;
}

std::string DeviceStatusText(int status) {
    static constexpr std::array<const char*, 5> kTexts = {
        "success", "failed", "invalid command", "authentication failed", "command not found"};
    if (status >= 0 && static_cast<std::size_t>(status) < kTexts.size()) {
        return kTexts[static_cast<std::size_t>(status)];
    }
    return "status " + std::to_string(status);
}

std::string EncodeRequest(const RequestMessage& request) {
    std::vector<TlvItem> items;
    items.push_back(Item(TlvType::kRequestId, request.request_id));
    items.push_back(Item(TlvType::kRole, std::string(1, static_cast<char>(request.role))));
    items.push_back(Item(TlvType::kCommand, LittleEndian(request.command, 2)));
    if (request.timestamp) {
        items.push_back(Item(TlvType::kTimestamp, LittleEndian(*request.timestamp, 4)));
    }
    if (!request.data.empty()) {
        items.push_back(Item(TlvType::kData, request.data));
    }
    return EncodeTlv(items);
}

std::optional<ResponseMessage> DecodeResponse(std::string_view payload) {
    const auto items = DecodeTlv(payload);
    if (!items) {
        return std::nullopt;
    }
    ResponseMessage message;
    std::array<bool, 7> seen{};
    for (const auto& item : *items) {
        if (item.type < 1 || item.type > 6) {
            continue;  // a later firmware's item
        }
        if (seen[item.type]) {
            return std::nullopt;
        }
        seen[item.type] = true;
        switch (static_cast<TlvType>(item.type)) {
            case TlvType::kRequestId:
                if (item.value.size() > kMaxRequestIdBytes) {
                    return std::nullopt;
                }
                message.request_id = item.value;
                break;
            case TlvType::kStatus:
                if (item.value.size() != 1) {
                    return std::nullopt;
                }
                message.status = static_cast<std::uint8_t>(item.value[0]);
                break;
            case TlvType::kCommand:
                if (item.value.size() != 2) {
                    return std::nullopt;
                }
                message.command = static_cast<std::uint16_t>(core::ReadLittleEndian(item.value));
                break;
            case TlvType::kData:
                message.data = item.value;
                break;
            case TlvType::kRole:
            case TlvType::kTimestamp:
                break;  // not part of an answer: ignored
        }
    }
    const bool has_command = seen[static_cast<std::size_t>(TlvType::kCommand)];
    const bool has_status = seen[static_cast<std::size_t>(TlvType::kStatus)];
    if (!has_command || (!has_status && !message.IsPoll())) {
        return std::nullopt;
    }
    return message;
}

}  // namespace rainmaker::domain::commands

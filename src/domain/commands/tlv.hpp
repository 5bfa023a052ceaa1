// The binary TLV8 of command-response messages (device-protocol §2.4): what the server publishes
// on node/<id>/to-node and reads from node/<id>/from-node. A value longer than 255 bytes travels
// as consecutive items of the same type (HomeKit TLV8 style), 255 bytes each but the last.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::domain::commands {

// Item types of §2.4.
enum class TlvType : std::uint8_t {
    kRequestId = 1,  // text, at most 31 bytes on the node
    kRole = 2,       // 1 byte, see Role below
    kStatus = 3,     // 1 byte, see DeviceStatus
    kTimestamp = 4,  // 4 bytes, little-endian Unix seconds
    kCommand = 5,    // 2 bytes, little-endian
    kData = 6,       // command-specific bytes (JSON for the standard commands)
};

struct TlvItem {
    std::uint8_t type = 0;
    std::string value;
};

// The items in order; a value over 255 bytes is split into consecutive items of its type.
std::string EncodeTlv(const std::vector<TlvItem>& items);

// The items of `bytes`, a split value joined again (an item of 255 bytes followed by one of the
// same type continues it); nullopt when the input ends inside an item. Never throws.
std::optional<std::vector<TlvItem>> DecodeTlv(std::string_view bytes);

// The role byte of a request: the caller's role on the node (low nibble of §2.4).
enum class Role : std::uint8_t {
    kAdmin = 1,  // "super admin": the admin routes
    kPrimary = 2,
    kSecondary = 4,
};

// What a node answers in the status item.
enum class DeviceStatus : std::uint8_t {
    kSuccess = 0,
    kFailed = 1,
    kInvalid = 2,     // empty request id, role 0 or command 0
    kAuthFailed = 3,  // the role may not run the command
    kNotFound = 4,    // no handler for the command
};

// The text GET /user/nodes/cmd shows for a device status ("status 7" for one §2.4 lacks).
std::string DeviceStatusText(int status);

// Command ids of §2.4 the server treats specially.
inline constexpr std::uint16_t kCommandGetPending = 0;
inline constexpr std::uint16_t kCommandSetParams = 1;

// A request as published on to-node.
struct RequestMessage {
    std::string request_id;
    Role role = Role::kPrimary;
    std::uint16_t command = 0;
    std::optional<std::uint32_t> timestamp;
    std::string data;  // sent only when not empty
};

std::string EncodeRequest(const RequestMessage& request);

// What a node publishes on from-node: an answer, or the poll of every connect (an empty or
// absent request id with command 0), which asks for every pending request again.
struct ResponseMessage {
    std::string request_id;
    std::uint8_t status = 0;
    std::uint16_t command = 0;
    std::string data;

    bool IsPoll() const { return request_id.empty() && command == kCommandGetPending; }
};

// The longest request id the server accepts in an answer (its own are 22 characters; the node
// holds 31).
inline constexpr std::size_t kMaxRequestIdBytes = 64;

// The answer in `payload`; nullopt when it is not TLV8, lacks the status or command item, has
// one of the wrong size, repeats an item, or carries a request id over kMaxRequestIdBytes.
// Unknown item types are skipped. Never throws.
std::optional<ResponseMessage> DecodeResponse(std::string_view payload);

}  // namespace rainmaker::domain::commands

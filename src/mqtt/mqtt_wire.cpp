// MQTT 5 (OASIS standard, 2019) encoding: a fixed header (type and flags, then the remaining
// length as a variable byte integer), a variable header with properties, a payload.
#include "mqtt/mqtt_wire.hpp"

#include <optional>

namespace rainmaker::mqtt::wire {

namespace {

constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kConnack = 2;
constexpr std::uint8_t kPublish = 3;
constexpr std::uint8_t kPubrel = 6;
constexpr std::uint8_t kSubscribe = 8;
constexpr std::uint8_t kSuback = 9;
constexpr std::uint8_t kUnsubscribe = 10;
constexpr std::uint8_t kPingreq = 12;
constexpr std::uint8_t kPingresp = 13;
constexpr std::uint8_t kDisconnect = 14;

constexpr std::uint32_t kMaxVarint = 268435455;  // four bytes of seven bits
constexpr std::uint8_t kTopicAlias = 0x23;

void PutVarint(std::string& out, std::uint32_t value) {
    do {
        auto byte = static_cast<std::uint8_t>(value % 128);
        value /= 128;
        if (value > 0) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    } while (value > 0);
}

void Put16(std::string& out, std::uint16_t value) {
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xff));
}

void Put32(std::string& out, std::uint32_t value) {
    Put16(out, static_cast<std::uint16_t>(value >> 16));
    Put16(out, static_cast<std::uint16_t>(value & 0xffff));
}

// A UTF-8 string or binary data: two bytes of length, then the bytes (callers keep them short).
void PutString(std::string& out, std::string_view text) {
    Put16(out, static_cast<std::uint16_t>(text.size()));
    out.append(text);
}

// The fixed header and `body`.
std::string Frame(std::uint8_t first_byte, const std::string& body) {
    std::string out;
    out.reserve(body.size() + 5);
    out.push_back(static_cast<char>(first_byte));
    PutVarint(out, static_cast<std::uint32_t>(body.size()));
    out += body;
    return out;
}

// Reads the packet's bytes front to back; every read fails once past the end.
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    bool Empty() const { return bytes_.empty(); }

    std::string_view Rest() const { return bytes_; }

    std::optional<std::uint8_t> Byte() {
        if (bytes_.empty()) {
            return std::nullopt;
        }
        const auto b = static_cast<std::uint8_t>(bytes_.front());
        bytes_.remove_prefix(1);
        return b;
    }

    std::optional<std::uint16_t> U16() {
        const auto bytes = Take(2);
        if (!bytes) {
            return std::nullopt;
        }
        return static_cast<std::uint16_t>(
            (static_cast<std::uint8_t>((*bytes)[0]) << 8) | static_cast<std::uint8_t>((*bytes)[1])
        );
    }

    std::optional<std::uint32_t> Varint() {
        std::uint32_t value = 0;
        std::uint32_t scale = 1;
        for (int i = 0; i < 4; ++i) {
            const auto b = Byte();
            if (!b) {
                return std::nullopt;
            }
            value += (*b & 0x7fu) * scale;
            if ((*b & 0x80) == 0) {
                return value;
            }
            scale *= 128;
        }
        return std::nullopt;  // a fifth byte: not a variable byte integer
    }

    std::optional<std::string_view> Take(std::size_t n) {
        if (bytes_.size() < n) {
            return std::nullopt;
        }
        const auto taken = bytes_.substr(0, n);
        bytes_.remove_prefix(n);
        return taken;
    }

    std::optional<std::string_view> String() {
        const auto size = U16();
        return size ? Take(*size) : std::nullopt;
    }

private:
    std::string_view bytes_;
};

// Walks a property list; false when it is not one. `*topic_alias`: whether it holds one.
bool ReadProperties(Reader& r, bool* topic_alias = nullptr) {
    const auto length = r.Varint();
    if (!length) {
        return false;
    }
    const auto bytes = r.Take(*length);
    if (!bytes) {
        return false;
    }
    Reader p(*bytes);
    while (!p.Empty()) {
        const auto id = p.Varint();
        if (!id) {
            return false;
        }
        bool ok = false;
        switch (*id) {
            case 0x01:
            case 0x17:
            case 0x19:
            case 0x24:
            case 0x25:
            case 0x28:
            case 0x29:
            case 0x2A:  // one byte
                ok = p.Take(1).has_value();
                break;
            case 0x13:
            case 0x21:
            case 0x22:
            case 0x23:  // two-byte integers
                ok = p.Take(2).has_value();
                if (*id == kTopicAlias && topic_alias != nullptr) {
                    *topic_alias = true;
                }
                break;
            case 0x02:
            case 0x11:
            case 0x18:
            case 0x27:  // four-byte integers
                ok = p.Take(4).has_value();
                break;
            case 0x0B:  // subscription identifier
                ok = p.Varint().has_value();
                break;
            case 0x03:
            case 0x08:
            case 0x09:
            case 0x12:
            case 0x15:
            case 0x16:
            case 0x1A:
            case 0x1C:
            case 0x1F:  // strings and binary data
                ok = p.String().has_value();
                break;
            case 0x26:  // user property: a string pair
                ok = p.String().has_value() && p.String().has_value();
                break;
            default:
                ok = false;  // no such property
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

Parsed Malformed() {
    return Parsed{ParseStatus::kMalformed, Other{}, 0};
}

std::optional<Packet> ParseBody(std::uint8_t type, std::uint8_t flags, std::string_view body) {
    Reader r(body);
    switch (type) {
        case kConnack: {
            const auto ack_flags = r.Byte();
            const auto reason = r.Byte();
            if (!ack_flags || !reason || (*ack_flags & 0xfe) != 0 || !ReadProperties(r) ||
                !r.Empty()) {
                return std::nullopt;
            }
            return Connack{(*ack_flags & 1) != 0, *reason};
        }
        case kPublish: {
            Publish p;
            p.qos = static_cast<std::uint8_t>((flags >> 1) & 3);
            p.dup = (flags & 8) != 0;
            p.retain = (flags & 1) != 0;
            if (p.qos == 3 || (p.qos == 0 && p.dup)) {
                return std::nullopt;
            }
            const auto topic = r.String();
            if (!topic || topic->empty()) {
                return std::nullopt;
            }
            p.topic = *topic;
            if (p.qos > 0) {
                const auto id = r.U16();
                if (!id || *id == 0) {
                    return std::nullopt;
                }
                p.packet_id = *id;
            }
            bool alias = false;
            if (!ReadProperties(r, &alias) || alias) {
                return std::nullopt;
            }
            p.payload = r.Rest();
            return p;
        }
        case kSuback: {
            Suback s;
            const auto id = r.U16();
            if (!id || !ReadProperties(r) || r.Empty()) {
                return std::nullopt;
            }
            s.packet_id = *id;
            while (const auto reason = r.Byte()) {
                s.reasons.push_back(*reason);
            }
            return s;
        }
        case kPingresp:
            if (!body.empty()) {
                return std::nullopt;
            }
            return Pingresp{};
        case kDisconnect: {
            // No reason code: normal disconnection; properties only after a reason code.
            Disconnect d;
            if (const auto reason = r.Byte()) {
                d.reason = *reason;
                if (!r.Empty() && (!ReadProperties(r) || !r.Empty())) {
                    return std::nullopt;
                }
            }
            return d;
        }
        default:
            return Other{type};
    }
}

}  // namespace

std::string EncodeConnect(const ConnectOptions& options) {
    std::string body;
    PutString(body, "MQTT");
    body.push_back(5);  // protocol version
    std::uint8_t flags = options.clean_start ? 0x02 : 0x00;
    if (!options.user.empty()) {
        flags |= 0xc0;  // user name and password
    }
    body.push_back(static_cast<char>(flags));
    Put16(body, options.keep_alive_s);
    std::string properties;
    if (options.session_expiry_s != 0) {
        properties.push_back(0x11);
        Put32(properties, options.session_expiry_s);
    }
    if (options.receive_maximum != 0) {
        properties.push_back(0x21);
        Put16(properties, options.receive_maximum);
    }
    if (options.maximum_packet_size != 0) {
        properties.push_back(0x27);
        Put32(properties, options.maximum_packet_size);
    }
    PutVarint(body, static_cast<std::uint32_t>(properties.size()));
    body += properties;
    PutString(body, options.client_id);
    if (!options.user.empty()) {
        PutString(body, options.user);
        PutString(body, options.password);
    }
    return Frame(kConnect << 4, body);
}

std::string EncodeSubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters) {
    std::string body;
    Put16(body, packet_id);
    body.push_back(0);  // no properties
    for (const auto& filter : filters) {
        PutString(body, filter);
        body.push_back(1);  // QoS 1, retain handling 0: retained messages at subscribe
    }
    return Frame(static_cast<std::uint8_t>((kSubscribe << 4) | 2), body);
}

std::string EncodeUnsubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters) {
    std::string body;
    Put16(body, packet_id);
    body.push_back(0);  // no properties
    for (const auto& filter : filters) {
        PutString(body, filter);
    }
    return Frame(static_cast<std::uint8_t>((kUnsubscribe << 4) | 2), body);
}

std::string EncodePuback(std::uint16_t packet_id) {
    std::string body;
    Put16(body, packet_id);  // success: no reason code, no properties
    return Frame(4 << 4, body);
}

std::string EncodePingreq() {
    return Frame(kPingreq << 4, {});
}

std::string EncodeDisconnect() {
    return Frame(kDisconnect << 4, {});
}

std::string EncodePublish(const Publish& publish) {
    std::string body;
    PutString(body, publish.topic);
    if (publish.qos > 0) {
        Put16(body, publish.packet_id);
    }
    body.push_back(0);  // no properties
    body.append(publish.payload);
    const auto flags = static_cast<std::uint8_t>(
        (publish.dup ? 8 : 0) | (publish.qos << 1) | (publish.retain ? 1 : 0)
    );
    return Frame(static_cast<std::uint8_t>((kPublish << 4) | flags), body);
}

Parsed ParsePacket(std::string_view buffer, std::size_t max_size) {
    Reader r(buffer);
    const auto first = r.Byte();
    if (!first) {
        return {};
    }
    const auto type = static_cast<std::uint8_t>(*first >> 4);
    const auto flags = static_cast<std::uint8_t>(*first & 0x0f);
    if (type == 0 || type == kConnect || type == kSubscribe || type == kUnsubscribe ||
        type == kPingreq) {
        return Malformed();  // reserved, or only a client sends it
    }
    if (type != kPublish && flags != (type == kPubrel ? 2 : 0)) {
        return Malformed();
    }
    // The remaining length: incomplete while its bytes have not all arrived.
    std::uint32_t length = 0;
    std::uint32_t scale = 1;
    std::size_t header = 1;
    for (;;) {
        if (header > 4) {
            return Malformed();
        }
        if (header >= buffer.size()) {
            return {};
        }
        const auto b = static_cast<std::uint8_t>(buffer[header]);
        length += (b & 0x7fu) * scale;
        scale *= 128;
        ++header;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    if (length > kMaxVarint || header + length > max_size) {
        return Malformed();
    }
    if (buffer.size() < header + length) {
        return {};
    }
    auto packet = ParseBody(type, flags, buffer.substr(header, length));
    if (!packet) {
        return Malformed();
    }
    return Parsed{ParseStatus::kPacket, std::move(*packet), header + length};
}

}  // namespace rainmaker::mqtt::wire

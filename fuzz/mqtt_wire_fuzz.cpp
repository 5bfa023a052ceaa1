// Feeds bytes as a broker's side of the ingest connection (mqtt/mqtt_wire.hpp): whatever a
// broker, or anything between it and us, sends. The parser must neither crash nor throw, read
// nothing past the buffer, never take more than it was given or more than the limit, and read a
// buffer the same whole as when it arrives in two pieces; a PUBLISH it accepts, written again,
// reads back the same.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "mqtt/mqtt_wire.hpp"

namespace {

using namespace rainmaker::mqtt;

[[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
}

void CheckPublish(const wire::Publish& p) {
    if (p.topic.empty() || p.qos > 2 || (p.qos == 0) != (p.packet_id == 0)) {
        Fail("accepted a PUBLISH a broker cannot send");
    }
    const auto again = wire::EncodePublish(p);
    const auto reread = wire::ParsePacket(again, again.size());
    if (reread.status != wire::ParseStatus::kPacket || reread.size != again.size()) {
        Fail("a PUBLISH written again does not read back");
    }
    const auto& q = std::get<wire::Publish>(reread.packet);
    if (q.topic != p.topic || q.payload != p.payload || q.packet_id != p.packet_id ||
        q.qos != p.qos || q.dup != p.dup || q.retain != p.retain) {
        Fail("a PUBLISH written again reads back different");
    }
}

}  // namespace

// Input: the first byte chooses the size limit (in steps of 16 bytes, 0: unlimited), the rest
// is the stream.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t limit = data[0] == 0 ? static_cast<std::size_t>(-1) : data[0] * 16u;
    std::string_view stream = rainmaker::fuzz::AsText(data + 1, size - 1);
    while (!stream.empty()) {
        const auto parsed = wire::ParsePacket(stream, limit);
        // The same bytes one short: never a whole packet of a different size.
        const auto shorter = wire::ParsePacket(stream.substr(0, stream.size() - 1), limit);
        if (shorter.status == wire::ParseStatus::kPacket &&
            (parsed.status != wire::ParseStatus::kPacket || shorter.size != parsed.size)) {
            Fail("a prefix reads as another packet");
        }
        if (parsed.status != wire::ParseStatus::kPacket) {
            break;
        }
        if (parsed.size == 0 || parsed.size > stream.size() || parsed.size > limit) {
            Fail("took no bytes, more than it had, or more than the limit");
        }
        if (const auto* p = std::get_if<wire::Publish>(&parsed.packet)) {
            const auto* begin = stream.data();
            const auto* end = begin + parsed.size;
            if (p->topic.data() < begin || p->topic.data() + p->topic.size() > end ||
                p->payload.data() < begin || p->payload.data() + p->payload.size() > end) {
                Fail("a view points outside its packet");
            }
            CheckPublish(*p);
        }
        stream.remove_prefix(parsed.size);
    }
    return 0;
}

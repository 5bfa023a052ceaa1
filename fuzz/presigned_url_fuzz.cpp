// What anyone holding (or guessing) a presigned URL sends before a handler reads a byte of the
// blob: the Range header of a download (ParseRange) and the method, path, expiry, signature and
// Content-MD5 a request is checked on (PresignedUrls::Check over crypto::UrlSigner). Input: one
// selector byte, then fields separated by '\n'.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ota/presigned_urls.hpp"
#include "fuzz_support.hpp"
#include "http/api/blob_routes.hpp"
#include "support/fake_clock.hpp"

namespace {

using rainmaker::crypto::UrlSigner;
using rainmaker::domain::ota::PresignedUrls;

std::vector<std::string_view> Fields(std::string_view text) {
    std::vector<std::string_view> out;
    while (out.size() < 5) {
        const auto end = text.find('\n');
        out.push_back(text.substr(0, end));
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    out.resize(5);
    return out;
}

// Every range answered lies within the object; an unsatisfiable one is {size, 0}.
void CheckRange(std::string_view header, std::uint64_t size) {
    const auto range = rainmaker::http::api::ParseRange(header, size);
    if (!range) {
        return;
    }
    const auto [first, last] = *range;
    if (first == size && last == 0) {
        return;
    }
    if (first > last || last >= size) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (rainmaker::fuzz::SilenceLogs(), true);
    (void)silenced;
    if (size < 1) {
        return 0;
    }
    const auto text = rainmaker::fuzz::AsText(data + 1, size - 1);
    const auto fields = Fields(text);

    // Sizes around the edges of the arithmetic as well as ordinary ones.
    static constexpr std::uint64_t kSizes[] = {0, 1, 2, 4096, 200ULL << 20, ~0ULL};
    CheckRange(text, kSizes[data[0] % 6]);

    static const UrlSigner signer(std::string(32, 'k'));
    static rainmaker::testing::FakeClock clock;
    static const PresignedUrls urls(signer, clock, "https://localhost:8443");
    const std::string expires(fields[2]);
    const std::string signature(fields[3]);
    const bool accepted = rainmaker::fuzz::Refusable([&] {
        urls.Check(
            fields[0],
            fields[1],
            (data[0] & 0x10) ? nullptr : &expires,
            (data[0] & 0x20) ? nullptr : &signature,
            fields[4]
        );
    });
    // Only our own signature lets a request through (with or without the Content-MD5 given):
    // a guess that passes is a forgery.
    if (accepted) {
        const auto at = std::stoll(expires);
        if (signature != signer.Sign(fields[0], fields[1], at, fields[4]) &&
            signature != signer.Sign(fields[0], fields[1], at, "")) {
            __builtin_trap();
        }
    }
    return 0;
}

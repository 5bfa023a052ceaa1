// Feeds bytes as a firmware image (the decoded base64_fwimage of POST /admin/otaimage, an
// admin's upload) through ParseEspAppImage: anything that is not a valid ESP app image is
// refused with an ApiError (104003); an accepted one ends inside the input, has 1-16
// segments, texts that serialize as JSON, parses the same from its own bytes alone and with
// more bytes after it, and is refused one byte shorter.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "domain/ota/esp_app_image.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rainmaker;
using domain::ota::EspAppImage;
using domain::ota::ParseEspAppImage;

[[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
}

bool Same(const EspAppImage& a, const EspAppImage& b) {
    return a.chip_id == b.chip_id && a.segment_count == b.segment_count &&
           a.hash_appended == b.hash_appended && a.image_bytes == b.image_bytes &&
           a.secure_version == b.secure_version && a.version == b.version &&
           a.project_name == b.project_name && a.time == b.time && a.date == b.date &&
           a.idf_version == b.idf_version && a.app_elf_sha256 == b.app_elf_sha256;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    const std::string_view bytes = fuzz::AsText(data, size);
    std::optional<EspAppImage> image;
    if (!fuzz::Refusable([&] { image = ParseEspAppImage(bytes); })) {
        return 0;
    }
    if (image->image_bytes > size || image->image_bytes % 16 != 0 ||
        image->image_bytes < domain::ota::kEspImageHeaderBytes + domain::ota::kEspAppDescBytes) {
        Fail("an accepted image ends outside the input or off a 16-byte boundary");
    }
    if (image->segment_count < 1 || image->segment_count > domain::ota::kEspImageMaxSegments) {
        Fail("an accepted image with a segment count out of range");
    }
    if (image->app_elf_sha256.size() != 64) {
        Fail("an app_elf_sha256 that is not 64 hex characters");
    }
    // What the server stores and answers: JSON text.
    const boost::json::object described{
        {"version", image->version},
        {"project_name", image->project_name},
        {"idf_version", image->idf_version},
        {"time", image->time},
        {"date", image->date}};
    const auto reread = core::ParseUntrustedJson(core::Serialize(described), core::kMaxJsonDepth);
    if (!reread || !fuzz::SameJson(*reread, boost::json::value(described))) {
        Fail("the app description does not read back as JSON");
    }
    const std::string_view own = bytes.substr(0, image->image_bytes);
    std::optional<EspAppImage> alone;
    if (!fuzz::Refusable([&] { alone = ParseEspAppImage(own); }) || !Same(*alone, *image)) {
        Fail("the image reads differently without the bytes after it");
    }
    std::string longer(own);
    longer.append(64, '\xFF');
    if (!Same(ParseEspAppImage(longer), *image)) {
        Fail("bytes after the image changed what it reads");
    }
    if (fuzz::Refusable([&] { ParseEspAppImage(own.substr(0, own.size() - 1)); })) {
        Fail("an image one byte shorter was accepted");
    }
    return 0;
}

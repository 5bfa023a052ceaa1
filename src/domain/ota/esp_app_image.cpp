// The ESP app image reader: every offset is checked against the size before it is read.
#include "domain/ota/esp_app_image.hpp"

#include "core/error.hpp"
#include "core/little_endian.hpp"
#include "core/utf8.hpp"
#include "crypto/digest.hpp"

namespace rainmaker::domain::ota {

namespace {

constexpr std::uint8_t kChecksumSeed = 0xEF;
constexpr std::size_t kHashBytes = 32;
// Offsets in esp_app_desc_t.
constexpr std::size_t kDescSecureVersion = 4;
constexpr std::size_t kDescVersion = 16;
constexpr std::size_t kDescProjectName = 48;
constexpr std::size_t kDescTime = 80;
constexpr std::size_t kDescDate = 96;
constexpr std::size_t kDescIdfVersion = 112;
constexpr std::size_t kDescElfSha256 = 144;
// Offsets in esp_image_header_t.
constexpr std::size_t kHeaderSegmentCount = 1;
constexpr std::size_t kHeaderChipId = 12;
constexpr std::size_t kHeaderHashAppended = 23;

[[noreturn]] void Refuse(const std::string& why) {
    throw core::ApiError(
        core::ErrorCode::kOtaImageParseError, "Error occurred while parsing image: " + why
    );
}

std::uint8_t U8(std::string_view b, std::size_t at) {
    return static_cast<std::uint8_t>(b[at]);
}

std::uint16_t U16(std::string_view b, std::size_t at) {
    return static_cast<std::uint16_t>(core::ReadLittleEndian(b.substr(at, 2)));
}

std::uint32_t U32(std::string_view b, std::size_t at) {
    return static_cast<std::uint32_t>(core::ReadLittleEndian(b.substr(at, 4)));
}

// A fixed-size char array of the app description: up to its first NUL, UTF-8 without control
// characters (it becomes JSON text and a stored column).
std::string Text(std::string_view desc, std::size_t at, std::size_t size, const char* name) {
    std::string_view field = desc.substr(at, size);
    if (const auto nul = field.find('\0'); nul != std::string_view::npos) {
        field = field.substr(0, nul);
    }
    for (std::size_t i = 0; i < field.size();) {
        const auto c = core::NextCodePoint(field, i);
        if (!c || *c < 0x20 || *c == 0x7F) {
            Refuse(std::string(name) + " in the app description is not printable UTF-8");
        }
    }
    return std::string(field);
}

std::string Hex(std::string_view bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto v = static_cast<unsigned char>(c);
        out.push_back(kDigits[v >> 4]);
        out.push_back(kDigits[v & 0xF]);
    }
    return out;
}

// Sequential reads of a blob from the start, every byte read going into the SHA-256 that
// ESP-IDF appends to an image (the hash covers everything before it).
class Cursor {
public:
    explicit Cursor(storage::BlobReader& reader)
        : reader_(reader), size_(reader.Size()), hasher_(crypto::Hasher::Algorithm::kSha256) {}

    std::uint64_t at() const { return at_; }

    std::uint64_t left() const { return size_ - at_; }

    // The next `n` bytes (n small, within the blob).
    std::string Take(std::size_t n) {
        std::string out(n, '\0');
        Read(out.data(), n);
        return out;
    }

    // The next `n` bytes (within the blob) passed to `chunk` a piece at a time.
    template <typename Chunk>
    void Skim(std::uint64_t n, Chunk chunk) {
        std::string buffer;
        buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, kChunk)));
        while (n > 0) {
            const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(n, kChunk));
            Read(buffer.data(), piece);
            chunk(std::string_view(buffer.data(), piece));
            n -= piece;
        }
    }

    // The SHA-256 of everything read so far.
    std::string Digest() { return hasher_.Final(); }

private:
    static constexpr std::uint64_t kChunk = 64 * 1024;

    void Read(char* out, std::size_t n) {
        if (reader_.ReadAt(at_, out, n) != n) {
            Refuse("the image changed while it was read");
        }
        hasher_.Update(std::string_view(out, n));
        at_ += n;
    }

    storage::BlobReader& reader_;
    std::uint64_t size_;
    std::uint64_t at_ = 0;
    crypto::Hasher hasher_;
};

}  // namespace

EspAppImage ParseEspAppImage(std::string_view bytes) {
    storage::MemoryBlobReader reader(bytes);
    return ParseEspAppImage(reader);
}

EspAppImage ParseEspAppImage(storage::BlobReader& bytes) {
    Cursor cursor(bytes);
    if (cursor.left() < kEspImageHeaderBytes) {
        Refuse("shorter than an image header");
    }
    const std::string header = cursor.Take(kEspImageHeaderBytes);
    if (U8(header, 0) != kEspImageMagic) {
        Refuse("not an ESP app image (magic byte is not 0xE9)");
    }
    EspAppImage image;
    image.segment_count = U8(header, kHeaderSegmentCount);
    image.chip_id = U16(header, kHeaderChipId);
    const std::uint8_t hash_appended = U8(header, kHeaderHashAppended);
    if (hash_appended > 1) {
        Refuse("hash_appended is neither 0 nor 1");
    }
    image.hash_appended = hash_appended == 1;
    if (image.segment_count == 0 || image.segment_count > kEspImageMaxSegments) {
        Refuse("segment count is not between 1 and 16");
    }

    std::uint8_t checksum = kChecksumSeed;
    std::string first_segment;  // its first kEspAppDescBytes bytes at most
    std::uint64_t first_segment_length = 0;
    for (std::size_t i = 0; i < image.segment_count; ++i) {
        if (cursor.left() < kEspSegmentHeaderBytes) {
            Refuse("segment " + std::to_string(i) + " header past the end");
        }
        const std::uint32_t length = U32(cursor.Take(kEspSegmentHeaderBytes), 4);
        if (length > cursor.left()) {
            Refuse("segment " + std::to_string(i) + " data past the end");
        }
        if (i == 0) {
            first_segment_length = length;
        }
        cursor.Skim(length, [&](std::string_view data) {
            for (const char c : data) {
                checksum ^= static_cast<std::uint8_t>(c);
            }
            if (i == 0 && first_segment.size() < kEspAppDescBytes) {
                first_segment.append(data.substr(0, kEspAppDescBytes - first_segment.size()));
            }
        });
    }
    // Zero padding so that the checksum byte ends a 16-byte block.
    const std::uint64_t checksum_at = cursor.at() + (15 - cursor.at() % 16);
    if (checksum_at >= bytes.Size()) {
        Refuse("checksum byte past the end");
    }
    cursor.Skim(checksum_at - cursor.at(), [](std::string_view) {});
    if (U8(cursor.Take(1), 0) != checksum) {
        Refuse("checksum does not match the segments");
    }
    image.image_bytes = static_cast<std::size_t>(cursor.at());
    if (image.hash_appended) {
        if (cursor.left() < kHashBytes) {
            Refuse("appended SHA-256 past the end");
        }
        const std::string digest = cursor.Digest();
        if (digest != cursor.Take(kHashBytes)) {
            Refuse("appended SHA-256 does not match the image");
        }
        image.image_bytes += kHashBytes;
    }

    if (first_segment_length < kEspAppDescBytes || U32(first_segment, 0) != kEspAppDescMagic) {
        Refuse("no app description (esp_app_desc_t) at the start of the first segment");
    }
    const std::string_view desc = first_segment;
    image.secure_version = U32(desc, kDescSecureVersion);
    image.version = Text(desc, kDescVersion, 32, "version");
    image.project_name = Text(desc, kDescProjectName, 32, "project_name");
    image.time = Text(desc, kDescTime, 16, "time");
    image.date = Text(desc, kDescDate, 16, "date");
    image.idf_version = Text(desc, kDescIdfVersion, 32, "idf_ver");
    image.app_elf_sha256 = Hex(desc.substr(kDescElfSha256, kHashBytes));
    return image;
}

}  // namespace rainmaker::domain::ota

// libzip over a BlobReader: a read-only, seekable zip_source whose callback reads the blob.
#include "domain/ota/ota_package.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>
#include <zip.h>

#include "core/error.hpp"
#include "core/little_endian.hpp"

namespace rainmaker::domain::ota {

namespace {

[[noreturn]] void Refuse(const std::string& why) {
    throw core::ApiError(
        core::ErrorCode::kOtaUploadInvalid, "The firmware package is not valid: " + why
    );
}

// What libzip's source callback reads: the blob, and libzip's error state.
struct SourceState {
    storage::BlobReader& reader;
    std::uint64_t size;
    std::uint64_t position = 0;
    zip_error_t error{};
};

zip_int64_t ReadSource(void* user, void* data, zip_uint64_t length, zip_source_cmd_t command) {
    auto& s = *static_cast<SourceState*>(user);
    switch (command) {
        case ZIP_SOURCE_OPEN:
            s.position = 0;
            return 0;
        case ZIP_SOURCE_READ: {
            try {
                const auto n = s.reader.ReadAt(
                    s.position,
                    static_cast<char*>(data),
                    static_cast<std::size_t>(std::min<zip_uint64_t>(length, 1 << 20))
                );
                s.position += n;
                return static_cast<zip_int64_t>(n);
            } catch (const std::exception&) {
                zip_error_set(&s.error, ZIP_ER_READ, 0);
                return -1;
            }
        }
        case ZIP_SOURCE_CLOSE:
            return 0;
        case ZIP_SOURCE_STAT: {
            if (length < sizeof(zip_stat_t)) {
                zip_error_set(&s.error, ZIP_ER_INVAL, 0);
                return -1;
            }
            auto* st = static_cast<zip_stat_t*>(data);
            zip_stat_init(st);
            st->size = s.size;
            st->comp_size = s.size;
            st->comp_method = ZIP_CM_STORE;
            st->encryption_method = ZIP_EM_NONE;
            st->valid = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                        ZIP_STAT_ENCRYPTION_METHOD;
            return sizeof(zip_stat_t);
        }
        case ZIP_SOURCE_ERROR:
            return zip_error_to_data(&s.error, data, length);
        case ZIP_SOURCE_FREE:
            return 0;
        case ZIP_SOURCE_SEEK: {
            const zip_int64_t to =
                zip_source_seek_compute_offset(s.position, s.size, data, length, &s.error);
            if (to < 0) {
                return -1;
            }
            s.position = static_cast<std::uint64_t>(to);
            return 0;
        }
        case ZIP_SOURCE_TELL:
            return static_cast<zip_int64_t>(s.position);
        case ZIP_SOURCE_SUPPORTS:
            return zip_source_make_command_bitmap(
                ZIP_SOURCE_OPEN,
                ZIP_SOURCE_READ,
                ZIP_SOURCE_CLOSE,
                ZIP_SOURCE_STAT,
                ZIP_SOURCE_ERROR,
                ZIP_SOURCE_FREE,
                ZIP_SOURCE_SEEK,
                ZIP_SOURCE_TELL,
                ZIP_SOURCE_SUPPORTS,
                -1
            );
        default:
            zip_error_set(&s.error, ZIP_ER_OPNOTSUPP, 0);
            return -1;
    }
}

struct ZipCloser {
    void operator()(zip_t* archive) const { zip_discard(archive); }
};

struct FileCloser {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

// A name as shown in a description: printable ASCII, at most 64 characters.
std::string Shown(std::string_view name) {
    std::string out;
    for (const char c : name.substr(0, 64)) {
        out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    }
    return out;
}

std::uint64_t Le(const std::string& bytes, std::size_t at, std::size_t width) {
    return core::ReadLittleEndian(std::string_view(bytes).substr(at, width));
}

void CheckDirectory(
    std::uint64_t entries, std::uint64_t directory_bytes, const PackageLimits& limits
) {
    if (entries > limits.max_entries) {
        Refuse(
            "it holds " + std::to_string(entries) + " entries, more than " +
            std::to_string(limits.max_entries)
        );
    }
    if (directory_bytes > limits.max_directory_bytes) {
        Refuse(
            "its central directory is " + std::to_string(directory_bytes) + " bytes, more than " +
            std::to_string(limits.max_directory_bytes)
        );
    }
}

// Before libzip reads (and allocates for) the central directory: what every end-of-central-
// directory record in the archive's tail claims (entries, directory size; the ZIP64 record's
// when a locator precedes it) within the limits. Every candidate is checked, not only the one
// a reader would pick, so that no reader can pick one we did not check. An archive without any
// is left to libzip to refuse.
void PreCheckDirectory(storage::BlobReader& zip, const PackageLimits& limits) {
    constexpr std::size_t kEocd = 22;
    constexpr std::size_t kLocator = 20;
    constexpr std::size_t kZip64Eocd = 56;
    const std::uint64_t size = zip.Size();
    const std::size_t tail_size =
        static_cast<std::size_t>(std::min<std::uint64_t>(size, kEocd + 0xFFFF + kLocator));
    std::string tail(tail_size, '\0');
    const std::uint64_t tail_at = size - tail_size;
    if (zip.ReadAt(tail_at, tail.data(), tail_size) != tail_size) {
        Refuse("the archive cannot be read");
    }
    for (std::size_t at = tail_size < kEocd ? 0 : tail_size - kEocd + 1; at-- > 0;) {
        if (Le(tail, at, 4) != 0x06054b50) {
            continue;
        }
        std::uint64_t entries = Le(tail, at + 10, 2);
        std::uint64_t directory_bytes = Le(tail, at + 12, 4);
        if (at >= kLocator && Le(tail, at - kLocator, 4) == 0x07064b50) {
            // ZIP64: the saturated fields of the classic record are in the ZIP64 record.
            const std::uint64_t record_at = Le(tail, at - kLocator + 8, 8);
            std::string record(kZip64Eocd, '\0');
            if (record_at <= size && size - record_at >= kZip64Eocd &&
                zip.ReadAt(record_at, record.data(), kZip64Eocd) == kZip64Eocd &&
                Le(record, 0, 4) == 0x06064b50) {
                if (entries == 0xFFFF) {
                    entries = Le(record, 32, 8);
                }
                if (directory_bytes == 0xFFFFFFFF) {
                    directory_bytes = Le(record, 40, 8);
                }
                CheckDirectory(Le(record, 32, 8), Le(record, 40, 8), limits);
            }
        }
        CheckDirectory(entries, directory_bytes, limits);
    }
}

}  // namespace

OtaPackage ReadOtaPackage(
    storage::BlobReader& zip,
    const std::function<void(std::string_view)>& firmware,
    const PackageLimits& limits
) {
    if (zip.Size() == 0) {
        Refuse("not a zip archive (it is empty)");
    }
    PreCheckDirectory(zip, limits);
    SourceState state{zip, zip.Size()};
    zip_error_init(&state.error);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_function_create(ReadSource, &state, &error);
    if (source == nullptr) {
        zip_error_fini(&error);
        zip_error_fini(&state.error);
        throw std::runtime_error("libzip: cannot create a source");
    }
    std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
    if (!archive) {
        zip_source_free(source);
        const std::string why = zip_error_strerror(&error);
        zip_error_fini(&error);
        zip_error_fini(&state.error);
        Refuse("not a zip archive (" + why + ")");
    }
    zip_error_fini(&error);

    // The archive owns the source from here; the source's error state lives until it is gone.
    struct ErrorFini {
        zip_error_t* error;

        ~ErrorFini() { zip_error_fini(error); }
    } fini{&state.error};

    OtaPackage package;
    const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
    if (count < 0) {
        Refuse("the archive's directory cannot be read");
    }
    if (static_cast<std::uint64_t>(count) > limits.max_entries) {
        Refuse(
            "it holds " + std::to_string(count) + " entries, more than " +
            std::to_string(limits.max_entries)
        );
    }
    package.entries = static_cast<std::size_t>(count);
    std::vector<std::pair<zip_uint64_t, std::string>> firmwares;
    int bootloaders = 0;
    for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
        const char* raw = zip_get_name(archive.get(), i, ZIP_FL_ENC_RAW);
        if (raw == nullptr) {
            Refuse("an entry has no name");
        }
        const std::string_view name(raw);
        if (name.empty() || name.back() == '/') {
            continue;  // a folder
        }
        const auto slash = name.find_last_of("/\\");
        const std::string base(slash == std::string_view::npos ? name : name.substr(slash + 1));
        const std::string lower = Lower(base);
        if (lower.size() < 4 || lower.substr(lower.size() - 4) != ".bin") {
            continue;  // an associated file
        }
        if (lower == "bootloader.bin") {
            ++bootloaders;
            continue;
        }
        if (lower.size() == 4) {
            Refuse("a file is named .bin: the firmware must be named <project_name>.bin");
        }
        firmwares.emplace_back(i, std::string(name));
    }
    if (firmwares.empty()) {
        Refuse("it holds no firmware image (<project_name>.bin)");
    }
    if (firmwares.size() > 1) {
        Refuse(
            "it holds " + std::to_string(firmwares.size()) + " firmware .bin files (" +
            Shown(firmwares[0].second) + ", " + Shown(firmwares[1].second) +
            "...); it must hold exactly one <project_name>.bin"
        );
    }
    if (bootloaders > 1) {
        Refuse("it holds more than one bootloader.bin");
    }
    package.has_bootloader = bootloaders == 1;
    const auto [index, name] = firmwares.front();
    package.firmware_entry = name;
    const auto slash = name.find_last_of("/\\");
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    package.firmware_name = base.substr(0, base.size() - 4);

    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), index, 0, &st) != 0) {
        Refuse("the firmware entry cannot be read");
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
        Refuse("the firmware entry is encrypted");
    }
    if ((st.valid & ZIP_STAT_SIZE) != 0 && st.size > limits.max_firmware_bytes) {
        Refuse(
            "the firmware is larger than " + std::to_string(limits.max_firmware_bytes) + " bytes"
        );
    }
    std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive.get(), index, 0));
    if (!file) {
        Refuse(
            std::string("the firmware entry cannot be opened (") +
            zip_error_strerror(zip_get_error(archive.get())) + ")"
        );
    }
    std::string buffer(64 * 1024, '\0');
    for (;;) {
        const zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
        if (n < 0) {
            Refuse(
                std::string("the firmware entry is damaged (") +
                zip_error_strerror(zip_file_get_error(file.get())) + ")"
            );
        }
        if (n == 0) {
            break;
        }
        package.firmware_bytes += static_cast<std::uint64_t>(n);
        if (package.firmware_bytes > limits.max_firmware_bytes) {
            Refuse(
                "the firmware is larger than " + std::to_string(limits.max_firmware_bytes) +
                " bytes"
            );
        }
        firmware(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
    return package;
}

}  // namespace rainmaker::domain::ota

// Large immutable objects (firmware images; later packages and files) kept beside the database:
// content-addressed, so the key of some bytes is their SHA-256 (64 lower-case hex) and storing
// the same bytes twice keeps one copy. The default backend is files under the data directory
// (storage/files/FileBlobStore); an S3-compatible backend (a later slice) maps a key to an
// object name in a bucket. Rows of the database name blobs by key; what no row names any more
// is removed by the service that removed the row.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rainmaker::storage {

// A stored blob's bytes no longer hash to its key (a damaged file or object).
class BlobCorrupt : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class BlobStore {
public:
    virtual ~BlobStore() = default;

    // Stores `bytes` durably (complete or not at all, never a partial blob under the key) and
    // returns their key; bytes already stored are not written again. Throws std::runtime_error
    // when the backend fails.
    virtual std::string Put(std::string_view bytes) = 0;
    // The bytes of `key`, checked against it; nullopt when absent (or `key` is not a key).
    // Throws BlobCorrupt when they do not hash to `key`, std::runtime_error on a backend failure.
    virtual std::optional<std::string> Get(std::string_view key) = 0;
    // The size in bytes of the blob of `key`; nullopt when absent.
    virtual std::optional<std::uint64_t> Size(std::string_view key) = 0;
    // Removes the blob of `key`; false when there was none.
    virtual bool Remove(std::string_view key) = 0;
};

// Whether `key` has the form of a blob key: 64 lower-case hex characters.
inline bool IsBlobKey(std::string_view key) {
    if (key.size() != 64) {
        return false;
    }
    for (const char c : key) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

}  // namespace rainmaker::storage

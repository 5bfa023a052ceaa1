// Large immutable objects (firmware images; later packages and files) kept beside the database:
// content-addressed, so the key of some bytes is their SHA-256 (64 lower-case hex) and storing
// the same bytes twice keeps one copy. The default backend is files under the data directory
// (storage/files/FileBlobStore); the S3-compatible backend (storage/s3/S3BlobStore) maps a key
// to an object in a bucket and lets clients transfer bytes to and from it directly. Rows of the
// database name blobs by key; what no row names any more is removed by the service that removed the
// row.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
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

// Random reads of one blob's bytes (streamed downloads, parsers of large uploads). A reader
// keeps reading the bytes it was opened on even when the blob is removed meanwhile.
class BlobReader {
public:
    virtual ~BlobReader() = default;

    virtual std::uint64_t Size() const = 0;
    // Copies up to `length` bytes from `offset` into `out` and returns how many: fewer only at
    // the end (0 at or past it). Throws std::runtime_error when the backend fails.
    virtual std::size_t ReadAt(std::uint64_t offset, char* out, std::size_t length) = 0;

    // What tells these stored bytes apart from other bytes stored under the same key later (a
    // file's device, inode, size, modification and change times; the change time cannot be set
    // back): a blob checked once against its key need not be hashed again while this stays the
    // same. Empty when the backend cannot tell.
    virtual std::string Identity() const { return {}; }
};

// A BlobReader over bytes in memory, which must outlive it (inline uploads, tests, fuzzing).
class MemoryBlobReader final : public BlobReader {
public:
    explicit MemoryBlobReader(std::string_view bytes) : bytes_(bytes) {}

    std::uint64_t Size() const override { return bytes_.size(); }

    std::size_t ReadAt(std::uint64_t offset, char* out, std::size_t length) override {
        if (offset >= bytes_.size()) {
            return 0;
        }
        const std::size_t n = std::min<std::uint64_t>(length, bytes_.size() - offset);
        std::memcpy(out, bytes_.data() + offset, n);
        return n;
    }

private:
    std::string_view bytes_;
};

// A blob being written piece by piece (an upload streamed from the network): nothing is under
// any key until Commit, and a writer destroyed before it leaves nothing behind.
class BlobWriter {
public:
    virtual ~BlobWriter() = default;

    // Appends `bytes`. Throws std::runtime_error when the backend fails (the writer is then
    // unusable and its bytes are discarded).
    virtual void Write(std::string_view bytes) = 0;
    // How many bytes were written so far.
    virtual std::uint64_t Size() const = 0;
    // Stores what was written durably under its SHA-256 and returns that key (bytes already
    // stored are not kept twice). Called once. Throws std::runtime_error.
    virtual std::string Commit() = 0;
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
    // A writer for a new blob. Throws std::runtime_error when the backend cannot start one.
    virtual std::unique_ptr<BlobWriter> NewWriter() = 0;
    // A reader of the blob of `key` as stored (not checked against the key: the caller hashes
    // what it reads when it must); nullptr when absent. Throws std::runtime_error.
    virtual std::unique_ptr<BlobReader> Open(std::string_view key) = 0;

    // The bytes still free for new blobs (a file system's space for unprivileged writers);
    // nullopt when the backend cannot tell (or has no such limit).
    virtual std::optional<std::uint64_t> FreeBytes() { return std::nullopt; }

    // Transfers straight between clients and the backend (S3's own presigned URLs). A backend
    // without them (the local files) answers "" and nullptr: the server's HTTPS listener then
    // serves presigned URLs of its own.
    //
    // A URL that GETs the blob of `key` until `valid_for` from now and names `file_name` (URL
    // characters only) for the download; "".
    virtual std::string DirectDownloadUrl(
        std::string_view /*key*/, std::string_view /*file_name*/, std::chrono::seconds /*valid_for*/
    ) {
        return {};
    }

    // A URL that PUTs bytes under `upload_name` (letters and digits) until `valid_for` from
    // now, with the Content-MD5 header `content_md5` (base64) when that is not empty; "".
    virtual std::string DirectUploadUrl(
        std::string_view /*upload_name*/,
        std::string_view /*content_md5*/,
        std::chrono::seconds /*valid_for*/
    ) {
        return {};
    }

    // A reader of what was PUT under `upload_name`; nullptr when nothing was. Throws
    // std::runtime_error when the backend fails.
    virtual std::unique_ptr<BlobReader> OpenUpload(std::string_view /*upload_name*/) {
        return nullptr;
    }

    // Removes what was PUT under `upload_name`, if anything. Throws std::runtime_error.
    virtual void RemoveUpload(std::string_view /*upload_name*/) {}
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

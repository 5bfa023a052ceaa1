// The blob store on the local file system: <root>/sha256/<2 hex>/<64 hex>, one file per blob
// (mode 0600). A blob is written to <root>/tmp/, flushed (fsync), renamed into place and its
// directory flushed, so a crash leaves either the whole blob or none; leftovers in tmp/ are
// removed at start. Reads hash the bytes and refuse a file that no longer matches its name.
// Streamed blobs (NewWriter) are written to tmp/ as they arrive, hashed on the way, and renamed
// into place at Commit the same way.
#pragma once

#include <filesystem>

#include "storage/blob_store.hpp"

namespace rainmaker::storage::files {

class FileBlobStore final : public BlobStore {
public:
    // Creates `root` (mode 0700) and its folders when missing and deletes the .part files of
    // tmp/ older than an hour (a crash's leftovers; younger ones may be uploads in flight).
    // Throws std::runtime_error when it cannot.
    explicit FileBlobStore(std::filesystem::path root);

    // storage::BlobStore
    std::string Put(std::string_view bytes) override;
    std::optional<std::string> Get(std::string_view key) override;
    std::optional<std::uint64_t> Size(std::string_view key) override;
    bool Remove(std::string_view key) override;
    std::unique_ptr<BlobWriter> NewWriter() override;
    std::unique_ptr<BlobReader> Open(std::string_view key) override;
    std::optional<std::uint64_t> FreeBytes() override;

    // Where the blob of `key` lives (whether or not it exists); `key` must be a blob key.
    std::filesystem::path PathOf(std::string_view key) const;

private:
    std::filesystem::path root_;
};

}  // namespace rainmaker::storage::files

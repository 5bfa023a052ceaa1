// The blob store on an S3-compatible object store (AWS S3, MinIO, Ceph, Garage, ...): the blob
// of key K is the object <prefix>blobs/K, bytes PUT through a presigned upload URL wait in
// <prefix>uploads/<upload id> until the server takes them in. Every request the server makes is
// signed by libcurl (SigV4); URLs handed to clients (downloads for nodes, uploads for admins)
// are S3's own presigned URLs: devices download straight from the bucket, and uploads go into
// it (the server then copies each into its blob, through a spool file). Path-style addressing
// (<endpoint>/<bucket>/<object>) for local S3 servers, virtual-hosted (<bucket>.<endpoint host>)
// for AWS.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "crypto/aws_sigv4.hpp"
#include "storage/blob_store.hpp"

namespace rainmaker::storage::s3 {

struct S3Config {
    std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
    std::string bucket;
    std::string region = "us-east-1";
    // Where clients (nodes, apps, admins' tools) reach the same store, when not at `endpoint`
    // (the server on an internal address): presigned URLs name it. "": `endpoint`.
    std::string public_endpoint;
    std::string prefix;  // object names start with it ("rainmaker/"); [A-Za-z0-9/._-], ends in /
    bool path_style = true;  // false: virtual-hosted
    std::string access_key_id;
    std::string secret_access_key;
    std::string ca_file;                // the CA of the endpoint's certificate; "": the system's
    std::chrono::seconds timeout{300};  // the longest one request may take
};

// Throws std::runtime_error naming the setting when `config` cannot work (no endpoint, an
// endpoint with a path, no bucket or credentials, a prefix with other characters).
void CheckS3Config(const S3Config& config);

class S3BlobStore final : public BlobStore {
public:
    // `spool_dir` holds streamed blobs until they are committed (created 0700 when missing; its
    // files are unlinked as soon as they are opened). Throws std::runtime_error on a bad config.
    S3BlobStore(S3Config config, std::filesystem::path spool_dir, const core::Clock& clock);

    // Asks the bucket whether it is there and answers these credentials; throws
    // std::runtime_error saying what S3 answered otherwise (checked at start).
    void CheckBucket();

    // storage::BlobStore
    std::string Put(std::string_view bytes) override;
    std::optional<std::string> Get(std::string_view key) override;
    std::optional<std::uint64_t> Size(std::string_view key) override;
    bool Remove(std::string_view key) override;
    std::unique_ptr<BlobWriter> NewWriter() override;
    std::unique_ptr<BlobReader> Open(std::string_view key) override;
    // The space left beside the spool files (a blob is written there before its PUT).
    std::optional<std::uint64_t> FreeBytes() override;
    std::string DirectDownloadUrl(
        std::string_view key, std::string_view file_name, std::chrono::seconds valid_for
    ) override;
    std::string DirectUploadUrl(
        std::string_view upload_name, std::string_view content_md5, std::chrono::seconds valid_for
    ) override;
    std::unique_ptr<BlobReader> OpenUpload(std::string_view upload_name) override;
    void RemoveUpload(std::string_view upload_name) override;

    // The object name of the blob `key` below the prefix ("blobs/<key>").
    std::string ObjectOf(std::string_view key) const;
    // The object name of an upload below the prefix ("uploads/<name>"); throws
    // std::invalid_argument
    // when `upload_name` is not 1..64 letters and digits.
    std::string UploadObjectOf(std::string_view upload_name) const;

    class Client;

private:
    std::unique_ptr<BlobReader> OpenObject(const std::string& object);
    // A presigned URL's request for `method` on `object`, valid for `valid_for` (cut to S3's 7
    // days) from now.
    crypto::AwsPresignRequest Presign(
        std::string method, const std::string& object, std::chrono::seconds valid_for
    ) const;

    S3Config config_;
    std::filesystem::path spool_dir_;
    const core::Clock& clock_;
    std::shared_ptr<Client> client_;
};

}  // namespace rainmaker::storage::s3

// The tests' S3 server (tests/s3/fake_s3.mjs: s3rver behind a SigV4 verifier) as a child
// process on a free loopback port with a temporary directory, stopped and removed at the end;
// and a plain HTTP exchange for the URLs it is reached by.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>

#include "storage/s3/s3_blob_store.hpp"
#include "support/http_client.hpp"
#include "support/node_fake.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {

class FakeS3 {
public:
    static constexpr const char* kAccessKeyId = "test-access-key";
    static constexpr const char* kSecretAccessKey = "test-secret-key";

    explicit FakeS3(std::string bucket = "firmware");
    ~FakeS3();
    FakeS3(const FakeS3&) = delete;
    FakeS3& operator=(const FakeS3&) = delete;

    std::uint16_t port() const { return port_; }

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // A path-style configuration of this server's bucket with its credentials.
    storage::s3::S3Config Config() const;
    // Where s3rver keeps the bytes of `object` (to damage them).
    std::filesystem::path FileOf(const std::string& object) const;
    // How many objects the bucket holds under `prefix` ("blobs/", "uploads/").
    std::size_t CountObjects(const std::string& prefix) const;

private:
    TempDir dir_;
    std::string bucket_;
    std::unique_ptr<NodeFake> node_;
    std::uint16_t port_ = 0;
};

// One plain HTTP exchange with a whole URL (libcurl, no credentials).
HttpResult FetchUrl(
    const std::string& method,
    const std::string& url,
    const std::string& body = {},
    const std::map<std::string, std::string>& headers = {}
);

}  // namespace rainmaker::testing

// The presigned URLs of the local blob store, served on the HTTP and HTTPS listeners: GET
// /blobs/{blob_key}/{file_name} streams a blob (checked against its SHA-256, single ranges for
// firmware that resumes downloads), PUT /uploads/{upload_id} streams a body to disk for an
// upload (#33, #44). No token: the URL's signature is the credential (Access::kPresigned).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

// Blobs whose whole bytes were checked against their key, so that a ranged download (which
// cannot check the range it sends) does not hash the whole blob on every request: a blob is
// hashed once per (key, BlobReader::Identity) while that pair is among the last `capacity`
// remembered and was checked less than `recheck_after` ago. The writer already checked the hash
// when it committed; this catches a file replaced since (its identity changes with it) at once,
// and one damaged in place (bit rot) within `recheck_after`. Thread-safe; the hashing runs
// outside the lock, and requests for a blob being hashed wait for that one hash rather than
// hashing it again.
class VerifiedBlobs {
public:
    explicit VerifiedBlobs(
        std::size_t capacity = 256, std::chrono::seconds recheck_after = std::chrono::hours(1)
    )
        : capacity_(capacity), recheck_after_(recheck_after) {}

    // True when the whole of `reader` hashes to `key` (remembered when the reader has an
    // identity); false when it does not or cannot be read.
    bool Check(const std::string& key, storage::BlobReader& reader);

    // How many times a blob was hashed whole.
    std::size_t HashesForTest() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable hashed_;  // an entry left hashing_
    std::size_t capacity_;
    std::chrono::seconds recheck_after_;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> verified_;  // when
    std::deque<std::string> order_;            // oldest first
    std::unordered_set<std::string> hashing_;  // entries being hashed now
    std::size_t hashes_ = 0;
};

void AddBlobRoutes(
    Router& router,
    const domain::ota::PresignedUrls& urls,
    domain::ota::OtaImageService& images,
    std::uint64_t max_upload_bytes,
    std::shared_ptr<VerifiedBlobs> verified = std::make_shared<VerifiedBlobs>()
);

// A single byte range of a Range header ("bytes=a-b", "bytes=a-", "bytes=-n") within `size`:
// {first, last} inclusive. nullopt for a header to ignore (absent, several ranges, another
// unit, malformed: the whole object is answered); {size, 0} when the range is not satisfiable
// (first at or past the end, or an empty suffix).
std::optional<std::pair<std::uint64_t, std::uint64_t>> ParseRange(
    std::string_view header, std::uint64_t size
);

}  // namespace rainmaker::http::api

// Presigned downloads and uploads: the signature is checked first (on the I/O thread for an
// upload, before any body byte is read), then the bytes stream between the socket and the blob
// store without being held in memory whole.
#include "http/api/blob_routes.hpp"

#include <charconv>

#include "core/error.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "storage/blob_store.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::ota::OtaImageService;
using domain::ota::PresignedUrls;

namespace {

constexpr std::size_t kVerifyChunk = 256 * 1024;

// A blob's bytes from `first` to `last` (inclusive); with `check_key`, the SHA-256 of all of it
// (then first = 0 and last = the end) is compared before the final piece is handed out, so a
// damaged blob is never sent whole.
class BlobStream final : public ResponseStream {
public:
    BlobStream(
        std::unique_ptr<storage::BlobReader> reader,
        std::uint64_t first,
        std::uint64_t last,
        std::string check_key
    )
        : reader_(std::move(reader)),
          at_(first),
          end_(last + 1),
          size_(last + 1 - first),
          check_key_(std::move(check_key)),
          hasher_(crypto::Hasher::Algorithm::kSha256) {}

    std::uint64_t Size() const override { return size_; }

    std::size_t Read(char* out, std::size_t max) override {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max, end_ - at_));
        if (want == 0) {
            return 0;
        }
        const std::size_t n = reader_->ReadAt(at_, out, want);
        if (n == 0) {
            throw std::runtime_error("the blob is shorter than it was");
        }
        at_ += n;
        if (!check_key_.empty()) {
            hasher_.Update(std::string_view(out, n));
            if (at_ == end_ && crypto::HexOf(hasher_.Final()) != check_key_) {
                throw std::runtime_error("blob " + check_key_ + " does not match its SHA-256");
            }
        }
        return n;
    }

private:
    std::unique_ptr<storage::BlobReader> reader_;
    std::uint64_t at_;
    std::uint64_t end_;
    std::uint64_t size_;
    std::string check_key_;
    crypto::Hasher hasher_;
};

// True when the whole blob hashes to `key` (before a range of it is answered).
bool Matches(storage::BlobReader& reader, const std::string& key) {
    crypto::Hasher hasher(crypto::Hasher::Algorithm::kSha256);
    std::string buffer(kVerifyChunk, '\0');
    std::uint64_t at = 0;
    while (at < reader.Size()) {
        const std::size_t n = reader.ReadAt(at, buffer.data(), buffer.size());
        if (n == 0) {
            return false;
        }
        hasher.Update(std::string_view(buffer.data(), n));
        at += n;
    }
    return crypto::HexOf(hasher.Final()) == key;
}

std::optional<std::uint64_t> Number(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty() || text.size() > 19) {
        return std::nullopt;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// What an upload's PUT body goes through: the blob writer, and the MD5 the body is checked
// against (Content-MD5, md5_checksum).
class BlobUploadSink final : public UploadSink {
public:
    explicit BlobUploadSink(std::unique_ptr<storage::BlobWriter> writer)
        : writer_(std::move(writer)), md5_(crypto::Hasher::Algorithm::kMd5) {}

    void Write(std::string_view bytes) override {
        writer_->Write(bytes);
        md5_.Update(bytes);
    }

    storage::BlobWriter& writer() { return *writer_; }

    std::string Md5() { return md5_.Final(); }

private:
    std::unique_ptr<storage::BlobWriter> writer_;
    crypto::Hasher md5_;
};

// The Content-MD5 header as the URL was signed with it (padded base64); "" when absent.
// Throws kUploadDigestMismatch when it is not the base64 of 16 bytes.
std::string CanonicalContentMd5(std::string_view header) {
    if (header.empty()) {
        return {};
    }
    const auto bytes = crypto::Base64Decode(header);
    if (!bytes || bytes->size() != 16) {
        throw ApiError(
            ErrorCode::kUploadDigestMismatch,
            "Content-MD5 must be the base64 of the body's MD5 (16 bytes)"
        );
    }
    return crypto::Base64Encode(*bytes);
}

// The upload id of "/uploads/<id>": id characters only.
std::string UploadId(std::string_view path) {
    std::string_view id = path.substr(PresignedUrls::kUploadPrefix.size());
    const bool ok =
        !id.empty() && id.size() <= 64 &&
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
            std::string_view::npos;
    if (!ok) {
        throw ApiError(ErrorCode::kOtaObjectNotFound, "No upload waits under this URL");
    }
    return std::string(id);
}

// GET /blobs/{blob_key}/{file_name}: the presigned download of a blob (an OTA image).
ApiResponse Download(
    const ApiRequest& r, const PresignedUrls& urls, OtaImageService& images, VerifiedBlobs& verified
) {
    urls.Check("GET", r.target, r.query.Find("expires"), r.query.Find("signature"), "");
    const std::string_view rest =
        std::string_view(r.target).substr(PresignedUrls::kDownloadPrefix.size());
    const auto slash = rest.find('/');
    const std::string key(rest.substr(0, slash));
    if (slash == std::string_view::npos || !storage::IsBlobKey(key)) {
        throw ApiError(ErrorCode::kOtaObjectNotFound, "No such object");
    }
    const std::string_view file_name = rest.substr(slash + 1);
    auto reader = images.OpenDownload(key);
    if (!reader) {
        // Signed, but the image (and its bytes) went since.
        throw ApiError(ErrorCode::kOtaObjectNotFound, "The object of this URL no longer exists");
    }
    const std::uint64_t size = reader->Size();
    ApiResponse response;
    response.content_type = "application/octet-stream";
    response.headers = {
        {"Accept-Ranges", "bytes"},
        {"ETag", "\"" + key + "\""},
        {"Content-Disposition", "attachment; filename=\"" + std::string(file_name) + "\""},
        {"Cache-Control", "private, no-transform"}};
    const auto range = ParseRange(r.range, size);
    if (range && range->first >= size) {
        auto refusal = ApiResponse::Failure(ApiError(ErrorCode::kRangeNotSatisfiable));
        refusal.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return refusal;
    }
    if (range && !(range->first == 0 && range->second + 1 == size)) {
        // Part of it: the whole is checked first (a range alone cannot be), once per stored file.
        if (!verified.Check(key, *reader)) {
            throw ApiError(
                ErrorCode::kOtaImageFetchFailed, {}, "blob " + key + " does not match its SHA-256"
            );
        }
        response.status = 206;
        response.headers.emplace_back(
            "Content-Range",
            "bytes " + std::to_string(range->first) + "-" + std::to_string(range->second) + "/" +
                std::to_string(size)
        );
        response.stream =
            std::make_shared<BlobStream>(std::move(reader), range->first, range->second, "");
        return response;
    }
    if (size == 0) {
        response.body.clear();
        return response;
    }
    response.stream = std::make_shared<BlobStream>(std::move(reader), 0, size - 1, key);
    return response;
}

// PUT /uploads/{upload_id}, once its body is on disk (the sink opened by OpenUpload).
ApiResponse ReceiveUpload(const ApiRequest& r, OtaImageService& images) {
    auto* sink = dynamic_cast<BlobUploadSink*>(r.upload.get());
    if (sink == nullptr) {
        throw ApiError(ErrorCode::kInternal, {}, "an upload without its sink");
    }
    if (sink->writer().Size() == 0) {
        throw ApiError(ErrorCode::kInvalidBody, "The upload is empty");
    }
    const std::string md5 = sink->Md5();
    images.ReceiveUpload(
        UploadId(r.target), sink->writer(), md5, CanonicalContentMd5(r.content_md5)
    );
    auto response = ApiResponse::Success("Upload received");
    response.headers.emplace_back("ETag", "\"" + crypto::HexOf(md5) + "\"");
    return response;
}

// Before any byte of an upload's body: the signature (with the Content-MD5 it names), then the
// upload (pending, no other PUT of it in flight, room for it), then a writer for the bytes.
std::shared_ptr<UploadSink> OpenUpload(
    const ApiRequest& r, const PresignedUrls& urls, OtaImageService& images
) {
    const std::string md5 = CanonicalContentMd5(r.content_md5);
    urls.Check("PUT", r.target, r.query.Find("expires"), r.query.Find("signature"), md5);
    return std::make_shared<BlobUploadSink>(images.StartUpload(UploadId(r.target), r.content_length)
    );
}

}  // namespace

bool VerifiedBlobs::Check(const std::string& key, storage::BlobReader& reader) {
    const std::string identity = reader.Identity();
    const std::string entry = key + "@" + identity;
    const bool remember = !identity.empty() && capacity_ > 0;
    {
        std::unique_lock lock(mutex_);
        if (remember) {
            hashed_.wait(lock, [&] { return !hashing_.contains(entry); });
            const auto it = verified_.find(entry);
            if (it != verified_.end() &&
                std::chrono::steady_clock::now() - it->second < recheck_after_) {
                return true;
            }
            hashing_.insert(entry);
        }
        ++hashes_;
    }
    bool intact = false;
    try {
        intact = Matches(reader, key);
    } catch (const std::exception&) {
    }
    if (!remember) {
        return intact;
    }
    {
        const std::lock_guard lock(mutex_);
        hashing_.erase(entry);
        if (!intact) {
            verified_.erase(entry);  // stays in order_ until it ages out; erasing twice is fine
        } else if (const auto [it, inserted] =
                       verified_.insert_or_assign(entry, std::chrono::steady_clock::now());
                   inserted) {
            order_.push_back(entry);
            while (order_.size() > capacity_) {
                verified_.erase(order_.front());
                order_.pop_front();
            }
        }
    }
    hashed_.notify_all();
    return intact;
}

std::size_t VerifiedBlobs::HashesForTest() const {
    const std::lock_guard lock(mutex_);
    return hashes_;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> ParseRange(
    std::string_view header, std::uint64_t size
) {
    constexpr std::string_view kUnit = "bytes=";
    if (header.size() <= kUnit.size() || header.substr(0, kUnit.size()) != kUnit ||
        header.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view spec = header.substr(kUnit.size());
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view from = spec.substr(0, dash);
    const std::string_view to = spec.substr(dash + 1);
    if (from.empty()) {
        // The last n bytes.
        const auto n = Number(to);
        if (!n) {
            return std::nullopt;
        }
        if (*n == 0 || size == 0) {
            return std::pair<std::uint64_t, std::uint64_t>{size, 0};
        }
        const std::uint64_t count = std::min(*n, size);
        return std::pair<std::uint64_t, std::uint64_t>{size - count, size - 1};
    }
    const auto first = Number(from);
    if (!first) {
        return std::nullopt;
    }
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!to.empty()) {
        const auto given = Number(to);
        if (!given || *given < *first) {
            return std::nullopt;
        }
        last = std::min(*given, last);
    }
    if (*first >= size) {
        return std::pair<std::uint64_t, std::uint64_t>{size, 0};
    }
    return std::pair<std::uint64_t, std::uint64_t>{*first, last};
}

void AddBlobRoutes(
    Router& router,
    const PresignedUrls& urls,
    OtaImageService& images,
    std::uint64_t max_upload_bytes,
    std::shared_ptr<VerifiedBlobs> verified
) {
    const auto* u = &urls;
    auto* i = &images;
    router.AddPrefix(
        "GET",
        PresignedUrls::kDownloadPrefix,
        "/blobs/{blob_key}/{file_name}",
        Access::kPresigned,
        [u, i, verified](const ApiRequest& r) { return Download(r, *u, *i, *verified); }
    );
    router.AddPrefix(
        "PUT",
        PresignedUrls::kUploadPrefix,
        "/uploads/{upload_id}",
        Access::kPresigned,
        [i](const ApiRequest& r) { return ReceiveUpload(r, *i); },
        Execution::kHeavy  // flushing up to 200 MB to disk
    );
    router.SetUploadSink(
        "PUT",
        "/uploads/{upload_id}",
        [u, i](const ApiRequest& r) { return OpenUpload(r, *u, *i); },
        static_cast<std::size_t>(max_upload_bytes)
    );
}

}  // namespace rainmaker::http::api

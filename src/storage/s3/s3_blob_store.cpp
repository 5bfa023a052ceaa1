// S3 requests through libcurl (SigV4 by CURLOPT_AWS_SIGV4, the payload's SHA-256 in
// x-amz-content-sha256 as S3 requires), blobs written through a spool file, ranged reads with a
// read-ahead block, and the presigned URLs of crypto::AwsPresignUrl.
#include "storage/s3/s3_blob_store.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <stdexcept>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

#include "core/text.hpp"
#include "crypto/aws_sigv4.hpp"
#include "crypto/digest.hpp"
#include "net/curl_easy.hpp"

// libcurl signs x-amz-content-sha256 as the payload's hash from 7.87 on (and has
// CURLOPT_PROTOCOLS_STR from 7.85): older ones would have S3 refuse every PUT.
static_assert(LIBCURL_VERSION_NUM >= 0x075700, "the S3 blob store needs libcurl 7.87 or newer");

namespace rainmaker::storage::s3 {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::size_t kReadAhead = 1 << 20;          // bytes a ranged read fetches at least
constexpr std::size_t kMaxErrorBody = 512;           // of an error answer, kept for the log
constexpr std::int64_t kMaxPresign = 7 * 24 * 3600;  // SigV4's longest X-Amz-Expires

// Letters, digits and / . _ -, ending with '/', no empty, "." or ".." step, no leading '/'.
bool ValidPrefix(std::string_view prefix) {
    const bool characters = std::all_of(prefix.begin(), prefix.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '.' || c == '_' || c == '-';
    });
    if (!characters || (!prefix.empty() && prefix.back() != '/')) {
        return false;
    }
    for (std::size_t start = 0; start < prefix.size();) {
        const auto end = prefix.find('/', start);
        const auto step = prefix.substr(start, end - start);
        if (step.empty() || step == "." || step == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

// {scheme, host[:port]} of an endpoint "scheme://host[:port]" (a trailing '/' allowed).
std::pair<std::string, std::string> SplitEndpoint(std::string_view endpoint) {
    const auto scheme_end = endpoint.find("://");
    if (scheme_end == std::string_view::npos) {
        throw std::runtime_error("storage.s3.endpoint must start with http:// or https://");
    }
    const std::string scheme = core::AsciiLower(endpoint.substr(0, scheme_end));
    std::string_view host = endpoint.substr(scheme_end + 3);
    if (!host.empty() && host.back() == '/') {
        host.remove_suffix(1);
    }
    if (scheme != "http" && scheme != "https") {
        throw std::runtime_error("storage.s3.endpoint must start with http:// or https://");
    }
    if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
        throw std::runtime_error("storage.s3.endpoint must be scheme://host[:port], no path");
    }
    // As clients send Host: lower case, without the scheme's default port (a signature names
    // the host exactly).
    std::string normal = core::AsciiLower(host);
    const std::string default_port = scheme == "https" ? ":443" : ":80";
    if (normal.ends_with(default_port)) {
        normal.resize(normal.size() - default_port.size());
    }
    return {scheme, normal};
}

// Closes a FILE* when it goes.
struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

void CheckS3Config(const S3Config& c) {
    if (c.endpoint.empty()) {
        throw std::runtime_error("storage.s3.endpoint is required when storage.blob_backend is s3");
    }
    SplitEndpoint(c.endpoint);
    if (c.bucket.empty() || c.bucket.find_first_of("/?# ") != std::string::npos) {
        throw std::runtime_error("storage.s3.bucket must name a bucket");
    }
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
        throw std::runtime_error(
            "storage.s3.access_key_id and secret_access_key (or RAINMAKER_S3_ACCESS_KEY_ID and "
            "RAINMAKER_S3_SECRET_ACCESS_KEY) are required"
        );
    }
    if (c.region.empty()) {
        throw std::runtime_error("storage.s3.region must not be empty");
    }
    if (!ValidPrefix(c.prefix)) {
        throw std::runtime_error(
            "storage.s3.prefix: letters, digits and / . _ -, ending with /, no empty, . or .. "
            "step (\"rainmaker/\")"
        );
    }
    if (!c.public_endpoint.empty()) {
        SplitEndpoint(c.public_endpoint);
    }
    if (c.timeout.count() < 1) {
        throw std::runtime_error("storage.s3.timeout_seconds must be at least 1");
    }
}

// One S3 exchange at a time per handle; the store makes a handle per call (a reader keeps one,
// so that its ranged reads reuse the connection).
class S3BlobStore::Client {
public:
    explicit Client(const S3Config& config) : config_(config) {
        origin_ = OriginOf(config.endpoint);
        public_origin_ =
            config.public_endpoint.empty() ? origin_ : OriginOf(config.public_endpoint);
        base_path_ = (config.path_style ? "/" + config.bucket + "/" : "/") + config.prefix;
        sigv4_ = "aws:amz:" + config.region + ":s3";
    }

    struct Exchange {
        std::string method = "GET";  // GET, HEAD, PUT, DELETE
        std::string path;            // as signed: not encoded, starting with '/'
        std::string payload_sha256 = std::string(kEmptySha256);
        std::string_view body;      // a PUT's bytes when `file` is null
        std::FILE* file = nullptr;  // a PUT's bytes, read from the start
        std::uint64_t file_size = 0;
        std::optional<std::pair<std::uint64_t, std::uint64_t>> range;  // inclusive
        std::string if_match;        // an ETag the object must still have (412 otherwise)
        std::string* out = nullptr;  // a 2xx answer's body
        std::size_t max_out = 0;     // past it the exchange fails
    };

    struct Answer {
        long status = 0;
        std::int64_t length = -1;  // Content-Length; -1 when absent
        std::string etag;
        std::string error;  // the start of a non-2xx answer's body
    };

    // The path of an object (as signed, not encoded).
    std::string PathOf(std::string_view object) const { return base_path_ + std::string(object); }

    // The bucket's own path (CheckBucket).
    std::string BucketPath() const {
        return config_.path_style ? "/" + config_.bucket : std::string("/");
    }

    // Where clients reach the bucket (presigned URLs).
    const std::string& public_origin() const { return public_origin_; }

    // Performs `x` on `handle` (reset first). Throws std::runtime_error when there is no answer.
    Answer Perform(CURL* handle, const Exchange& x) const {
        curl_easy_reset(handle);
        Sink sink{handle, x.out, x.max_out, {}, false};
        Answer answer;
        std::array<char, CURL_ERROR_SIZE> error_buffer{};
        const std::string url = origin_ + crypto::AwsUriEncode(x.path, true);
        net::CurlSlist headers;
        net::AppendToSlist(headers, "x-amz-content-sha256: " + x.payload_sha256);
        if (!x.if_match.empty()) {
            net::AppendToSlist(headers, "If-Match: " + x.if_match);
        }

        // Nothing set here points into this frame once it returns (a reader keeps its handle).
        struct Reset {
            CURL* handle;

            ~Reset() { curl_easy_reset(handle); }
        } reset{handle};

        const auto set = [&](CURLoption option, auto value, const char* name) {
            net::ThrowIfCurlFailed(curl_easy_setopt(handle, option, value), name);
        };
        set(CURLOPT_NOSIGNAL, 1L, "CURLOPT_NOSIGNAL");
        set(CURLOPT_ERRORBUFFER, error_buffer.data(), "CURLOPT_ERRORBUFFER");
        set(CURLOPT_URL, url.c_str(), "CURLOPT_URL");
        set(CURLOPT_PROTOCOLS_STR, "http,https", "CURLOPT_PROTOCOLS_STR");
        set(CURLOPT_HTTPHEADER, headers.get(), "CURLOPT_HTTPHEADER");
        set(CURLOPT_AWS_SIGV4, sigv4_.c_str(), "CURLOPT_AWS_SIGV4");
        set(CURLOPT_USERNAME, config_.access_key_id.c_str(), "CURLOPT_USERNAME");
        set(CURLOPT_PASSWORD, config_.secret_access_key.c_str(), "CURLOPT_PASSWORD");
        set(CURLOPT_CONNECTTIMEOUT, 10L, "CURLOPT_CONNECTTIMEOUT");
        set(CURLOPT_TIMEOUT, static_cast<long>(config_.timeout.count()), "CURLOPT_TIMEOUT");
        if (!config_.ca_file.empty()) {
            set(CURLOPT_CAINFO, config_.ca_file.c_str(), "CURLOPT_CAINFO");
        }
        set(CURLOPT_WRITEFUNCTION, &Sink::Write, "CURLOPT_WRITEFUNCTION");
        set(CURLOPT_WRITEDATA, &sink, "CURLOPT_WRITEDATA");
        set(CURLOPT_HEADERFUNCTION, &Sink::Header, "CURLOPT_HEADERFUNCTION");
        set(CURLOPT_HEADERDATA, &answer, "CURLOPT_HEADERDATA");
        std::string range;
        if (x.range) {
            range = std::to_string(x.range->first) + "-" + std::to_string(x.range->second);
            set(CURLOPT_RANGE, range.c_str(), "CURLOPT_RANGE");
        }
        Source source{x.body, x.body, x.file};
        if (x.method == "HEAD") {
            set(CURLOPT_NOBODY, 1L, "CURLOPT_NOBODY");
        } else if (x.method == "PUT") {
            set(CURLOPT_UPLOAD, 1L, "CURLOPT_UPLOAD");
            set(CURLOPT_READFUNCTION, &Source::Read, "CURLOPT_READFUNCTION");
            set(CURLOPT_READDATA, &source, "CURLOPT_READDATA");
            // A body sent again (a reused connection found closed): rewound.
            set(CURLOPT_SEEKFUNCTION, &Source::Seek, "CURLOPT_SEEKFUNCTION");
            set(CURLOPT_SEEKDATA, &source, "CURLOPT_SEEKDATA");
            const auto size = x.file != nullptr ? x.file_size : x.body.size();
            set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size), "CURLOPT_INFILESIZE");
        } else if (x.method != "GET") {
            set(CURLOPT_CUSTOMREQUEST, x.method.c_str(), "CURLOPT_CUSTOMREQUEST");
        }
        const CURLcode result = curl_easy_perform(handle);
        if (sink.too_large) {
            throw std::runtime_error("S3 " + x.method + " " + x.path + ": answer too large");
        }
        if (result != CURLE_OK) {
            throw std::runtime_error(
                "S3 " + x.method + " " + x.path + ": " +
                net::CurlErrorText(result, error_buffer.data())
            );
        }
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
        curl_off_t length = -1;
        if (curl_easy_getinfo(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK) {
            answer.length = length;
        }
        answer.error = std::move(sink.error);
        return answer;
    }

    // Throws std::runtime_error describing a non-2xx answer.
    [[noreturn]] static void Fail(const Exchange& x, const Answer& a) {
        throw std::runtime_error(
            "S3 " + x.method + " " + x.path + " answered " + std::to_string(a.status) +
            (a.error.empty() ? "" : ": " + a.error)
        );
    }

    static bool Ok(const Answer& a) { return a.status >= 200 && a.status < 300; }

private:
    struct Sink {
        CURL* handle;
        std::string* out;
        std::size_t max_out;
        std::string error;
        bool too_large = false;

        static std::size_t Write(char* data, std::size_t size, std::size_t count, void* user) {
            auto* sink = static_cast<Sink*>(user);
            const std::size_t n = size * count;
            long status = 0;
            curl_easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
            if (status < 200 || status >= 300 || sink->out == nullptr) {
                const auto room = kMaxErrorBody - std::min(kMaxErrorBody, sink->error.size());
                sink->error.append(data, std::min(n, room));
                return n;
            }
            if (n > sink->max_out - std::min(sink->max_out, sink->out->size())) {
                sink->too_large = true;
                return 0;
            }
            sink->out->append(data, n);
            return n;
        }

        static std::size_t Header(char* data, std::size_t size, std::size_t count, void* user) {
            auto* answer = static_cast<Answer*>(user);
            const std::string_view line(data, size * count);
            constexpr std::string_view kEtag = "etag:";
            if (line.size() > kEtag.size() &&
                strncasecmp(line.data(), kEtag.data(), kEtag.size()) == 0) {
                std::string_view value = line.substr(kEtag.size());
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                    value.remove_prefix(1);
                }
                while (!value.empty() &&
                       (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
                    value.remove_suffix(1);
                }
                answer->etag = std::string(value);
            }
            return size * count;
        }
    };

    struct Source {
        std::string_view whole;
        std::string_view body;  // what is still to send of `whole`
        std::FILE* file;

        static int Seek(void* user, curl_off_t offset, int origin) {
            auto* source = static_cast<Source*>(user);
            if (origin != SEEK_SET || offset < 0) {
                return CURL_SEEKFUNC_CANTSEEK;
            }
            if (source->file != nullptr) {
                return ::fseeko(source->file, offset, SEEK_SET) == 0 ? CURL_SEEKFUNC_OK
                                                                     : CURL_SEEKFUNC_FAIL;
            }
            if (static_cast<std::uint64_t>(offset) > source->whole.size()) {
                return CURL_SEEKFUNC_FAIL;
            }
            source->body = source->whole.substr(static_cast<std::size_t>(offset));
            return CURL_SEEKFUNC_OK;
        }

        static std::size_t Read(char* out, std::size_t size, std::size_t count, void* user) {
            auto* source = static_cast<Source*>(user);
            const std::size_t room = size * count;
            if (source->file != nullptr) {
                const std::size_t n = std::fread(out, 1, room, source->file);
                return std::ferror(source->file) != 0 ? CURL_READFUNC_ABORT : n;
            }
            const std::size_t n = std::min(room, source->body.size());
            std::memcpy(out, source->body.data(), n);
            source->body.remove_prefix(n);
            return n;
        }
    };

    // "scheme://host" of an endpoint, with the bucket in the host when virtual-hosted.
    std::string OriginOf(const std::string& endpoint) const {
        const auto [scheme, host] = SplitEndpoint(endpoint);
        return scheme + "://" + (config_.path_style ? host : config_.bucket + "." + host);
    }

    S3Config config_;
    std::string origin_;
    std::string public_origin_;
    std::string base_path_;
    std::string sigv4_;
};

namespace {

using Client = S3BlobStore::Client;

// The size and identity of an object; nullopt when there is none.
struct ObjectHead {
    std::uint64_t size = 0;
    std::string etag;
};

std::optional<ObjectHead> Head(const Client& client, CURL* handle, const std::string& path) {
    Client::Exchange x;
    x.method = "HEAD";
    x.path = path;
    const auto answer = client.Perform(handle, x);
    if (answer.status == 404) {
        return std::nullopt;
    }
    if (!Client::Ok(answer) || answer.length < 0) {
        Client::Fail(x, answer);
    }
    return ObjectHead{static_cast<std::uint64_t>(answer.length), answer.etag};
}

// Ranged reads of one object, a read-ahead block at a time, over one connection.
class S3Reader final : public BlobReader {
public:
    S3Reader(
        std::shared_ptr<Client> client, net::CurlEasy handle, std::string path, ObjectHead head
    )
        : client_(std::move(client)),
          handle_(std::move(handle)),
          path_(std::move(path)),
          head_(std::move(head)) {}

    std::uint64_t Size() const override { return head_.size; }

    std::size_t ReadAt(std::uint64_t offset, char* out, std::size_t length) override {
        if (offset >= head_.size || length == 0) {
            return 0;
        }
        length = static_cast<std::size_t>(std::min<std::uint64_t>(length, head_.size - offset));
        const bool cached = offset >= block_offset_ && offset - block_offset_ < block_.size() &&
                            offset + length <= block_offset_ + block_.size();
        if (!cached) {
            const std::uint64_t last =
                std::min<std::uint64_t>(head_.size, offset + std::max(length, kReadAhead)) - 1;
            Client::Exchange x;
            x.path = path_;
            x.range = std::make_pair(offset, last);
            x.if_match = head_.etag;  // the bytes opened, not an object PUT since
            block_.clear();
            x.out = &block_;
            const bool whole = offset == 0 && last + 1 == head_.size;
            x.max_out = static_cast<std::size_t>(last - offset + 1);
            const auto answer = client_->Perform(handle_.get(), x);
            // 206 with the range (200 with everything, from a server that ignores ranges, is
            // taken only when everything was asked for).
            const bool ok = (answer.status == 206 || (answer.status == 200 && whole)) &&
                            block_.size() == x.max_out;
            if (!ok) {
                block_.clear();
                if (answer.status == 412 || answer.status == 206) {
                    throw std::runtime_error("S3 GET " + path_ + ": the object changed");
                }
                if (answer.status == 200) {
                    throw std::runtime_error("S3 GET " + path_ + ": the server ignored Range");
                }
                Client::Fail(x, answer);
            }
            block_offset_ = offset;
        }
        std::memcpy(out, block_.data() + (offset - block_offset_), length);
        return length;
    }

    std::string Identity() const override {
        return head_.etag.empty() ? std::string()
                                  : "s3:" + head_.etag + ":" + std::to_string(head_.size);
    }

private:
    std::shared_ptr<Client> client_;
    net::CurlEasy handle_;
    std::string path_;
    ObjectHead head_;
    std::string block_;
    std::uint64_t block_offset_ = 0;
};

// A blob streamed to an unlinked spool file, hashed on the way, PUT at Commit.
class S3Writer final : public BlobWriter {
public:
    S3Writer(S3BlobStore& store, std::shared_ptr<Client> client, FilePtr file)
        : store_(store),
          client_(std::move(client)),
          file_(std::move(file)),
          sha256_(crypto::Hasher::Algorithm::kSha256) {}

    void Write(std::string_view bytes) override {
        if (failed_ || committed_) {
            throw std::runtime_error("S3 blob writer: unusable");
        }
        if (!bytes.empty() &&
            std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
            failed_ = true;
            throw std::runtime_error(std::string("S3 spool write: ") + std::strerror(errno));
        }
        sha256_.Update(bytes);
        size_ += bytes.size();
    }

    std::uint64_t Size() const override { return size_; }

    std::string Commit() override {
        if (failed_ || committed_) {
            throw std::runtime_error("S3 blob writer: unusable");
        }
        committed_ = true;
        const std::string key = crypto::HexOf(sha256_.Final());
        if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0) {
            throw std::runtime_error(std::string("S3 spool: ") + std::strerror(errno));
        }
        const auto handle = net::MakeCurlEasy();
        const std::string path = client_->PathOf(store_.ObjectOf(key));
        if (const auto head = Head(*client_, handle.get(), path); head && head->size == size_) {
            return key;  // the same bytes are there already
        }
        Client::Exchange x;
        x.method = "PUT";
        x.path = path;
        x.payload_sha256 = key;
        x.file = file_.get();
        x.file_size = size_;
        const auto answer = client_->Perform(handle.get(), x);
        if (!Client::Ok(answer)) {
            Client::Fail(x, answer);
        }
        return key;
    }

private:
    S3BlobStore& store_;
    std::shared_ptr<Client> client_;
    FilePtr file_;
    crypto::Hasher sha256_;
    std::uint64_t size_ = 0;
    bool failed_ = false;
    bool committed_ = false;
};

}  // namespace

S3BlobStore::S3BlobStore(S3Config config, fs::path spool_dir, const core::Clock& clock)
    : config_(std::move(config)), spool_dir_(std::move(spool_dir)), clock_(clock) {
    CheckS3Config(config_);
    client_ = std::make_shared<Client>(config_);
    fs::create_directories(spool_dir_);
    fs::permissions(spool_dir_, fs::perms::owner_all, fs::perm_options::replace);
}

std::optional<std::uint64_t> S3BlobStore::FreeBytes() {
    struct statvfs st {};

    if (::statvfs(spool_dir_.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

void S3BlobStore::CheckBucket() {
    const auto handle = net::MakeCurlEasy();
    Client::Exchange x;
    x.method = "HEAD";
    x.path = client_->BucketPath();
    const auto answer = client_->Perform(handle.get(), x);
    if (!Client::Ok(answer)) {
        throw std::runtime_error(
            "S3 bucket " + config_.bucket + " at " + config_.endpoint + " answered HEAD with " +
            std::to_string(answer.status) +
            (answer.status == 404 ? " (no such bucket)"
             : answer.status == 403
                 ? " (the credentials are refused, or lack s3:ListBucket, or this clock is off)"
             : answer.status == 301 ? " (the bucket is in another region: storage.s3.region)"
                                    : "")
        );
    }
}

std::string S3BlobStore::ObjectOf(std::string_view key) const {
    return "blobs/" + std::string(key);
}

std::string S3BlobStore::UploadObjectOf(std::string_view upload_name) const {
    const bool valid =
        !upload_name.empty() && upload_name.size() <= 64 &&
        std::all_of(upload_name.begin(), upload_name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        });
    if (!valid) {
        throw std::invalid_argument("S3 upload name must be 1 to 64 letters and digits");
    }
    return "uploads/" + std::string(upload_name);
}

std::string S3BlobStore::Put(std::string_view bytes) {
    const std::string key = crypto::Sha256Hex(bytes);
    const auto handle = net::MakeCurlEasy();
    const std::string path = client_->PathOf(ObjectOf(key));
    if (const auto head = Head(*client_, handle.get(), path); head && head->size == bytes.size()) {
        return key;
    }
    Client::Exchange x;
    x.method = "PUT";
    x.path = path;
    x.payload_sha256 = key;
    x.body = bytes;
    const auto answer = client_->Perform(handle.get(), x);
    if (!Client::Ok(answer)) {
        Client::Fail(x, answer);
    }
    return key;
}

std::optional<std::string> S3BlobStore::Get(std::string_view key) {
    if (!IsBlobKey(key)) {
        return std::nullopt;
    }
    const auto handle = net::MakeCurlEasy();
    std::string bytes;
    Client::Exchange x;
    x.path = client_->PathOf(ObjectOf(key));
    x.out = &bytes;
    x.max_out = std::numeric_limits<std::size_t>::max();
    const auto answer = client_->Perform(handle.get(), x);
    if (answer.status == 404) {
        return std::nullopt;
    }
    if (!Client::Ok(answer)) {
        Client::Fail(x, answer);
    }
    if (crypto::Sha256Hex(bytes) != key) {
        throw BlobCorrupt("S3 object " + x.path + " does not hash to its name");
    }
    return bytes;
}

std::optional<std::uint64_t> S3BlobStore::Size(std::string_view key) {
    if (!IsBlobKey(key)) {
        return std::nullopt;
    }
    const auto handle = net::MakeCurlEasy();
    const auto head = Head(*client_, handle.get(), client_->PathOf(ObjectOf(key)));
    return head ? std::optional(head->size) : std::nullopt;
}

bool S3BlobStore::Remove(std::string_view key) {
    if (!IsBlobKey(key)) {
        return false;
    }
    const auto handle = net::MakeCurlEasy();
    const std::string path = client_->PathOf(ObjectOf(key));
    if (!Head(*client_, handle.get(), path)) {
        return false;
    }
    Client::Exchange x;
    x.method = "DELETE";
    x.path = path;
    const auto answer = client_->Perform(handle.get(), x);
    if (!Client::Ok(answer) && answer.status != 404) {
        Client::Fail(x, answer);
    }
    return true;
}

std::unique_ptr<BlobWriter> S3BlobStore::NewWriter() {
    const std::string pattern = (spool_dir_ / "blob-XXXXXX").string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error(std::string("S3 spool file: ") + std::strerror(errno));
    }
    ::unlink(name.data());  // nothing is left behind, whatever happens to the process
    FilePtr file(::fdopen(fd, "w+b"));
    if (!file) {
        ::close(fd);
        throw std::runtime_error(std::string("S3 spool file: ") + std::strerror(errno));
    }
    return std::make_unique<S3Writer>(*this, client_, std::move(file));
}

std::unique_ptr<BlobReader> S3BlobStore::OpenObject(const std::string& object) {
    auto handle = net::MakeCurlEasy();
    const std::string path = client_->PathOf(object);
    auto head = Head(*client_, handle.get(), path);
    if (!head) {
        return nullptr;
    }
    return std::make_unique<S3Reader>(client_, std::move(handle), path, std::move(*head));
}

std::unique_ptr<BlobReader> S3BlobStore::Open(std::string_view key) {
    return IsBlobKey(key) ? OpenObject(ObjectOf(key)) : nullptr;
}

std::unique_ptr<BlobReader> S3BlobStore::OpenUpload(std::string_view upload_name) {
    return OpenObject(UploadObjectOf(upload_name));
}

void S3BlobStore::RemoveUpload(std::string_view upload_name) {
    const auto handle = net::MakeCurlEasy();
    Client::Exchange x;
    x.method = "DELETE";
    x.path = client_->PathOf(UploadObjectOf(upload_name));
    const auto answer = client_->Perform(handle.get(), x);
    if (!Client::Ok(answer) && answer.status != 404) {
        Client::Fail(x, answer);
    }
}

crypto::AwsPresignRequest S3BlobStore::Presign(
    std::string method, const std::string& object, std::chrono::seconds valid_for
) const {
    crypto::AwsPresignRequest r;
    r.method = std::move(method);
    r.origin = client_->public_origin();
    r.path = client_->PathOf(object);
    r.region = config_.region;
    r.service = "s3";
    r.access_key_id = config_.access_key_id;
    r.secret_access_key = config_.secret_access_key;
    r.now = clock_.NowSeconds();
    r.expires = std::clamp<std::int64_t>(valid_for.count(), 1, kMaxPresign);
    return r;
}

std::string S3BlobStore::DirectDownloadUrl(
    std::string_view key, std::string_view file_name, std::chrono::seconds valid_for
) {
    auto r = Presign("GET", ObjectOf(key), valid_for);
    r.query.emplace_back(
        "response-content-disposition", "attachment; filename=\"" + std::string(file_name) + "\""
    );
    return crypto::AwsPresignUrl(r);
}

std::string S3BlobStore::DirectUploadUrl(
    std::string_view upload_name, std::string_view content_md5, std::chrono::seconds valid_for
) {
    auto r = Presign("PUT", UploadObjectOf(upload_name), valid_for);
    if (!content_md5.empty()) {
        r.headers.emplace_back("content-md5", std::string(content_md5));
    }
    return crypto::AwsPresignUrl(r);
}

}  // namespace rainmaker::storage::s3

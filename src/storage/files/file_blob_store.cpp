// Blobs as files: written aside, flushed, renamed into place; hashed again on every read.
#include "storage/files/file_blob_store.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <system_error>
#include <unistd.h>

#include "core/random.hpp"
#include "crypto/digest.hpp"

namespace rainmaker::storage::files {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void Fail(const std::string& what, const fs::path& path) {
    throw std::runtime_error(
        "blob store: " + what + " " + path.string() + ": " + std::strerror(errno)
    );
}

// Closes a descriptor when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}

    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }

    // Closes now, reporting the error close gives (a delayed write failure).
    bool Close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }

private:
    int fd_;
};

void SyncDirectory(const fs::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        Fail("cannot flush directory", dir);
    }
}

void MakePrivateDirectory(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw std::runtime_error("blob store: cannot create " + dir.string() + ": " + ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
}

std::optional<std::string> ReadFile(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        Fail("cannot open", path);
    }

    struct stat st {};

    if (::fstat(fd.get(), &st) != 0) {
        Fail("cannot stat", path);
    }
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t at = 0;
    while (at < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + at, bytes.size() - at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            Fail("cannot read", path);
        }
        if (n == 0) {
            break;  // shorter than it was: the hash check below refuses it
        }
        at += static_cast<std::size_t>(n);
    }
    bytes.resize(at);
    return bytes;
}

// Writes all of `bytes` to `fd`; false (errno set) on failure.
bool WriteAll(int fd, std::string_view bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return false;
        }
        at += static_cast<std::size_t>(n);
    }
    return true;
}

// Moves the flushed file `temp` into place as the blob `target` (or drops it when the same
// bytes are there already) and flushes the directory.
void Install(const fs::path& temp, const fs::path& target) {
    std::error_code ec;
    if (fs::exists(target, ec)) {
        fs::remove(temp, ec);
        return;
    }
    const fs::path dir = target.parent_path();
    MakePrivateDirectory(dir);
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const int saved = errno;
        fs::remove(temp, ec);
        errno = saved;
        Fail("cannot rename into", target);
    }
    SyncDirectory(dir);
}

class FileBlobWriter final : public BlobWriter {
public:
    FileBlobWriter(const FileBlobStore& store, fs::path temp)
        : store_(store),
          temp_(std::move(temp)),
          fd_(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)),
          hasher_(crypto::Hasher::Algorithm::kSha256) {
        if (fd_.get() < 0) {
            Fail("cannot create", temp_);
        }
    }

    ~FileBlobWriter() override {
        if (!committed_) {
            std::error_code ec;
            fs::remove(temp_, ec);
        }
    }

    FileBlobWriter(const FileBlobWriter&) = delete;
    FileBlobWriter& operator=(const FileBlobWriter&) = delete;

    void Write(std::string_view bytes) override {
        if (failed_ || committed_) {
            throw std::runtime_error("blob store: write to a finished writer");
        }
        if (!WriteAll(fd_.get(), bytes)) {
            failed_ = true;
            Fail("cannot write", temp_);
        }
        hasher_.Update(bytes);
        size_ += bytes.size();
    }

    std::uint64_t Size() const override { return size_; }

    std::string Commit() override {
        if (failed_ || committed_) {
            throw std::runtime_error("blob store: commit of a finished writer");
        }
        if (::fsync(fd_.get()) != 0 || !fd_.Close()) {
            failed_ = true;
            Fail("cannot flush", temp_);
        }
        const std::string key = crypto::HexOf(hasher_.Final());
        Install(temp_, store_.PathOf(key));
        committed_ = true;
        return key;
    }

private:
    const FileBlobStore& store_;
    fs::path temp_;
    Fd fd_;
    crypto::Hasher hasher_;
    std::uint64_t size_ = 0;
    bool failed_ = false;
    bool committed_ = false;
};

class FileBlobReader final : public BlobReader {
public:
    FileBlobReader(int fd, const struct stat& st, fs::path path)
        : fd_(fd),
          size_(static_cast<std::uint64_t>(st.st_size)),
          identity_(
              std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
              std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
              std::to_string(st.st_ctim.tv_nsec)
          ),
          path_(std::move(path)) {}

    std::uint64_t Size() const override { return size_; }

    std::string Identity() const override { return identity_; }

    std::size_t ReadAt(std::uint64_t offset, char* out, std::size_t length) override {
        if (offset >= size_) {
            return 0;
        }
        length = static_cast<std::size_t>(std::min<std::uint64_t>(length, size_ - offset));
        std::size_t at = 0;
        while (at < length) {
            const ssize_t n =
                ::pread(fd_.get(), out + at, length - at, static_cast<off_t>(offset + at));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                Fail("cannot read", path_);
            }
            if (n == 0) {
                break;  // the file shrank: the reader's hash check refuses it
            }
            at += static_cast<std::size_t>(n);
        }
        return at;
    }

private:
    Fd fd_;
    std::uint64_t size_;
    std::string identity_;
    fs::path path_;
};

}  // namespace

FileBlobStore::FileBlobStore(fs::path root) : root_(std::move(root)) {
    MakePrivateDirectory(root_);
    MakePrivateDirectory(root_ / "sha256");
    MakePrivateDirectory(root_ / "tmp");
    // A crash's half-written blobs: our .part files older than an hour. Younger ones may be
    // uploads in flight in a running server (this store is also opened by `rainmaker-server
    // admin` commands beside it), and nothing else in tmp/ is ours to delete.
    std::error_code ec;
    const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(1);
    for (fs::directory_iterator it(root_ / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
        const auto& path = it->path();
        std::error_code file_ec;
        if (path.extension() == ".part" && it->is_regular_file(file_ec) &&
            fs::last_write_time(path, file_ec) < cutoff && !file_ec) {
            fs::remove(path, file_ec);
        }
    }
}

fs::path FileBlobStore::PathOf(std::string_view key) const {
    return root_ / "sha256" / std::string(key.substr(0, 2)) / std::string(key);
}

std::string FileBlobStore::Put(std::string_view bytes) {
    const std::string key = crypto::Sha256Hex(bytes);
    const fs::path target = PathOf(key);
    std::error_code ec;
    if (fs::exists(target, ec)) {
        return key;  // content-addressed: the same bytes are already there
    }
    const fs::path temp = root_ / "tmp" / (core::RandomHex(16) + ".part");
    {
        Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd.get() < 0) {
            Fail("cannot create", temp);
        }
        if (!WriteAll(fd.get(), bytes)) {
            const int saved = errno;
            fs::remove(temp, ec);
            errno = saved;
            Fail("cannot write", temp);
        }
        if (::fsync(fd.get()) != 0 || !fd.Close()) {
            const int saved = errno;
            fs::remove(temp, ec);
            errno = saved;
            Fail("cannot flush", temp);
        }
    }
    Install(temp, target);
    return key;
}

std::unique_ptr<BlobWriter> FileBlobStore::NewWriter() {
    return std::make_unique<FileBlobWriter>(*this, root_ / "tmp" / (core::RandomHex(16) + ".part"));
}

std::unique_ptr<BlobReader> FileBlobStore::Open(std::string_view key) {
    if (!IsBlobKey(key)) {
        return nullptr;
    }
    const fs::path path = PathOf(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return nullptr;
        }
        Fail("cannot open", path);
    }

    struct stat st {};

    if (::fstat(fd, &st) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        Fail("cannot stat", path);
    }
    return std::make_unique<FileBlobReader>(fd, st, path);
}

std::optional<std::uint64_t> FileBlobStore::FreeBytes() {
    struct statvfs vfs {};

    if (::statvfs(root_.c_str(), &vfs) != 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
}

std::optional<std::string> FileBlobStore::Get(std::string_view key) {
    if (!IsBlobKey(key)) {
        return std::nullopt;
    }
    auto bytes = ReadFile(PathOf(key));
    if (bytes && !crypto::ConstantTimeEquals(crypto::Sha256Hex(*bytes), key)) {
        throw BlobCorrupt("blob store: " + PathOf(key).string() + " does not match its SHA-256");
    }
    return bytes;
}

std::optional<std::uint64_t> FileBlobStore::Size(std::string_view key) {
    if (!IsBlobKey(key)) {
        return std::nullopt;
    }
    std::error_code ec;
    const auto size = fs::file_size(PathOf(key), ec);
    if (ec) {
        return std::nullopt;
    }
    return size;
}

bool FileBlobStore::Remove(std::string_view key) {
    if (!IsBlobKey(key)) {
        return false;
    }
    std::error_code ec;
    const bool removed = fs::remove(PathOf(key), ec);
    if (ec) {
        throw std::runtime_error("blob store: cannot remove " + PathOf(key).string());
    }
    if (removed) {
        SyncDirectory(PathOf(key).parent_path());
    }
    return removed;
}

}  // namespace rainmaker::storage::files

// Delivers codes as files in a directory, for self-hosted boxes with no mail relay or SMS gateway.
#include "outbound/mailbox_sender.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace rainmaker::outbound {

namespace {

// Recipients are user input; long ones are cut so the name stays under NAME_MAX (255).
constexpr std::size_t kMaxRecipientChars = 200;
constexpr std::uint64_t kSequenceModulo = 1'000'000;  // keeps the sequence at six digits

// Shared by every MailboxSender in the process, so two instances on one directory never collide.
std::atomic<std::uint64_t> g_sequence{0};

bool IsSafeFileChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' ||
           c == '.' || c == '+' || c == '_' || c == '-';
}

// `to` as it may appear in a log line: control characters (a forged second line) become '?'.
std::string ForLog(std::string_view to) {
    std::string out(to);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            c = '?';
        }
    }
    return out;
}

std::string ErrnoText(int error) {
    return std::generic_category().message(error);
}

// Closes the descriptor on every path, including exceptions.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}

    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    ~FileDescriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    int Get() const { return fd_; }

    // Closes now and reports the result, since close can surface a delayed write error.
    int Close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result;
    }

private:
    int fd_;
};

void WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error("cannot write " + path.string() + ": " + ErrnoText(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
}

// Writes `content` to `temp`, syncs it, and renames it to `final_path`; the directory is synced
// too, so an acknowledged code survives a crash.
void WriteFileAtomically(
    const std::filesystem::path& dir,
    const std::filesystem::path& temp,
    const std::filesystem::path& final_path,
    std::string_view content
) {
    {
        FileDescriptor file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (file.Get() < 0) {
            throw std::runtime_error("cannot create " + temp.string() + ": " + ErrnoText(errno));
        }
        try {
            WriteAll(file.Get(), content, temp);
            if (::fsync(file.Get()) != 0) {
                throw std::runtime_error("cannot sync " + temp.string() + ": " + ErrnoText(errno));
            }
            if (file.Close() != 0) {
                throw std::runtime_error("cannot close " + temp.string() + ": " + ErrnoText(errno));
            }
        } catch (...) {
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            throw;
        }
    }
    std::error_code error;
    std::filesystem::rename(temp, final_path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw std::runtime_error(
            "cannot rename " + temp.string() + " to " + final_path.string() + ": " + error.message()
        );
    }
    // Best effort: the file is already complete and visible; this only makes the rename durable.
    FileDescriptor directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.Get() >= 0) {
        ::fsync(directory.Get());
    }
}

// `<unix-ms>-<6-digit sequence>-<recipient>.txt`, with the recipient reduced to safe characters.
std::string FileNameFor(std::int64_t unix_ms, std::uint64_t sequence, std::string_view to) {
    std::string recipient(to.substr(0, kMaxRecipientChars));
    for (char& c : recipient) {
        if (!IsSafeFileChar(c)) {
            c = '_';
        }
    }
    std::array<char, 48> prefix{};
    std::snprintf(
        prefix.data(),
        prefix.size(),
        "%lld-%06llu-",
        static_cast<long long>(unix_ms),
        static_cast<unsigned long long>(sequence % kSequenceModulo)
    );
    return prefix.data() + recipient + ".txt";
}

}  // namespace

MailboxSender::MailboxSender(std::filesystem::path dir) : dir_(std::move(dir)) {}

void MailboxSender::Send(const domain::users::OutgoingMessage& message) {
    const auto now = core::SystemClock().Now();
    const std::int64_t unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::uint64_t sequence = g_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::string name = FileNameFor(unix_ms, sequence, message.to);

    std::string content;
    content.reserve(message.to.size() + message.subject.size() + message.text.size() + 48);
    content += "To: " + message.to + "\n";
    content += std::string("Channel: ") + (message.sms ? "sms" : "email") + "\n";
    content += "Subject: " + message.subject + "\n\n";
    content += message.text + "\n";

    const std::filesystem::path final_path = dir_ / name;
    // A leading dot and a non-.txt suffix keep readers that list *.txt from seeing partial files.
    const std::filesystem::path temp = dir_ / ("." + name + ".tmp");
    {
        const std::lock_guard lock(mutex_);
        std::error_code error;
        std::filesystem::create_directories(dir_, error);
        if (error) {
            throw std::runtime_error(
                "cannot create mailbox " + dir_.string() + ": " + error.message()
            );
        }
        WriteFileAtomically(dir_, temp, final_path, content);
    }
    core::log::Info("message for " + ForLog(message.to) + " was written to " + final_path.string());
}

}  // namespace rainmaker::outbound

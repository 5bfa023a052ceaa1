// flock(2) on <data-dir>/lock: released by the kernel when the process ends, even after
// kill -9, so a stale lock never blocks a restart.
#include "app/data_dir_lock.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace rainmaker::app {

namespace fs = std::filesystem;

DataDirLock::DataDirLock(const fs::path& data_dir) {
    fs::create_directories(data_dir);
    const fs::path file = data_dir / "lock";
    // Close-on-exec: the broker child must not hold the lock after the server is gone.
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        char pid[32] = {};
        const auto n = ::pread(fd_, pid, sizeof(pid) - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (error == EWOULDBLOCK) {
            std::string holder(pid, n > 0 ? static_cast<std::size_t>(n) : 0);
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
                holder.pop_back();
            }
            throw std::runtime_error(
                "the data directory " + fs::absolute(data_dir).string() +
                " is in use by another rainmaker-server" +
                (holder.empty() ? std::string() : " (pid " + holder + ")") +
                "; stop it first or give this one another --data-dir"
            );
        }
        throw std::runtime_error("cannot lock " + file.string() + ": " + std::strerror(error));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // The lock holds without the pid; it only helps the message above.
    }
}

std::optional<pid_t> RunningServer(const fs::path& data_dir) {
    const fs::path file = data_dir / "lock";
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::optional<pid_t> out;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        char pid[32] = {};
        const auto n = ::pread(fd, pid, sizeof(pid) - 1, 0);
        const long value = n > 0 ? std::strtol(pid, nullptr, 10) : 0;
        if (value > 0) {
            out = static_cast<pid_t>(value);
        }
    }
    ::close(fd);  // releases a shared lock taken above
    return out;
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) {
        ::close(fd_);  // releases the lock
    }
}

}  // namespace rainmaker::app

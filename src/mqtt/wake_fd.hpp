// An eventfd that other threads write to, to wake a thread blocked in poll() on it (the broker
// link's network thread, the ingest connection's thread): Notify from any thread, Drain from
// the woken one.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace rainmaker::mqtt {

class WakeFd {
public:
    WakeFd() = default;

    ~WakeFd() { Close(); }

    WakeFd(const WakeFd&) = delete;
    WakeFd& operator=(const WakeFd&) = delete;

    void Open() {
        fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd_ < 0) {
            throw std::runtime_error("eventfd failed");
        }
    }

    // After the threads that poll it have ended.
    void Close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    void Notify() const {
        if (fd_ >= 0) {
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof(one));
        }
    }

    // Clears the notifications poll() reported.
    void Drain() const {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof(count));
    }

    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

}  // namespace rainmaker::mqtt

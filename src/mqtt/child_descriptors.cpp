// close_range with two fallbacks. The /proc walk uses the raw getdents64 system call because
// opendir/readdir allocate, which a child of a multi-threaded process must not do.
#include "mqtt/child_descriptors.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rainmaker::mqtt {

namespace {

constexpr int kFirstToClose = 3;  // after stdin, stdout, stderr

// Closes the descriptors above 2 that /proc/self/fd lists; false when it cannot be read.
bool CloseListedInProc() {
    const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return false;
    }
    // Closing while listing may make the listing skip entries: list again until a pass finds
    // nothing left to close.
    bool closed_any = true;
    while (closed_any) {
        closed_any = false;
        if (::lseek(dir, 0, SEEK_SET) != 0) {
            break;
        }
        alignas(8) std::array<char, 4096> buffer{};
        for (;;) {
            const long n = ::syscall(SYS_getdents64, dir, buffer.data(), buffer.size());
            if (n <= 0) {
                break;
            }
            for (long offset = 0; offset < n;) {
                // struct dirent64 has the kernel's linux_dirent64 layout.
                unsigned short length = 0;
                std::memcpy(
                    &length, buffer.data() + offset + offsetof(dirent64, d_reclen), sizeof(length)
                );
                const char* name = buffer.data() + offset + offsetof(dirent64, d_name);
                int fd = 0;
                bool number = *name != '\0';
                for (const char* c = name; *c != '\0' && number; ++c) {
                    number = *c >= '0' && *c <= '9';
                    fd = fd * 10 + (*c - '0');
                }
                if (number && fd >= kFirstToClose && fd != dir) {
                    ::close(fd);
                    closed_any = true;
                }
                offset += length;
            }
        }
    }
    ::close(dir);
    return true;
}

}  // namespace

void CloseInheritedDescriptors() {
    if (::close_range(kFirstToClose, ~0U, 0) == 0) {
        return;
    }
    if (CloseListedInProc()) {
        return;
    }
    rlimit limit{};
    const rlim_t highest =
        ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
            ? std::min<rlim_t>(limit.rlim_cur, 1 << 20)
            : 1 << 16;
    for (int fd = kFirstToClose; static_cast<rlim_t>(fd) < highest; ++fd) {
        ::close(fd);
    }
}

void CloseDescriptorsListedInProcForTest() {
    CloseListedInProc();
}

}  // namespace rainmaker::mqtt

// What a child of the server keeps before exec: stdin, stdout and stderr only, by close_range
// and by the /proc walk used where close_range is refused. Each case runs in a forked child.
#include "mqtt/child_descriptors.hpp"

#include <fcntl.h>
#include <functional>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace rainmaker::mqtt {
namespace {

// Runs `close` in a child holding a pipe, a socket and a file (none close-on-exec, one at a
// high number); the child exits 0 when only 0, 1 and 2 are left open.
int ExitStatusAfter(const std::function<void()>& close) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int pipe_fds[2];
        const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
        const int file = ::open("/dev/null", O_RDONLY);
        if (::pipe(pipe_fds) != 0 || socket < 0 || file < 0 || ::dup2(file, 900) != 900) {
            ::_exit(2);
        }
        close();
        for (int fd = 3; fd < 1024; ++fd) {
            if (::fcntl(fd, F_GETFD) != -1) {
                ::_exit(1);
            }
        }
        ::_exit(::fcntl(2, F_GETFD) != -1 ? 0 : 3);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ChildDescriptors, KeepsOnlyTheStandardStreams) {
    EXPECT_EQ(ExitStatusAfter(CloseInheritedDescriptors), 0);
}

TEST(ChildDescriptors, TheProcWalkAloneClosesEverythingAboveStderr) {
    EXPECT_EQ(ExitStatusAfter(CloseDescriptorsListedInProcForTest), 0);
}

TEST(ChildDescriptors, TheCheckSeesDescriptorsLeftOpen) {
    EXPECT_EQ(ExitStatusAfter([] {}), 1);
}

}  // namespace
}  // namespace rainmaker::mqtt

// fork/exec of node with a pipe on its stdin (kept open while it runs) and one on its stdout
// (read up to its first line).
#include "support/node_fake.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace rainmaker::testing {

namespace {

void Stop(pid_t pid, int stdin_fd) {
    if (stdin_fd >= 0) {
        ::close(stdin_fd);  // the fakes stop when their stdin ends
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

}  // namespace

NodeFake::NodeFake(const std::string& script, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"node", std::string(RAINMAKER_SOURCE_DIR) + "/" + script};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::array<int, 2> out{};
    std::array<int, 2> in{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    if (::pipe2(in.data(), O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        throw std::runtime_error("pipe2 failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        for (const int fd : {out[0], out[1], in[0], in[1]}) {
            ::close(fd);
        }
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        // dup2 clears close-on-exec on the copies; stderr stays the test's.
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(in[0], STDIN_FILENO);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (output.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
            char buffer[256];
            const auto n = ::read(out[0], buffer, sizeof buffer);
            if (n <= 0) {
                break;
            }
            output.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(out[0]);
    const auto newline = output.find('\n');
    if (newline == std::string::npos) {
        Stop(pid, in[1]);
        throw std::runtime_error(script + " did not start: " + output);
    }
    pid_ = pid;
    stdin_fd_ = in[1];
    first_line_ = output.substr(0, newline);
}

NodeFake::~NodeFake() {
    if (pid_ > 0) {
        Stop(pid_, stdin_fd_);
    }
}

}  // namespace rainmaker::testing

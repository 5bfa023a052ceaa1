// fork/exec of rainmaker-sim with pipes, or with a pseudo-terminal as its stdin.
#include "support/sim_process.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace rainmaker::testing {

SimProcess::SimProcess(std::vector<std::string> args, Stdin stdin_kind) {
    int in[2];
    int out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        throw std::runtime_error("pipe failed");
    }
    args.insert(args.begin(), RAINMAKER_SIM_BIN);
    if (stdin_kind != Stdin::kPipe) {
        StartOnTerminal(args, stdin_kind == Stdin::kTerminalForeground, in, out);
        return;
    }
    pid_ = fork();
    if (pid_ == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    in_fd_ = in[1];
    out_fd_ = out[0];
}

void SimProcess::StartOnTerminal(
    std::vector<std::string>& args, bool foreground, int in[2], int out[2]
) {
    // The pipe `in` is not used: the terminal is. `out` carries the simulator's stdout, and
    // in[1] the simulator's pid from the session leader.
    const int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        throw std::runtime_error("no pseudo-terminal");
    }
    const std::string slave_name = ptsname(master);
    leader_ = fork();
    if (leader_ == 0) {
        // A new session whose controlling terminal is the pty (as a login shell's), then the
        // simulator in a process group of its own: the background unless made the foreground.
        setsid();
        const int slave = open(slave_name.c_str(), O_RDWR);  // becomes the controlling tty
        if (slave < 0) {
            _exit(126);
        }
        termios mode{};
        tcgetattr(slave, &mode);
        mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(slave, TCSANOW, &mode);
        signal(SIGTTOU, SIG_IGN);  // tcsetpgrp below
        const pid_t sim = fork();
        if (sim == 0) {
            setpgid(0, 0);
            dup2(slave, STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            for (const int fd : {slave, master, in[0], in[1], out[0], out[1]}) {
                close(fd);
            }
            signal(SIGTTOU, SIG_DFL);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        setpgid(sim, sim);
        if (foreground) {
            tcsetpgrp(slave, sim);
        }
        [[maybe_unused]] const auto n = write(in[1], &sim, sizeof sim);
        // Stays (the simulator's group is not orphaned, so job control applies to it) until
        // the simulator ends.
        int status = 0;
        while (waitpid(sim, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(0);
    }
    close(out[1]);
    close(in[1]);
    pid_t sim = -1;
    if (read(in[0], &sim, sizeof sim) != static_cast<ssize_t>(sizeof sim)) {
        close(in[0]);
        throw std::runtime_error("the simulator did not start on the terminal");
    }
    close(in[0]);
    pid_ = sim;
    in_fd_ = master;
    out_fd_ = out[0];
}

bool SimProcess::IsStopped() const {
    if (pid_ <= 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    // pid (comm) state ...: the state follows the last ')'.
    const auto close_paren = text.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < text.size() &&
           text[close_paren + 2] == 'T';
}

SimProcess::~SimProcess() {
    if (leader_ > 0) {
        // Not our child: the session leader is. SIGTERM makes the simulator disconnect and end.
        kill(pid_, SIGTERM);
        kill(pid_, SIGCONT);
        for (int i = 0; i < 300; ++i) {
            int status = 0;
            if (waitpid(leader_, &status, WNOHANG) == leader_) {
                leader_ = -1;
                pid_ = -1;
                break;
            }
            usleep(10000);
        }
        Kill();
    }
    if (pid_ > 0) {
        Send("quit");
        close(in_fd_);
        in_fd_ = -1;
        for (int i = 0; i < 300; ++i) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            usleep(10000);
        }
        Kill();
    }
    if (in_fd_ >= 0) {
        close(in_fd_);
    }
    close(out_fd_);
}

void SimProcess::Freeze() {
    if (pid_ > 0) {
        ::kill(pid_, SIGSTOP);
    }
}

void SimProcess::Kill() {
    if (leader_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(leader_, &status, 0);
        leader_ = -1;
        pid_ = -1;
        return;
    }
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }
}

void SimProcess::Send(const std::string& command) {
    if (in_fd_ < 0) {
        return;
    }
    const std::string line = command + "\n";
    [[maybe_unused]] const auto n = write(in_fd_, line.data(), line.size());
}

bool SimProcess::ReadLine(std::string& line, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
            line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()
        );
        pollfd p{out_fd_, POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        char chunk[4096];
        const ssize_t n = read(out_fd_, chunk, sizeof(chunk));
        if (n <= 0) {
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::string SimProcess::WaitFor(const std::string& prefix, std::chrono::milliseconds timeout) {
    for (; next_ < lines_.size(); ++next_) {
        if (lines_[next_].rfind(prefix, 0) == 0) {
            return lines_[next_++];
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (ReadLine(line, deadline)) {
        lines_.push_back(line);
        next_ = lines_.size();
        if (line.rfind(prefix, 0) == 0) {
            return line;
        }
    }
    return {};
}

std::vector<std::string> SimProcess::Collect(
    const std::string& prefix, std::chrono::milliseconds window
) {
    std::vector<std::string> found;
    const auto deadline = std::chrono::steady_clock::now() + window;
    std::string line;
    while (ReadLine(line, deadline)) {
        lines_.push_back(line);
        next_ = lines_.size();
        if (line.rfind(prefix, 0) == 0) {
            found.push_back(line);
        }
    }
    return found;
}

std::string SimProcess::Run(const std::vector<std::string>& args, int* status) {
    std::string command = RAINMAKER_SIM_BIN;
    for (const auto& a : args) {
        command += " '" + a + "'";
    }
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    char buffer[512];
    while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) {
        out += buffer;
    }
    const int rc = pipe != nullptr ? pclose(pipe) : -1;
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

}  // namespace rainmaker::testing

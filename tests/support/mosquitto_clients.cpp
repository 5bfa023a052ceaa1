// fork/exec of the command-line clients with close-on-exec pipes, and mosquitto_sub's output
// read line by line.
#include "support/mosquitto_clients.hpp"

#include <array>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace rainmaker::testing {

namespace {

using Clock = std::chrono::steady_clock;

// A last resort for a sub that a test forgets: the client exits by itself after this long.
constexpr const char* kSubLifetimeSeconds = "120";

// Starts `argv` with stdin on /dev/null and stdout+stderr on a pipe whose read end is returned.
// The pipe is close-on-exec, so later children do not hold it open.
pid_t Spawn(const std::vector<std::string>& argv, int* out_fd) {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDIN_FILENO);
        }
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

int RemainingMs(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Reads once from `fd` into `out` if data arrives before `deadline`. Returns false on
// timeout or end of file.
bool ReadSome(int fd, Clock::time_point deadline, std::string& out) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, RemainingMs(deadline));
    if (ready <= 0) {
        return false;
    }
    std::array<char, 4096> buffer{};
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) {
        return false;
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
    return true;
}

}  // namespace

ProgramResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    int fd = -1;
    const pid_t pid = Spawn(argv, &fd);
    ProgramResult result;
    const auto deadline = Clock::now() + timeout;
    while (ReadSome(fd, deadline, result.output)) {
    }
    ::close(fd);
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
        // The output closed but the process lingers, or the deadline passed: give it until
        // the deadline, then kill it.
        while (Clock::now() < deadline && ::waitpid(pid, &status, WNOHANG) == 0) {
            pollfd none{-1, 0, 0};
            ::poll(&none, 0, 10);
        }
        if (::waitpid(pid, &status, WNOHANG) == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            result.timed_out = true;
            return result;
        }
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::vector<std::string> MqttConnectArgs(
    const MqttCredentials& credentials, const std::string& client_id
) {
    std::vector<std::string> args = {
        "-h", credentials.host, "-p", std::to_string(credentials.port), "-i", client_id};
    if (!credentials.ca_file.empty()) {
        args.insert(args.end(), {"--cafile", credentials.ca_file.string()});
    }
    if (!credentials.cert_file.empty()) {
        args.insert(
            args.end(),
            {"--cert", credentials.cert_file.string(), "--key", credentials.key_file.string()}
        );
    }
    if (!credentials.username.empty()) {
        args.insert(args.end(), {"-u", credentials.username});
    }
    if (!credentials.password.empty()) {
        args.insert(args.end(), {"-P", credentials.password});
    }
    return args;
}

ProgramResult MosquittoPub(
    const MqttCredentials& credentials,
    const std::string& client_id,
    const std::string& topic,
    const std::string& message
) {
    std::vector<std::string> args = {"mosquitto_pub"};
    const auto connect = MqttConnectArgs(credentials, client_id);
    args.insert(args.end(), connect.begin(), connect.end());
    args.insert(args.end(), {"-q", "1", "-t", topic, "-m", message});
    return RunProgram(args, std::chrono::seconds(15));
}

MosquittoSub::MosquittoSub(
    const MqttCredentials& credentials,
    const std::string& client_id,
    const std::vector<std::string>& topics
) {
    // -d prints CONNACK and SUBACK lines; -F puts each message on one line we can tell apart.
    // mosquitto_sub flushes after a message but not after a debug line: stdbuf makes its
    // stdout line-buffered so the SUBACK is seen when it arrives.
    std::vector<std::string> args = {"stdbuf", "-oL", "mosquitto_sub"};
    const auto connect = MqttConnectArgs(credentials, client_id);
    args.insert(args.end(), connect.begin(), connect.end());
    args.insert(args.end(), {"-q", "1", "-d", "-W", kSubLifetimeSeconds, "-F", "MSG %t %p"});
    for (const auto& topic : topics) {
        args.insert(args.end(), {"-t", topic});
    }
    pid_ = Spawn(args, &out_fd_);
}

MosquittoSub::~MosquittoSub() {
    Kill();
}

void MosquittoSub::Kill() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    if (out_fd_ >= 0) {
        // Keep what it printed before it died.
        std::string rest;
        while (ReadSome(out_fd_, Clock::now(), rest)) {
        }
        Append(rest);
        ::close(out_fd_);
        out_fd_ = -1;
    }
}

template <typename Done>
bool MosquittoSub::ReadUntil(Done done, Clock::time_point deadline) {
    while (!done()) {
        std::string chunk;
        if (out_fd_ < 0 || !ReadSome(out_fd_, deadline, chunk)) {
            return done();
        }
        Append(chunk);
    }
    return true;
}

void MosquittoSub::Append(const std::string& chunk) {
    output_ += chunk;
    buffer_ += chunk;
    for (auto end = buffer_.find('\n'); end != std::string::npos; end = buffer_.find('\n')) {
        ParseLine(buffer_.substr(0, end));
        buffer_.erase(0, end + 1);
    }
}

void MosquittoSub::ParseLine(const std::string& line) {
    if (line.starts_with("MSG ")) {
        const auto space = line.find(' ', 4);
        messages_.push_back(
            space == std::string::npos
                ? MqttMessage{line.substr(4), {}}
                : MqttMessage{line.substr(4, space - 4), line.substr(space + 1)}
        );
    } else if (line.starts_with("Client ") && line.find("received CONNACK (0)") != std::string::npos) {
        ++connacks_;
    } else if (line.starts_with("Subscribed (mid")) {
        ++subacks_;
    }
}

bool MosquittoSub::WaitSubscribed(std::chrono::milliseconds timeout) {
    return ReadUntil([this] { return subacks_ > 0; }, Clock::now() + timeout);
}

bool MosquittoSub::WaitForMessage(const std::string& topic, std::chrono::milliseconds timeout) {
    const auto seen = [&] {
        for (const auto& m : messages_) {
            if (m.topic == topic) {
                return true;
            }
        }
        return false;
    };
    return ReadUntil(seen, Clock::now() + timeout);
}

void MosquittoSub::Drain(std::chrono::milliseconds window) {
    ReadUntil([] { return false; }, Clock::now() + window);
}

}  // namespace rainmaker::testing

// fork/exec of the server, reading its "listening on" line, and mailbox helpers.
#include "support/server_process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rainmaker::testing {

namespace {

std::filesystem::path MakeTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rm-e2e-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

std::string Sanitize(const std::string& recipient) {
    std::string out = recipient;
    for (auto& c : out) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '.' || c == '+' ||
              c == '_' || c == '-')) {
            c = '_';
        }
    }
    return out;
}

std::vector<std::filesystem::path> MailFor(
    const std::filesystem::path& mailbox, const std::string& recipient
) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    const std::string suffix = "-" + Sanitize(recipient) + ".txt";
    for (const auto& entry : std::filesystem::directory_iterator(mailbox, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());  // names start with the time and a sequence number
    return files;
}

}  // namespace

ServerProcess::ServerProcess() : ServerProcess(Options{}) {}

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
    if (OnPostgres() && !options_.env.contains("RAINMAKER_DATABASE_URL")) {
        postgres_ = std::make_unique<PostgresTestDatabase>();
        options_.env["RAINMAKER_DATABASE_URL"] = postgres_->url();
    }
    if (options_.data_dir.empty()) {
        data_dir_ = MakeTempDir();
        owns_dir_ = true;
    } else {
        data_dir_ = options_.data_dir;
    }
    Launch();
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) {
        Stop();
    }
    if (owns_dir_) {
        std::error_code ec;
        std::filesystem::remove_all(data_dir_, ec);
    }
}

void ServerProcess::Launch() {
    int fds[2];
    if (pipe(fds) != 0) {
        throw std::runtime_error("pipe failed");
    }
    std::vector<std::string> args = {
        RAINMAKER_SERVER_BIN,
        "--http-port",
        "0",
        "--https-port",
        "0",
        "--data-dir",
        data_dir_.string(),
        "--log-level",
        std::getenv("RAINMAKER_TEST_LOG_LEVEL") ? std::getenv("RAINMAKER_TEST_LOG_LEVEL") : "warn",
        "--mqtt-port",
        "0",
        "--mqtt-address",
        "127.0.0.1"};
    // The cheapest password hashing unless the test asks for another cost.
    if (std::find(options_.args.begin(), options_.args.end(), "--password-cost") ==
        options_.args.end()) {
        args.insert(args.end(), {"--password-cost", "min"});
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        for (const auto& [key, value] : options_.env) {
            setenv(key.c_str(), value.c_str(), 1);
        }
        if (options_.max_open_files != 0) {
            rlimit limit{};
            getrlimit(RLIMIT_NOFILE, &limit);
            limit.rlim_cur = options_.max_open_files;
            if (options_.hard_open_file_limit) {
                limit.rlim_max = options_.max_open_files;
            }
            setrlimit(RLIMIT_NOFILE, &limit);
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    pid_ = pid;
    stdout_fd_ = fds[0];

    // Wait for "rainmaker-server listening on http://ADDR:PORT".
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    static const std::regex kListening(R"(listening on http://[^:]+:(\d+))");
    std::smatch match;
    while (!std::regex_search(output, match, kListening)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()
        );
        pollfd p{stdout_fd_, POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            Kill();
            throw std::runtime_error("server did not start: " + output);
        }
        char buffer[512];
        const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
        if (n <= 0) {
            Kill();
            throw std::runtime_error("server exited before listening: " + output);
        }
        output.append(buffer, static_cast<std::size_t>(n));
    }
    port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
    static const std::regex kMqtt(R"(mqtts://[^:]+:(\d+))");
    std::smatch mqtt_match;
    // The devices line comes before the HTTP line is complete only in theory; read on a
    // little if it is missing.
    for (int i = 0; i < 50 && !std::regex_search(output, mqtt_match, kMqtt); ++i) {
        pollfd p{stdout_fd_, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            char buffer[512];
            const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
            if (n <= 0) {
                break;
            }
            output.append(buffer, static_cast<std::size_t>(n));
        }
    }
    if (std::regex_search(output, mqtt_match, kMqtt)) {
        mqtt_port_ = static_cast<std::uint16_t>(std::stoi(mqtt_match[1].str()));
    }
    // Printed before the devices line.
    static const std::regex kHttps(R"(listening on https://[^:]+:(\d+))");
    std::smatch https_match;
    if (std::regex_search(output, https_match, kHttps)) {
        https_port_ = static_cast<std::uint16_t>(std::stoi(https_match[1].str()));
    }
}

int ServerProcess::Stop() {
    if (pid_ <= 0) {
        return 0;
    }
    kill(pid_, SIGTERM);
    int status = 0;
    // Give it 15 s to finish in-flight requests, then kill it.
    for (int i = 0; i < 1500; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            close(stdout_fd_);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return -SIGKILL;
}

void ServerProcess::Kill() {
    if (pid_ <= 0) {
        return;
    }
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    close(stdout_fd_);
}

void ServerProcess::Restart() {
    if (pid_ > 0) {
        Stop();
    }
    Launch();
}

std::string ServerProcess::LatestCode(const std::string& recipient) const {
    static const std::regex kCode(R"(\b(\d{6})\b)");
    for (int i = 0; i < 1000; ++i) {
        const auto files = MailFor(data_dir_ / "mailbox", recipient);
        if (!files.empty()) {
            std::ifstream in(files.back());
            std::stringstream text;
            text << in.rdbuf();
            const std::string content = text.str();
            const auto body = content.find("\n\n");
            std::smatch match;
            const std::string tail = body == std::string::npos ? content : content.substr(body);
            if (std::regex_search(tail, match, kCode)) {
                return match[1].str();
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
}

int ServerProcess::MessageCount(const std::string& recipient) const {
    return static_cast<int>(MailFor(data_dir_ / "mailbox", recipient).size());
}

pid_t ServerProcess::BrokerPid() const {
    const std::string conf = (data_dir_ / "broker" / "mosquitto.conf").string();
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), {});
        if (cmdline.find("mosquitto") != std::string::npos &&
            cmdline.find(conf) != std::string::npos) {
            return static_cast<pid_t>(std::stoi(name));
        }
    }
    return -1;
}

std::vector<std::string> ServerProcess::QueryCommand(const std::string& sql) const {
    if (postgres_) {
        return {"psql", "-X", "-q", "-t", "-A", "-d", postgres_->url(), "-c", sql};
    }
    return {"sqlite3", (data_dir_ / "rainmaker.db").string(), sql};
}

int ServerProcess::RunCommand(
    const std::vector<std::string>& args, std::string* output, bool with_stderr
) const {
    std::string command;
    if (const auto url = options_.env.find("RAINMAKER_DATABASE_URL"); url != options_.env.end()) {
        command = "RAINMAKER_DATABASE_URL='" + url->second + "' ";
    }
    command += std::string(RAINMAKER_SERVER_BIN) + " --data-dir '" + data_dir_.string() +
               "' --password-cost min";
    for (const auto& a : args) {
        command += " '" + a + "'";
    }
    if (with_stderr) {
        command += " 2>&1";
    }
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return -1;
    }
    char buffer[256];
    std::string out;
    while (fgets(buffer, sizeof(buffer), pipe) != nullptr) {
        out += buffer;
    }
    const int status = pclose(pipe);
    if (output != nullptr) {
        *output = out;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace rainmaker::testing

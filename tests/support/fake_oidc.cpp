// fork/exec of node with fake_oidc.mjs, its "listening <port>" line, and GET /log.
#include "support/fake_oidc.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "support/http_client.hpp"

namespace rainmaker::testing {

namespace {

void StopChild(pid_t pid, int stdin_fd) {
    if (stdin_fd >= 0) {
        ::close(stdin_fd);  // the fake stops when its stdin ends
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

int Count(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? static_cast<int>(v->as_int64()) : -1;
}

}  // namespace

FakeOidc::FakeOidc() {
    std::vector<std::string> args = {
        "node",
        std::string(RAINMAKER_SOURCE_DIR) + "/tests/support/fake_oidc.mjs",
        kClientId,
        kClientSecret};
    std::vector<char*> argv;
    for (auto& a : args) {
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
    unsigned port = 0;
    if (std::sscanf(output.c_str(), "listening %u", &port) != 1 || port == 0 || port > 65535) {
        StopChild(pid, in[1]);
        throw std::runtime_error("fake_oidc.mjs did not start: " + output);
    }
    pid_ = pid;
    stdin_fd_ = in[1];
    port_ = static_cast<std::uint16_t>(port);
}

FakeOidc::~FakeOidc() {
    if (pid_ > 0) {
        StopChild(pid_, stdin_fd_);
    }
}

std::string FakeOidc::ProviderToml(const std::string& name) const {
    const std::string base = Issuer();
    return "[[oauth.providers]]\nname = \"" + name + "\"\nissuer = \"" + base +
           "\"\nauthorization_endpoint = \"" + base + "/authorize\"\ntoken_endpoint = \"" + base +
           "/token\"\njwks_uri = \"" + base + "/jwks\"\nclient_id = \"" + kClientId +
           "\"\nclient_secret = \"" + kClientSecret + "\"\nallow_private = true\n";
}

OidcLog FakeOidc::Log() const {
    OidcLog log;
    HttpClient client(port_);
    HttpResult r;
    try {
        r = client.Get("/log");
    } catch (const std::exception&) {
        return log;
    }
    if (r.status != 200 || !r.json.is_object()) {
        return log;
    }
    const auto& o = r.json.as_object();
    log.authorize_requests = Count(o, "authorize");
    log.token_requests = Count(o, "token");
    log.tokens_issued = Count(o, "token_ok");
    log.jwks_requests = Count(o, "jwks");
    if (const auto* rejected = o.if_contains("rejected");
        rejected != nullptr && rejected->is_array()) {
        for (const auto& item : rejected->as_array()) {
            log.rejected.push_back(boost::json::serialize(item));
        }
    }
    log.ok = true;
    return log;
}

}  // namespace rainmaker::testing

// The embedded Mosquitto must not hold the server's descriptors: a broker that inherits the HTTP
// listening socket (or a client connection) keeps the port bound after the server dies and can
// accept or read HTTP traffic. Checked on the first broker and on one restarted by the
// supervisor while HTTP connections are open.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

// The sockets and pipes ("socket:[inode]", "pipe:[inode]") among the descriptors of `pid`
// numbered above `above`.
std::set<std::string> SocketsAndPipes(pid_t pid, int above) {
    std::set<std::string> out;
    std::error_code ec;
    const std::filesystem::path dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (std::stoi(entry.path().filename().string()) <= above) {
            continue;
        }
        const auto target = std::filesystem::read_symlink(entry.path(), ec).string();
        if (target.starts_with("socket:") || target.starts_with("pipe:")) {
            out.insert(target);
        }
    }
    return out;
}

// The inode of the socket listening on 127.0.0.1:`port`, as "socket:[inode]".
std::string ListeningSocket(std::uint16_t port) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // header
    char wanted[16];
    std::snprintf(wanted, sizeof(wanted), ":%04X", static_cast<unsigned>(port));
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        if (state == "0A" && local.ends_with(wanted)) {
            return "socket:[" + inode + "]";
        }
    }
    return {};
}

// Fails when `broker` holds, above stdin/stdout/stderr, a socket or pipe that the server holds.
void ExpectNothingShared(const ServerProcess& server, pid_t broker) {
    const auto listener = ListeningSocket(server.port());
    ASSERT_FALSE(listener.empty());
    const auto ours = SocketsAndPipes(server.pid(), -1);
    ASSERT_TRUE(ours.contains(listener));
    const auto theirs = SocketsAndPipes(broker, 2);
    EXPECT_FALSE(theirs.contains(listener)) << "mosquitto holds the HTTP listening socket";
    for (const auto& descriptor : theirs) {
        EXPECT_FALSE(ours.contains(descriptor)) << "mosquitto shares " << descriptor;
    }
}

TEST(BrokerDescriptors, MosquittoInheritsNoneOfTheServersDescriptors) {
    ServerProcess server;
    const pid_t first = server.BrokerPid();
    ASSERT_GT(first, 0);
    ExpectNothingShared(server, first);

    // HTTP connections open while the supervisor starts a new broker.
    HttpClient client(server.port());
    ASSERT_EQ(client.Get("/healthz").status, 200);
    ASSERT_EQ(kill(first, SIGKILL), 0);
    pid_t second = -1;
    for (int i = 0; i < 100 && (second <= 0 || second == first); ++i) {
        std::this_thread::sleep_for(100ms);
        second = server.BrokerPid();
    }
    ASSERT_GT(second, 0);
    ASSERT_NE(second, first);
    std::this_thread::sleep_for(300ms);  // past exec: the descriptors are mosquitto's own
    ExpectNothingShared(server, second);
    EXPECT_EQ(client.Get("/healthz").status, 200);
}

}  // namespace
}  // namespace rainmaker::testing

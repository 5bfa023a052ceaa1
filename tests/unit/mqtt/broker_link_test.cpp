// The server's broker link against a real Mosquitto on a free loopback port: it connects,
// ingests what a node publishes and publishes to nodes, also when its socket is numbered past
// 1023 (libmosquitto's own loop uses select() and gives up on such a socket for good: a busy
// server with a raised open-file limit lost its link at the next reconnect).
#include "mqtt/broker_link.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::mqtt {
namespace {

using namespace std::chrono_literals;

std::uint16_t FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// A plain Mosquitto: anonymous clients on a loopback port.
class Broker {
public:
    explicit Broker(const std::filesystem::path& dir) : port_(FreePort()) {
        const auto conf = dir / "mosquitto.conf";
        std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
                            << "log_dest none\n";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !Accepts(); ++i) {
            std::this_thread::sleep_for(10ms);
        }
    }

    ~Broker() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }

    std::uint16_t port() const { return port_; }

    // Stops (SIGSTOP) or resumes (SIGCONT) the broker: a stopped one reads nothing.
    void Pause(bool paused) { ::kill(pid_, paused ? SIGSTOP : SIGCONT); }

    bool Accepts() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port_);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        return ok;
    }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

// Takes every free descriptor below `below` (copies of /dev/null), so the next socket this
// process opens is numbered `below` or more; gives them back on destruction.
class LowDescriptors {
public:
    explicit LowDescriptors(int below) {
        const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        for (int fd = null; fd >= 0 && fd < below; fd = ::fcntl(null, F_DUPFD_CLOEXEC, 0)) {
            held_.push_back(fd);
        }
    }

    ~LowDescriptors() {
        for (const int fd : held_) {
            ::close(fd);
        }
    }

private:
    std::vector<int> held_;
};

class BrokerLinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_max < 2048) {
            GTEST_SKIP() << "the hard open-file limit is below 2048";
        }
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }

    // Node `n1`'s params as stored, "" until there are some.
    std::string StoredParams() {
        for (int i = 0; i < 300; ++i) {
            if (const auto node = db_.Nodes().Find("n1"); node && !node->params.empty()) {
                return node->params;
            }
            std::this_thread::sleep_for(10ms);
        }
        return {};
    }

    testing::TempDir dir_;
    storage::sqlite::SqliteDatabase db_{dir_.path() / "db.sqlite"};
    testing::FakeClock clock_;
    domain::nodes::MappingService mapping_{db_, clock_};
    domain::nodes::NodeIngest ingest_{db_, mapping_, clock_};
};

TEST_F(BrokerLinkTest, ConnectsIngestsAndPublishesOnASocketNumberedPast1023) {
    Broker broker(dir_.path());
    ASSERT_TRUE(broker.Accepts());
    BrokerLink link(ingest_, db_);
    {
        const LowDescriptors low(1100);
        link.Start(LinkEndpoint{"127.0.0.1", broker.port(), "", ""});
    }
    ASSERT_TRUE(link.connected());
    // A node's report reaches the store (no config stored: kept as reported).
    const int pub = std::system(("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                                 " -q 1 -t node/n1/params/local -m '{\"Light\":{\"Power\":true}}'")
                                    .c_str());
    ASSERT_EQ(pub, 0);
    EXPECT_EQ(StoredParams(), R"({"Light":{"Power":true}})");
    // What the link publishes reaches the node.
    std::string received;
    std::thread node([&] {
        FILE* sub = ::popen(
            ("mosquitto_sub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
             " -q 1 -C 1 -W 10 -t node/n1/params/remote")
                .c_str(),
            "r"
        );
        char line[256] = {};
        while (sub != nullptr && std::fgets(line, sizeof(line), sub) != nullptr) {
            received += line;
        }
        if (sub != nullptr) {
            ::pclose(sub);
        }
    });
    std::this_thread::sleep_for(500ms);  // the subscription is in place
    EXPECT_TRUE(link.Publish("n1", "params/remote", R"({"Light":{"Power":false}})"));
    node.join();
    EXPECT_EQ(received, "{\"Light\":{\"Power\":false}}\n");
    link.Stop();
}

TEST_F(BrokerLinkTest, PublishesAreRefusedOnceTheOutboxHoldsItsBytes) {
    // A broker that reads nothing: what the link publishes piles up in the socket, then in
    // libmosquitto's queue, then in the outbox, which refuses past its 4 MiB.
    Broker broker(dir_.path());
    ASSERT_TRUE(broker.Accepts());
    BrokerLink link(ingest_, db_, OutboxLimits{200000, 4 * 1024 * 1024});
    link.Start(LinkEndpoint{"127.0.0.1", broker.port(), "", ""});
    ASSERT_TRUE(link.connected());
    broker.Pause(true);
    const std::string payload(1024 * 1024, 'x');
    int taken = 0;
    for (int i = 0; i < 64; ++i) {
        taken += link.Publish("n1", "to-node", payload) ? 1 : 0;
        std::this_thread::sleep_for(5ms);  // the network thread hands over what it can
    }
    // The socket buffers, one hand-over to libmosquitto and the outbox hold a few MiB each;
    // 64 MiB never fit.
    EXPECT_LT(taken, 48);
    EXPECT_GE(link.counters().publish_failures, 16u);
    broker.Pause(false);
    link.Stop();
}

}  // namespace
}  // namespace rainmaker::mqtt

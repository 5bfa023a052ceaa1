// The server's broker link against a real Mosquitto on a free loopback port: it connects,
// ingests what a node publishes and publishes to nodes, also when its socket is numbered past
// 1023 (libmosquitto's own loop uses select() and gives up on such a socket for good: a busy
// server with a raised open-file limit lost its link at the next reconnect); and it takes
// presence from EMQX-shaped $SYS client events when told to (#13).
#include "mqtt/broker_link.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "mqtt/ingest_connection.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
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

// A plain Mosquitto: anonymous clients on a loopback port; `extra` configuration lines (a
// bridge) go in <name>.conf after the listener.
class Broker {
public:
    explicit Broker(
        const std::filesystem::path& dir,
        const std::string& name = "mosquitto",
        const std::string& extra = {}
    )
        : port_(FreePort()) {
        const auto conf = dir / (name + ".conf");
        std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
                            << "log_dest none\n"
                            << extra;
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

// A store with the services the link feeds.
class LinkTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    domain::nodes::MappingService mapping_{db_, clock_};
    domain::nodes::NodeIngest ingest_{db_, mapping_, clock_};
};

class BrokerLinkTest : public LinkTest {
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

// [mqtt] presence = "emqx-sys": the link reads EMQX's client events. Mosquitto lets no client
// publish on $SYS (only itself and its bridges), so this stand-in for EMQX takes the events
// over a bridge from a second broker, where the test publishes them under emqx-sys/: the link
// receives $SYS/brokers/<emqx node>/clients/<id>/... as it would from EMQX.
class EmqxPresenceLinkTest : public LinkTest {
protected:
    void SetUp() override {
        for (const char* id : {"n1", "n2"}) {
            storage::NodeRow node;
            node.node_id = id;
            db_.Nodes().Insert(node);
        }
    }

    // Publishes an EMQX client event of `client` (`event`: connected or disconnected) through
    // the bridge; true when mosquitto_pub had it acknowledged.
    bool Event(std::string_view client, std::string_view event, std::string_view payload) {
        const std::string command =
            "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(source_.port()) +
            " -q 1 -t 'emqx-sys/emqx@127.0.0.1/clients/" + std::string(client) + "/" +
            std::string(event) + "' -m '" + std::string(payload) + "'";
        return std::system(command.c_str()) == 0;
    }

    // Waits up to `timeout` for node `id`'s stored connected state to be `connected`.
    bool WaitConnected(std::string_view id, bool connected, std::chrono::milliseconds timeout) {
        for (auto waited = 0ms; waited <= timeout; waited += 20ms) {
            if (const auto node = db_.Nodes().Find(id); node && node->connected == connected) {
                return true;
            }
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

    Broker source_{dir_.path(), "source"};
    Broker broker_{
        dir_.path(),
        "emqx",
        "connection emqx-events\naddress 127.0.0.1:" + std::to_string(source_.port()) +
            "\ntopic # in 1 $SYS/brokers/ emqx-sys/\n"};
};

TEST_F(EmqxPresenceLinkTest, ClientEventsSetPresenceAndForgedOrStaleOnesChangeNothing) {
    ASSERT_TRUE(source_.Accepts() && broker_.Accepts());
    BrokerLink link(ingest_, db_);
    link.Start(LinkEndpoint{"127.0.0.1", broker_.port(), "", "", PresenceSource::kEmqxSys});
    ASSERT_TRUE(link.connected());

    // n1 connects (EMQX 5's fields). The bridge comes up in its own time: the event is sent
    // again until it arrives (the same event twice changes nothing more).
    const std::string connect =
        R"({"clientid":"n1","username":"n1","ts":1800000000200,"connected_at":1800000000100,)"
        R"("ipaddress":"10.1.2.3","sockport":8883,"proto_name":"MQTT","proto_ver":4,)"
        R"("keepalive":60,"clean_start":true,"expiry_interval":0,"protocol":"mqtt"})";
    bool online = false;
    for (int i = 0; i < 50 && !online; ++i) {
        ASSERT_TRUE(Event("n1", "connected", connect));
        online = WaitConnected("n1", true, 200ms);
    }
    ASSERT_TRUE(online);
    EXPECT_EQ(db_.Nodes().Find("n1")->connectivity_at, 1800000000200);
    const auto malformed = link.counters().malformed.load();

    // Forged or stale, none of these takes n1 offline:
    // - a disconnect on n1's topic whose payload names another client (counted as malformed);
    ASSERT_TRUE(Event(
        "n1",
        "disconnected",
        R"({"clientid":"n2","ts":1800000000300,"connected_at":1800000000100,)"
        R"("disconnected_at":1800000000300,"reason":"normal"})"
    ));
    // - the late disconnect of an earlier connection of n1;
    ASSERT_TRUE(Event(
        "n1",
        "disconnected",
        R"({"clientid":"n1","ts":1800000000400,"connected_at":1800000000050,)"
        R"("disconnected_at":1800000000090,"reason":"takenover"})"
    ));
    // - the plugin's event, published by a client: in this mode the link does not subscribe to
    //   it (nothing legitimate publishes there on EMQX).
    const int plugin =
        std::system(("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker_.port()) +
                     " -q 1 -t '$aws/events/presence/disconnected/n1' -m "
                     "'{\"timestamp\":1800000000500,\"sessionIdentifier\":\"9000000000000-1\","
                     "\"versionNumber\":1}'")
                        .c_str());
    ASSERT_EQ(plugin, 0);
    // n2's connect comes after them over the same bridge: once it is applied, they were read.
    ASSERT_TRUE(Event("n2", "connected", R"({"clientid":"n2","ts":1800000000600})"));
    ASSERT_TRUE(WaitConnected("n2", true, 5s));
    EXPECT_TRUE(db_.Nodes().Find("n1")->connected);
    EXPECT_EQ(db_.Nodes().Find("n1")->connectivity_at, 1800000000200);
    EXPECT_EQ(link.counters().malformed.load(), malformed + 1);

    // n1's own disconnect (of the connection that began at 100) takes it offline.
    ASSERT_TRUE(Event(
        "n1",
        "disconnected",
        R"({"clientid":"n1","ts":1800000000700,"connected_at":1800000000100,)"
        R"("disconnected_at":1800000000690,"reason":"tcp_closed"})"
    ));
    ASSERT_TRUE(WaitConnected("n1", false, 5s));
    EXPECT_EQ(db_.Nodes().Find("n1")->connectivity_at, 1800000000700);
    EXPECT_TRUE(db_.Nodes().Find("n2")->connected);
    link.Stop();
}

// The ingest connection acknowledges a message only when told to: one it was handed and never
// acknowledged (the server died before the store committed it) comes again, marked dup, to the
// next connection of the same client id; one acknowledged does not.
class IngestConnectionTest : public ::testing::Test {
protected:
    struct Received {
        std::mutex mutex;
        std::vector<IngestMessage> messages;
        std::vector<bool> sessions;
    };

    // `leave`: unsubscribe the shared subscription when reading stops.
    std::unique_ptr<IngestConnection> Connect(
        Received& into, const std::string& client_id = "ingest-test", bool leave = false
    ) {
        IngestOptions options;
        options.host = "127.0.0.1";
        options.port = broker_.port();
        options.client_id = client_id;
        options.filters = {"$share/rainmaker/node/+/tsdata"};
        if (leave) {
            options.leave_on_stop = options.filters;
        }
        auto connection = std::make_unique<IngestConnection>(
            options,
            IngestConnection::Handlers{
                [&into](bool present, std::uint64_t) {
                    std::lock_guard lock(into.mutex);
                    into.sessions.push_back(present);
                },
                [&into](IngestMessage m) {
                    std::lock_guard lock(into.mutex);
                    into.messages.push_back(std::move(m));
                },
                {}}
        );
        connection->Start();
        for (int i = 0; i < 500 && !connection->subscribed(); ++i) {
            std::this_thread::sleep_for(10ms);
        }
        return connection;
    }

    // Waits up to 5 s for `count` messages.
    static bool WaitFor(Received& r, std::size_t count) {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(r.mutex);
                if (r.messages.size() >= count) {
                    return true;
                }
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    bool Publish(const std::string& payload) {
        return std::system(("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker_.port()) +
                            " -q 1 -t node/n1/tsdata -m " + payload)
                               .c_str()) == 0;
    }

    testing::TempDir dir_;
    Broker broker_{dir_.path()};
};

TEST_F(IngestConnectionTest, AMessageNotAcknowledgedComesAgainToTheNextConnection) {
    ASSERT_TRUE(broker_.Accepts());
    {
        Received first;
        auto connection = Connect(first);
        ASSERT_TRUE(connection->subscribed());
        ASSERT_TRUE(Publish("one"));
        ASSERT_TRUE(WaitFor(first, 1));
        connection->Stop();  // never acknowledged
        EXPECT_EQ(first.messages[0].topic, "node/n1/tsdata");
        EXPECT_EQ(first.messages[0].payload, "one");
        EXPECT_NE(first.messages[0].packet_id, 0);
        EXPECT_FALSE(first.messages[0].dup);
        EXPECT_EQ(first.sessions, std::vector<bool>{false});  // the broker's first meeting
    }
    ASSERT_TRUE(Publish("two"));  // while no connection of ours is up: kept in the session
    {
        Received second;
        auto connection = Connect(second);
        ASSERT_TRUE(WaitFor(second, 2));
        std::vector<IngestMessage> got;
        {
            std::lock_guard lock(second.mutex);
            got = second.messages;
            EXPECT_EQ(second.sessions, std::vector<bool>{true});
        }
        EXPECT_EQ(got[0].payload, "one");
        EXPECT_TRUE(got[0].dup);
        EXPECT_EQ(got[1].payload, "two");
        std::vector<std::uint16_t> ids;
        for (const auto& m : got) {
            ids.push_back(m.packet_id);
        }
        EXPECT_FALSE(connection->Acknowledge(got[0].connection + 1, ids));
        EXPECT_TRUE(connection->Acknowledge(got[0].connection, ids));
        connection->Stop();  // sends the acknowledgements before it disconnects
    }
    {
        Received third;
        auto connection = Connect(third);
        ASSERT_TRUE(Publish("three"));
        ASSERT_TRUE(WaitFor(third, 1));
        std::this_thread::sleep_for(200ms);
        std::lock_guard lock(third.mutex);
        ASSERT_EQ(third.messages.size(), 1u);  // "one" and "two" were acknowledged
        EXPECT_EQ(third.messages[0].payload, "three");
    }
}

// An instance that stops leaves the shared subscriptions: the broker hands their messages to the
// instances that stay. One that does not (killed) keeps its share queued in its session.
TEST_F(IngestConnectionTest, AConnectionThatStopsLeavesTheSharedSubscriptions) {
    ASSERT_TRUE(broker_.Accepts());
    Received stays;
    auto staying = Connect(stays, "stays");
    const auto count = [&] {
        std::lock_guard lock(stays.mutex);
        return stays.messages.size();
    };
    for (const bool leave : {true, false}) {
        Received gone;
        auto going = Connect(gone, leave ? "leaves" : "stays-away", leave);
        ASSERT_TRUE(staying->subscribed() && going->subscribed());
        going->StopReading();
        going->Stop();
        const auto before = count();
        for (int i = 0; i < 4; ++i) {
            ASSERT_TRUE(Publish("m" + std::to_string(i)));
        }
        WaitFor(stays, before + 4);
        std::this_thread::sleep_for(200ms);
        EXPECT_EQ(count() - before, leave ? 4u : 2u) << (leave ? "left" : "stayed away");
    }
    staying->Stop();
}

// Two server instances (two links, each its own client id) on one broker and one store: the
// shared subscriptions hand each node message to one of them, so each is applied once.
TEST_F(LinkTest, TwoInstancesShareTheNodeMessagesAndApplyEachOnce) {
    Broker broker(dir_.path());
    ASSERT_TRUE(broker.Accepts());
    BrokerLink first(ingest_, db_);
    first.Start(LinkEndpoint{
        "127.0.0.1", broker.port(), "", "", PresenceSource::kPlugin, "instance-1"});
    domain::nodes::NodeIngest other_ingest{db_, mapping_, clock_};
    BrokerLink second(other_ingest, db_);
    second.Start(LinkEndpoint{
        "127.0.0.1", broker.port(), "", "", PresenceSource::kPlugin, "instance-2"});
    ASSERT_TRUE(first.connected() && second.connected());
    constexpr int kMessages = 200;
    std::string lines;
    for (int i = 0; i < kMessages; ++i) {
        lines += "{\"Light\":{\"Level\":" + std::to_string(i) + "}}\n";
    }
    const auto file = dir_.path() / "messages.txt";
    std::ofstream(file) << lines;
    ASSERT_EQ(
        std::system(("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                     " -q 1 -t node/n1/params/local -l < " + file.string())
                        .c_str()),
        0
    );
    const auto applied = [&] {
        return first.counters().ingested.load() + second.counters().ingested.load();
    };
    for (int i = 0; i < 500 && applied() < kMessages; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(200ms);  // nothing more comes
    EXPECT_EQ(first.counters().received.load() + second.counters().received.load(), kMessages);
    EXPECT_EQ(applied(), kMessages);
    EXPECT_GT(first.counters().ingested.load(), 0u);
    EXPECT_GT(second.counters().ingested.load(), 0u);
    second.Stop();
    first.Stop();
}

}  // namespace
}  // namespace rainmaker::mqtt

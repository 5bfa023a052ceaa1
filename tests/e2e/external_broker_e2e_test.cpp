// External-broker mode: the server does not start Mosquitto but links to one it is given
// (host, port, credentials), and ingests from and publishes to it the same way.
#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

// A port nobody listens on: bound once to port 0, then released for the broker.
std::uint16_t FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

// A plain Mosquitto with a password listener: the "external" broker of an operator.
class ExternalBroker {
public:
    explicit ExternalBroker(const std::filesystem::path& dir) : port_(FreePort()) {
        std::filesystem::permissions(
            dir, std::filesystem::perms::all, std::filesystem::perm_options::replace
        );
        const auto passwd = dir / "passwd";
        std::ofstream(passwd).close();
        const auto r =
            RunProgram({"mosquitto_passwd", "-b", passwd.string(), "server", "S3cretLink"});
        EXPECT_EQ(r.exit_code, 0) << r.output;
        std::ofstream conf(dir / "mosquitto.conf");
        conf << "user root\nlistener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
             << "password_file " << passwd.string() << "\n";
        conf.close();
        pid_ = fork();
        if (pid_ == 0) {
            execlp("mosquitto", "mosquitto", "-c", (dir / "mosquitto.conf").c_str(), nullptr);
            _exit(127);
        }
        // Wait until it accepts connections.
        for (int i = 0; i < 100 && !Accepts(); ++i) {
            std::this_thread::sleep_for(20ms);
        }
    }

    ~ExternalBroker() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }

    std::uint16_t port() const { return port_; }

private:
    bool Accepts() const {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port_);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        close(fd);
        return ok;
    }

    std::uint16_t port_;
    pid_t pid_ = -1;
};

TEST(ExternalBroker, ServerIngestsFromAndPublishesToTheBrokerItIsGiven) {
    TempDir dir;
    ExternalBroker broker(dir.path());
    TomlConfig config(
        "[mqtt]\nembedded = false\nexternal_host = \"127.0.0.1\"\nexternal_port = " +
        std::to_string(broker.port()) +
        "\nexternal_user = \"server\"\nexternal_password = \"S3cretLink\"\n"
    );
    ServerProcess server(config.Options());
    HttpClient client(server.port());
    EXPECT_FALSE(std::filesystem::exists(server.data_dir() / "broker" / "mosquitto.conf"));
    const auto metrics = client.Get("/metrics");
    EXPECT_NE(metrics.body.find("rainmaker_mqtt_link_up 1"), std::string::npos);

    // A node on the external broker (anonymous here: the operator's broker authenticates).
    const std::string node = "ExtNode0123456789abcd";
    MqttCredentials plain;
    plain.port = broker.port();
    MosquittoSub sub(plain, node + "-sub", {"node/" + node + "/params/remote"});
    ASSERT_TRUE(sub.WaitSubscribed());
    const std::string config_json =
        R"({"node_id":")" + node +
        R"(","config_version":"2020-03-20","info":{"name":"X","type":"Switch"},"devices":[{"name":"Switch","params":[{"name":"Power","data_type":"bool","properties":["read","write"]}]}]})";
    ASSERT_EQ(MosquittoPub(plain, node, "node/" + node + "/config", config_json).exit_code, 0);

    // Map it (secret key, node side through the broker).
    const Tokens alice = SignUpAndLogin(client, server, "alice@example.com");
    const std::string user_id = client.Get("/v1/user2", alice.accesstoken).Str("user_id");
    ASSERT_EQ(
        MosquittoPub(
            plain,
            node,
            "node/" + node + "/user/mapping",
            R"({"node_id":")" + node + R"(","user_id":")" + user_id + R"(","secret_key":"k"})"
        )
            .exit_code,
        0
    );
    const auto request = client.Put(
        "/v1/user/nodes/mapping",
        boost::json::object{{"node_id", node}, {"secret_key", "k"}, {"operation", "add"}},
        alice.accesstoken
    );
    HttpResult status;
    for (int i = 0; i < 100; ++i) {
        status = client.Get(
            "/v1/user/nodes/mapping?request_id=" + request.Str("request_id"), alice.accesstoken
        );
        if (status.Str("request_status") == "confirmed") {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(status.Str("request_status"), "confirmed") << status.body;
    const auto set = client.Put(
        "/v1/user/nodes/params?node_id=" + node,
        boost::json::object{{"Switch", boost::json::object{{"Power", true}}}},
        alice.accesstoken
    );
    ASSERT_EQ(set.status, 200) << set.body;
    ASSERT_TRUE(sub.WaitForMessage("node/" + node + "/params/remote")) << sub.output();
    EXPECT_EQ(sub.messages().back().payload, R"({"Switch":{"Power":true}})");
}

}  // namespace
}  // namespace rainmaker::testing

// One server per data directory (hardening finding 5): a second server started on a directory
// in use stops at once with a clear message and changes nothing there, and the first one keeps
// working, also after its broker restarts.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadText(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool LinkUp(HttpClient& client) {
    return client.Get("/metrics").body.find("rainmaker_mqtt_link_up 1") != std::string::npos;
}

TEST(DataDirectory, ASecondServerOnADirectoryInUseStopsAndChangesNothing) {
    ServerProcess first;
    HttpClient client(first.port());
    const auto broker = first.data_dir() / "broker";
    const std::string conf = ReadText(broker / "mosquitto.conf");
    const std::string password = ReadText(broker / "link-password");
    const auto conf_time = std::filesystem::last_write_time(broker / "mosquitto.conf");

    std::string out;
    const int status = first.RunCommand(
        {"--http-port",
         "0",
         "--https-port",
         "0",
         "--mqtt-port",
         "0",
         "--mqtt-address",
         "127.0.0.1"},
        &out,
        true
    );
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(
        out.find("is in use by another rainmaker-server (pid " + std::to_string(first.pid())),
        std::string::npos
    ) << out;
    EXPECT_EQ(ReadText(broker / "mosquitto.conf"), conf);
    EXPECT_EQ(ReadText(broker / "link-password"), password);
    EXPECT_EQ(std::filesystem::last_write_time(broker / "mosquitto.conf"), conf_time);

    // The first server's broker comes back on the same configuration, and its link with it.
    const pid_t mosquitto = first.BrokerPid();
    ASSERT_GT(mosquitto, 0);
    ASSERT_EQ(kill(mosquitto, SIGKILL), 0);
    bool back = false;
    for (int i = 0; i < 300 && !back; ++i) {
        std::this_thread::sleep_for(100ms);
        back = first.BrokerPid() > 0 && first.BrokerPid() != mosquitto && LinkUp(client);
    }
    EXPECT_TRUE(back);
    EXPECT_EQ(client.Get("/healthz").status, 200);
}

TEST(DataDirectory, TheLockIsFreedWhenTheServerStopsEvenByKill) {
    ServerProcess server;
    server.Kill();
    server.Restart();  // would fail with the directory still locked
    HttpClient client(server.port());
    EXPECT_EQ(client.Get("/healthz").status, 200);
}

}  // namespace
}  // namespace rainmaker::testing

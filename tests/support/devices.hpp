// Device steps shared by end-to-end tests: claim a node with the simulator, run it against the
// server's broker, map it by secret key, and poll a GET until the asynchronous node side shows.
// A fixture derives from DeviceLab (next to ::testing::Test) and hands it its server, client and
// temp dir; DeviceLab only keeps the references, so they may be members declared later.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {

struct Device {
    std::string node_id;
    std::filesystem::path dir;
};

class DeviceLab {
public:
    DeviceLab(const ServerProcess& server, HttpClient& client, const TempDir& dir)
        : lab_server_(server), lab_client_(client), lab_dir_(dir) {}

    std::string UserId(const Tokens& t);

    // `rainmaker-sim claim` into <temp dir>/<name> (for the device with `mac` when given): the
    // node id and its directory.
    Device Claim(const Tokens& t, const std::string& name, const std::string& mac = {});

    // `rainmaker-sim run` of the claimed node against the server's broker, plus `extra`.
    std::unique_ptr<SimProcess> Run(const Device& d, std::vector<std::string> extra = {});

    // Secret-key mapping, node side first (as after provisioning); the confirmed request's id
    // goes to `request_id` when given; `extra` are more simulator arguments.
    std::unique_ptr<SimProcess> RunMapped(
        const Tokens& t,
        const Device& d,
        std::string* request_id = nullptr,
        std::vector<std::string> extra = {}
    );

    // Claims node `name`, maps it with the simulator and waits until the config it sends (one
    // with `param`, e.g. "Temperature") is stored; then the simulator stops, so that the test
    // speaks as the node. Adds a test failure when the config does not arrive.
    Device ClaimConfigured(const Tokens& t, const std::string& name, const std::string& param);
    // The request_status of a mapping request.
    std::string Status(const Tokens& t, const std::string& request_id);

    // Polls until `predicate` holds for GET `target` (the node side is asynchronous).
    template <typename Predicate>
    HttpResult Eventually(const std::string& target, const Tokens& t, Predicate predicate) {
        HttpResult r;
        for (int i = 0; i < 100; ++i) {
            r = lab_client_.Get(target, t.accesstoken);
            if (predicate(r)) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return r;
    }

private:
    const ServerProcess& lab_server_;
    HttpClient& lab_client_;
    const TempDir& lab_dir_;
};

}  // namespace rainmaker::testing

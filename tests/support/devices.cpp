#include "support/devices.hpp"

#include <gtest/gtest.h>

namespace rainmaker::testing {

using boost::json::object;

std::string DeviceLab::UserId(const Tokens& t) {
    return lab_client_.Get("/v1/user2", t.accesstoken).Str("user_id");
}

Device DeviceLab::Claim(const Tokens& t, const std::string& name, const std::string& mac) {
    const auto dir = lab_dir_.path() / name;
    std::vector<std::string> args = {
        "claim",
        "--api",
        "http://127.0.0.1:" + std::to_string(lab_server_.port()),
        "--token",
        t.accesstoken,
        "--out",
        dir.string()};
    if (!mac.empty()) {
        args.insert(args.end(), {"--mac", mac});
    }
    int status = 0;
    const auto out = SimProcess::Run(args, &status);
    EXPECT_EQ(status, 0) << out;
    Device d{out.substr(0, out.find('\n')), dir};
    EXPECT_EQ(d.node_id.size(), 22u) << out;
    return d;
}

std::unique_ptr<SimProcess> DeviceLab::Run(const Device& d, std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "run",
        "--node-dir",
        d.dir.string(),
        "--mqtt-host",
        "127.0.0.1",
        "--mqtt-port",
        std::to_string(lab_server_.mqtt_port()),
        "--ca",
        lab_server_.ca_file().string(),
        "--stdin"};  // the test drives it through its stdin (a pipe, not a terminal)
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<SimProcess>(args);
}

Device DeviceLab::ClaimConfigured(
    const Tokens& t, const std::string& name, const std::string& param
) {
    auto d = Claim(t, name);
    auto sim = RunMapped(t, d);
    const std::string quoted = "\"" + param + "\"";
    const auto node = Eventually("/v1/user/nodes?node_details=true", t, [&](const HttpResult& r) {
        return r.body.find(quoted) != std::string::npos;
    });
    EXPECT_NE(node.body.find(quoted), std::string::npos) << node.body;
    return d;
}

std::unique_ptr<SimProcess> DeviceLab::RunMapped(
    const Tokens& t, const Device& d, std::string* request_id, std::vector<std::string> extra
) {
    std::vector<std::string> args = {
        "--map-user", UserId(t), "--map-secret", "s3cret-" + d.node_id};
    args.insert(args.end(), extra.begin(), extra.end());
    auto sim = Run(d, args);
    EXPECT_FALSE(sim->WaitFor("ready").empty());
    const auto r = lab_client_.Put(
        "/v1/user/nodes/mapping",
        object{{"node_id", d.node_id}, {"secret_key", "s3cret-" + d.node_id}, {"operation", "add"}},
        t.accesstoken
    );
    EXPECT_EQ(r.status, 200) << r.body;
    if (request_id != nullptr) {
        *request_id = r.Str("request_id");
    }
    // The node's report reaches the store asynchronously (the broker acknowledges it before
    // the server ingests it): either order confirms.
    const auto status = Eventually(
        "/v1/user/nodes/mapping?request_id=" + r.Str("request_id"),
        t,
        [](const HttpResult& s) { return s.Str("request_status") == "confirmed"; }
    );
    EXPECT_EQ(status.Str("request_status"), "confirmed");
    return sim;
}

std::string DeviceLab::Status(const Tokens& t, const std::string& request_id) {
    return lab_client_.Get("/v1/user/nodes/mapping?request_id=" + request_id, t.accesstoken)
        .Str("request_status");
}

}  // namespace rainmaker::testing

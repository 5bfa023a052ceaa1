// The composition root: the only place that names concrete types (SQLite store, SMTP or
// mailbox sender, ES256 signer) and wires them into the services and the HTTP server.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "app/config.hpp"

namespace rainmaker::domain::nodes {
class AdminNodeService;
class ClaimService;
}  // namespace rainmaker::domain::nodes

namespace rainmaker::app {

class Application {
public:
    explicit Application(Config config);
    ~Application();

    // Starts serving; returns the bound HTTP port.
    std::uint16_t Start();
    // Graceful stop (in-flight requests finish).
    void Stop();

    domain::users::AccountService& Accounts();
    domain::nodes::ClaimService& Claims();
    domain::nodes::AdminNodeService& AdminNodes();
    // Rewrites the broker's CRL from the store and has the broker re-read it (SIGHUP from the
    // admin command line after it deactivated or activated a node).
    void CertificatesChanged();
    // Writes into `dir` the configuration of a Mosquitto that serves this data directory's nodes
    // (TLS with our CA, ACLs, plugins, the link's listener: what the embedded broker runs), for a
    // broker run by someone else (`admin broker-config`, `make run-cluster`).
    void WriteBrokerFiles(const std::filesystem::path& dir);
    // The bound HTTPS port (0 when disabled), and the port the URLs handed out name.
    std::uint16_t HttpsPort() const;
    std::uint16_t PublicHttpsPort() const;
    // The port devices connect to (the embedded broker's node listener).
    std::uint16_t MqttPort() const;
    const Config& config() const;

private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
};

}  // namespace rainmaker::app

// The broker rainmaker-server runs by default: writes Mosquitto's configuration, server
// certificate, password file, ACLs and CRL into <data-dir>/broker, starts `mosquitto` as a
// child process, restarts it when it dies, and stops it on exit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "crypto/pki.hpp"
#include "mqtt/topics.hpp"

namespace rainmaker::mqtt {

struct BrokerConfig {
    bool embedded = true;                   // false: use the external broker below
    std::string node_address = "0.0.0.0";   // where devices connect (TLS, client certificates)
    std::uint16_t node_port = 8883;         // 0 = any free port
    std::string public_host = "localhost";  // the mqtt_host devices are told
    std::string server_cert_file;  // operator's certificate (e.g. publicly trusted); empty = ours
    std::string server_key_file;
    std::string mosquitto_binary = "mosquitto";
    // The presence plugin; rainmaker_revocation.so is loaded from the same directory. Empty:
    // <binary dir>/../lib/rainmaker_presence.so.
    std::string plugin_path;
    // External broker mode.
    std::string external_host = "127.0.0.1";
    std::uint16_t external_port = 1883;
    std::string external_user;
    std::string external_password;
    // The link's MQTT client id (its ingest session, kept by the broker across restarts): one per
    // server instance. Empty: derived from the host name and the data directory.
    std::string link_client_id;
    // On a stop, leave the shared subscriptions (their share goes to the other instances) instead
    // of keeping it queued in the session for this instance's return. Only for an instance that
    // leaves a cluster for good: the last member leaving, the broker drops their messages.
    bool leave_on_stop = false;
    // Where the link learns presence ([mqtt] presence): our plugin's events (the embedded
    // broker loads it), or EMQX's $SYS client events (an external EMQX only).
    PresenceSource presence = PresenceSource::kPlugin;
};

// Where the server's own MQTT link connects.
struct LinkEndpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string password;
    PresenceSource presence = PresenceSource::kPlugin;  // which presence events it subscribes to
    // The ingest session's MQTT client id: one per server instance, kept across its restarts
    // (the broker holds the session's messages under it while the instance is away).
    std::string client_id = "rainmaker-server";
    bool leave_on_stop = false;  // BrokerConfig::leave_on_stop
};

class EmbeddedBroker {
public:
    // `dir`: where its files go (<data-dir>/broker).
    EmbeddedBroker(
        BrokerConfig config, std::filesystem::path dir, const crypto::CertificateAuthority& ca
    );
    ~EmbeddedBroker();
    EmbeddedBroker(const EmbeddedBroker&) = delete;
    EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

    // Writes the broker files (the CRL lists `revoked_serials`), starts Mosquitto and waits
    // until it accepts connections. Throws std::runtime_error when it does not start.
    void Start(const std::vector<std::string>& revoked_serials);
    // Only writes the files (mosquitto.conf and what it names; the link's password in
    // link-password, its port in link-port): a Mosquitto run by someone else can use them
    // (`admin broker-config`, `make run-cluster`). `keep_link_port`: the port of link-port as it
    // is, even taken (by that Mosquitto, running); else a free one, that one when it is free.
    void WriteFiles(const std::vector<std::string>& revoked_serials, bool keep_link_port = false);
    // Stops Mosquitto (SIGTERM, then SIGKILL after 5 s) and the supervisor.
    void Stop();
    // Has the running broker re-read its configuration and CRL (SIGHUP), without dropping
    // connections; the revocation plugin closes those of revoked certificates.
    void Reload();

    // The CRL file the node listener reads.
    std::filesystem::path CrlFile() const { return dir_ / "crl.pem"; }

    LinkEndpoint Link() const;

    std::uint16_t node_port() const { return node_port_; }

    pid_t pid() const { return pid_; }

private:
    void WaitForEarlierBroker();
    pid_t Spawn();
    void Supervise();

    BrokerConfig config_;
    std::filesystem::path dir_;
    const crypto::CertificateAuthority& ca_;
    std::uint16_t node_port_ = 0;
    std::uint16_t internal_port_ = 0;
    std::string link_password_;
    std::atomic<pid_t> pid_{-1};
    std::mutex pid_mutex_;  // Reload's signal against the supervisor reaping and respawning
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::condition_variable stopped_;
    std::thread supervisor_;
};

}  // namespace rainmaker::mqtt

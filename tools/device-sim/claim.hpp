// Host ("CLI") claiming over HTTP (device-protocol §5.3) and the node directory it fills, so a
// simulated node gets its node id and certificate from the server the way a real one does.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace rainmaker::sim {

// A node directory: node_id, node.key (0600), node.crt, mac, and mqtt_host when the server
// sent one. `claim` writes it; `run`, `sign` and `fleet` read it.
struct NodeFiles {
    std::string node_id;
    std::string mac;  // 12 upper-case hex chars
    std::filesystem::path key_file;
    std::filesystem::path cert_file;
};

// True when dir holds node_id, node.key and node.crt.
bool IsNodeDir(const std::filesystem::path& dir);

// Reads a node directory. Without a mac file the MAC is derived from the node id, so the
// PPI username stays stable. Throws std::runtime_error.
NodeFiles ReadNodeDir(const std::filesystem::path& dir);

struct ClaimOptions {
    std::string api;  // http://HOST:PORT (a trailing '/' is ignored)
    std::string token;
    std::filesystem::path out_dir;
    std::string mac;  // empty = random
    std::string platform = "esp32c3";
};

// A non-2xx answer: the status and the body exactly as received.
class ClaimHttpError : public std::runtime_error {
public:
    ClaimHttpError(long status, std::string body)
        : std::runtime_error("HTTP " + std::to_string(status)),
          status_(status),
          body_(std::move(body)) {}

    long Status() const { return status_; }

    const std::string& Body() const { return body_; }

private:
    long status_;
    std::string body_;
};

// claim/initiate → key + CSR(CN=node_id) → claim/verify → files in out_dir. Returns the node
// id. Throws ClaimHttpError on a non-2xx answer, std::runtime_error on anything else.
std::string ClaimNode(const ClaimOptions& options);

// Normalises a MAC given as 12 hex digits (':' or '-' separators allowed) to upper case;
// throws std::invalid_argument otherwise.
std::string NormaliseMac(const std::string& mac);

}  // namespace rainmaker::sim

// The tests' push services (tests/support/fake_push.mjs: a fake FCM HTTP v1 API and a fake APNs
// over h2c) as a child process on two free loopback ports, with the credentials the server
// signs with — an FCM service account (RSA) and an APNs key (P-256) made with openssl in a
// temporary directory — and the pushes they accepted, read back over HTTP.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include <boost/json.hpp>

#include "support/node_fake.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {

// One push a fake service accepted.
struct ReceivedPush {
    std::int64_t seq = 0;  // the order of acceptance (1, 2, ...)
    std::string platform;  // GCM, APNS, APNS_SANDBOX
    std::string token;
    std::string title;
    std::string body;
    bool sandbox = false;      // APNs: came through the sandbox URL
    boost::json::object data;  // FCM: message.data; APNs: the payload beside "aps"
};

// What GET /received answers.
struct PushLog {
    std::vector<ReceivedPush> pushes;
    std::vector<std::string> rejected;  // requests refused (bad signature, shape...), and why
    std::vector<std::string> gone;      // "<platform> <token>" of each unknown-token answer
    int token_requests = 0;             // FCM token exchanges
    int fcm_send_requests = 0;
    int apns_requests = 0;
    int apns_connections = 0;  // h2c connections the APNs port accepted
    bool ok = false;           // the fake answered
};

class FakePush {
public:
    static constexpr const char* kProjectId = "rainmaker-test";
    static constexpr const char* kClientEmail =
        "firebase-adminsdk@rainmaker-test.iam.gserviceaccount.com";
    static constexpr const char* kKeyId = "ABC123DEFG";
    static constexpr const char* kTeamId = "TEAM123456";
    static constexpr const char* kTopic = "com.example.rainmaker";

    // How the fake APNs treats a connection after answering a push.
    enum class ApnsConnections {
        kKept,     // open for the next pushes, as Apple's servers keep it
        kPerPush,  // GOAWAY with each answer: every push on a new connection
    };

    // Makes the keys, starts the fake and writes the service account (its token_uri the
    // fake's token endpoint); throws std::runtime_error when any of it fails.
    explicit FakePush(ApnsConnections apns_connections = ApnsConnections::kKept);
    ~FakePush();
    FakePush(const FakePush&) = delete;
    FakePush& operator=(const FakePush&) = delete;

    std::uint16_t fcm_port() const { return fcm_port_; }

    std::uint16_t apns_port() const { return apns_port_; }

    std::string FcmUrl() const { return "http://127.0.0.1:" + std::to_string(fcm_port_); }

    std::string ApnsUrl() const { return "http://127.0.0.1:" + std::to_string(apns_port_); }

    const std::filesystem::path& service_account_file() const { return service_account_; }

    const std::filesystem::path& apns_key_file() const { return apns_key_; }

    // The [push] tables of a server configuration sending to this fake (sandbox pushes to
    // <apns>/sandbox), with private addresses allowed.
    std::string ConfigToml() const;

    // GET /received.
    PushLog Received() const;

private:
    TempDir dir_;
    std::filesystem::path service_account_;
    std::filesystem::path apns_key_;
    std::unique_ptr<NodeFake> node_;
    std::uint16_t fcm_port_ = 0;
    std::uint16_t apns_port_ = 0;
};

}  // namespace rainmaker::testing

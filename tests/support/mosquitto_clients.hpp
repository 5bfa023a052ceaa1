// Runs Mosquitto's command-line clients (mosquitto_pub, mosquitto_sub, mosquitto_rr) and other
// CLI tools (sqlite3, openssl) as black-box child processes, every wait bounded and every child
// killed and reaped when the test is done with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rainmaker::testing {

struct ProgramResult {
    int exit_code = -1;  // -1 when it was killed by a signal or by the timeout
    bool timed_out = false;
    std::string output;  // stdout and stderr, interleaved
};

// Runs `argv` (argv[0] is looked up in PATH) to completion; kills it after `timeout`.
ProgramResult RunProgram(
    const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout = std::chrono::seconds(20)
);

// How one MQTT client connects: TLS with an optional client certificate, or a password.
struct MqttCredentials {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::filesystem::path ca_file;    // empty: plain TCP
    std::filesystem::path cert_file;  // empty: no client certificate
    std::filesystem::path key_file;
    std::string username;  // empty: none sent
    std::string password;
};

// The connection options of the clients for `credentials` and `client_id`.
std::vector<std::string> MqttConnectArgs(
    const MqttCredentials& credentials, const std::string& client_id
);

// One QoS 1 publish with mosquitto_pub; exit code 0 once the broker acknowledged it (a denied
// publish is acknowledged too: Mosquitto 2.0 drops it silently).
ProgramResult MosquittoPub(
    const MqttCredentials& credentials,
    const std::string& client_id,
    const std::string& topic,
    const std::string& message
);

struct MqttMessage {
    std::string topic;
    std::string payload;
};

// A running mosquitto_sub (QoS 1, MQTT 3.1.1, debug output on) whose output is read as it
// arrives. It reconnects by itself when the broker drops it; ConnectCount() tells.
class MosquittoSub {
public:
    MosquittoSub(
        const MqttCredentials& credentials,
        const std::string& client_id,
        const std::vector<std::string>& topics
    );
    ~MosquittoSub();
    MosquittoSub(const MosquittoSub&) = delete;
    MosquittoSub& operator=(const MosquittoSub&) = delete;

    // True once the SUBACK arrived (within `timeout`).
    bool WaitSubscribed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // True once a message on exactly `topic` arrived (within `timeout`).
    bool WaitForMessage(
        const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(10)
    );
    // Reads whatever arrives during `window`.
    void Drain(std::chrono::milliseconds window);
    // SIGKILL (the connection drops without DISCONNECT) and reap.
    void Kill();

    const std::vector<MqttMessage>& messages() const { return messages_; }

    // CONNACKs received so far: more than one means the broker dropped it and it reconnected.
    int ConnectCount() const { return connacks_; }

    // Everything it printed, for failure messages.
    const std::string& output() const { return output_; }

private:
    // Reads until `done()` holds or `deadline` passes; false on timeout or end of output.
    template <typename Done>
    bool ReadUntil(Done done, std::chrono::steady_clock::time_point deadline);
    // Keeps `chunk` in output() and parses its complete lines.
    void Append(const std::string& chunk);
    void ParseLine(const std::string& line);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::string buffer_;
    std::string output_;
    std::vector<MqttMessage> messages_;
    int connacks_ = 0;
    int subacks_ = 0;
};

}  // namespace rainmaker::testing

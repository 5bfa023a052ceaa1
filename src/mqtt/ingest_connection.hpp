// The broker link's receiving connection: an MQTT 5 session of its own (mqtt_wire), kept by the
// broker while the server is away (clean start off, a session expiry), subscribed at QoS 1, that
// acknowledges a message only when told to — after the store committed it. What the broker handed
// over and the server never committed is sent again: kill the server at any moment and nothing
// the broker acknowledged to a node is lost. One thread owns the socket (poll()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/wake_fd.hpp"

namespace rainmaker::mqtt {

struct IngestOptions {
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string password;
    std::string client_id;             // one per server instance, the same across its restarts
    std::vector<std::string> filters;  // subscribed at QoS 1 after every CONNACK
    // Unsubscribed once reading stops (StopReading): shared subscriptions, whose share the
    // broker would otherwise go on queueing for this session while it is away.
    std::vector<std::string> leave_on_stop;
    std::uint16_t receive_maximum = 10000;       // messages handed over and not yet acknowledged
    std::uint32_t session_expiry_s = 7 * 86400;  // the broker keeps our messages a week
    std::uint32_t maximum_packet_size = 1 << 20;
    std::uint16_t keep_alive_s = 30;
};

struct IngestMessage {
    std::string topic;
    std::string payload;
    std::uint64_t connection = 0;  // which connection it came on (Acknowledge)
    std::uint16_t packet_id = 0;   // 0: QoS 0, nothing to acknowledge
    bool dup = false;              // the broker sent it before, unacknowledged
};

class IngestConnection {
public:
    struct Handlers {
        // A connection is up (CONNACK accepted): `session_present` false when the broker had
        // no session of ours (its first meeting with this client id, or it lost its state). Runs
        // before any message of that connection.
        std::function<void(bool session_present, std::uint64_t connection)> on_session;
        std::function<void(IngestMessage)> on_message;
        // Whether on_message may be given more now; when not, reading pauses until Wake().
        std::function<bool()> has_room;
    };

    IngestConnection(IngestOptions options, Handlers handlers);
    ~IngestConnection();
    IngestConnection(const IngestConnection&) = delete;
    IngestConnection& operator=(const IngestConnection&) = delete;

    // Starts the thread, which connects and reconnects (backing off up to 10 s).
    void Start();
    // Reads no more messages, and leaves the shared subscriptions (leave_on_stop);
    // acknowledgements still go out.
    void StopReading();
    // Sends what is left to acknowledge (2 s at most), disconnects (the broker keeps the
    // session), and ends the thread.
    void Stop();

    // Acknowledges `packet_ids`, in order, if `connection` is still the current one; false
    // when it is not (the broker will send those messages again, marked dup).
    bool Acknowledge(std::uint64_t connection, const std::vector<std::uint16_t>& packet_ids);
    // The reading may go on (has_room turned true).
    void Wake();

    // Subscribed (SUBACK granted every filter) on the current connection.
    bool subscribed() const { return subscribed_; }

    std::uint64_t connections() const { return connection_; }

private:
    enum class State { kDown, kConnecting, kAwaitConnack, kAwaitSuback, kActive };

    void Run();
    bool BeginConnect();
    void Close(const std::string& why);
    // Reads what the socket has and handles whole packets; false when the connection broke.
    bool ReadPackets();
    bool WritePending();
    // Once reading stopped: the UNSUBSCRIBE of leave_on_stop (once per connection).
    void Leave();
    // Writes out_ for up to `limit` (stopping); false when it could not.
    bool Flush(std::chrono::milliseconds limit);

    IngestOptions options_;
    Handlers handlers_;
    std::thread thread_;
    int fd_ = -1;
    WakeFd wake_;  // Acknowledge, Wake, StopReading and Stop wake the thread
    State state_ = State::kDown;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> reading_{true};
    std::atomic<bool> subscribed_{false};
    std::atomic<std::uint64_t> connection_{0};
    std::string in_;                                  // bytes read, not yet a whole packet
    std::string out_;                                 // bytes to write (network thread)
    std::chrono::steady_clock::time_point deadline_;  // of the connect, CONNACK or SUBACK
    std::chrono::steady_clock::time_point next_ping_;
    bool ping_outstanding_ = false;
    bool left_ = false;  // leave_on_stop unsubscribed on this connection
    std::chrono::steady_clock::time_point ping_sent_;
    std::chrono::milliseconds backoff_{500};
    std::chrono::steady_clock::time_point reconnect_at_;  // after a failure: not before
    bool down_logged_ = false;

    std::mutex mutex_;  // acknowledgements handed over by the ingest thread
    std::string acks_;
    bool taking_acks_ = false;  // the current connection is up (acks_ goes to it)
};

}  // namespace rainmaker::mqtt

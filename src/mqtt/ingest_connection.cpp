// The ingest connection's thread: connect, CONNECT/CONNACK, SUBSCRIBE/SUBACK, then messages in
// and acknowledgements out, with a PINGREQ every half keep-alive.
#include "mqtt/ingest_connection.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "mqtt/mqtt_wire.hpp"

namespace rainmaker::mqtt {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint16_t kSubscribeId = 1;
constexpr std::uint16_t kUnsubscribeId = 2;
constexpr auto kHandshakeTimeout = 10s;
constexpr std::size_t kReadChunk = 64 * 1024;

int MillisUntil(Clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

IngestConnection::IngestConnection(IngestOptions options, Handlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {}

IngestConnection::~IngestConnection() {
    Stop();
}

void IngestConnection::Start() {
    wake_.Open();
    thread_ = std::thread([this] { Run(); });
}

void IngestConnection::StopReading() {
    reading_ = false;
    Wake();
}

void IngestConnection::Stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    Wake();
    if (thread_.joinable()) {
        thread_.join();
    }
    wake_.Close();
}

void IngestConnection::Wake() {
    wake_.Notify();
}

bool IngestConnection::Acknowledge(
    std::uint64_t connection, const std::vector<std::uint16_t>& packet_ids
) {
    {
        std::lock_guard lock(mutex_);
        if (!taking_acks_ || connection != connection_) {
            return false;
        }
        for (const auto id : packet_ids) {
            acks_ += wire::EncodePuback(id);
        }
    }
    Wake();
    return true;
}

bool IngestConnection::BeginConnect() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const auto port = std::to_string(options_.port);
    if (const int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found);
        rc != 0) {
        Close(std::string("cannot resolve the broker: ") + ::gai_strerror(rc));
        return false;
    }
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            fd_ = fd;
            break;
        }
        ::close(fd);
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) {
        Close("cannot connect to the broker");
        return false;
    }
    state_ = State::kConnecting;
    deadline_ = Clock::now() + kHandshakeTimeout;
    in_.clear();
    out_ = wire::EncodeConnect(wire::ConnectOptions{
        options_.client_id,
        options_.user,
        options_.password,
        options_.keep_alive_s,
        false,
        options_.session_expiry_s,
        options_.receive_maximum,
        options_.maximum_packet_size});
    return true;
}

void IngestConnection::Close(const std::string& why) {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    {
        std::lock_guard lock(mutex_);
        taking_acks_ = false;
        acks_.clear();  // the broker sends those messages again on the next connection
    }
    const bool was_up = state_ == State::kActive;
    state_ = State::kDown;
    // Whatever failed (refused, dropped, malformed), the next attempt waits: a broker that is
    // down or refuses us is not hammered.
    reconnect_at_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(10000));
    subscribed_ = false;
    in_.clear();
    out_.clear();
    ping_outstanding_ = false;
    if (stopping_) {
        return;
    }
    if (was_up || !down_logged_) {
        core::log::Warn(
            "MQTT ingest connection to " + options_.host + ":" + std::to_string(options_.port) +
            ": " + why + "; reconnecting"
        );
        down_logged_ = true;
    }
}

bool IngestConnection::WritePending() {
    while (!out_.empty()) {
        const auto n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return true;
            }
            return false;
        }
        out_.erase(0, static_cast<std::size_t>(n));
    }
    return true;
}

bool IngestConnection::Flush(std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (!out_.empty()) {
        if (!WritePending()) {
            return false;
        }
        if (out_.empty()) {
            break;
        }
        pollfd fd{fd_, POLLOUT, 0};
        if (::poll(&fd, 1, MillisUntil(until)) <= 0) {
            return false;
        }
    }
    return true;
}

bool IngestConnection::ReadPackets() {
    char chunk[kReadChunk];
    const auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) {
        Close("the broker closed the connection");
        return false;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return true;
        }
        Close(std::string("read failed: ") + std::strerror(errno));
        return false;
    }
    in_.append(chunk, static_cast<std::size_t>(n));
    // A little more than the largest message we accept: the broker's headers around it.
    const std::size_t max_packet = options_.maximum_packet_size + 16;
    std::size_t used = 0;
    for (;;) {
        auto parsed = wire::ParsePacket(std::string_view(in_).substr(used), max_packet);
        if (parsed.status == wire::ParseStatus::kIncomplete) {
            break;
        }
        if (parsed.status == wire::ParseStatus::kMalformed) {
            Close("malformed packet from the broker");
            return false;
        }
        used += parsed.size;
        if (const auto* ack = std::get_if<wire::Connack>(&parsed.packet)) {
            if (state_ != State::kAwaitConnack) {
                Close("unexpected CONNACK");
                return false;
            }
            if (ack->reason >= 0x80) {
                Close(
                    "the broker refused the connection (reason " + std::to_string(ack->reason) + ")"
                );
                return false;
            }
            std::uint64_t connection = 0;
            {
                std::lock_guard lock(mutex_);
                connection = ++connection_;
                taking_acks_ = true;
                acks_.clear();
            }
            if (!ack->session_present) {
                core::log::Info(
                    "MQTT ingest: the broker holds no session of " + options_.client_id +
                    " (a first connection, or the broker lost its state): a new one begins"
                );
            }
            handlers_.on_session(ack->session_present, connection);
            left_ = false;
            if (!reading_) {
                // Reconnected while stopping: nothing more is read; the kept session's shared
                // subscriptions are left (Leave) if asked, and what was committed acknowledged.
                state_ = State::kActive;
                next_ping_ = Clock::now() + std::chrono::seconds(options_.keep_alive_s) / 2;
                continue;
            }
            out_ += wire::EncodeSubscribe(kSubscribeId, options_.filters);
            state_ = State::kAwaitSuback;
            deadline_ = Clock::now() + kHandshakeTimeout;
        } else if (const auto* sub = std::get_if<wire::Suback>(&parsed.packet)) {
            if (state_ != State::kAwaitSuback || sub->packet_id != kSubscribeId ||
                sub->reasons.size() != options_.filters.size()) {
                Close("unexpected SUBACK");
                return false;
            }
            for (std::size_t i = 0; i < sub->reasons.size(); ++i) {
                if (sub->reasons[i] >= 0x80) {
                    Close(
                        "the broker refused the subscription " + options_.filters[i] + " (reason " +
                        std::to_string(sub->reasons[i]) + ")"
                    );
                    return false;
                }
                if (sub->reasons[i] == 0) {
                    core::log::Warn(
                        "MQTT ingest: the broker granted " + options_.filters[i] +
                        " at QoS 0 only (its max_qos?): what it sends there is not kept for us"
                    );
                }
            }
            state_ = State::kActive;
            subscribed_ = true;
            next_ping_ = Clock::now() + std::chrono::seconds(options_.keep_alive_s) / 2;
            backoff_ = 500ms;
            down_logged_ = false;
            core::log::Info(
                "MQTT ingest connection up as " + options_.client_id + " on " + options_.host +
                ":" + std::to_string(options_.port)
            );
        } else if (const auto* publish = std::get_if<wire::Publish>(&parsed.packet)) {
            if (state_ != State::kActive && state_ != State::kAwaitSuback) {
                Close("PUBLISH before CONNACK");
                return false;
            }
            if (publish->qos > 1) {
                Close("a QoS 2 message on QoS 1 subscriptions");
                return false;
            }
            if (!reading_) {
                continue;  // stopping: not taken, not acknowledged (sent again next time)
            }
            handlers_.on_message(IngestMessage{
                std::string(publish->topic),
                std::string(publish->payload),
                connection_,
                publish->packet_id,
                publish->dup});
        } else if (std::holds_alternative<wire::Pingresp>(parsed.packet)) {
            ping_outstanding_ = false;
        } else if (const auto* d = std::get_if<wire::Disconnect>(&parsed.packet)) {
            Close("the broker disconnected us (reason " + std::to_string(d->reason) + ")");
            return false;
        }
        // Anything else (a PUBACK, an AUTH) asks nothing of us.
    }
    in_.erase(0, used);
    return true;
}

void IngestConnection::Leave() {
    if (!reading_ && !left_ && state_ == State::kActive && !options_.leave_on_stop.empty()) {
        // Stopping: the broker hands the shared subscriptions' messages to the instances that
        // stay (the session keeps what it already handed over, unacknowledged).
        out_ += wire::EncodeUnsubscribe(kUnsubscribeId, options_.leave_on_stop);
        left_ = true;
    }
}

void IngestConnection::Run() {
    core::NameThisThread("rm-ingest-conn");
    while (!stopping_) {
        if (state_ == State::kDown) {
            if (Clock::now() < reconnect_at_) {
                pollfd wake{wake_.fd(), POLLIN, 0};
                ::poll(&wake, 1, MillisUntil(reconnect_at_));
                wake_.Drain();
                continue;
            }
            if (!BeginConnect()) {
                continue;
            }
        }
        {
            std::lock_guard lock(mutex_);
            out_ += acks_;
            acks_.clear();
        }
        Leave();
        // Messages come from the SUBACK wait on (a kept session's right after CONNACK): they
        // wait in the socket while the queue is full or once reading stopped.
        const bool want_read = state_ == State::kAwaitConnack ||
                               ((state_ == State::kAwaitSuback || state_ == State::kActive) &&
                                reading_ && (!handlers_.has_room || handlers_.has_room()));
        short events = want_read ? POLLIN : 0;
        if (state_ == State::kConnecting || !out_.empty()) {
            events |= POLLOUT;
        }
        auto until = state_ == State::kActive ? next_ping_ : deadline_;
        if (state_ == State::kActive && ping_outstanding_) {
            until = ping_sent_ + std::chrono::seconds(options_.keep_alive_s);
        }
        pollfd fds[2] = {{fd_, events, 0}, {wake_.fd(), POLLIN, 0}};
        if (::poll(fds, 2, std::min(MillisUntil(until), 1000)) < 0 && errno != EINTR) {
            Close("poll failed");
            continue;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            wake_.Drain();
        }
        if (stopping_) {
            break;
        }
        if (state_ == State::kConnecting) {
            if ((fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
                int error = 0;
                socklen_t size = sizeof(error);
                ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
                if (error != 0) {
                    Close(std::string("cannot connect: ") + std::strerror(error));
                    continue;
                }
                state_ = State::kAwaitConnack;
            } else if (Clock::now() >= deadline_) {
                Close("connect timed out");
                continue;
            } else {
                continue;
            }
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && want_read && !ReadPackets()) {
            continue;
        }
        if (!want_read && (fds[0].revents & (POLLHUP | POLLERR)) != 0) {
            Close("the connection broke");  // (else poll would report it at once, again)
            continue;
        }
        if (!WritePending()) {
            Close(std::string("write failed: ") + std::strerror(errno));
            continue;
        }
        const auto after = Clock::now();
        if (state_ == State::kAwaitSuback && !want_read) {
            deadline_ = after + kHandshakeTimeout;  // paused: the SUBACK waits unread
        }
        if (state_ != State::kActive) {
            if (after >= deadline_) {
                Close("the broker did not answer the handshake");
            }
            continue;
        }
        if (ping_outstanding_ && !want_read) {
            // Paused: the PINGRESP waits behind messages we do not read yet; pings still go out
            // so that the broker keeps us.
            ping_outstanding_ = false;
        }
        if (ping_outstanding_ &&
            after >= ping_sent_ + std::chrono::seconds(options_.keep_alive_s)) {
            Close("no PINGRESP within the keep-alive");
            continue;
        }
        if (!ping_outstanding_ && after >= next_ping_) {
            out_ += wire::EncodePingreq();
            ping_outstanding_ = true;
            ping_sent_ = after;
            next_ping_ = after + std::chrono::seconds(options_.keep_alive_s) / 2;
        }
    }
    // Stopping: what the store committed is acknowledged, then a normal DISCONNECT (the broker
    // keeps the session and sends the rest to our next connection).
    if (fd_ >= 0 && state_ == State::kActive) {
        {
            std::lock_guard lock(mutex_);
            out_ += acks_;
            acks_.clear();
        }
        Leave();
        out_ += wire::EncodeDisconnect();
        Flush(2000ms);
    }
    Close("stopping");
}

}  // namespace rainmaker::mqtt

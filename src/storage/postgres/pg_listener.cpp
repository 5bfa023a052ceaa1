// LISTEN/NOTIFY over libpq (pg_listener.hpp).
#include "storage/postgres/pg_listener.hpp"

#include <chrono>
#include <poll.h>
#include <stdexcept>
#include <utility>

#include <libpq-fe.h>

#include "core/log.hpp"

namespace rainmaker::storage::postgres {

namespace {

constexpr int kPollMs = 250;  // how soon the thread sees stop_ (and a lost connection)

// LISTEN "name"; false when the server refused it.
bool ListenOn(PGconn* conn, const std::string& channel) {
    char* quoted = PQescapeIdentifier(conn, channel.c_str(), channel.size());
    if (quoted == nullptr) {
        return false;
    }
    PGresult* result = PQexec(conn, ("LISTEN " + std::string(quoted)).c_str());
    PQfreemem(quoted);
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
}

}  // namespace

PgListener::PgListener(std::string url) : url_(std::move(url)) {
    {
        std::lock_guard lock(mutex_);
        if (!Connect()) {
            throw std::runtime_error("postgres: the listener cannot connect");
        }
    }
    thread_ = std::thread([this] { Run(); });
}

PgListener::~PgListener() {
    stop_ = true;
    thread_.join();
    PQfinish(conn_);
}

bool PgListener::Connect() {
    PQfinish(conn_);
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        PQfinish(conn_);
        conn_ = nullptr;
        return false;
    }
    for (const auto& channel : channels_) {
        if (!ListenOn(conn_, channel.name)) {
            PQfinish(conn_);
            conn_ = nullptr;
            return false;
        }
    }
    return true;
}

std::uint64_t PgListener::Add(
    const std::string& channel,
    std::function<void(std::string_view)> on,
    std::function<void()> on_gap
) {
    std::lock_guard lock(mutex_);
    const auto id = ++last_id_;
    channels_.push_back(Channel{id, channel, std::move(on), std::move(on_gap)});
    if (conn_ != nullptr && !ListenOn(conn_, channel)) {
        PQfinish(conn_);  // the thread connects again, listening to it, and reports a gap
        conn_ = nullptr;
    }
    return id;
}

void PgListener::Remove(std::uint64_t id) {
    std::lock_guard dispatching(dispatch_mutex_);
    std::lock_guard lock(mutex_);
    std::erase_if(channels_, [id](const Channel& c) { return c.id == id; });
}

void PgListener::Gap() {
    std::lock_guard dispatching(dispatch_mutex_);
    std::vector<std::function<void()>> gaps;
    {
        std::lock_guard lock(mutex_);
        for (const auto& channel : channels_) {
            gaps.push_back(channel.on_gap);
        }
    }
    for (const auto& gap : gaps) {
        gap();
    }
}

void PgListener::Run() {
    bool lost = false;
    while (!stop_) {
        int fd = -1;
        {
            std::lock_guard lock(mutex_);
            if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
                lost = true;
                if (!Connect()) {
                    fd = -1;
                } else {
                    fd = PQsocket(conn_);
                }
            } else {
                fd = PQsocket(conn_);
            }
        }
        if (fd < 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
            continue;
        }
        if (lost) {
            // Listening again: what was sent while the connection was down is lost.
            core::log::Warn("postgres: the notification listener reconnected");
            Gap();
            lost = false;
        }
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, kPollMs);
        std::vector<std::pair<std::string, std::string>> messages;
        std::vector<Channel> channels;
        std::unique_lock dispatching(dispatch_mutex_);  // channels stay while they run
        {
            std::lock_guard lock(mutex_);
            if (conn_ == nullptr) {
                continue;
            }
            if (PQconsumeInput(conn_) == 0) {
                PQfinish(conn_);
                conn_ = nullptr;
                lost = true;
            } else {
                while (PGnotify* n = PQnotifies(conn_)) {
                    messages.emplace_back(n->relname, n->extra != nullptr ? n->extra : "");
                    PQfreemem(n);
                }
            }
            if (!messages.empty()) {
                channels = channels_;
            }
        }
        if (lost) {
            dispatching.unlock();
            core::log::Warn("postgres: the notification listener lost its connection");
            Gap();
            continue;
        }
        for (const auto& [name, payload] : messages) {
            for (const auto& channel : channels) {
                if (channel.name == name) {
                    channel.on(payload);
                }
            }
        }
    }
}

}  // namespace rainmaker::storage::postgres

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

// A connection to `url` that notices a vanished server within a minute (it only reads, so
// without keepalives a half-open connection would go unseen for hours), or nullptr.
PGconn* Open(const std::string& url) {
    // The URL's own settings come after, and win.
    const char* keys[] = {
        "connect_timeout",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "dbname",
        nullptr};
    const char* values[] = {"10", "10", "5", "3", url.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return nullptr;
    }
    return conn;
}

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

// Runs a listener's callback; what it throws is logged, never the thread's end.
template <typename Call>
void Guarded(Call call) {
    try {
        call();
    } catch (const std::exception& e) {
        core::log::Error(std::string("postgres: a notification callback failed: ") + e.what());
    }
}

}  // namespace

PgListener::PgListener(std::string url) : url_(std::move(url)) {
    if (!Connect()) {
        throw std::runtime_error("postgres: the listener cannot connect");
    }
    thread_ = std::thread([this] { Run(); });
}

PgListener::~PgListener() {
    stop_ = true;
    thread_.join();
    PQfinish(conn_);
}

bool PgListener::Connect() {
    // Connected without the lock (a connect may wait for its timeout), then listening under it
    // to every channel known by then.
    PGconn* conn = Open(url_);
    if (conn == nullptr) {
        return false;
    }
    std::lock_guard lock(mutex_);
    for (const auto& channel : channels_) {
        if (!ListenOn(conn, channel.name)) {
            PQfinish(conn);
            return false;
        }
    }
    PQfinish(conn_);
    conn_ = conn;
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
        Guarded([&] { gap(); });
    }
}

void PgListener::Run() {
    bool lost = false;
    while (!stop_) {
        int fd = -1;
        bool connected = false;
        {
            std::lock_guard lock(mutex_);
            connected = conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
            if (connected) {
                fd = PQsocket(conn_);
            }
        }
        if (!connected) {
            lost = true;
            if (Connect()) {
                std::lock_guard lock(mutex_);
                fd = conn_ != nullptr ? PQsocket(conn_) : -1;
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
        for (const auto& message : messages) {
            const std::string& payload = message.second;  // (clang 14 captures no bindings)
            for (const auto& channel : channels) {
                if (channel.name == message.first) {
                    Guarded([&] { channel.on(payload); });
                }
            }
        }
    }
}

}  // namespace rainmaker::storage::postgres

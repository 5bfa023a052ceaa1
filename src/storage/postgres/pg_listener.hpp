// Messages between the instances on one PostgreSQL database (LISTEN/NOTIFY): a connection of
// its own and a thread that hands each message to the callbacks of its channel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct pg_conn;

namespace rainmaker::storage::postgres {

class PgListener {
public:
    // Connects to `url`; throws when it cannot.
    explicit PgListener(std::string url);
    ~PgListener();  // stops the thread, closes the connection
    PgListener(const PgListener&) = delete;
    PgListener& operator=(const PgListener&) = delete;

    // Listens to `channel` from now on: a message sent after this returns reaches `on`, on the
    // listener's thread, or `on_gap` runs: it runs when messages may have been missed (the
    // connection was lost; again once it is back and listening).
    // Returns the id Remove takes.
    std::uint64_t Add(
        const std::string& channel,
        std::function<void(std::string_view)> on,
        std::function<void()> on_gap
    );
    // Removes Add's `id`: once it returns, its callbacks are not running and will not run.
    void Remove(std::uint64_t id);

private:
    struct Channel {
        std::uint64_t id;
        std::string name;
        std::function<void(std::string_view)> on;
        std::function<void()> on_gap;
    };

    // Opens a connection listening to every channel and makes it conn_; false when it cannot.
    bool Connect();
    void Run();
    void Gap();

    std::string url_;
    std::mutex mutex_;           // conn_, channels_, last_id_
    std::mutex dispatch_mutex_;  // held while callbacks run (Remove waits for them)
    std::uint64_t last_id_ = 0;
    pg_conn* conn_ = nullptr;
    std::vector<Channel> channels_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace rainmaker::storage::postgres

// Delivers the event log to webhook integrations, at least once. The planner reads the events
// after its cursor and, in one transaction with the cursor's move, queues a delivery for each
// enabled integration that takes the event (type listed and active, node listed or none
// listed, integration active, event filters allowing the integration by its name). Workers
// (max_in_flight, one connection each) take due queues — a queue is an integration and a node —
// and post its deliveries oldest first, so a node's events reach a receiver in order; the first
// that fails stops the queue, which is retried after an exponential back-off with jitter, up to
// a cap; after max_attempts the delivery is dead (listed and replayed by admins) and the
// queue goes on. A delivery leaves the store only after its receiver answered 2xx: a server
// killed at any point sends it again after its restart.
//
// Each POST carries the JSON body, `X-Rainmaker-Signature: sha256=<hex HMAC-SHA256 of the exact
// body under the integration's secret>`, `X-Rainmaker-Event` (the event type) and
// `X-Rainmaker-Delivery` (the delivery's id; the body's event_id and webhook_name identify the
// event for receivers that de-duplicate).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "domain/events/event_filter_service.hpp"
#include "domain/events/webhook_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {

// One connection's worth of posting (a worker's; not shared between threads).
class WebhookPoster {
public:
    struct Result {
        int status = 0;     // the receiver's HTTP status; 0 when there was no answer
        std::string error;  // why there was none
    };

    virtual ~WebhookPoster() = default;
    virtual Result Post(
        const std::string& url,
        const std::vector<std::pair<std::string, std::string>>& headers,
        const std::string& body,
        std::chrono::seconds timeout,
        bool allow_private
    ) = 0;
};

using PosterFactory = std::function<std::unique_ptr<WebhookPoster>()>;

struct DispatcherCounters {
    std::atomic<std::uint64_t> planned{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed_attempts{0};
    std::atomic<std::uint64_t> dead{0};
};

class WebhookDispatcher {
public:
    WebhookDispatcher(
        storage::Database& db,
        WebhookService& webhooks,
        EventFilterService& filters,
        const core::Clock& clock,
        PosterFactory make_poster
    );
    ~WebhookDispatcher();
    WebhookDispatcher(const WebhookDispatcher&) = delete;
    WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

    // The planner's thread and max_in_flight workers; Stop (or the destructor) ends them after
    // the posts in flight.
    void Start();
    void Stop();

    // One planner pass: queues the deliveries of up to `max_events` events after the cursor
    // and moves it; returns the deliveries queued. The first pass of a fresh store starts at
    // the newest event (integrations get events from their creation on).
    int Plan(int max_events = 2000);
    // One worker turn with `poster`: takes a due queue nobody is delivering and posts its
    // deliveries in order until one fails; returns those delivered, or -1 when no queue was
    // due.
    int Work(WebhookPoster& poster);

    // Prometheus text for /metrics.
    std::string RenderMetrics();

    const DispatcherCounters& counters() const { return counters_; }

private:
    // The back-off before attempt `attempts` + 1: delay = base × 2^(attempts-1), capped, and
    // a random time in (delay/2, delay].
    std::chrono::milliseconds Backoff(int attempts) const;
    void PlannerLoop();
    void WorkerLoop();

    storage::Database& db_;
    WebhookService& webhooks_;
    EventFilterService& filters_;
    const core::Clock& clock_;
    PosterFactory make_poster_;
    DispatcherCounters counters_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::uint64_t planned_generation_ = 0;                // bumped when a pass queued deliveries
    std::set<std::pair<std::string, std::string>> busy_;  // queues a worker is delivering
    std::vector<std::thread> threads_;
};

}  // namespace rainmaker::domain::events

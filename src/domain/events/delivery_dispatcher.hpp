// The one delivery pipeline of events out: the event log (the outbox) delivered at least once
// through channels — webhooks, push notifications — that differ only in which deliveries an
// event makes and how one is sent (DeliveryChannel).
//
// The planner reads the events after its cursor and, in one transaction with the cursor's
// move, queues each channel's deliveries of each event. A delivery waits in a queue — a
// destination (a webhook's name, "push:<endpoint arn>") and an order key (the node id) — until
// it is sent. Workers (max_in_flight, one connection each) take due queues nobody else is
// delivering and send their deliveries oldest first, so a node's events reach a destination in
// order; the first that fails stops the queue, which is retried after an exponential back-off
// with jitter, up to a cap; after max_attempts the delivery is dead (listed and replayed by
// admins) and the queue goes on. A destination gone for good (a push token its service calls
// invalid) is forgotten with its queue. A delivery leaves the store only after it was sent: a
// server killed at any point sends it again after its restart.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {

struct PostRequest {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::seconds timeout{10};
    bool allow_private = false;  // may connect to loopback and private addresses
    bool http2 = false;          // HTTP/2 (over TLS by ALPN; over http:// with prior knowledge)
};

// One connection's worth of posting (a worker's; not shared between threads).
class Poster {
public:
    struct Result {
        int status = 0;     // the receiver's HTTP status; 0 when there was no answer
        std::string error;  // why there was none
        std::string body;   // the start of the answer (services say why they refused)
    };

    virtual ~Poster() = default;
    virtual Result Post(const PostRequest& request) = 0;
};

using PosterFactory = std::function<std::unique_ptr<Poster>()>;

struct DeliveryConfig {
    int max_in_flight = 8;  // queues delivered at once (one connection each)
    // A webhook with this many deliveries waiting is planned no further until they drain: its
    // events wait in the event log, unread (0: no limit). Looked at before each read, so a
    // pass may take it past the limit by up to one batch.
    std::int64_t max_waiting_per_destination = 10000;
    int batch = 100;        // deliveries of one queue per turn
    int max_attempts = 12;  // then dead, until an admin replays it
    std::chrono::milliseconds backoff_base{1000};
    std::chrono::milliseconds backoff_cap{10 * 60 * 1000};
};

// What sending one delivery came to.
struct SendResult {
    enum class Outcome { kSent, kFailed, kGone };
    Outcome outcome = Outcome::kFailed;
    std::string error;  // kFailed, kGone: why
};

// A queue's destination as a worker turn finds it.
struct Destination {
    enum class State {
        kOpen,    // send with `send`
        kParked,  // kept, not sent now (a disabled webhook): looked at again later
        kGone,    // no more: its queue is dropped
    };
    State state = State::kGone;
    std::function<SendResult(const storage::DeliveryRow&)> send;
};

// One kind of destination.
class DeliveryChannel {
public:
    virtual ~DeliveryChannel() = default;
    // Whether queues of `destination` are this channel's.
    virtual bool Owns(std::string_view destination) const = 0;
    // Called in the planner's transaction before its events: reads what planning needs.
    virtual void BeginPlan() = 0;
    // After BeginPlan: the streams this channel plans for now — each reads the event log with
    // a cursor of its own. A webhook is one (its name); pushes are one ("push:").
    virtual std::vector<std::string> Streams() = 0;

    // Whether `stream` is this channel's and kept though not planned for now (a disabled
    // webhook): what it had not read yet is still planned (parked deliveries) before its
    // cursor goes, as if it had read on to the moment it stopped.
    virtual bool Keeps(const std::string& /*stream*/) const { return false; }

    // Whether this channel's streams are held back by their own waiting deliveries
    // (max_waiting_per_destination): a webhook's are; pushes, whose destinations are each
    // phone, are not.
    virtual bool Capped() const { return true; }

    // Appends the deliveries of `event` (of full type `type`, "rmaker.event.alert") for those
    // of `streams` that are this channel's to `out`: destination (`webhook`), order key, event
    // id and type, body.
    virtual void Plan(
        const storage::EventRow& event,
        const std::string& type,
        const std::set<std::string>& streams,
        std::vector<storage::DeliveryRow>& out
    ) = 0;
    // The destination for one worker turn, sending through `poster`.
    virtual Destination Open(const std::string& destination, Poster& poster) = 0;

    // A send said the destination is gone for good: forget it (called in a transaction).
    virtual void Forget(const std::string& /*destination*/) {}
};

struct DispatcherCounters {
    std::atomic<std::uint64_t> planned{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed_attempts{0};
    std::atomic<std::uint64_t> dead{0};
    std::atomic<std::uint64_t> gone{0};  // destinations forgotten
};

class DeliveryDispatcher {
public:
    DeliveryDispatcher(
        storage::Database& db,
        const core::Clock& clock,
        DeliveryConfig config,
        PosterFactory make_poster,
        std::vector<DeliveryChannel*> channels
    );
    ~DeliveryDispatcher();
    DeliveryDispatcher(const DeliveryDispatcher&) = delete;
    DeliveryDispatcher& operator=(const DeliveryDispatcher&) = delete;

    // The planner's thread and max_in_flight workers; `every_second` runs on the planner's
    // thread about once a second. Stop (or the destructor) ends them after the sends in flight.
    void Start(std::function<void()> every_second = {});
    void Stop();

    // One planner pass: for each stream not held back by its waiting deliveries, queues the
    // deliveries of up to `max_events` events after its cursor and moves it; returns the
    // deliveries queued. The first pass of a fresh store starts at the newest event, and a new
    // stream where the last pass ended (destinations get events from their creation on).
    int Plan(int max_events = 2000);
    // One worker turn with `poster`: takes a due queue nobody is delivering and sends its
    // deliveries in order until one fails; returns those sent, or -1 when no queue was due.
    int Work(Poster& poster);

    // Prometheus text for /metrics.
    std::string RenderMetrics();

    const DispatcherCounters& counters() const { return counters_; }

private:
    // The back-off before attempt `attempts` + 1: delay = base × 2^(attempts-1), capped, and
    // a random time in (delay/2, delay].
    std::chrono::milliseconds Backoff(int attempts) const;
    DeliveryChannel* ChannelOf(std::string_view destination) const;
    void PlannerLoop(const std::function<void()>& every_second);
    void WorkerLoop();

    storage::Database& db_;
    const core::Clock& clock_;
    DeliveryConfig config_;
    PosterFactory make_poster_;
    std::vector<DeliveryChannel*> channels_;
    DispatcherCounters counters_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<bool> stopping_{false};     // set under mutex_ (the waits read it there too)
    std::uint64_t planned_generation_ = 0;  // bumped when a pass queued deliveries
    std::atomic<bool> backlog_{false};      // the last pass took as many events as it may
    std::atomic<bool> held_{false};         // the last pass found only held-back streams behind
    std::atomic<bool> lagging_{true};       // a stream may be behind the log's end (true at start)
    std::optional<std::int64_t> read_floor_;  // every stream had read up to here (planner's)
    std::set<std::pair<std::string, std::string>> busy_;  // queues a worker is delivering
    // This dispatcher's name on the queues it leases in the store (other instances have theirs).
    const std::string holder_ = core::RandomAlnum(20);
    std::vector<std::thread> threads_;
};

}  // namespace rainmaker::domain::events

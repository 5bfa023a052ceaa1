// The planner and the workers of the delivery pipeline.
#include "domain/events/delivery_dispatcher.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/thread_name.hpp"
#include "domain/events/event_log.hpp"

namespace rainmaker::domain::events {

namespace {

constexpr std::string_view kConsumer = "deliveries";   // the planner's head in the event log
constexpr std::string_view kStreamPrefix = "stream:";  // a stream's cursor: "stream:<name>"
// Where a stream that stopped (a disabled webhook) reads up to: "stop:<name>", the log's end
// when the planner first found it stopped.
constexpr std::string_view kStopPrefix = "stop:";
// The planner looks for new events this often, unless its last pass found more than it takes:
// fewer, larger write transactions while events keep coming (each commit writes the pages it
// touched), for at most this much added latency.
constexpr std::chrono::milliseconds kPlanIdle{50};
// While every stream behind is held back by its own waiting deliveries, the planner looks
// again this often (each look is a write transaction and counts those deliveries); workers
// send far more than a 10,000-delivery queue drains in this time.
constexpr std::chrono::milliseconds kHeldIdle{250};
constexpr std::chrono::milliseconds kWorkIdle{200};  // a worker looks for due retries
constexpr std::int64_t kParkedMs = 5000;             // a parked destination's queues wait
constexpr int kDueLookahead = 64;                    // due queues a worker chooses among
// A queue's lease, renewed every kRenewMs while its worker sends: a post (or opening its
// destination) takes at most its timeout (60 s at most), well within what is left. Instances'
// clocks are assumed to agree within seconds (NTP).
constexpr std::int64_t kLeaseMs = 180000;
constexpr std::int64_t kRenewMs = 30000;

}  // namespace

DeliveryDispatcher::DeliveryDispatcher(
    storage::Database& db,
    const core::Clock& clock,
    DeliveryConfig config,
    PosterFactory make_poster,
    std::vector<DeliveryChannel*> channels
)
    : db_(db),
      clock_(clock),
      config_(config),
      make_poster_(std::move(make_poster)),
      channels_(std::move(channels)) {}

DeliveryDispatcher::~DeliveryDispatcher() {
    Stop();
}

void DeliveryDispatcher::Start(std::function<void()> every_second) {
    threads_.emplace_back([this, every_second = std::move(every_second)] {
        PlannerLoop(every_second);
    });
    for (int i = 0; i < std::max(1, config_.max_in_flight); ++i) {
        threads_.emplace_back([this] { WorkerLoop(); });
    }
}

void DeliveryDispatcher::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
}

DeliveryChannel* DeliveryDispatcher::ChannelOf(std::string_view destination) const {
    for (auto* channel : channels_) {
        if (channel->Owns(destination)) {
            return channel;
        }
    }
    return nullptr;
}

int DeliveryDispatcher::Plan(int max_events) {
    int queued = 0;
    bool more = false;
    bool lagging = false;
    std::optional<std::int64_t> floor;  // what every stream has read, once committed
    backlog_ = false;
    if (!lagging_) {
        auto& events = db_.Events();
        const auto seen = events.Cursor(kConsumer);
        if (seen && *seen >= events.LastId()) {
            return 0;  // nothing new and nobody behind: no write transaction
        }
    }
    db_.Transaction([&] {
        auto& events = db_.Events();
        const auto head = events.Cursor(kConsumer);
        const auto last = events.LastId();
        events.SetCursor(kConsumer, last);  // where the next pass's new streams start
        if (!head) {
            return;  // the first pass of a fresh store: from the newest event on
        }
        for (auto* channel : channels_) {
            channel->BeginPlan();
        }
        // Each stream's position and channel; a new one starts where the last pass ended.
        std::map<std::string, std::int64_t> position;
        std::map<std::string, DeliveryChannel*> channel_of;
        for (auto* channel : channels_) {
            for (auto& stream : channel->Streams()) {
                channel_of.emplace(stream, channel);
                position.emplace(std::move(stream), *head);
            }
        }
        // Kept streams (a disabled webhook) read up to where they stopped, then go.
        std::map<std::string, std::int64_t> draining;  // stream → its stop
        std::map<std::string, std::int64_t> stops;
        for (const auto& [consumer, at] : events.Cursors(kStopPrefix)) {
            stops.emplace(consumer.substr(kStopPrefix.size()), at);
        }
        std::set<std::string> stored;  // streams with a cursor row
        const auto forget = [&](const std::string& stream) {
            events.DeleteCursor(std::string(kStreamPrefix) + stream);
            if (stops.count(stream) != 0) {
                events.DeleteCursor(std::string(kStopPrefix) + stream);
            }
        };
        for (const auto& [consumer, at] : events.Cursors(kStreamPrefix)) {
            auto stream = consumer.substr(kStreamPrefix.size());
            if (const auto it = position.find(stream); it != position.end()) {
                it->second = at;
                stored.insert(std::move(stream));
                continue;
            }
            const auto keeper = std::find_if(channels_.begin(), channels_.end(), [&](auto* c) {
                return c->Keeps(stream);
            });
            auto stop = stops.find(stream);
            if (keeper != channels_.end() && stop == stops.end()) {
                stop = stops.emplace(stream, *head).first;  // stopped since the last pass
                events.SetCursor(std::string(kStopPrefix) + stream, *head);
            }
            if (keeper == channels_.end() || at >= stop->second) {
                forget(stream);  // removed, or read up to where it stopped
                continue;
            }
            channel_of.emplace(stream, *keeper);
            position.emplace(stream, at);
            stored.insert(stream);
            draining.emplace(std::move(stream), stop->second);
        }
        for (const auto& [stream, stop] : stops) {
            if (draining.count(stream) == 0 && stored.count(stream) != 0) {
                events.DeleteCursor(std::string(kStopPrefix) + stream);  // enabled again
            }
        }
        const auto before = position;
        // Streams at one position read the log together; one holding max_waiting deliveries of
        // its own waits, its events kept unread. A draining stream reads up to its stop only.
        const auto end_of = [&](const std::string& stream) {
            const auto it = draining.find(stream);
            return it != draining.end() ? it->second : last;
        };
        std::map<std::int64_t, std::set<std::string>> readers;
        for (const auto& [stream, at] : position) {
            const auto end = end_of(stream);
            if (at >= end) {
                continue;
            }
            if (draining.count(stream) == 0 && channel_of.at(stream)->Capped() &&
                config_.max_waiting_per_destination > 0 &&
                db_.Webhooks().CountWaitingOf(stream) >= config_.max_waiting_per_destination) {
                lagging = true;
                continue;
            }
            readers[at].insert(stream);
        }
        const auto now_ms = clock_.NowMilliseconds();
        std::vector<storage::DeliveryRow> deliveries;
        for (const auto& [at, streams] : readers) {
            const auto batch = events.ListAfter(at, max_events);
            more = more || static_cast<int>(batch.size()) == max_events;
            // A draining stream reads up to its stop only: so does its group, this pass.
            std::int64_t group_end = last;
            for (const auto& stream : streams) {
                group_end = std::min(group_end, end_of(stream));
            }
            std::int64_t read_to = at;
            for (const auto& e : batch) {
                if (e.id > group_end) {
                    break;
                }
                const auto type = FullEventName(e.event_type);
                for (auto* channel : channels_) {
                    channel->Plan(e, type, streams, deliveries);
                }
                for (const auto& d : deliveries) {
                    db_.Webhooks().AddDelivery(d, now_ms);
                }
                queued += static_cast<int>(deliveries.size());
                deliveries.clear();
                read_to = e.id;
            }
            for (const auto& stream : streams) {
                position[stream] = read_to;
            }
        }
        std::int64_t least = last;
        for (const auto& [stream, at] : position) {
            if (draining.count(stream) != 0 && at >= end_of(stream)) {
                forget(stream);  // read up to its stop
            } else if (at != before.at(stream) || stored.count(stream) == 0) {
                events.SetCursor(std::string(kStreamPrefix) + stream, at);
            }
            least = std::min(least, at);
            lagging = lagging || at < end_of(stream);
        }
        // Nodes' events are read by nothing else: they go once every stream read them (ingest
        // writes one per report while a destination takes them). The range starts below the
        // last floor: the newest event, which a pass keeps (ids are not reused), goes later.
        events.DeleteNodeEvents(read_floor_.value_or(1) - 1, least);
        floor = least;
    });
    if (floor) {
        read_floor_ = floor;
    }
    counters_.planned += static_cast<std::uint64_t>(queued);
    backlog_ = more;
    lagging_ = lagging;
    held_ = lagging && queued == 0 && !more;
    return queued;
}

std::chrono::milliseconds DeliveryDispatcher::Backoff(int attempts) const {
    const std::int64_t cap = std::max<std::int64_t>(config_.backoff_cap.count(), 1);
    std::int64_t delay = std::clamp<std::int64_t>(config_.backoff_base.count(), 1, cap);
    for (int i = 1; i < attempts && delay < cap; ++i) {
        delay = std::min(delay * 2, cap);
    }
    const auto half = std::max<std::int64_t>(delay / 2, 1);
    const auto jitter = static_cast<std::int64_t>(
        core::RandomBelow(static_cast<std::uint32_t>(std::min<std::int64_t>(half, UINT32_MAX)))
    );
    return std::chrono::milliseconds(delay - half + 1 + jitter);  // (delay/2, delay]
}

int DeliveryDispatcher::Work(Poster& poster) {
    std::pair<std::string, std::string> key;
    {
        // Read under the lock a worker releases its queue with, after it recorded the queue's
        // next due time: a queue just put in back-off is either still busy here or not due.
        std::lock_guard lock(mutex_);
        const auto due = db_.Webhooks().DueQueues(clock_.NowMilliseconds(), kDueLookahead);
        // One destination takes at most half the workers (at least one): a receiver that
        // hangs until each post times out does not hold up every other destination.
        const auto cap = static_cast<std::ptrdiff_t>(std::max(1, config_.max_in_flight / 2));
        // Another instance's worker may hold a due queue: the lease in the store decides, and
        // runs out a minute after that instance died.
        const auto now_ms = clock_.NowMilliseconds();
        const auto free = std::find_if(due.begin(), due.end(), [&](const storage::DueQueue& q) {
            return busy_.count({q.webhook, q.order_key}) == 0 &&
                   std::count_if(
                       busy_.begin(),
                       busy_.end(),
                       [&](const auto& b) { return b.first == q.webhook; }
                   ) < cap &&
                   db_.Webhooks().LeaseQueue(
                       q.webhook, q.order_key, holder_, now_ms, now_ms + kLeaseMs
                   );
        });
        if (free == due.end()) {
            return -1;
        }
        key = {free->webhook, free->order_key};
        busy_.insert(key);
    }

    struct Release {
        DeliveryDispatcher& self;
        const std::pair<std::string, std::string>& key;

        ~Release() {
            std::lock_guard lock(self.mutex_);
            try {
                self.db_.Webhooks().ReleaseQueue(key.first, key.second, self.holder_);
            } catch (const std::exception& e) {
                // The lease runs out by itself.
                core::log::Error(key.first + ": queue lease not released: " + e.what());
            }
            self.busy_.erase(key);
        }
    } release{*this, key};

    const std::string& name = key.first;
    const std::string& node = key.second;  // the order key
    auto& store = db_.Webhooks();

    auto* channel = ChannelOf(name);
    const auto waiting = store.Waiting(name, node, std::max(1, config_.batch));
    Destination destination;
    try {
        if (channel != nullptr) {
            destination = channel->Open(name, poster);
        }
    } catch (const std::exception& e) {
        // Not opened now (a secret that does not open): looked at again later.
        core::log::Error(name + ": not opened: " + e.what());
        destination.state = Destination::State::kParked;
    }
    if (destination.state == Destination::State::kGone) {
        store.Delete(name);  // its deliveries and queues
        return 0;
    }
    if (waiting.empty()) {
        store.SettleQueue(name, node, clock_.NowMilliseconds());
        return 0;
    }
    if (destination.state == Destination::State::kParked) {
        store.Retry(waiting.front(), clock_.NowMilliseconds() + kParkedMs, "parked");
        return 0;
    }
    std::vector<std::int64_t> sent;
    std::optional<storage::DeliveryRow> failed;
    SendResult failure;
    auto renew_at = clock_.NowMilliseconds() + kRenewMs;
    for (const auto& d : waiting) {
        if (stopping_) {
            break;  // the rest wait for the next start
        }
        if (const auto now_ms = clock_.NowMilliseconds(); now_ms >= renew_at) {
            bool held = false;
            try {
                held = store.LeaseQueue(name, node, holder_, now_ms, now_ms + kLeaseMs);
            } catch (const std::exception& e) {
                core::log::Error(name + ": queue lease not renewed: " + e.what());
            }
            if (!held) {
                break;  // another instance took the queue over: it sends the rest
            }
            renew_at = now_ms + kRenewMs;
        }
        SendResult result;
        try {
            result = destination.send(d);
        } catch (const std::exception& e) {
            result = SendResult{SendResult::Outcome::kFailed, e.what()};
        }
        if (result.outcome == SendResult::Outcome::kSent) {
            sent.push_back(d.id);
            continue;
        }
        failed = d;
        failure = std::move(result);
        break;
    }
    const bool gone = failed && failure.outcome == SendResult::Outcome::kGone;
    bool died = false;
    db_.Transaction([&] {
        for (const auto id : sent) {
            store.RemoveDelivery(id);
        }
        const auto now_ms = clock_.NowMilliseconds();
        if (!failed) {
            store.SettleQueue(name, node, now_ms);
            return;
        }
        if (gone) {
            channel->Forget(name);
            store.Delete(name);
            return;
        }
        ++failed->attempts;
        if (failed->attempts >= config_.max_attempts) {
            store.MarkDead(*failed, failure.error);
            store.SettleQueue(name, node, now_ms);
            died = true;
        } else {
            store.Retry(*failed, now_ms + Backoff(failed->attempts).count(), failure.error);
        }
    });
    counters_.delivered += sent.size();
    if (gone) {
        ++counters_.gone;
        core::log::Info(name + " forgotten: " + failure.error);
    } else if (failed) {
        ++counters_.failed_attempts;
        if (died) {
            ++counters_.dead;
            core::log::Warn(
                name + ": delivery " + std::to_string(failed->id) + " dead after " +
                std::to_string(failed->attempts) + " attempts (" + failure.error + ")"
            );
        }
    }
    return static_cast<int>(sent.size());
}

void DeliveryDispatcher::PlannerLoop(const std::function<void()>& every_second) {
    core::NameThisThread("rm-plan");
    auto refreshed = std::chrono::steady_clock::time_point{};  // of clock_.Monotonic()
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        int queued = 0;
        try {
            if (every_second && clock_.Monotonic() - refreshed > std::chrono::seconds(1)) {
                every_second();
                refreshed = clock_.Monotonic();
            }
            queued = Plan();
        } catch (const std::exception& e) {
            core::log::Error(std::string("delivery planning failed: ") + e.what());
        }
        lock.lock();
        if (queued > 0) {
            ++planned_generation_;
            wake_.notify_all();
        }
        if (backlog_) {
            continue;
        }
        wake_.wait_for(lock, held_ ? kHeldIdle : kPlanIdle, [this] { return stopping_.load(); });
    }
}

void DeliveryDispatcher::WorkerLoop() {
    core::NameThisThread("rm-deliver");
    std::unique_ptr<Poster> poster;
    try {
        poster = make_poster_();
    } catch (const std::exception& e) {
        core::log::Error(std::string("delivery worker not started: ") + e.what());
        return;
    }
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto generation = planned_generation_;
        lock.unlock();
        int done = -1;
        try {
            done = Work(*poster);
        } catch (const std::exception& e) {
            core::log::Error(std::string("delivery failed: ") + e.what());
        }
        lock.lock();
        if (done < 0) {
            wake_.wait_for(lock, kWorkIdle, [&] {
                return stopping_.load() || planned_generation_ != generation;
            });
        }
    }
}

std::string DeliveryDispatcher::RenderMetrics() {
    std::int64_t waiting = 0;
    std::int64_t dead = 0;
    db_.Snapshot([&] {  // the two gauges of one state
        waiting = db_.Webhooks().CountWaiting();
        dead = db_.Webhooks().CountDead();
    });
    const auto line = [](const char* name, const char* type, const char* help, auto value) {
        return std::string("# HELP rainmaker_deliveries_") + name + " " + help +
               "\n# TYPE rainmaker_deliveries_" + name + " " + type + "\nrainmaker_deliveries_" +
               name + " " + std::to_string(value) + "\n";
    };
    return line(
               "planned_total",
               "counter",
               "Deliveries (webhooks, pushes) queued from the event log.",
               counters_.planned.load()
           ) +
           line(
               "delivered_total",
               "counter",
               "Deliveries sent (a webhook receiver answered 2xx, a push service accepted).",
               counters_.delivered.load()
           ) +
           line(
               "failed_attempts_total",
               "counter",
               "Sends that failed and will be retried or are dead.",
               counters_.failed_attempts.load()
           ) +
           line("dead_total", "counter", "Deliveries out of attempts.", counters_.dead.load()) +
           line(
               "gone_total",
               "counter",
               "Destinations forgotten (push tokens their service called invalid).",
               counters_.gone.load()
           ) +
           line("waiting", "gauge", "Deliveries waiting.", waiting) +
           line("dead", "gauge", "Dead deliveries kept for replay.", dead);
}

}  // namespace rainmaker::domain::events

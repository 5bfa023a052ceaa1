// The webhook planner and workers.
#include "domain/events/webhook_dispatcher.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/digest.hpp"
#include "domain/stored_json.hpp"

namespace rainmaker::domain::events {

namespace {

constexpr std::string_view kConsumer = "webhooks";
constexpr std::chrono::milliseconds kPlanIdle{50};   // the planner looks for new events
constexpr std::chrono::milliseconds kWorkIdle{200};  // a worker looks for due retries
constexpr std::int64_t kParkedMs = 5000;             // a disabled integration's queues wait
constexpr int kDueLookahead = 64;                    // due queues a worker chooses among

std::string BodyOf(const storage::EventRow& e, const std::string& type, const std::string& hook) {
    return core::Serialize(boost::json::object{
        {"event_id", e.id},
        {"event_type", type},
        {"webhook_name", hook},
        {"node_id", e.node_id},
        {"user_id", e.user_id},
        {"timestamp", e.created_at},
        {"data", ParseOr(e.payload, boost::json::object{})}});
}

struct Target {
    Webhook webhook;
    std::unordered_set<std::string> nodes;
};

}  // namespace

WebhookDispatcher::WebhookDispatcher(
    storage::Database& db,
    WebhookService& webhooks,
    EventFilterService& filters,
    const core::Clock& clock,
    PosterFactory make_poster
)
    : db_(db),
      webhooks_(webhooks),
      filters_(filters),
      clock_(clock),
      make_poster_(std::move(make_poster)) {}

WebhookDispatcher::~WebhookDispatcher() {
    Stop();
}

void WebhookDispatcher::Start() {
    threads_.emplace_back([this] { PlannerLoop(); });
    for (int i = 0; i < std::max(1, webhooks_.config().max_in_flight); ++i) {
        threads_.emplace_back([this] { WorkerLoop(); });
    }
}

void WebhookDispatcher::Stop() {
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

int WebhookDispatcher::Plan(int max_events) {
    int queued = 0;
    {
        auto& events = db_.Events();
        const auto seen = events.Cursor(kConsumer);
        if (seen && *seen >= events.LastId()) {
            return 0;  // nothing new: no write transaction
        }
    }
    db_.Transaction([&] {
        auto& events = db_.Events();
        const auto rows = db_.Webhooks().List();
        const auto cursor = events.Cursor(kConsumer);
        if (!cursor) {
            events.SetCursor(kConsumer, events.LastId());
            return;
        }
        const auto batch = events.ListAfter(*cursor, max_events);
        if (batch.empty()) {
            return;
        }
        std::vector<Target> targets;
        for (const auto& row : rows) {
            if (row.enabled) {
                auto webhook = WebhookOf(row);
                std::unordered_set<std::string> nodes(webhook.nodes.begin(), webhook.nodes.end());
                targets.push_back(Target{std::move(webhook), std::move(nodes)});
            }
        }
        std::unordered_map<std::string, std::string> primary_of;  // node → its primary user
        const auto primary = [&](const std::string& node) -> const std::string& {
            auto [it, added] = primary_of.try_emplace(node);
            if (added) {
                for (const auto& m : db_.Nodes().MappingsOfNode(node)) {
                    if (m.role == core::ResourceRole::kPrimary) {
                        it->second = m.user_id;
                        break;
                    }
                }
            }
            return it->second;
        };
        const auto now_ms = NowMs(clock_);
        for (const auto& e : batch) {
            const auto type = FullEventName(e.event_type);
            for (const auto& t : targets) {
                const auto& listed = t.webhook.events;
                const auto ev = std::find_if(listed.begin(), listed.end(), [&](const auto& x) {
                    return x.event_name == type;
                });
                if (ev == listed.end() || e.created_at < ev->event_active_timestamp ||
                    e.created_at < t.webhook.active_timestamp ||
                    (!t.nodes.empty() && t.nodes.count(e.node_id) == 0)) {
                    continue;
                }
                const auto& user =
                    e.user_id.empty() && !e.node_id.empty() ? primary(e.node_id) : e.user_id;
                if (!filters_.Allows(type, user, e.node_id, t.webhook.name)) {
                    continue;
                }
                storage::DeliveryRow d;
                d.webhook = t.webhook.name;
                d.order_key = e.node_id;
                d.event_id = e.id;
                d.event_type = type;
                d.body = BodyOf(e, type, t.webhook.name);
                d.created_at = e.created_at;
                db_.Webhooks().AddDelivery(d, now_ms);
                ++queued;
            }
        }
        events.SetCursor(kConsumer, batch.back().id);
    });
    counters_.planned += static_cast<std::uint64_t>(queued);
    return queued;
}

std::chrono::milliseconds WebhookDispatcher::Backoff(int attempts) const {
    const auto& c = webhooks_.config();
    const int doublings = std::clamp(attempts - 1, 0, 30);
    const auto base = std::max<std::int64_t>(c.backoff_base.count(), 1);
    const auto delay =
        std::min<std::int64_t>(base << std::min(doublings, 20), c.backoff_cap.count());
    const auto half = std::max<std::int64_t>(delay / 2, 1);
    const auto jitter = static_cast<std::int64_t>(
        core::RandomBelow(static_cast<std::uint32_t>(std::min<std::int64_t>(half, UINT32_MAX)))
    );
    return std::chrono::milliseconds(delay - half + 1 + jitter);  // (delay/2, delay]
}

int WebhookDispatcher::Work(WebhookPoster& poster) {
    const auto& config = webhooks_.config();
    std::pair<std::string, std::string> key;
    {
        const auto due = db_.Webhooks().DueQueues(NowMs(clock_), kDueLookahead);
        std::lock_guard lock(mutex_);
        const auto free = std::find_if(due.begin(), due.end(), [&](const storage::DueQueue& q) {
            return busy_.count({q.webhook, q.order_key}) == 0;
        });
        if (free == due.end()) {
            return -1;
        }
        key = {free->webhook, free->order_key};
        busy_.insert(key);
    }

    struct Release {
        WebhookDispatcher& self;
        const std::pair<std::string, std::string>& key;

        ~Release() {
            std::lock_guard lock(self.mutex_);
            self.busy_.erase(key);
        }
    } release{*this, key};

    const std::string& name = key.first;
    const std::string& node = key.second;  // the order key

    const auto row = db_.Webhooks().Find(name);
    const auto waiting = db_.Webhooks().Waiting(name, node, std::max(1, config.batch));
    if (!row || waiting.empty()) {
        db_.Webhooks().SettleQueue(name, node, NowMs(clock_));
        return 0;
    }
    if (!row->enabled) {
        // Kept, not sent, while the integration is disabled; looked at again later.
        db_.Webhooks().Retry(waiting.front(), NowMs(clock_) + kParkedMs, "integration disabled");
        return 0;
    }
    const auto secret = webhooks_.SecretOf(*row);
    std::vector<std::int64_t> delivered;
    std::optional<storage::DeliveryRow> failed;
    std::string error;
    for (const auto& d : waiting) {
        const std::vector<std::pair<std::string, std::string>> headers{
            {"Content-Type", "application/json"},
            {"User-Agent", "rainmaker-server"},
            {"X-Rainmaker-Event", d.event_type},
            {"X-Rainmaker-Delivery", std::to_string(d.id)},
            {"X-Rainmaker-Signature", "sha256=" + crypto::HmacSha256Hex(secret, d.body)}};
        const auto result =
            poster.Post(row->url, headers, d.body, config.timeout, config.allow_private);
        if (result.status >= 200 && result.status < 300) {
            delivered.push_back(d.id);
            continue;
        }
        failed = d;
        error = result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error;
        break;
    }
    bool died = false;
    db_.Transaction([&] {
        auto& store = db_.Webhooks();
        for (const auto id : delivered) {
            store.RemoveDelivery(id);
        }
        const auto now_ms = NowMs(clock_);
        if (!failed) {
            store.SettleQueue(name, node, now_ms);
            return;
        }
        ++failed->attempts;
        if (failed->attempts >= config.max_attempts) {
            store.MarkDead(*failed, error);
            store.SettleQueue(name, node, now_ms);
            died = true;
        } else {
            store.Retry(*failed, now_ms + Backoff(failed->attempts).count(), error);
        }
    });
    counters_.delivered += delivered.size();
    if (failed) {
        ++counters_.failed_attempts;
        if (died) {
            ++counters_.dead;
            core::log::Warn(
                "webhook " + name + ": delivery " + std::to_string(failed->id) + " dead after " +
                std::to_string(failed->attempts) + " attempts (" + error + ")"
            );
        }
    }
    return static_cast<int>(delivered.size());
}

void WebhookDispatcher::PlannerLoop() {
    auto refreshed = std::chrono::steady_clock::time_point{};
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        int queued = 0;
        try {
            // Changes another instance made reach the event log's gate within a second.
            if (std::chrono::steady_clock::now() - refreshed > std::chrono::seconds(1)) {
                webhooks_.RefreshWanted(db_.Webhooks().List());
                refreshed = std::chrono::steady_clock::now();
            }
            queued = Plan();
        } catch (const std::exception& e) {
            core::log::Error(std::string("webhook planning failed: ") + e.what());
        }
        lock.lock();
        if (queued > 0) {
            ++planned_generation_;
            wake_.notify_all();
            continue;
        }
        wake_.wait_for(lock, kPlanIdle, [this] { return stopping_; });
    }
}

void WebhookDispatcher::WorkerLoop() {
    std::unique_ptr<WebhookPoster> poster;
    try {
        poster = make_poster_();
    } catch (const std::exception& e) {
        core::log::Error(std::string("webhook worker not started: ") + e.what());
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
            core::log::Error(std::string("webhook delivery failed: ") + e.what());
        }
        lock.lock();
        if (done < 0) {
            wake_.wait_for(lock, kWorkIdle, [&] {
                return stopping_ || planned_generation_ != generation;
            });
        }
    }
}

std::string WebhookDispatcher::RenderMetrics() {
    const auto line = [](const char* name, const char* type, const char* help, auto value) {
        return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
               name + " " + std::to_string(value) + "\n";
    };
    return line(
               "rainmaker_webhook_planned_total",
               "counter",
               "Webhook deliveries queued from the event log.",
               counters_.planned.load()
           ) +
           line(
               "rainmaker_webhook_delivered_total",
               "counter",
               "Webhook deliveries their receiver accepted (2xx).",
               counters_.delivered.load()
           ) +
           line(
               "rainmaker_webhook_failed_attempts_total",
               "counter",
               "Webhook posts that failed (no answer, or not 2xx).",
               counters_.failed_attempts.load()
           ) +
           line(
               "rainmaker_webhook_dead_total",
               "counter",
               "Webhook deliveries out of attempts.",
               counters_.dead.load()
           ) +
           line(
               "rainmaker_webhook_waiting",
               "gauge",
               "Webhook deliveries waiting.",
               db_.Webhooks().CountWaiting()
           ) +
           line(
               "rainmaker_webhook_dead",
               "gauge",
               "Dead webhook deliveries kept for replay.",
               db_.Webhooks().CountDead()
           );
}

}  // namespace rainmaker::domain::events

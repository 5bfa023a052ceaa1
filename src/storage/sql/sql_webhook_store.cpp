// Webhooks and their delivery queues in SQLite (V028).
#include "storage/sql/sql_webhook_store.hpp"

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr const char* kWebhookColumns =
    "name, enabled, url, sealed_secret, nodes, events, active_timestamp, created_by, "
    "created_at, updated_at";

WebhookRow ReadWebhook(const Statement& s) {
    WebhookRow w;
    w.name = s.Text(0);
    w.enabled = s.Bool(1);
    w.url = s.Text(2);
    w.sealed_secret = s.Text(3);
    w.nodes = s.Text(4);
    w.events = s.Text(5);
    w.active_timestamp = s.Int(6);
    w.created_by = s.Text(7);
    w.created_at = s.Int(8);
    w.updated_at = s.Int(9);
    return w;
}

constexpr const char* kDeliverySelect =
    "SELECT id, webhook, order_key, event_id, event_type, body, attempts, dead, last_error, "
    "created_at FROM webhook_deliveries ";

// Dead deliveries by their partial index (V030), which SQLite would not choose by itself
// (PostgreSQL's planner does; the hint is dropped there).
constexpr const char* kDeadOnly = "INDEXED BY webhook_deliveries_dead WHERE dead = 1 ";

DeliveryRow ReadDelivery(const Statement& s) {
    DeliveryRow d;
    d.id = s.Int(0);
    d.webhook = s.Text(1);
    d.order_key = s.Text(2);
    d.event_id = s.Int(3);
    d.event_type = s.Text(4);
    d.body = s.Text(5);
    d.attempts = static_cast<int>(s.Int(6));
    d.dead = s.Bool(7);
    d.last_error = s.Text(8);
    d.created_at = s.Int(9);
    return d;
}

// Makes the queue due at `at_ms` (created when missing; an earlier due time is kept).
void Wake(SqlDatabase& db, std::string_view webhook, std::string_view key, std::int64_t at_ms) {
    db.Execute(
        "INSERT INTO webhook_queues(webhook, order_key, next_at_ms) VALUES (?,?,?) "
        "ON CONFLICT(webhook, order_key) DO UPDATE SET next_at_ms = CASE WHEN "
        "webhook_queues.next_at_ms < excluded.next_at_ms THEN webhook_queues.next_at_ms ELSE "
        "excluded.next_at_ms END",
        webhook,
        key,
        at_ms
    );
}

}  // namespace

bool SqlWebhookStore::Insert(const WebhookRow& w) {
    return db_.Unique([&] {
        db_.Execute(
            std::string("INSERT INTO webhooks(") + kWebhookColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?)",
            w.name,
            w.enabled,
            w.url,
            w.sealed_secret,
            w.nodes,
            w.events,
            w.active_timestamp,
            w.created_by,
            w.created_at,
            w.updated_at
        );
    });
}

bool SqlWebhookStore::Update(const WebhookRow& w) {
    return db_.Execute(
               "UPDATE webhooks SET enabled = ?, url = ?, sealed_secret = ?, nodes = ?, "
               "events = ?, active_timestamp = ?, updated_at = ? WHERE name = ?",
               w.enabled,
               w.url,
               w.sealed_secret,
               w.nodes,
               w.events,
               w.active_timestamp,
               w.updated_at,
               w.name
           ) > 0;
}

std::optional<WebhookRow> SqlWebhookStore::Find(std::string_view name) {
    return db_.FindOne(
        std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE name = ?",
        name,
        ReadWebhook
    );
}

std::vector<WebhookRow> SqlWebhookStore::List() {
    return db_.FindAll(
        std::string("SELECT ") + kWebhookColumns + " FROM webhooks ORDER BY name", ReadWebhook
    );
}

bool SqlWebhookStore::Delete(std::string_view name) {
    db_.InBatches("DELETE FROM webhook_deliveries", "webhook_deliveries", "webhook = ?", name);
    db_.Execute("DELETE FROM webhook_queues WHERE webhook = ?", name);
    // Its place in the event log (the delivery planner's stream and stop): one added again
    // under this name starts afresh.
    db_.Execute(
        "DELETE FROM outbox_cursors WHERE consumer = 'stream:' || ? OR consumer = 'stop:' || ?",
        name,
        name
    );
    return db_.Execute("DELETE FROM webhooks WHERE name = ?", name) > 0;
}

void SqlWebhookStore::AddDelivery(const DeliveryRow& d, std::int64_t now_ms) {
    db_.Execute(
        "INSERT INTO webhook_deliveries(webhook, order_key, event_id, event_type, body, "
        "attempts, dead, last_error, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        d.webhook,
        d.order_key,
        d.event_id,
        d.event_type,
        d.body,
        d.attempts,
        d.dead,
        d.last_error,
        d.created_at
    );
    // A new queue is due now; a waiting one keeps its time (its oldest is in back-off).
    db_.Execute(
        "INSERT INTO webhook_queues(webhook, order_key, next_at_ms) VALUES (?,?,?) ON CONFLICT DO "
        "NOTHING",
        d.webhook,
        d.order_key,
        now_ms
    );
}

std::vector<DueQueue> SqlWebhookStore::DueQueues(std::int64_t now_ms, int limit) {
    return db_.FindAll(
        "SELECT webhook, order_key FROM webhook_queues WHERE next_at_ms <= ?1 AND "
        "leased_until_ms <= ?1 ORDER BY next_at_ms LIMIT ?2",
        [](const Statement& s) {
            return DueQueue{s.Text(0), s.Text(1)};
        },
        now_ms,
        limit
    );
}

bool SqlWebhookStore::LeaseQueue(
    std::string_view webhook,
    std::string_view order_key,
    std::string_view holder,
    std::int64_t now_ms,
    std::int64_t until_ms
) {
    return db_.Execute(
               "UPDATE webhook_queues SET leased_until_ms = ?1, leased_by = ?2 WHERE "
               "webhook = ?3 AND order_key = ?4 AND (leased_until_ms <= ?5 OR leased_by = ?2)",
               until_ms,
               holder,
               webhook,
               order_key,
               now_ms
           ) == 1;
}

void SqlWebhookStore::ReleaseQueue(
    std::string_view webhook, std::string_view order_key, std::string_view holder
) {
    db_.Execute(
        "UPDATE webhook_queues SET leased_until_ms = 0, leased_by = '' WHERE webhook = ? AND "
        "order_key = ? AND leased_by = ?",
        webhook,
        order_key,
        holder
    );
}

std::vector<DeliveryRow> SqlWebhookStore::Waiting(
    std::string_view webhook, std::string_view order_key, int limit
) {
    return db_.FindAll(
        std::string(kDeliverySelect) +
            "WHERE webhook = ? AND order_key = ? AND dead = 0 ORDER BY id LIMIT ?",
        ReadDelivery,
        webhook,
        order_key,
        limit
    );
}

void SqlWebhookStore::RemoveDelivery(std::int64_t id) {
    db_.Execute("DELETE FROM webhook_deliveries WHERE id = ?", id);
}

void SqlWebhookStore::Retry(const DeliveryRow& d, std::int64_t next_at_ms, std::string_view error) {
    db_.Execute(
        "UPDATE webhook_deliveries SET attempts = ?, last_error = ? WHERE id = ?",
        d.attempts,
        error,
        d.id
    );
    db_.Execute(
        "UPDATE webhook_queues SET next_at_ms = ? WHERE webhook = ? AND order_key = ?",
        next_at_ms,
        d.webhook,
        d.order_key
    );
}

void SqlWebhookStore::MarkDead(const DeliveryRow& d, std::string_view error) {
    db_.Execute(
        "UPDATE webhook_deliveries SET attempts = ?, dead = 1, last_error = ? WHERE id = ?",
        d.attempts,
        error,
        d.id
    );
}

void SqlWebhookStore::SettleQueue(
    std::string_view webhook, std::string_view order_key, std::int64_t now_ms
) {
    const bool waiting =
        db_.Count(
            "SELECT EXISTS(SELECT 1 FROM webhook_deliveries WHERE webhook = ? AND order_key = ? "
            "AND dead = 0)",
            webhook,
            order_key
        ) != 0;
    if (waiting) {
        Wake(db_, webhook, order_key, now_ms);
    } else {
        db_.Execute(
            "DELETE FROM webhook_queues WHERE webhook = ? AND order_key = ?", webhook, order_key
        );
    }
}

std::vector<DeliveryRow> SqlWebhookStore::ListDeliveries(
    std::string_view webhook, bool dead, std::int64_t after_id, int limit
) {
    const std::string where = std::string(kDeliverySelect) + (dead ? kDeadOnly : "WHERE dead = 0 ");
    if (webhook.empty()) {
        return db_.FindAll(where + "AND id > ? ORDER BY id LIMIT ?", ReadDelivery, after_id, limit);
    }
    // One webhook's: read in (webhook, id) order from the index, no sort.
    return db_.FindAll(
        where + "AND webhook = ? AND id > ? ORDER BY id LIMIT ?",
        ReadDelivery,
        webhook,
        after_id,
        limit
    );
}

int SqlWebhookStore::Replay(
    std::string_view webhook, const std::vector<std::int64_t>& ids, std::int64_t now_ms
) {
    std::vector<DeliveryRow> chosen;
    if (ids.empty()) {
        chosen = db_.FindAll(
            std::string(kDeliverySelect) + kDeadOnly + "AND webhook = ?", ReadDelivery, webhook
        );
    } else {
        for (const auto id : ids) {
            if (auto d = db_.FindFirst(
                    std::string(kDeliverySelect) + "WHERE id = ? AND dead = 1 AND webhook = ?",
                    ReadDelivery,
                    id,
                    webhook
                )) {
                chosen.push_back(std::move(*d));
            }
        }
    }
    for (const auto& d : chosen) {
        db_.Execute(
            "UPDATE webhook_deliveries SET dead = 0, attempts = 0, last_error = '' WHERE id = ?",
            d.id
        );
        Wake(db_, d.webhook, d.order_key, now_ms);
    }
    return static_cast<int>(chosen.size());
}

std::int64_t SqlWebhookStore::CountWaiting() {
    // Every row (counted on the smallest index) less the dead ones (their partial index).
    return db_.Count("SELECT COUNT(*) FROM webhook_deliveries") - CountDead();
}

std::int64_t SqlWebhookStore::CountWaitingOf(std::string_view webhook) {
    return db_.Count(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook = ? AND dead = 0", webhook
    );
}

std::int64_t SqlWebhookStore::CountDead() {
    return db_.Count(std::string("SELECT COUNT(*) FROM webhook_deliveries ") + kDeadOnly);
}

}  // namespace rainmaker::storage::sql

// Webhook integrations (#72-#75) and their deliveries. A delivery waits in its queue — the
// webhook and an order key (the node id) — until the receiver accepts it; a queue's oldest
// delivery goes first, and the queue's due time is when that one is tried next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct WebhookRow {
    std::string name;
    bool enabled = true;
    std::string url;
    std::string sealed_secret;  // crypto::KeySealer::Seal of the secret, bound to the name
    std::string nodes;          // JSON array of node ids; [] = every node
    std::string events;         // JSON array of {event_name, event_active_timestamp}
    std::int64_t active_timestamp = 0;
    std::string created_by;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

struct DeliveryRow {
    std::int64_t id = 0;
    std::string webhook;
    std::string order_key;
    std::int64_t event_id = 0;
    std::string event_type;  // "rmaker.event.node_connected"
    std::string body;        // the exact bytes signed and sent
    int attempts = 0;
    bool dead = false;
    std::string last_error;
    std::int64_t created_at = 0;
};

struct DueQueue {
    std::string webhook;
    std::string order_key;
};

class WebhookStore {
public:
    virtual ~WebhookStore() = default;

    // Inserts; false when a webhook of that name exists.
    virtual bool Insert(const WebhookRow& webhook) = 0;
    // Replaces every column but name, created_by and created_at; false when there is none.
    virtual bool Update(const WebhookRow& webhook) = 0;
    virtual std::optional<WebhookRow> Find(std::string_view name) = 0;
    // Every webhook, by name.
    virtual std::vector<WebhookRow> List() = 0;
    // Deletes the webhook with its deliveries, queues and place in the event log; false when
    // there was none.
    virtual bool Delete(std::string_view name) = 0;

    // Queues a delivery (id ignored); its queue becomes due at `now_ms` if it was not waiting.
    virtual void AddDelivery(const DeliveryRow& delivery, std::int64_t now_ms) = 0;
    // Queues due by `now_ms` and leased by no one, the longest due first, at most `limit`.
    virtual std::vector<DueQueue> DueQueues(std::int64_t now_ms, int limit) = 0;
    // Leases a queue to `holder` until `until_ms`, unless another holds it at `now_ms` (the
    // holder's own lease is renewed); true when `holder` has it.
    virtual bool LeaseQueue(
        std::string_view webhook,
        std::string_view order_key,
        std::string_view holder,
        std::int64_t now_ms,
        std::int64_t until_ms
    ) = 0;
    // Ends `holder`'s lease of a queue (a lease another took over stays).
    virtual void ReleaseQueue(
        std::string_view webhook, std::string_view order_key, std::string_view holder
    ) = 0;
    // The waiting (not dead) deliveries of a queue, oldest first, at most `limit`.
    virtual std::vector<DeliveryRow> Waiting(
        std::string_view webhook, std::string_view order_key, int limit
    ) = 0;
    // Removes a delivered delivery.
    virtual void RemoveDelivery(std::int64_t id) = 0;
    // Records a failed attempt of a delivery that will be tried again: its queue is due at
    // `next_at_ms`.
    virtual void Retry(
        const DeliveryRow& delivery, std::int64_t next_at_ms, std::string_view error
    ) = 0;
    // Records a delivery out of attempts: dead until replayed.
    virtual void MarkDead(const DeliveryRow& delivery, std::string_view error) = 0;
    // Drops a queue that has nothing waiting any more (else leaves it due at `now_ms`).
    virtual void SettleQueue(
        std::string_view webhook, std::string_view order_key, std::int64_t now_ms
    ) = 0;
    // Deliveries of a webhook ("" = every webhook), dead or waiting, after `after_id`, by id.
    virtual std::vector<DeliveryRow> ListDeliveries(
        std::string_view webhook, bool dead, std::int64_t after_id, int limit
    ) = 0;
    // Dead deliveries of the webhook (those of `ids`; empty = all) wait again with no attempts
    // made, due at `now_ms`; returns how many.
    virtual int Replay(
        std::string_view webhook, const std::vector<std::int64_t>& ids, std::int64_t now_ms
    ) = 0;
    virtual std::int64_t CountWaiting() = 0;
    // The waiting (not dead) deliveries of one destination.
    virtual std::int64_t CountWaitingOf(std::string_view webhook) = 0;
    virtual std::int64_t CountDead() = 0;
};

}  // namespace rainmaker::storage

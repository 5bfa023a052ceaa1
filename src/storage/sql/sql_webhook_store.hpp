// The SQLite implementation of WebhookStore.
#pragma once

#include "storage/webhook_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlWebhookStore final : public WebhookStore {
public:
    explicit SqlWebhookStore(SqlDatabase& db) : db_(db) {}

    // storage::WebhookStore
    bool Insert(const WebhookRow& webhook) override;
    bool Update(const WebhookRow& webhook) override;
    std::optional<WebhookRow> Find(std::string_view name) override;
    std::vector<WebhookRow> List() override;
    bool Delete(std::string_view name) override;
    void AddDelivery(const DeliveryRow& delivery, std::int64_t now_ms) override;
    std::vector<DueQueue> DueQueues(std::int64_t now_ms, int limit) override;
    bool LeaseQueue(
        std::string_view webhook,
        std::string_view order_key,
        std::string_view holder,
        std::int64_t now_ms,
        std::int64_t until_ms
    ) override;
    void ReleaseQueue(std::string_view webhook, std::string_view order_key, std::string_view holder)
        override;
    std::vector<DeliveryRow> Waiting(
        std::string_view webhook, std::string_view order_key, int limit
    ) override;
    void RemoveDelivery(std::int64_t id) override;
    void Retry(const DeliveryRow& delivery, std::int64_t next_at_ms, std::string_view error)
        override;
    void MarkDead(const DeliveryRow& delivery, std::string_view error) override;
    void SettleQueue(std::string_view webhook, std::string_view order_key, std::int64_t now_ms)
        override;
    std::vector<DeliveryRow> ListDeliveries(
        std::string_view webhook, bool dead, std::int64_t after_id, int limit
    ) override;
    int Replay(std::string_view webhook, const std::vector<std::int64_t>& ids, std::int64_t now_ms)
        override;
    std::int64_t CountWaiting() override;
    std::int64_t CountWaitingOf(std::string_view webhook) override;
    std::int64_t CountDead() override;

private:
    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql

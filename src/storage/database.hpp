// The store as the domain sees it: one interface per area and transactions across them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.hpp"
#include "storage/automation_store.hpp"
#include "storage/code_store.hpp"
#include "storage/command_store.hpp"
#include "storage/event_filter_store.hpp"
#include "storage/event_store.hpp"
#include "storage/file_store.hpp"
#include "storage/group_store.hpp"
#include "storage/job_store.hpp"
#include "storage/matter_store.hpp"
#include "storage/node_store.hpp"
#include "storage/oauth_store.hpp"
#include "storage/ota_image_store.hpp"
#include "storage/ota_job_store.hpp"
#include "storage/ota_upload_store.hpp"
#include "storage/push_store.hpp"
#include "storage/rbac_store.hpp"
#include "storage/session_store.hpp"
#include "storage/sharing_store.hpp"
#include "storage/signing_store.hpp"
#include "storage/tag_store.hpp"
#include "storage/time_budget.hpp"
#include "storage/timeseries_store.hpp"
#include "storage/user_store.hpp"
#include "storage/webhook_store.hpp"

namespace rainmaker::storage {

// What the domain does when node access changes under it: domain/nodes/node_access.cpp calls
// these inside the transaction that made the change. Set once at start-up (empty: nothing).
struct NodeAccessHooks {
    // The node lost its last user (its data and Matter bindings go); called once per loss.
    std::function<void(std::string_view node_id)> node_released;
    // A user who lost access to the node had it removed from their group `group_id`.
    std::function<void(std::string_view group_id, std::string_view node_id)> node_left_group;
};

class Database {
public:
    virtual ~Database() = default;
    virtual UserStore& Users() = 0;
    virtual SessionStore& Sessions() = 0;
    virtual CodeStore& Codes() = 0;
    virtual NodeStore& Nodes() = 0;
    virtual GroupStore& Groups() = 0;
    virtual SharingStore& Sharing() = 0;
    virtual EventStore& Events() = 0;
    virtual JobStore& Jobs() = 0;
    virtual TimeSeriesStore& TimeSeries() = 0;
    virtual CommandStore& Commands() = 0;
    virtual AutomationStore& Automations() = 0;
    virtual PushStore& Push() = 0;
    virtual RbacStore& Rbac() = 0;
    virtual TagStore& Tags() = 0;
    virtual MatterStore& Matter() = 0;
    virtual OtaImageStore& OtaImages() = 0;
    virtual OtaUploadStore& OtaUploads() = 0;
    virtual OtaJobStore& OtaJobs() = 0;
    virtual FileStore& Files() = 0;
    virtual SigningStore& Signing() = 0;
    virtual EventFilterStore& EventFilters() = 0;
    virtual WebhookStore& Webhooks() = 0;
    virtual OAuthStore& OAuth() = 0;
    // Runs `work` atomically: every store call made by this thread inside it commits together,
    // or not at all when it throws (the exception is rethrown). Inside another Transaction it
    // is nested: when it throws, only its own writes are undone (and its AfterCommit effects
    // dropped); the outer one goes on if the caller catches.
    virtual void Transaction(const std::function<void()>& work) = 0;
    // Runs `work`, which only reads, on one consistent snapshot: every store call made by this
    // thread inside it reads the same state (a page and its total agree), through one
    // connection (cheaper than one read transaction per call). Inside a Transaction it joins.
    virtual void Snapshot(const std::function<void()>& work) = 0;
    // Runs `work` with a time budget of `budget` from now (as `clock` measures): a store call
    // this thread makes inside it whose statement is still running when the budget is spent
    // stops there and throws TimeBudgetSpent, and so does every call after. Within an outer
    // budget the earlier end wins. For reads: a transaction stopped half-way can only roll back.
    virtual void WithTimeBudget(
        const core::Clock& clock,
        std::chrono::milliseconds budget,
        const std::function<void()>& work
    ) = 0;
    // Runs `effect` once the transaction this thread is in has committed, or at once outside
    // one; drops it when the transaction rolls back. For what must follow only committed
    // state and must not hold the write lock: publishing to nodes. An effect that throws is
    // logged and does not stop the others.
    virtual void AfterCommit(std::function<void()> effect) = 0;

    // Messages to every server instance on this database, this one too, about what they keep in
    // memory (a revoked session): `payload` on `channel` goes out when the transaction this
    // thread is in commits, at once outside one.
    virtual void Notify(std::string_view channel, std::string_view payload) = 0;
    // Calls `on(payload)` for each message on `channel` from now on, on a thread of the
    // database's, and `on_gap()` when messages may have been missed (the link to the database
    // was lost): what they would have changed must then be dropped whole. Callbacks must not
    // throw nor call Notify, Listen or Unlisten. Returns the id Unlisten takes.
    virtual std::uint64_t Listen(
        const std::string& channel,
        std::function<void(std::string_view payload)> on,
        std::function<void()> on_gap
    ) = 0;
    // Stops the callbacks of Listen's `id`; once it returns, none is running or will run.
    virtual void Unlisten(std::uint64_t id) = 0;

    NodeAccessHooks& AccessHooks() { return access_hooks_; }

private:
    NodeAccessHooks access_hooks_;
};

// `read()` on one snapshot of `db` (Database::Snapshot), returning what it returns.
template <typename Read>
auto ReadSnapshot(Database& db, Read read) -> decltype(read()) {
    std::optional<decltype(read())> out;
    db.Snapshot([&] { out.emplace(read()); });
    return std::move(*out);
}

}  // namespace rainmaker::storage

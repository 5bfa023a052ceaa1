// Webhook integrations (#72-#75, beta in the reference): an admin names a destination for the
// events of some nodes (all when nodes_list is empty), each event type listed with the time it
// becomes active, and the whole integration with its own active time. The destination `url`
// and the signing `secret` are this server's documented extensions of the body (defaults from
// [webhooks] in the config); the secret is sealed at rest and never answered back. Webhooks span
// every node, so only admins whose RBAC roles reach every node manage them. The deliveries
// (WebhookChannel, DeliveryDispatcher) are listed and dead ones replayed through two more admin
// routes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "crypto/key_sealer.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/events/event_log.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::events {

struct WebhookConfig {
    std::string default_url;     // for integrations added without a url ("" = required)
    std::string default_secret;  // for integrations added without a secret ("" = required)
    bool allow_private = false;  // deliveries to loopback and private addresses
    int max_webhooks = 100;
    std::size_t max_nodes = 10000;     // nodes_list items
    std::size_t max_events = 100;      // events items (the reference's limit)
    std::chrono::seconds timeout{10};  // per post
};

struct WebhookEvent {
    std::string event_name;  // rmaker.event.*
    std::int64_t event_active_timestamp = 0;
};

// What the bodies of #73/#74 hold: each member as given, nullopt when absent.
struct WebhookEventInput {
    std::optional<std::string> event_name;
    std::optional<std::int64_t> event_active_timestamp;
};

struct WebhookInput {
    std::optional<std::string> webhook_name;
    std::optional<bool> enabled;
    std::optional<std::vector<std::string>> nodes_list;
    std::optional<std::vector<WebhookEventInput>> events;
    std::optional<std::int64_t> active_timestamp;
    std::optional<std::string> url;
    std::optional<std::string> secret;
};

struct Webhook {
    std::string name;
    bool enabled = true;
    std::string url;
    std::vector<std::string> nodes;  // empty: every node
    std::vector<WebhookEvent> events;
    std::int64_t active_timestamp = 0;
};

struct Delivery {
    std::int64_t id = 0;
    std::string webhook_name;
    std::string node_id;
    std::int64_t event_id = 0;
    std::string event_type;
    int attempts = 0;
    bool dead = false;
    std::string last_error;
    std::int64_t created_at = 0;
};

// Whether `name` is a valid webhook_name: 1 to 64 letters, digits, '_' or '-' (as the
// integration names event filters list).
bool IsWebhookName(std::string_view name);

// The webhook of a stored row (its secret left sealed).
Webhook WebhookOf(const storage::WebhookRow& row);

class WebhookService {
public:
    WebhookService(
        storage::Database& db,
        EventLog& log,
        const crypto::KeySealer& sealer,
        const core::Clock& clock,
        WebhookConfig config = {}
    );

    // #73. Throws kNotPermitted (an admin whose roles do not reach every node),
    // kWebhookNameMissing, kWebhookNameInvalid, kWebhookUrlInvalid (bad, or none given and no
    // default), kWebhookSecretInvalid (likewise), kWebhookEventInvalid (unknown or repeated
    // event, item without event_name), kInvalidBody (a node id empty or over 64 bytes, a
    // negative timestamp), kInputTooLarge (over max_nodes / max_events), kTooManyRequests
    // (max_webhooks reached), kWebhookExists.
    void Add(const auth::AuthContext& caller, const WebhookInput& input);
    // #74 ?operation=: update_enabled (enabled), add_nodes / remove_nodes (nodes_list),
    // add_event / remove_event / update_event (events), update_active_timestamp
    // (active_timestamp), and this server's update_destination (url and/or secret); the other
    // members are ignored. Throws what Add throws but kWebhookExists, and
    // kWebhookOperationInvalid, kWebhookFieldMissing (the operation's member absent),
    // kWebhookNotFound, kWebhookEventInvalid (adding an event listed, removing or updating one
    // not listed).
    void Update(
        const auth::AuthContext& caller, std::string_view operation, const WebhookInput& input
    );
    // #72: every integration, or the one named (kWebhookNotFound when there is none).
    std::vector<Webhook> List(
        const auth::AuthContext& caller, const std::optional<std::string>& name
    );
    // #75: deletes the integration with the deliveries it has waiting or dead.
    // Throws kWebhookNameMissing, kWebhookNotFound.
    void Remove(const auth::AuthContext& caller, const std::optional<std::string>& name);

    // Deliveries waiting (dead false) or dead, of one integration or all, after `after_id`,
    // at most `limit`. Throws kWebhookNotFound for a name that is not an integration.
    std::vector<Delivery> Deliveries(
        const auth::AuthContext& caller,
        const std::optional<std::string>& name,
        bool dead,
        std::int64_t after_id,
        int limit
    );
    // Dead deliveries of the integration (`ids`; none = all of them) wait again with their
    // attempts reset; returns how many. Throws kWebhookNameMissing, kWebhookNotFound.
    int Replay(
        const auth::AuthContext& caller,
        const std::optional<std::string>& name,
        const std::vector<std::int64_t>& ids
    );

    // The signing secret of an integration.
    std::string SecretOf(const storage::WebhookRow& row) const;
    // Tells the event log the event types the stored enabled integrations take (after each
    // change commits, and every second for changes another instance made). Serialized, so a
    // read from before a change never lands after the change's own.
    void RefreshWanted();

    const WebhookConfig& config() const { return config_; }

private:
    // Applies one update operation to `webhook` (checked); true when the secret changed.
    bool Apply(
        std::string_view operation, const WebhookInput& input, Webhook& webhook, std::string& secret
    );

    storage::Database& db_;
    EventLog& log_;
    const crypto::KeySealer& sealer_;
    const core::Clock& clock_;
    WebhookConfig config_;
    std::mutex wanted_mutex_;
};

}  // namespace rainmaker::domain::events

// TOML and environment readers for Config.
#include "app/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "crypto/pki.hpp"
#include "mqtt/topics.hpp"

namespace rainmaker::app {

namespace {

template <typename T>
void Read(const toml::table& table, std::string_view path, T& out) {
    const auto node = table.at_path(path);
    if (!node) {
        return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
        if (const auto v = node.value<std::string>()) {
            out = *v;
            return;
        }
    } else if constexpr (std::is_same_v<T, bool>) {
        if (const auto v = node.value<bool>()) {
            out = *v;
            return;
        }
    } else {
        if (const auto v = node.value<std::int64_t>()) {
            // A value the setting's type cannot hold (a negative size, a port past 65535)
            // would wrap around to another one: refused instead.
            if (!std::in_range<T>(*v)) {
                throw std::runtime_error(
                    "config: " + std::string(path) + " is out of range: " + std::to_string(*v)
                );
            }
            out = static_cast<T>(*v);
            return;
        }
    }
    throw std::runtime_error("config: " + std::string(path) + " has the wrong type");
}

// A list of strings; a single string is a list of one.
void ReadStrings(const toml::table& table, std::string_view path, std::vector<std::string>& out) {
    const auto node = table.at_path(path);
    if (!node) {
        return;
    }
    if (const auto single = node.value<std::string>()) {
        out = {*single};
        return;
    }
    const auto* array = node.as_array();
    if (array == nullptr) {
        throw std::runtime_error("config: " + std::string(path) + " must be a list of strings");
    }
    out.clear();
    for (const auto& element : *array) {
        const auto text = element.value<std::string>();
        if (!text) {
            throw std::runtime_error("config: " + std::string(path) + " must be a list of strings");
        }
        out.push_back(*text);
    }
}

// "a, b,c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> SplitList(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto first = item.find_first_not_of(" \t");
        if (first != std::string_view::npos) {
            item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
            out.emplace_back(item);
        }
    }
    return out;
}

void ReadSeconds(const toml::table& table, std::string_view path, std::chrono::seconds& out) {
    std::int64_t value = out.count();
    Read(table, path, value);
    out = std::chrono::seconds(value);
}

// A table of strings of a passthrough service (its fixed headers or query parameters).
void ReadFixed(
    const toml::table& service,
    std::string_view key,
    std::vector<std::pair<std::string, std::string>>& out
) {
    const auto node = service.at_path(key);
    if (!node) {
        return;
    }
    const auto* fixed = node.as_table();
    if (fixed == nullptr) {
        throw std::runtime_error(
            "config: passthrough.services " + std::string(key) + " must be a table"
        );
    }
    for (const auto& [name, value] : *fixed) {
        const auto text = value.value<std::string>();
        if (!text) {
            throw std::runtime_error(
                "config: passthrough.services " + std::string(key) + " values are strings"
            );
        }
        out.emplace_back(std::string(name.str()), *text);
    }
}

// [webhooks]: defaults of new integrations and how deliveries are made.
void ReadWebhooks(const toml::table& t, domain::events::WebhookConfig& w) {
    Read(t, "webhooks.default_url", w.default_url);
    Read(t, "webhooks.default_secret", w.default_secret);
    Read(t, "webhooks.allow_private", w.allow_private);
    Read(t, "webhooks.max_webhooks", w.max_webhooks);
    ReadSeconds(t, "webhooks.timeout_seconds", w.timeout);
}

// [delivery]: the queues webhooks and pushes share.
void ReadDelivery(const toml::table& t, domain::events::DeliveryConfig& d) {
    Read(t, "delivery.max_in_flight", d.max_in_flight);
    Read(t, "delivery.max_attempts", d.max_attempts);
    Read(t, "delivery.max_waiting_per_destination", d.max_waiting_per_destination);
    std::int64_t base = d.backoff_base.count();
    std::int64_t cap = d.backoff_cap.count() / 1000;
    Read(t, "delivery.backoff_base_ms", base);
    Read(t, "delivery.backoff_cap_seconds", cap);
    // Clamped so that no value overflows; CheckConfig refuses those out of range.
    d.backoff_base = std::chrono::milliseconds(std::clamp<std::int64_t>(base, -1, INT32_MAX));
    d.backoff_cap = std::chrono::seconds(std::clamp<std::int64_t>(cap, -1, INT32_MAX));
}

// [push.fcm] and [push.apns]: the push senders, with [push] timeout_seconds and allow_private.
void ReadPush(const toml::table& t, outbound::FcmConfig& fcm, outbound::ApnsConfig& apns) {
    std::string file;
    Read(t, "push.fcm.service_account_file", file);
    fcm.service_account_file = file;
    Read(t, "push.fcm.base_url", fcm.base_url);
    Read(t, "push.fcm.token_url", fcm.token_url);
    file.clear();
    Read(t, "push.apns.key_file", file);
    apns.key_file = file;
    Read(t, "push.apns.key_id", apns.key_id);
    Read(t, "push.apns.team_id", apns.team_id);
    Read(t, "push.apns.topic", apns.topic);
    Read(t, "push.apns.base_url", apns.base_url);
    Read(t, "push.apns.sandbox_url", apns.sandbox_url);
    ReadSeconds(t, "push.timeout_seconds", fcm.timeout);
    apns.timeout = fcm.timeout;
    Read(t, "push.allow_private", fcm.allow_private);
    apns.allow_private = fcm.allow_private;
}

// The tables of the array `path` ([[path]]), each handed to `read`.
template <typename Read>
void ReadTables(const toml::table& t, const char* path, Read read) {
    const auto node = t.at_path(path);
    if (!node) {
        return;
    }
    const auto* array = node.as_array();
    const auto refuse = [path] {
        throw std::runtime_error(
            std::string("config: ") + path + " must be [[" + path + "]] tables"
        );
    };
    if (array == nullptr) {
        refuse();
    }
    for (const auto& item : *array) {
        const auto* table = item.as_table();
        if (table == nullptr) {
            refuse();
        }
        read(*table);
    }
}

// [oauth] callback_url, [[oauth.providers]] and [[oauth.clients]]: OAuth sign-in.
void ReadOAuth(const toml::table& t, domain::users::OAuthConfig& out) {
    Read(t, "oauth.callback_url", out.callback_url);
    ReadSeconds(t, "oauth.timeout_seconds", out.timeout);
    ReadTables(t, "oauth.providers", [&out](const toml::table& table) {
        domain::users::OAuthProvider p;
        Read(table, "name", p.name);
        Read(table, "issuer", p.issuer);
        Read(table, "authorization_endpoint", p.authorization_endpoint);
        Read(table, "token_endpoint", p.token_endpoint);
        Read(table, "jwks_uri", p.jwks_uri);
        Read(table, "client_id", p.client_id);
        Read(table, "client_secret", p.client_secret);
        Read(table, "scopes", p.scopes);
        Read(table, "allow_private", p.allow_private);
        out.providers.push_back(std::move(p));
    });
    ReadTables(t, "oauth.clients", [&out](const toml::table& table) {
        domain::users::OAuthClient c;
        Read(table, "client_id", c.client_id);
        Read(table, "client_secret", c.client_secret);
        ReadStrings(table, "redirect_uris", c.redirect_uris);
        out.clients.push_back(std::move(c));
    });
}

// [passthrough] max_in_flight and its [[passthrough.services]] tables.
void ReadPassthrough(const toml::table& t, domain::passthrough::PassthroughConfig& out) {
    Read(t, "passthrough.max_in_flight", out.max_in_flight);
    if (t.at_path("passthrough.services")) {
        out.services.clear();
    }
    ReadTables(t, "passthrough.services", [&out](const toml::table& table) {
        domain::passthrough::ExternalService s;
        Read(table, "id", s.service_id);
        Read(table, "name", s.service_name);
        Read(table, "base_url", s.base_url);
        Read(table, "allow_private", s.allow_private);
        std::vector<std::string> methods{"GET", "POST"};
        ReadStrings(table, "methods", methods);
        s.allow_get = std::find(methods.begin(), methods.end(), "GET") != methods.end();
        s.allow_post = std::find(methods.begin(), methods.end(), "POST") != methods.end();
        if (methods.empty() || std::any_of(methods.begin(), methods.end(), [](const auto& m) {
                return m != "GET" && m != "POST";
            })) {
            throw std::runtime_error("config: passthrough.services methods are GET and/or POST");
        }
        ReadSeconds(table, "timeout_seconds", s.timeout);
        Read(table, "max_response_bytes", s.max_response_bytes);
        ReadFixed(table, "headers", s.headers);
        ReadFixed(table, "query", s.query);
        out.services.push_back(std::move(s));
    });
}

std::uint16_t ParsePort(std::string_view text, std::string_view what) {
    try {
        const int port = std::stoi(std::string(text));
        if (port >= 0 && port <= 65535) {
            return static_cast<std::uint16_t>(port);
        }
    } catch (const std::exception&) {
    }
    throw std::runtime_error(std::string(what) + ": not a port number: " + std::string(text));
}

crypto::PasswordCost ParseCost(std::string_view text) {
    const auto cost = crypto::ParsePasswordCost(text);
    if (!cost) {
        throw std::runtime_error("password cost must be min, interactive or moderate");
    }
    return *cost;
}

}  // namespace

void LoadConfigFile(const std::filesystem::path& file, Config& c) {
    toml::table t;
    try {
        t = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        throw std::runtime_error("config " + file.string() + ": " + std::string(e.description()));
    }
    Read(t, "http.address", c.http.address);
    Read(t, "http.port", c.http.port);
    Read(t, "http.io_threads", c.http.io_threads);
    Read(t, "http.worker_threads", c.http.worker_threads);
    Read(t, "http.heavy_threads", c.http.heavy_threads);
    Read(t, "http.outbound_threads", c.http.outbound_threads);
    Read(t, "http.max_body_bytes", c.http.max_body_bytes);
    ReadSeconds(t, "http.read_timeout_seconds", c.http.read_timeout);
    // Connection and memory limits, client address behind a proxy (hardening).
    Read(t, "http.max_connections", c.http.max_connections);
    Read(t, "http.max_connections_per_address", c.http.max_connections_per_address);
    Read(t, "http.max_pending_body_bytes", c.http.max_pending_body_bytes);
    Read(t, "http.max_pending_body_bytes_per_address", c.http.max_pending_body_bytes_per_address);
    ReadSeconds(t, "http.header_timeout_seconds", c.http.header_timeout);
    ReadStrings(t, "http.trusted_proxies", c.http.trusted_proxies);
    Read(t, "http.https_port", c.http.https.port);
    std::string tls_cert = c.http.https.cert_file.string();
    std::string tls_key = c.http.https.key_file.string();
    Read(t, "http.tls_cert_file", tls_cert);
    Read(t, "http.tls_key_file", tls_key);
    c.http.https.cert_file = tls_cert;
    c.http.https.key_file = tls_key;
    ReadSeconds(t, "http.tls_handshake_timeout_seconds", c.http.https.handshake_timeout);
    Read(t, "http.public_host", c.public_host);
    Read(t, "http.public_https_port", c.public_https_port);
    std::string data_dir = c.data_dir.string();
    Read(t, "storage.data_dir", data_dir);
    c.data_dir = data_dir;
    std::string blob_dir = c.blob_dir.string();
    Read(t, "storage.blob_dir", blob_dir);
    c.blob_dir = blob_dir;
    ReadPassthrough(t, c.passthrough);
    ReadWebhooks(t, c.webhooks);
    ReadDelivery(t, c.delivery);
    ReadPush(t, c.fcm, c.apns);
    ReadOAuth(t, c.oauth);
    Read(t, "storage.blob_backend", c.blob_backend);
    Read(t, "storage.backend", c.database_backend);
    Read(t, "storage.url", c.database_url);
    Read(t, "storage.s3.endpoint", c.s3.endpoint);
    Read(t, "storage.s3.public_endpoint", c.s3.public_endpoint);
    Read(t, "storage.s3.bucket", c.s3.bucket);
    Read(t, "storage.s3.region", c.s3.region);
    Read(t, "storage.s3.prefix", c.s3.prefix);
    Read(t, "storage.s3.path_style", c.s3.path_style);
    Read(t, "storage.s3.access_key_id", c.s3.access_key_id);
    Read(t, "storage.s3.secret_access_key", c.s3.secret_access_key);
    Read(t, "storage.s3.ca_file", c.s3.ca_file);
    ReadSeconds(t, "storage.s3.timeout_seconds", c.s3.timeout);
    std::string cost;
    Read(t, "auth.password_cost", cost);
    if (!cost.empty()) {
        c.accounts.password_cost = ParseCost(cost);
    }
    ReadSeconds(t, "auth.access_token_ttl_seconds", c.tokens.access_ttl);
    ReadSeconds(t, "auth.refresh_token_ttl_seconds", c.tokens.refresh_ttl);
    ReadSeconds(t, "auth.code_ttl_seconds", c.accounts.code_ttl);
    auto& login = c.accounts.login;
    Read(t, "auth.free_attempts_per_pair", login.free_per_pair);
    Read(t, "auth.free_attempts_per_account", login.free_per_account);
    Read(t, "auth.free_attempts_per_address", login.free_per_address);
    ReadSeconds(t, "auth.max_delay_seconds", login.max_delay);
    ReadSeconds(t, "auth.max_account_delay_seconds", login.max_account_delay);
    ReadSeconds(t, "auth.throttle_window_seconds", login.window);
    ReadSeconds(t, "auth.known_address_seconds", login.known_address_ttl);
    Read(t, "messages.per_recipient_per_hour", c.accounts.messages.per_recipient);
    Read(t, "messages.per_address_per_hour", c.accounts.messages.per_address);
    Read(t, "messages.unverified_per_hour", c.accounts.messages.unverified_all);
    Read(t, "smtp.host", c.smtp.host);
    Read(t, "smtp.port", c.smtp.port);
    Read(t, "smtp.starttls", c.smtp.starttls);
    Read(t, "smtp.tls", c.smtp.tls);
    Read(t, "smtp.user", c.smtp.user);
    Read(t, "smtp.password", c.smtp.password);
    Read(t, "smtp.from", c.smtp.from);
    Read(t, "sms.webhook_url", c.sms.url);
    Read(t, "sms.bearer_token", c.sms.bearer_token);
    Read(t, "log.level", c.log_level);
    ReadSeconds(t, "mapping.timeout_seconds", c.mapping_timeout);
    Read(t, "mapping.max_open_per_user", c.max_open_mapping_requests);
    Read(t, "claims.max_pending_per_user", c.claims.max_pending_per_user);
    Read(t, "claims.max_per_user", c.claims.max_per_user);
    ReadSeconds(t, "claims.pending_ttl_seconds", c.claims.pending_ttl);
    Read(t, "groups.max_per_user", c.groups.max_per_user);
    Read(t, "groups.max_matter_fabrics_per_user", c.groups.max_matter_fabrics_per_user);
    Read(t, "rbac.enabled", c.rbac.enabled);
    std::int64_t search_budget_ms = c.admin_nodes.search_budget.count();
    Read(t, "admin.node_search_budget_ms", search_budget_ms);
    // Below 10 ms ordinary searches would fail on a busy machine; above a minute one request
    // could hold a connection and keep the WAL from being checkpointed that long.
    if (search_budget_ms < 10 || search_budget_ms > 60000) {
        throw std::runtime_error("config: admin.node_search_budget_ms must be between 10 and 60000"
        );
    }
    c.admin_nodes.search_budget = std::chrono::milliseconds(search_budget_ms);
    Read(t, "ota.max_inline_image_bytes", c.ota.max_inline_image_bytes);
    Read(t, "ota.max_upload_bytes", c.ota.max_upload_bytes);
    ReadSeconds(t, "ota.upload_url_ttl_seconds", c.ota.upload_url_ttl);
    ReadSeconds(t, "ota.image_url_ttl_seconds", c.ota.image_url_ttl);
    ReadSeconds(t, "ota.user_image_url_ttl_seconds", c.ota.user_image_url_ttl);
    Read(t, "ota.max_pending_uploads", c.ota.max_pending_uploads);
    Read(t, "ota.max_user_images", c.ota.max_user_images);
    Read(t, "ota.max_concurrent_uploads", c.ota.max_concurrent_uploads);
    Read(t, "ota.upload_min_free_bytes", c.ota.upload_min_free_bytes);
    ReadSeconds(t, "http.upload_timeout_seconds", c.http.upload_timeout);
    // Below an image header and app description every image is refused; above 200 MiB (the
    // catalog's largest image) one request body would hold the server's whole body budget.
    if (c.ota.max_inline_image_bytes < 1024 ||
        c.ota.max_inline_image_bytes > std::size_t{200} * 1024 * 1024) {
        throw std::runtime_error(
            "config: ota.max_inline_image_bytes must be between 1024 and 209715200"
        );
    }
    Read(t, "ota.push_per_second", c.ota_delivery.push_per_second);
    // At least one push a second; a million would be no pace at all.
    // DrainQueue offers a second's worth in one write transaction: bounded so that it never
    // holds the database's writer for long.
    if (c.ota_delivery.push_per_second < 1 || c.ota_delivery.push_per_second > 1000) {
        throw std::runtime_error("config: ota.push_per_second must be between 1 and 1000");
    }
    ReadSeconds(t, "ota.url_valid_seconds", c.ota_delivery.url_valid_for);
    if (c.ota_delivery.url_valid_for < std::chrono::minutes(5) ||
        c.ota_delivery.url_valid_for > std::chrono::hours(24 * 7)) {
        throw std::runtime_error("config: ota.url_valid_seconds must be between 300 and 604800");
    }
    Read(t, "sharing.max_pending_per_user", c.sharing.max_pending_per_user);
    Read(t, "mqtt.alerts_per_node", c.ingest.alerts_per_node);
    Read(t, "mqtt.max_config_bytes", c.ingest.max_config_bytes);
    ReadSeconds(t, "retention.interval_seconds", c.housekeeping_interval);
    ReadSeconds(t, "retention.unconfirmed_account_seconds", c.retention.unconfirmed_account_ttl);
    ReadSeconds(t, "retention.sharing_request_seconds", c.retention.sharing_request_ttl);
    ReadSeconds(t, "retention.closed_request_seconds", c.retention.closed_request_retention);
    ReadSeconds(t, "retention.alert_seconds", c.retention.alert_retention);
    ReadSeconds(t, "retention.event_seconds", c.retention.event_retention);
    Read(t, "timeseries.retention_days", c.timeseries.retention_days);
    Read(t, "timeseries.max_ttl_days", c.timeseries.max_ttl_days);
    Read(t, "timeseries.max_message_bytes", c.timeseries.max_message_bytes);
    Read(t, "timeseries.max_text_bytes", c.timeseries.max_text_bytes);
    ReadSeconds(t, "timeseries.compaction_interval_seconds", c.timeseries_compaction_interval);
    Read(t, "timeseries.span_multiplier", c.timeseries.span_multiplier);
    // A typo here would delete points (retention) or refuse every record: refused at start.
    for (const auto& [key, value] :
         {std::pair{"retention_days", c.timeseries.retention_days},
          std::pair{"max_ttl_days", c.timeseries.max_ttl_days},
          std::pair{"span_multiplier", c.timeseries.span_multiplier}}) {
        if (value < 1) {
            throw std::runtime_error(
                "config: timeseries." + std::string(key) + " must be at least 1"
            );
        }
    }
    if (c.timeseries.span_multiplier > 100) {
        throw std::runtime_error("config: timeseries.span_multiplier must be at most 100");
    }
    Read(t, "commands.default_timeout_seconds", c.commands.default_timeout_seconds);
    Read(t, "commands.max_pending_per_node", c.commands.max_pending_per_node);
    Read(t, "commands.retention_days", c.commands.retention_days);
    Read(t, "commands.max_pending_per_user_node", c.commands.max_pending_per_user_node);
    Read(t, "commands.max_stored_per_user", c.commands.max_stored_per_user);
    Read(t, "commands.resend_interval_seconds", c.commands.resend_interval_seconds);
    if (c.commands.default_timeout_seconds < 1 ||
        c.commands.default_timeout_seconds > domain::commands::kMaxTimeoutSeconds ||
        c.commands.max_pending_per_node < 1 || c.commands.retention_days < 1 ||
        c.commands.max_pending_per_user_node < 1 || c.commands.max_stored_per_user < 1 ||
        c.commands.resend_interval_seconds < 0) {
        throw std::runtime_error(
            "config: commands.default_timeout_seconds must be 1 to 2592000, "
            "commands.max_pending_per_node, max_pending_per_user_node, max_stored_per_user and "
            "retention_days at least 1, resend_interval_seconds at least 0"
        );
    }
    auto& a = c.automations;
    Read(t, "automations.max_per_user", a.max_per_user);
    ReadSeconds(t, "automations.daylight_check_seconds", a.daylight_check);
    ReadSeconds(t, "automations.daylight_grace_seconds", a.daylight_grace);
    Read(t, "automations.weather_url", a.weather_url);
    ReadSeconds(t, "automations.weather_poll_seconds", a.weather_poll);
    ReadSeconds(t, "automations.weather_cache_seconds", a.weather_cache);
    ReadSeconds(t, "automations.weather_timeout_seconds", a.weather_timeout);
    Read(t, "automations.max_per_node_per_user", a.max_per_node_per_user);
    Read(t, "automations.max_runs_per_minute", a.max_runs_per_minute);
    Read(t, "automations.max_weather_places", a.max_weather_places);
    Read(t, "automations.max_weather_places_per_user", a.max_weather_places_per_user);
    Read(t, "automations.weather_breaker_failures", a.weather_breaker_failures);
    ReadSeconds(t, "automations.weather_backoff_max_seconds", a.weather_backoff_max);
    if (a.max_per_node_per_user < 0 || a.max_runs_per_minute < 0 || a.max_weather_places < 0 ||
        a.max_weather_places_per_user < 0) {
        throw std::runtime_error("config: automations limits must not be negative (0 = no limit)");
    }
    if (a.weather_breaker_failures < 1 || a.weather_backoff_max.count() < 60) {
        throw std::runtime_error(
            "config: automations.weather_breaker_failures must be at least 1 and "
            "weather_backoff_max_seconds at least 60"
        );
    }
    if (a.daylight_check.count() < 1 || a.weather_poll.count() < 1 ||
        a.weather_timeout.count() < 1 || a.weather_cache.count() < 0 ||
        a.daylight_grace.count() < 0) {
        throw std::runtime_error(
            "config: automations intervals and timeouts must be positive (the cache and grace "
            "may be 0)"
        );
    }
    Read(t, "mqtt.embedded", c.mqtt.embedded);
    Read(t, "mqtt.address", c.mqtt.node_address);
    Read(t, "mqtt.port", c.mqtt.node_port);
    Read(t, "mqtt.host", c.mqtt.public_host);
    Read(t, "mqtt.server_cert_file", c.mqtt.server_cert_file);
    Read(t, "mqtt.server_key_file", c.mqtt.server_key_file);
    Read(t, "mqtt.mosquitto", c.mqtt.mosquitto_binary);
    Read(t, "mqtt.plugin", c.mqtt.plugin_path);
    Read(t, "mqtt.external_host", c.mqtt.external_host);
    Read(t, "mqtt.external_port", c.mqtt.external_port);
    Read(t, "mqtt.external_user", c.mqtt.external_user);
    Read(t, "mqtt.external_password", c.mqtt.external_password);
    Read(t, "mqtt.link_client_id", c.mqtt.link_client_id);
    Read(t, "mqtt.leave_on_stop", c.mqtt.leave_on_stop);
    if (t.at_path("mqtt.presence")) {
        std::string presence;
        Read(t, "mqtt.presence", presence);
        const auto source = mqtt::ParsePresenceSource(presence);
        if (!source) {
            throw std::runtime_error(
                "config: mqtt.presence must be \"plugin\" or \"emqx-sys\", not \"" + presence + "\""
            );
        }
        c.mqtt.presence = *source;
    }
}

void CheckConfig(const Config& c) {
    if (c.mqtt.embedded && c.mqtt.presence == mqtt::PresenceSource::kEmqxSys) {
        // The embedded broker is Mosquitto: its presence comes from our plugin, and Mosquitto
        // lets no client publish on $SYS, so nothing would ever report a node online.
        throw std::runtime_error(
            "config: mqtt.presence = \"emqx-sys\" needs an external EMQX broker "
            "(mqtt.embedded = false); the embedded broker reports presence with \"plugin\""
        );
    }
    domain::passthrough::CheckPassthroughConfig(c.passthrough);
    domain::users::CheckOAuthConfig(c.oauth);
    const auto& w = c.webhooks;
    if (w.timeout.count() < 1 || w.timeout.count() > 60 || w.max_webhooks < 1) {
        throw std::runtime_error(
            "config: webhooks.timeout_seconds must be 1 to 60 and max_webhooks at least 1"
        );
    }
    const auto& d = c.delivery;
    if (d.max_in_flight < 1 || d.max_in_flight > 64 || d.max_attempts < 1 || d.max_attempts > 100 ||
        d.backoff_base.count() < 1 || d.backoff_cap < d.backoff_base ||
        d.backoff_cap > std::chrono::hours(24) || d.max_waiting_per_destination < 0 ||
        d.max_waiting_per_destination > 100000000) {
        throw std::runtime_error(
            "config: delivery.max_in_flight must be 1 to 64, max_attempts 1 to 100, "
            "backoff_base_ms at least 1 and backoff_cap_seconds not below it, at most 86400, "
            "max_waiting_per_destination 0 to 100000000"
        );
    }
    if (c.fcm.timeout.count() < 1 || c.fcm.timeout.count() > 60) {
        throw std::runtime_error("config: push.timeout_seconds must be 1 to 60");
    }
    if (c.http.outbound_threads < 1 || c.http.outbound_threads > 64) {
        throw std::runtime_error("config: http.outbound_threads must be 1 to 64");
    }
    if (c.blob_backend != "files" && c.blob_backend != "s3") {
        throw std::runtime_error("config: storage.blob_backend must be files or s3");
    }
    if (c.database_backend != "sqlite" && c.database_backend != "postgres") {
        throw std::runtime_error("config: storage.backend must be sqlite or postgres");
    }
    if (c.database_backend == "postgres" && c.database_url.empty()) {
        throw std::runtime_error(
            "config: storage.backend postgres needs storage.url (or RAINMAKER_DATABASE_URL)"
        );
    }
    if (c.blob_backend == "s3") {
        storage::s3::CheckS3Config(c.s3);
        // S3's presigned URLs live 7 days at most.
        constexpr std::int64_t kWeek = 7 * 24 * 3600;
        if (c.ota.upload_url_ttl.count() > kWeek || c.ota.image_url_ttl.count() > kWeek ||
            c.ota.user_image_url_ttl.count() > kWeek) {
            throw std::runtime_error(
                "config: with storage.blob_backend s3, ota.upload_url_ttl_seconds, "
                "image_url_ttl_seconds and user_image_url_ttl_seconds are at most 604800 (S3's "
                "presigned URLs live 7 days at most)"
            );
        }
    }
    const auto& https = c.http.https;
    if (https.cert_file.empty() != https.key_file.empty()) {
        throw std::runtime_error(
            "config: http.tls_cert_file and http.tls_key_file go together (both or neither)"
        );
    }
    if (c.ota.upload_url_ttl.count() < 1 || c.ota.image_url_ttl.count() < 1 ||
        c.ota.user_image_url_ttl.count() < 1) {
        throw std::runtime_error(
            "config: ota.upload_url_ttl_seconds, image_url_ttl_seconds and "
            "user_image_url_ttl_seconds must be at least 1"
        );
    }
    if (c.ota.max_upload_bytes < 1024 || c.ota.max_pending_uploads < 1 ||
        c.ota.max_user_images < 1) {
        throw std::runtime_error(
            "config: ota.max_upload_bytes must be at least 1024, ota.max_pending_uploads and "
            "ota.max_user_images at least 1"
        );
    }
    if (c.ota.max_concurrent_uploads < 1 || c.ota.max_concurrent_uploads > 1000) {
        throw std::runtime_error("config: ota.max_concurrent_uploads must be between 1 and 1000");
    }
    if (c.http.upload_timeout.count() < 1) {
        throw std::runtime_error("config: http.upload_timeout_seconds must be at least 1");
    }
    if (https.handshake_timeout.count() < 1) {
        throw std::runtime_error("config: http.tls_handshake_timeout_seconds must be at least 1");
    }
    // The host goes into URLs and into our certificate's names: a host name or an address.
    const auto& host = c.public_host;
    const bool host_ok =
        !host.empty() && host.size() <= 253 &&
        host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:"
        ) == std::string::npos;
    // A ':' only in an IPv6 address (a port goes in http.public_https_port).
    if (!host_ok || (host.find(':') != std::string::npos && !crypto::IsIpAddress(host))) {
        throw std::runtime_error(
            "config: http.public_host must be a host name or an IP address: " + host
        );
    }
}

void ApplyEnvironment(Config& c) {
    const auto env = [](const char* name) -> const char* {
        const char* value = std::getenv(name);
        return value != nullptr && *value != '\0' ? value : nullptr;
    };
    if (const char* v = env("RAINMAKER_HTTP_PORT")) {
        c.http.port = ParsePort(v, "RAINMAKER_HTTP_PORT");
    }
    if (const char* v = env("RAINMAKER_HTTPS_PORT")) {
        c.http.https.port = ParsePort(v, "RAINMAKER_HTTPS_PORT");
    }
    if (const char* v = env("RAINMAKER_PUBLIC_HOST")) {
        c.public_host = v;
    }
    if (const char* v = env("RAINMAKER_MQTT_PORT")) {
        c.mqtt.node_port = ParsePort(v, "RAINMAKER_MQTT_PORT");
    }
    if (const char* v = env("RAINMAKER_MQTT_HOST")) {
        c.mqtt.public_host = v;
    }
    if (const char* v = env("RAINMAKER_HTTP_ADDRESS")) {
        c.http.address = v;
    }
    if (const char* v = env("RAINMAKER_HTTP_TRUSTED_PROXIES")) {
        c.http.trusted_proxies = SplitList(v);
    }
    if (const char* v = env("RAINMAKER_DATA_DIR")) {
        c.data_dir = v;
    }
    if (const char* v = env("RAINMAKER_PASSWORD_COST")) {
        c.accounts.password_cost = ParseCost(v);
    }
    if (const char* v = env("RAINMAKER_LOG_LEVEL")) {
        c.log_level = v;
    }
    if (const char* v = env("RAINMAKER_DATABASE_BACKEND")) {
        c.database_backend = v;
    }
    if (const char* v = env("RAINMAKER_DATABASE_URL")) {
        c.database_url = v;
        if (!env("RAINMAKER_DATABASE_BACKEND")) {
            c.database_backend = "postgres";  // a URL names a PostgreSQL database
        }
    }
    if (const char* v = env("RAINMAKER_BLOB_BACKEND")) {
        c.blob_backend = v;
    }
    if (const char* v = env("RAINMAKER_S3_ENDPOINT")) {
        c.s3.endpoint = v;
    }
    if (const char* v = env("RAINMAKER_S3_BUCKET")) {
        c.s3.bucket = v;
    }
    if (const char* v = env("RAINMAKER_S3_ACCESS_KEY_ID")) {
        c.s3.access_key_id = v;
    }
    if (const char* v = env("RAINMAKER_S3_SECRET_ACCESS_KEY")) {
        c.s3.secret_access_key = v;
    }
    if (const char* v = env("RAINMAKER_SMTP_PASSWORD")) {
        c.smtp.password = v;
    }
    if (const char* v = env("RAINMAKER_WEATHER_URL")) {
        c.automations.weather_url = v;
    }
}

}  // namespace rainmaker::app

// Server settings: embedded defaults, then a TOML file, then RAINMAKER_* environment variables,
// then command-line flags (each overrides the one before).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "crypto/password_hash.hpp"
#include "domain/auth/token_service.hpp"
#include "domain/automations/automation_service.hpp"
#include "domain/commands/command_service.hpp"
#include "domain/events/webhook_service.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/housekeeping/housekeeping.hpp"
#include "domain/nodes/admin_node_service.hpp"
#include "domain/nodes/claim_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/passthrough/passthrough_service.hpp"
#include "domain/rbac/rbac_service.hpp"
#include "domain/sharing/sharing_flow.hpp"
#include "domain/timeseries/timeseries_service.hpp"
#include "domain/users/account_service.hpp"
#include "domain/users/oauth_service.hpp"
#include "http/server/http_server.hpp"
#include "mqtt/embedded_broker.hpp"
#include "outbound/apns_sender.hpp"
#include "outbound/fcm_sender.hpp"
#include "outbound/sms_webhook_sender.hpp"
#include "outbound/smtp_sender.hpp"
#include "storage/s3/s3_blob_store.hpp"

namespace rainmaker::app {

struct Config {
    http::HttpServerConfig http;
    // The host name (or address) every URL the server hands out names (presigned upload and
    // download URLs, the image_url of OTA images), with public_https_port (0: the bound HTTPS
    // port; set it when a proxy or NAT publishes another one). Our own HTTPS certificate
    // covers it.
    std::string public_host = "localhost";
    std::uint16_t public_https_port = 0;
    std::filesystem::path data_dir = "data";
    // Where the stores are: "sqlite" (<data_dir>/rainmaker.db) or "postgres" (database_url).
    std::string database_backend = "sqlite";
    std::string database_url;  // postgresql://user:password@host:port/database (libpq's forms)
    // Where firmware images, packages and files are kept: "files" (under blob_dir) or "s3".
    std::string blob_backend = "files";
    std::filesystem::path blob_dir;  // empty = <data_dir>/blobs
    storage::s3::S3Config s3;        // blob_backend "s3"
    domain::auth::TokenConfig tokens;
    domain::users::AccountConfig accounts;
    outbound::SmtpConfig smtp;       // used when smtp.host is set
    outbound::SmsWebhookConfig sms;  // used when sms.url is set
    mqtt::BrokerConfig mqtt;
    std::chrono::seconds mapping_timeout{60};  // secret-key mapping requests
    int max_open_mapping_requests = 100;       // per user
    domain::nodes::ClaimLimits claims;
    domain::nodes::AdminNodeConfig admin_nodes;
    domain::groups::GroupLimits groups;
    domain::sharing::SharingLimits sharing;
    domain::nodes::IngestLimits ingest;
    domain::housekeeping::RetentionConfig retention;
    std::chrono::seconds housekeeping_interval{600};
    domain::timeseries::TimeSeriesConfig timeseries;
    std::chrono::seconds timeseries_compaction_interval{60};
    domain::commands::CommandConfig commands;
    domain::automations::AutomationConfig automations;
    domain::rbac::RbacConfig rbac;
    domain::ota::OtaImageConfig ota;
    domain::ota::OtaDeliveryConfig ota_delivery;
    domain::passthrough::PassthroughConfig passthrough;  // external services of #120-#122
    domain::events::WebhookConfig webhooks;              // webhook integrations, #72-#75
    domain::events::DeliveryConfig delivery;             // the queues of webhooks and pushes
    outbound::FcmConfig fcm;                             // push senders (none by default)
    outbound::ApnsConfig apns;
    domain::users::OAuthConfig oauth;  // OAuth sign-in through OpenID Connect providers
    std::string log_level = "info";
};

// Reads a TOML file into `config`; throws std::runtime_error with the file's error.
void LoadConfigFile(const std::filesystem::path& file, Config& config);
// Applies RAINMAKER_* environment variables; throws std::runtime_error on a bad value.
void ApplyEnvironment(Config& config);
// Checks what the file, the environment and the flags gave together; throws std::runtime_error
// naming the setting.
void CheckConfig(const Config& config);

}  // namespace rainmaker::app

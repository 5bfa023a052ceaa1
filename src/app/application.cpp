// Wiring of store, crypto, services, senders, routes and the HTTP server.
#include "app/application.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/jwt.hpp"
#include "crypto/key_sealer.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "crypto/secure_boot.hpp"
#include "crypto/url_signer.hpp"
#include "domain/automations/automation_runner.hpp"
#include "domain/automations/automation_service.hpp"
#include "domain/commands/command_service.hpp"
#include "domain/events/delivery_dispatcher.hpp"
#include "domain/events/event_log.hpp"
#include "domain/events/webhook_channel.hpp"
#include "domain/events/webhook_service.hpp"
#include "domain/files/file_service.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/housekeeping/housekeeping.hpp"
#include "domain/nodes/admin_node_service.hpp"
#include "domain/nodes/claim_service.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_service.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/ota_job_service.hpp"
#include "domain/ota/ota_user_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "domain/push/push_channel.hpp"
#include "domain/push/push_service.hpp"
#include "domain/rbac/rbac_service.hpp"
#include "domain/sharing/group_sharing_service.hpp"
#include "domain/sharing/node_sharing_service.hpp"
#include "domain/signing/signing_service.hpp"
#include "domain/tags/tag_service.hpp"
#include "domain/timeseries/timeseries_service.hpp"
#include "http/api/account_routes.hpp"
#include "http/api/admin_node_routes.hpp"
#include "http/api/admin_platform_routes.hpp"
#include "http/api/automation_routes.hpp"
#include "http/api/blob_routes.hpp"
#include "http/api/command_routes.hpp"
#include "http/api/event_filter_routes.hpp"
#include "http/api/file_routes.hpp"
#include "http/api/group_routes.hpp"
#include "http/api/node_routes.hpp"
#include "http/api/oauth_routes.hpp"
#include "http/api/ota_job_routes.hpp"
#include "http/api/ota_routes.hpp"
#include "http/api/passthrough_routes.hpp"
#include "http/api/push_routes.hpp"
#include "http/api/rbac_routes.hpp"
#include "http/api/sharing_routes.hpp"
#include "http/api/signing_routes.hpp"
#include "http/api/system_routes.hpp"
#include "http/api/timeseries_routes.hpp"
#include "http/api/webhook_routes.hpp"
#include "http/server/http_server.hpp"
#include "jobs/scheduler.hpp"
#include "mqtt/broker_link.hpp"
#include "mqtt/crl_publisher.hpp"
#include "mqtt/embedded_broker.hpp"
#include "mqtt/private_file.hpp"
#include "outbound/external_http_client.hpp"
#include "outbound/http_poster.hpp"
#include "outbound/mailbox_sender.hpp"
#include "outbound/open_meteo_weather.hpp"
#include "outbound/routing_sender.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/postgres/postgres_database.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::app {

namespace {
Config PrepareDataDir(Config c) {
    std::filesystem::create_directories(c.data_dir);
    // The signing key and the store hold secrets: keep the directory private.
    std::filesystem::permissions(
        c.data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace
    );
    // Without the operator's certificate, the HTTPS listener uses ours, written here at start.
    if (c.http.https.cert_file.empty()) {
        c.http.https.cert_file = c.data_dir / "https" / "server.pem";
        c.http.https.key_file = c.data_dir / "https" / "server.key";
    }
    return c;
}

// "https://<public host>:<port>", the start of every URL handed out (an IPv6 address in
// brackets).
std::string PublicBase(const Config& c, std::uint16_t bound_https_port) {
    const std::uint16_t port = c.public_https_port != 0 ? c.public_https_port : bound_https_port;
    const bool v6 = c.public_host.find(':') != std::string::npos;
    return "https://" + (v6 ? "[" + c.public_host + "]" : c.public_host) + ":" +
           std::to_string(port);
}

// The link's MQTT client id: configured, or one per host and data directory (two instances on
// one broker must not share one: the broker would hand the session from one to the other).
std::string LinkClientId(const Config& c) {
    if (!c.mqtt.link_client_id.empty()) {
        return c.mqtt.link_client_id;
    }
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    std::error_code ec;
    const auto dir = std::filesystem::weakly_canonical(c.data_dir, ec);
    const auto digest =
        crypto::Sha256Hex(std::string(host) + "\n" + (ec ? c.data_dir : dir).string());
    return "rainmaker-" + digest.substr(0, 16);
}

// Our HTTPS certificate, issued by our CA at every start (like the broker's), for localhost,
// 127.0.0.1 and the public host, so that a changed public host is covered at the next start.
void IssueHttpsCertificate(const Config& c, const crypto::CertificateAuthority& ca) {
    const auto dir = c.http.https.cert_file.parent_path();
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(
        dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace
    );
    const auto issued = ca.IssueServerCertFor(c.public_host);
    // The chain: our leaf, then the CA (a client that trusts the CA needs only the leaf; one
    // configured with the chain's root as its only anchor finds it too).
    mqtt::WritePrivateFile(c.http.https.cert_file, issued.cert_pem + ca.CertPem());
    mqtt::WritePrivateFile(c.http.https.key_file, issued.key_pem);
}

std::unique_ptr<domain::users::MessageSender> MakeSender(const Config& c) {
    const auto mailbox = c.data_dir / "mailbox";
    std::unique_ptr<domain::users::MessageSender> email;
    std::unique_ptr<domain::users::MessageSender> sms;
    if (!c.smtp.host.empty()) {
        email = std::make_unique<outbound::SmtpSender>(c.smtp);
        core::log::Info(
            "codes by e-mail go through SMTP " + c.smtp.host + ":" + std::to_string(c.smtp.port)
        );
    } else {
        email = std::make_unique<outbound::MailboxSender>(mailbox);
        core::log::Info(
            "no SMTP server configured: e-mail codes are written to " + mailbox.string()
        );
    }
    if (!c.sms.url.empty()) {
        sms = std::make_unique<outbound::SmsWebhookSender>(c.sms);
    } else {
        sms = std::make_unique<outbound::MailboxSender>(mailbox);
        core::log::Info("no SMS webhook configured: SMS codes are written to " + mailbox.string());
    }
    return std::make_unique<outbound::RoutingSender>(std::move(email), std::move(sms));
}

// The sealing key of the secure boot signing keys: made only while the database holds none;
// with keys, it must open them (a new or another key would leave every key unable to sign).
std::unique_ptr<crypto::KeySealer> OpenSigningSealer(
    storage::Database& db, const std::filesystem::path& file
) {
    const auto keys = db.Signing().Keys();
    auto sealer = crypto::KeySealer::LoadOrCreate(file, "signing sealing key", keys.empty());
    if (!keys.empty()) {
        try {
            auto key = sealer->Open(keys.front().sealed_private_key, keys.front().key_id);
            crypto::Wipe(key);
        } catch (const std::runtime_error&) {
            throw std::runtime_error(
                "the signing sealing key " + file.string() +
                " does not open the signing keys in the database: restore the key from the "
                "backup made with the database"
            );
        }
    }
    return sealer;
}

// The key that seals the webhooks' signing secrets: made only while no webhook needs an older
// one, and refused when it does not open a stored webhook's secret.
std::unique_ptr<crypto::KeySealer> OpenWebhookSealer(
    storage::Database& db, const std::filesystem::path& file
) {
    const auto hooks = db.Webhooks().List();
    auto sealer = crypto::KeySealer::LoadOrCreate(file, "webhook sealing key", hooks.empty());
    if (!hooks.empty()) {
        try {
            auto secret = sealer->Open(hooks.front().sealed_secret, hooks.front().name);
            crypto::Wipe(secret);
        } catch (const std::runtime_error&) {
            throw std::runtime_error(
                "the webhook sealing key " + file.string() +
                " does not open the webhook secrets in the database: restore the key from the "
                "backup made with the database"
            );
        }
    }
    return sealer;
}

// The key that seals the fabrics' root keys. Made at the first start, but never while the
// database holds fabrics: a new key opens none of their root keys, so every fabric would stop
// issuing NOCs for good. A key that does not open a stored fabric's root key is refused too.
std::unique_ptr<crypto::KeySealer> OpenFabricSealer(
    storage::Database& db, const std::filesystem::path& file
) {
    const int fabrics = db.Matter().CountFabrics();
    std::error_code error;
    const bool present = std::filesystem::exists(file, error);
    if (error) {
        throw std::runtime_error(
            "cannot check the fabric sealing key " + file.string() + ": " + error.message()
        );
    }
    if (fabrics > 0 && !present) {
        throw std::runtime_error(
            "the fabric sealing key " + file.string() + " is missing, and the database holds " +
            std::to_string(fabrics) +
            " Matter fabric(s) whose root keys it sealed: restore the key from the backup made "
            "with the database (the server does not make a new one: no fabric could issue "
            "certificates with it)"
        );
    }
    // A key is made only while no fabric needs the old one: a file vanishing after the check
    // above is an error, not a new key.
    auto sealer = crypto::KeySealer::LoadOrCreate(file, "fabric sealing key", fabrics == 0);
    if (const auto fabric = db.Matter().AnyFabric()) {
        try {
            auto key = sealer->Open(fabric->root_key_sealed, fabric->group_id);
            std::fill(key.begin(), key.end(), '\0');
        } catch (const std::exception&) {
            throw std::runtime_error(
                "the fabric sealing key " + file.string() +
                " does not open the root key of the Matter fabric of group " + fabric->group_id +
                ": it is not the key the database's fabrics were sealed with (restore the right "
                "one from the backup made with the database)"
            );
        }
    }
    return sealer;
}

std::unique_ptr<domain::automations::WeatherProvider> MakeWeather(const Config& c) {
    if (c.automations.weather_url.empty()) {
        core::log::Info("no weather provider configured: weather automations are refused");
        return nullptr;
    }
    core::log::Info("weather automations read " + c.automations.weather_url);
    return std::make_unique<outbound::OpenMeteoWeather>(outbound::OpenMeteoConfig{
        c.automations.weather_url, c.automations.weather_timeout});
}
}  // namespace

namespace {

// The blob store storage.blob_backend names: files under the data directory, or an S3 bucket
// (checked to answer before the server starts).
std::unique_ptr<storage::BlobStore> MakeBlobStore(const Config& c, const core::Clock& clock) {
    if (c.blob_backend == "s3") {
        auto store =
            std::make_unique<storage::s3::S3BlobStore>(c.s3, c.data_dir / "s3-spool", clock);
        store->CheckBucket();
        core::log::Info(
            "blobs in S3 bucket " + c.s3.bucket + " at " + c.s3.endpoint +
            (c.s3.prefix.empty() ? "" : " under " + c.s3.prefix)
        );
        return store;
    }
    return std::make_unique<storage::files::FileBlobStore>(
        c.blob_dir.empty() ? c.data_dir / "blobs" : c.blob_dir
    );
}

std::unique_ptr<storage::Database> OpenDatabase(const Config& c) {
    if (c.database_backend == "postgres") {
        return std::make_unique<storage::postgres::PostgresDatabase>(c.database_url);
    }
    return std::make_unique<storage::sqlite::SqliteDatabase>(c.data_dir / "rainmaker.db");
}

}  // namespace

struct Application::Parts {
    explicit Parts(Config c)
        : issue_https_cert(c.http.https.cert_file.empty()),
          config(PrepareDataDir(std::move(c))),
          db(OpenDatabase(config)),
          blobs(MakeBlobStore(config, clock)),
          signer(crypto::JwtSigner::LoadOrCreate(config.data_dir / "keys" / "token-signing.pem")),
          ca(crypto::CertificateAuthority::LoadOrCreate(config.data_dir / "tls")),
          sealer(OpenFabricSealer(*db, config.data_dir / "keys" / "fabric-sealing.key")),
          url_signer(crypto::UrlSigner::LoadOrCreate(config.data_dir / "keys" / "url-signing.key")),
          presigned(*url_signer, clock, PublicBase(config, config.http.https.port)),
          tokens(*signer, *db, clock, config.tokens),
          sender(MakeSender(config)),
          accounts(*db, tokens, *sender, clock, config.accounts),
          mapping(*db, clock, config.mapping_timeout, config.max_open_mapping_requests),
          ingest(*db, mapping, clock, config.ingest),
          timeseries(*db, clock, config.timeseries),
          link(ingest, *db),
          nodes(*db, link),
          commands(*db, link, clock, config.commands),
          crl(*db, *ca, config.data_dir / "broker" / "crl.pem"),
          claims(*db, *ca, crl, clock, config.mqtt.public_host, config.claims),
          fabrics(*db, *sealer, clock),
          groups(*db, nodes, clock, domain::groups::GroupKind::kUser, config.groups, &fabrics),
          admin_groups(*db, nodes, clock, domain::groups::GroupKind::kAdmin),
          admin_nodes(*db, crl, clock, config.admin_nodes),
          tags(*db),
          sharing(*db, clock, config.sharing),
          group_sharing(*db, clock, groups, config.sharing),
          weather(MakeWeather(config)),
          automations(*db, clock, config.automations, weather != nullptr),
          automation_runner(*db, link, clock, config.automations, weather.get()),
          push(*db, clock),
          event_filters(*db, clock),
          event_log(*db, clock),
          webhook_sealer(OpenWebhookSealer(*db, config.data_dir / "keys" / "webhook-sealing.key")),
          webhooks(*db, event_log, *webhook_sealer, clock, config.webhooks),
          webhook_channel(*db, webhooks, event_filters),
          fcm(config.fcm.service_account_file.empty()
                  ? nullptr
                  : std::make_unique<outbound::FcmSender>(config.fcm)),
          apns(
              config.apns.key_file.empty() ? nullptr
                                           : std::make_unique<outbound::ApnsSender>(config.apns)
          ),
          push_channel(*db, event_filters, domain::push::PushSenders{fcm.get(), apns.get()}),
          deliveries(
              *db,
              clock,
              config.delivery,
              [] { return std::make_unique<outbound::CurlPoster>(); },
              {&webhook_channel, &push_channel}
          ),
          passthrough(config.passthrough, external_http),
          oauth(*db, accounts, external_http, clock, config.oauth, config.tokens.access_ttl),
          ota_images(*db, *blobs, clock, config.ota),
          files(*db, ota_images, clock),
          signing_sealer(OpenSigningSealer(*db, config.data_dir / "keys" / "signing-sealing.key")),
          signing(*db, ota_images, *signing_sealer, clock),
          ota_delivery(*db, link, presigned, clock, config.ota_delivery),
          ota_jobs(*db, clock),
          ota_user(*db, ota_delivery),
          rbac(*db, accounts, clock, config.rbac),
          housekeeping(*db, claims, clock, config.retention),
          scheduler(*db, clock),
          weather_scheduler(*db, clock),
          router(tokens) {
        http::api::AddSystemRoutes(router, metrics, signer->Jwks());
        http::api::AddAccountRoutes(router, accounts, tokens);
        http::api::AddNodeRoutes(router, nodes, mapping);
        http::api::AddClaimRoutes(router, claims);
        http::api::AddGroupRoutes(router, groups, group_sharing, fabrics);
        fabrics.SetNodeJoiner(
            [this](std::string_view user, std::string_view group, std::string_view node) {
                groups.AddMappedNode(user, group, node);
            }
        );
        http::api::AddAdminGroupRoutes(router, admin_groups);
        http::api::AddAdminPlatformRoutes(router, accounts);
        http::api::AddAdminNodeRoutes(router, admin_nodes, tags);
        http::api::AddSharingRoutes(router, sharing, group_sharing);
        http::api::AddTimeSeriesRoutes(router, timeseries);
        http::api::AddAutomationRoutes(router, automations);
        http::api::AddPushRoutes(router, push);
        http::api::AddEventFilterRoutes(router, event_filters);
        http::api::AddWebhookRoutes(router, webhooks);
        ingest.SetEventLog(&event_log);
        if (push_channel.Enabled()) {
            event_log.SetWanted("push", {std::string(domain::push::kPushedEvent)});
        }
        http::api::AddPassthroughRoutes(router, passthrough);
        http::api::AddOAuthRoutes(router, oauth);
        http::api::AddOtaImageRoutes(router, ota_images);
        presigned.UseDirectUrlsOf(blobs.get());
        ota_images.SetUrls(&presigned);
        http::api::AddBlobRoutes(router, presigned, ota_images, config.ota.max_upload_bytes);
        http::api::AddFileRoutes(router, files);
        http::api::AddSigningRoutes(router, signing);
        ota_jobs.SetSigning(&signing);
        http::api::AddOtaJobRoutes(router, ota_jobs);
        http::api::AddUserOtaRoutes(router, ota_user);
        ota_delivery.RegisterIngest(ingest);
        http::api::AddRbacRoutes(router, rbac);
        router.SetRouteGuard(rbac);
        timeseries.RegisterIngest(ingest);
        http::api::AddCommandRoutes(router, commands);
        commands.RegisterIngest(ingest);
        automation_runner.RegisterIngest(ingest);
        mapping.SetNodeReleased([this](std::string_view node) {
            timeseries.ForgetNode(node);
            fabrics.ForgetRainmakerNode(node);  // its next owner can commission it
            event_filters.ForgetNode(node);     // nor do its filters pass to its next owner
        });
        db->AccessHooks().node_left_group = [this](std::string_view group, std::string_view node) {
            fabrics.NodeLeftGroup(group, node);
        };
        accounts.SetDeletionHook([this](std::string_view user) {
            groups.ForgetOwner(user);
            mapping.ForgetUser(user);   // nodes left without users release their series
            commands.ForgetUser(user);  // their pending command requests fail
            event_filters.ForgetUser(user);
        });
        accounts.NormalizeStoredNames();
        mapping.SetGroupJoiner(
            [this](std::string_view user, std::string_view group, std::string_view node) {
                groups.AddMappedNode(user, group, node);
            }
        );
        metrics.AddCollector([this] { return link.RenderMetrics(); });
        metrics.AddCollector([this] { return timeseries.RenderMetrics(); });
        metrics.AddCollector([this] { return commands.RenderMetrics(); });
        metrics.AddCollector([this] { return automation_runner.RenderMetrics(); });
        metrics.AddCollector([this] { return ota_delivery.RenderMetrics(); });
        metrics.AddCollector([this] { return deliveries.RenderMetrics(); });
        scheduler.Every("housekeeping", config.housekeeping_interval, [this] {
            housekeeping.RunOnce();
        });
        scheduler.Every("timeseries-compaction", config.timeseries_compaction_interval, [this] {
            timeseries.Compact(false);
        });
        scheduler.Every("timeseries-retention", std::chrono::hours(1), [this] {
            timeseries.DeleteExpired();
        });
        // Command timeouts are due times in the store (cmd_requests.expires_at): the job looks
        // every second (the scheduler's claim of the run, then a read; it writes requests only
        // when one is due), so a request times out within a second of its expiry.
        scheduler.Every("command-timeouts", std::chrono::seconds(1), [this] {
            commands.ExpireDue();
        });
        scheduler.Every("command-retention", std::chrono::hours(1), [this] {
            commands.DeleteOld();
        });
        // OAuth logins and codes past their time.
        scheduler.Every("oauth-expiry", std::chrono::minutes(5), [this] { oauth.ExpireOld(); });
        // Pending presigned uploads and users' images past their time, and the files of
        // deleted users, with their bytes.
        scheduler.Every("ota-uploads", std::chrono::minutes(5), [this] {
            ota_images.ExpireUploads();
            files.ExpireOrphans();
            signing.ExpireOrphans();
        });
        // Secure boot signing requests (#110), answered with a request_id and signed here;
        // those a stopped server was signing are signed again.
        signing.ResumeInterrupted();
        scheduler.Every("secure-sign", std::chrono::seconds(1), [this] { signing.RunPending(); });
        // A job's connected nodes get their otaurl from a queue in the store, at
        // ota.push_per_second: the job looks every second (a read; a write only when nodes are
        // queued).
        scheduler.Every("ota-push", std::chrono::seconds(1), [this] {
            if (db->OtaJobs().CountQueued() > 0) {
                ota_delivery.DrainQueue();
            }
        });
        scheduler.Every("ota-job-timeouts", std::chrono::seconds(5), [this] {
            ota_jobs.ExpireDue();
        });
        scheduler.Every("automations-daylight", config.automations.daylight_check, [this] {
            automation_runner.RunDaylight();
        });
        if (weather) {
            // On a thread of its own: one blocking request per place to a provider that may be
            // slow or down must not hold up daylight runs, housekeeping or compaction.
            weather_scheduler.Every("automations-weather", config.automations.weather_poll, [this] {
                automation_runner.PollWeather();
            });
        }
        server = std::make_unique<http::HttpServer>(config.http, router, metrics);
    }

    bool issue_https_cert;  // no certificate configured: ours, issued at start
    Config config;
    core::SystemClock clock;
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<storage::BlobStore> blobs;  // firmware images, packages, files
    std::unique_ptr<crypto::JwtSigner> signer;
    std::unique_ptr<crypto::CertificateAuthority> ca;
    std::unique_ptr<crypto::KeySealer> sealer;      // seals fabric root keys at rest
    std::unique_ptr<crypto::UrlSigner> url_signer;  // presigned download and upload URLs
    domain::ota::PresignedUrls presigned;
    domain::auth::TokenService tokens;
    std::unique_ptr<domain::users::MessageSender> sender;
    domain::users::AccountService accounts;
    domain::nodes::MappingService mapping;
    domain::nodes::NodeIngest ingest;
    domain::timeseries::TimeSeriesService timeseries;
    mqtt::BrokerLink link;
    domain::nodes::NodeService nodes;
    domain::commands::CommandService commands;
    mqtt::CrlPublisher crl;
    domain::nodes::ClaimService claims;
    domain::groups::FabricService fabrics;
    domain::groups::GroupService groups;
    domain::groups::GroupService admin_groups;
    domain::nodes::AdminNodeService admin_nodes;
    domain::tags::TagService tags;
    domain::sharing::NodeSharingService sharing;
    domain::sharing::GroupSharingService group_sharing;
    std::unique_ptr<domain::automations::WeatherProvider> weather;  // null: none configured
    domain::automations::AutomationService automations;
    domain::automations::AutomationRunner automation_runner;
    domain::push::PushService push;
    domain::events::EventFilterService event_filters;
    domain::events::EventLog event_log;                 // the outbox webhooks are delivered from
    std::unique_ptr<crypto::KeySealer> webhook_sealer;  // seals webhook signing secrets
    domain::events::WebhookService webhooks;
    domain::events::WebhookChannel webhook_channel;
    std::unique_ptr<outbound::FcmSender> fcm;    // null: no [push.fcm]
    std::unique_ptr<outbound::ApnsSender> apns;  // null: no [push.apns]
    domain::push::PushChannel push_channel;
    domain::events::DeliveryDispatcher deliveries;  // webhooks and pushes
    outbound::ExternalHttpClient external_http;     // passthrough's calls
    domain::passthrough::PassthroughService passthrough;
    domain::users::OAuthService oauth;
    domain::ota::OtaImageService ota_images;
    domain::files::FileService files;
    // Seals secure boot signing keys; made only while no key needs an older one.
    std::unique_ptr<crypto::KeySealer> signing_sealer;
    domain::signing::SigningService signing;
    domain::ota::OtaDelivery ota_delivery;
    domain::ota::OtaJobService ota_jobs;
    domain::ota::OtaUserService ota_user;
    domain::rbac::RbacService rbac;
    domain::housekeeping::Housekeeping housekeeping;
    jobs::Scheduler scheduler;
    jobs::Scheduler weather_scheduler;  // automations-weather only
    http::Metrics metrics;
    http::Router router;
    std::unique_ptr<http::HttpServer> server;
    std::unique_ptr<mqtt::EmbeddedBroker> broker;
};

Application::Application(Config config) : parts_(std::make_unique<Parts>(std::move(config))) {}

Application::~Application() {
    Stop();
}

std::uint16_t Application::Start() {
    auto& p = *parts_;
    if (p.config.mqtt.embedded) {
        p.broker = std::make_unique<mqtt::EmbeddedBroker>(
            p.config.mqtt, p.config.data_dir / "broker", *p.ca
        );
        p.broker->Start(p.db->Nodes().RevokedSerials());
        p.crl.SetReload([&p] { p.broker->Reload(); });
        auto endpoint = p.broker->Link();
        endpoint.client_id = LinkClientId(p.config);
        endpoint.leave_on_stop = p.config.mqtt.leave_on_stop;
        p.link.Start(std::move(endpoint));
    } else {
        p.link.Start(mqtt::LinkEndpoint{
            p.config.mqtt.external_host,
            p.config.mqtt.external_port,
            p.config.mqtt.external_user,
            p.config.mqtt.external_password,
            p.config.mqtt.presence,
            LinkClientId(p.config),
            p.config.mqtt.leave_on_stop});
    }
    if (p.config.http.https.enabled && p.issue_https_cert) {
        IssueHttpsCertificate(p.config, *p.ca);
    }
    const auto port = p.server->Start();
    // A free port (0) is known only now; before, nobody could have asked for a URL on it.
    p.presigned.SetBase(PublicBase(p.config, p.server->HttpsPort()));
    if (p.config.http.https.enabled) {
        core::log::Info(
            "https on port " + std::to_string(p.server->HttpsPort()) +
            "; URLs handed out name https://" + p.config.public_host + ":" +
            std::to_string(PublicHttpsPort())
        );
    }
    p.scheduler.Start();
    // Integrations another instance changes reach the event log's gate within a second.
    p.deliveries.Start([&p] { p.webhooks.RefreshWanted(); });
    if (p.weather) {
        p.weather_scheduler.Start();
    }
    return port;
}

void Application::Stop() {
    auto& p = *parts_;
    p.automation_runner.StopWeather();  // a poll ends after its request in flight
    p.weather_scheduler.Stop();
    p.scheduler.Stop();
    p.deliveries.Stop();  // after the sends in flight
    p.server->Stop();
    p.link.Stop();
    if (p.broker) {
        p.broker->Stop();
    }
}

std::uint16_t Application::HttpsPort() const {
    return parts_->server->HttpsPort();
}

std::uint16_t Application::PublicHttpsPort() const {
    const auto& c = parts_->config;
    return c.public_https_port != 0 ? c.public_https_port : parts_->server->HttpsPort();
}

std::uint16_t Application::MqttPort() const {
    return parts_->broker ? parts_->broker->node_port() : parts_->config.mqtt.external_port;
}

void Application::CertificatesChanged() {
    parts_->crl.Changed();
}

void Application::WriteBrokerFiles(const std::filesystem::path& dir) {
    auto& p = *parts_;
    mqtt::EmbeddedBroker(p.config.mqtt, std::filesystem::absolute(dir), *p.ca)
        .WriteFiles(p.db->Nodes().RevokedSerials(), true);
}

domain::nodes::AdminNodeService& Application::AdminNodes() {
    return parts_->admin_nodes;
}

domain::nodes::ClaimService& Application::Claims() {
    return parts_->claims;
}

domain::users::AccountService& Application::Accounts() {
    return parts_->accounts;
}

const Config& Application::config() const {
    return parts_->config;
}

}  // namespace rainmaker::app

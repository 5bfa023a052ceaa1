// Wiring of store, crypto, services, senders, routes and the HTTP server.
#include "app/application.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/jwt.hpp"
#include "http/api/account_routes.hpp"
#include "http/api/system_routes.hpp"
#include "http/server/http_server.hpp"
#include "outbound/mailbox_sender.hpp"
#include "outbound/routing_sender.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace rainmaker::app {

namespace {
Config PrepareDataDir(Config c) {
    std::filesystem::create_directories(c.data_dir);
    // The signing key and the store hold secrets: keep the directory private.
    std::filesystem::permissions(
        c.data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace
    );
    return c;
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
}  // namespace

struct Application::Parts {
    explicit Parts(Config c)
        : config(PrepareDataDir(std::move(c))),
          db(std::make_unique<storage::sqlite::SqliteDatabase>(config.data_dir / "rainmaker.db")),
          signer(crypto::JwtSigner::LoadOrCreate(config.data_dir / "keys" / "token-signing.pem")),
          tokens(*signer, *db, clock, config.tokens),
          sender(MakeSender(config)),
          accounts(*db, tokens, *sender, clock, config.accounts),
          router(tokens) {
        http::api::AddSystemRoutes(router, metrics, signer->Jwks());
        http::api::AddAccountRoutes(router, accounts, tokens);
        server = std::make_unique<http::HttpServer>(config.http, router, metrics);
    }

    Config config;
    core::SystemClock clock;
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<crypto::JwtSigner> signer;
    domain::auth::TokenService tokens;
    std::unique_ptr<domain::users::MessageSender> sender;
    domain::users::AccountService accounts;
    http::Metrics metrics;
    http::Router router;
    std::unique_ptr<http::HttpServer> server;
};

Application::Application(Config config) : parts_(std::make_unique<Parts>(std::move(config))) {}

Application::~Application() = default;

std::uint16_t Application::Start() {
    return parts_->server->Start();
}

void Application::Stop() {
    parts_->server->Stop();
}

domain::users::AccountService& Application::Accounts() {
    return parts_->accounts;
}

const Config& Application::config() const {
    return parts_->config;
}

}  // namespace rainmaker::app

// rainmaker-server: serve the RainMaker API, or run an admin command on the data directory.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/resource.h>
#include <system_error>

#include "app/application.hpp"
#include "app/data_dir_lock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "domain/nodes/admin_node_service.hpp"
#include "domain/nodes/claim_service.hpp"

namespace {

using rainmaker::app::Application;
using rainmaker::app::Config;

void WriteFile(const std::filesystem::path& path, const std::string& text, bool secret) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
    out.close();
    if (secret) {
        std::filesystem::permissions(
            path,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
            std::filesystem::perm_options::replace
        );
    }
}

// systemd starts services with a soft open-file limit of 1024 under a much higher hard one, and
// the server needs a descriptor per connection: it takes the hard limit (at most 2^20, the
// kernel's usual nr_open) for itself. Called before Config is built, since the default of
// http.max_connections is derived from the limit. Returns the line to log; failure is not
// fatal, the server then runs within the limit it was given.
std::string RaiseOpenFileLimit() {
    constexpr rlim_t kCeiling = rlim_t{1} << 20;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return "open-file limit unknown: " + std::generic_category().message(errno);
    }
    const rlim_t wanted =
        limit.rlim_max == RLIM_INFINITY ? kCeiling : std::min(limit.rlim_max, kCeiling);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) {
        return "open-file limit " + std::to_string(limit.rlim_cur);
    }
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return "open-file limit stays " + std::to_string(before) + " (raising it to " +
               std::to_string(wanted) + " failed: " + std::generic_category().message(errno) + ")";
    }
    return "open-file limit raised from " + std::to_string(before) + " to " +
           std::to_string(wanted);
}

int Serve(Config config, const std::string& open_file_limit) {
    rainmaker::core::log::Info(
        open_file_limit + "; http.max_connections " + std::to_string(config.http.max_connections) +
        ", per address " + std::to_string(config.http.max_connections_per_address)
    );

    // Block the stop signals in every thread; the main thread waits for them with sigwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    // SIGHUP: the admin command line changed node certificates (deactivate-node): re-read them.
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Before anything is written to the data directory.
    const rainmaker::app::DataDirLock lock(config.data_dir);
    Application app(std::move(config));
    const auto port = app.Start();
    std::printf(
        "rainmaker-server listening on http://%s:%u\n",
        app.config().http.address.c_str(),
        static_cast<unsigned>(port)
    );
    std::printf(
        "rainmaker-server listening on https://%s:%u (URLs name https://%s:%u)\n",
        app.config().http.address.c_str(),
        static_cast<unsigned>(app.HttpsPort()),
        app.config().public_host.c_str(),
        static_cast<unsigned>(app.PublicHttpsPort())
    );
    std::printf(
        "rainmaker-server devices connect to mqtts://%s:%u (CA %s)\n",
        app.config().mqtt.public_host.c_str(),
        static_cast<unsigned>(app.MqttPort()),
        (std::filesystem::absolute(app.config().data_dir) / "tls" / "ca.pem").c_str()
    );
    std::printf(
        "rainmaker-server data directory: %s\n",
        std::filesystem::absolute(app.config().data_dir).c_str()
    );
    std::fflush(stdout);

    int signal = 0;
    for (;;) {
        sigwait(&signals, &signal);
        if (signal != SIGHUP) {
            break;
        }
        rainmaker::core::log::Info("received SIGHUP: rewriting the broker CRL from the store");
        app.CertificatesChanged();
    }
    rainmaker::core::log::Info(
        std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
        ", finishing in-flight requests"
    );
    app.Stop();
    rainmaker::core::log::Info("stopped");
    rainmaker::core::log::Flush();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string open_file_limit = RaiseOpenFileLimit();  // before Config's defaults
    CLI::App cli{"rainmaker-server: a self-hosted ESP RainMaker backend"};
    Config config;
    std::string config_file;
    std::string data_dir;
    int http_port = -1;
    int https_port = -1;
    std::string public_host;
    std::string http_address;
    std::string password_cost;
    std::string log_level;
    int mqtt_port = -1;
    std::string mqtt_address;
    std::string mqtt_host;
    int io_threads = 0;
    int worker_threads = 0;
    cli.add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
    cli.add_option(
        "--data-dir", data_dir, "data directory (env RAINMAKER_DATA_DIR; default ./data)"
    );
    cli.add_option(
           "--http-port",
           http_port,
           "HTTP port, 0 for any free port (env RAINMAKER_HTTP_PORT; default 8080)"
    )
        ->check(CLI::Range(0, 65535));
    cli.add_option(
           "--https-port",
           https_port,
           "HTTPS port (the API and downloads), 0 for any free port (env RAINMAKER_HTTPS_PORT; "
           "default 8443)"
    )
        ->check(CLI::Range(0, 65535));
    cli.add_option(
        "--public-host",
        public_host,
        "host name in the URLs the server hands out, covered by its HTTPS certificate (env "
        "RAINMAKER_PUBLIC_HOST; default localhost)"
    );
    cli.add_option(
        "--http-address",
        http_address,
        "HTTP listen address (env RAINMAKER_HTTP_ADDRESS; default 127.0.0.1)"
    );
    cli.add_option(
        "--password-cost",
        password_cost,
        "Argon2id cost: min (tests only), interactive (default), moderate"
    );
    cli.add_option(
        "--log-level", log_level, "debug, info, warn or error (env RAINMAKER_LOG_LEVEL)"
    );

    cli.add_option(
           "--io-threads",
           io_threads,
           "threads reading and writing sockets (default: cores / 4, at least 1)"
    )
        ->check(CLI::Range(1, 64));
    cli.add_option(
           "--worker-threads",
           worker_threads,
           "threads running handlers (default: cores / 2, at least 1)"
    )
        ->check(CLI::Range(1, 256));

    cli.add_option(
           "--mqtt-port",
           mqtt_port,
           "TLS port devices connect to, 0 for any free port (env RAINMAKER_MQTT_PORT; "
           "default 8883)"
    )
        ->check(CLI::Range(0, 65535));
    cli.add_option(
        "--mqtt-address", mqtt_address, "address of the device listener (default 0.0.0.0)"
    );
    cli.add_option(
        "--mqtt-host",
        mqtt_host,
        "host name devices are given as mqtt_host (env RAINMAKER_MQTT_HOST; default "
        "localhost)"
    );

    auto* admin = cli.add_subcommand("admin", "administration commands on the data directory");
    auto* create_user = admin->add_subcommand("create-user", "create a confirmed user");
    std::string user_name;
    std::string password;
    bool super_admin = false;
    bool admin_role = false;
    create_user->add_option("--user-name", user_name, "e-mail address or +<country code><number>")
        ->required();
    create_user->add_option("--password", password, "password (8..256, upper, lower, digit)")
        ->required();
    create_user->add_flag("--superadmin", super_admin, "make the user a superadmin");
    create_user->add_flag("--admin", admin_role, "make the user an admin (admin APIs)");
    auto* issue_certs = admin->add_subcommand(
        "issue-node-certs", "create node ids, keys and certificates (manufacturing)"
    );
    int cert_count = 0;
    std::string cert_out;
    issue_certs->add_option("--count", cert_count, "how many nodes")
        ->required()
        ->check(CLI::Range(1, 100000));
    issue_certs
        ->add_option("--out", cert_out, "directory to write <node_id>/{node.key,node.crt,node_id}")
        ->required();
    issue_certs->fallthrough();
    auto* broker_config = admin->add_subcommand(
        "broker-config",
        "write the configuration of a Mosquitto you run for this server's nodes (TLS with its "
        "CA, ACLs, plugins, the server's listener: mosquitto.conf, link-password, link-port)"
    );
    std::string broker_out;
    broker_config->add_option("--out", broker_out, "directory to write (created)")->required();
    broker_config->fallthrough();
    auto* list_users = admin->add_subcommand("list-users", "list every account and its role");
    auto* set_role = admin->add_subcommand(
        "set-role", "make a user a user, admin or superadmin (their sessions end)"
    );
    std::string role;
    set_role->add_option("--user-name", user_name, "the user's e-mail address or phone number")
        ->required();
    set_role->add_option("--role", role, "user, admin or superadmin")
        ->required()
        ->check(CLI::IsMember({"user", "admin", "superadmin"}));
    auto* reset_password =
        admin->add_subcommand("reset-password", "set a user's password (their sessions end)");
    reset_password
        ->add_option("--user-name", user_name, "the user's e-mail address or phone number")
        ->required();
    reset_password->add_option("--password", password, "password (8..256, upper, lower, digit)")
        ->required();
    std::string node_id;
    auto* deactivate_node = admin->add_subcommand(
        "deactivate-node", "refuse every certificate of a node (its CRL entry) until activated"
    );
    deactivate_node->add_option("--node-id", node_id, "the node")->required();
    auto* activate_node = admin->add_subcommand(
        "activate-node", "lift a deactivation (certificates revoked by a re-claim stay revoked)"
    );
    activate_node->add_option("--node-id", node_id, "the node")->required();
    for (auto* sub : {list_users, set_role, reset_password, deactivate_node, activate_node}) {
        sub->fallthrough();
    }
    admin->require_subcommand(1);
    // `admin create-user --data-dir D ...`: the global options may follow the subcommand.
    admin->fallthrough();
    create_user->fallthrough();

    CLI11_PARSE(cli, argc, argv);
    try {
        if (!config_file.empty()) {
            rainmaker::app::LoadConfigFile(config_file, config);
        }
        rainmaker::app::ApplyEnvironment(config);
        if (!data_dir.empty()) {
            config.data_dir = data_dir;
        }
        if (http_port >= 0) {
            config.http.port = static_cast<std::uint16_t>(http_port);
        }
        if (https_port >= 0) {
            config.http.https.port = static_cast<std::uint16_t>(https_port);
        }
        if (!public_host.empty()) {
            config.public_host = public_host;
        }
        if (!http_address.empty()) {
            config.http.address = http_address;
        }
        if (!password_cost.empty()) {
            const auto cost = rainmaker::crypto::ParsePasswordCost(password_cost);
            if (!cost) {
                throw std::runtime_error("--password-cost must be min, interactive or moderate");
            }
            config.accounts.password_cost = *cost;
        }
        if (io_threads > 0) {
            config.http.io_threads = io_threads;
        }
        if (worker_threads > 0) {
            config.http.worker_threads = worker_threads;
        }
        if (mqtt_port >= 0) {
            config.mqtt.node_port = static_cast<std::uint16_t>(mqtt_port);
        }
        if (!mqtt_address.empty()) {
            config.mqtt.node_address = mqtt_address;
        }
        if (!mqtt_host.empty()) {
            config.mqtt.public_host = mqtt_host;
        }
        if (!log_level.empty()) {
            config.log_level = log_level;
        }
        rainmaker::app::CheckConfig(config);
        rainmaker::core::log::SetLevel(config.log_level);

        if (*create_user) {
            Application app(std::move(config));
            const auto user =
                app.Accounts().CreateConfirmedUser(user_name, password, super_admin, admin_role);
            std::printf(
                "created user %s (%s)%s\n",
                user.user_name.c_str(),
                user.user_id.c_str(),
                super_admin ? " as superadmin" : (admin_role ? " as admin" : "")
            );
            return 0;
        }
        if (*list_users) {
            Application app(std::move(config));
            for (const auto& u : app.Accounts().ListUsers()) {
                std::printf(
                    "%s\t%s\t%s\t%s\n",
                    u.user_id.c_str(),
                    u.user_name.c_str(),
                    u.super_admin ? "superadmin" : (u.admin ? "admin" : "user"),
                    u.confirmed ? "confirmed" : "unconfirmed"
                );
            }
            return 0;
        }
        if (*set_role) {
            Application app(std::move(config));
            const auto u = app.Accounts().SetRole(user_name, role);
            std::printf(
                "%s (%s) is now %s\n", u.user_name.c_str(), u.user_id.c_str(), role.c_str()
            );
            return 0;
        }
        if (*reset_password) {
            Application app(std::move(config));
            const auto u = app.Accounts().ResetPassword(user_name, password);
            std::printf("password of %s (%s) reset\n", u.user_name.c_str(), u.user_id.c_str());
            return 0;
        }
        if (*deactivate_node || *activate_node) {
            Application app(std::move(config));
            const bool active = static_cast<bool>(*activate_node);
            const auto data = app.config().data_dir;
            const bool changed = app.AdminNodes().SetActive(node_id, active);
            std::printf(
                "node %s %s%s\n",
                node_id.c_str(),
                changed ? "" : "was already ",
                active ? "activated" : "deactivated"
            );
            // A server running on this data directory re-reads the CRL at once (its broker
            // closes the node's live connection).
            if (const auto pid = rainmaker::app::RunningServer(data); pid && changed) {
                if (::kill(*pid, SIGHUP) == 0) {
                    std::printf(
                        "told the running server (pid %d) to reload its broker CRL\n", *pid
                    );
                } else {
                    std::printf(
                        "could not signal the running server (pid %d): its broker re-reads the "
                        "CRL at its next reload or restart\n",
                        *pid
                    );
                }
            }
            return 0;
        }
        if (*broker_config) {
            Application app(std::move(config));
            app.WriteBrokerFiles(broker_out);
            std::printf("%s/mosquitto.conf\n", broker_out.c_str());
            return 0;
        }
        if (*issue_certs) {
            Application app(std::move(config));
            const auto nodes = app.Claims().IssueNodes(cert_count);
            for (const auto& node : nodes) {
                const auto dir = std::filesystem::path(cert_out) / node.node_id;
                std::filesystem::create_directories(dir);
                WriteFile(dir / "node_id", node.node_id, false);
                WriteFile(dir / "node.key", node.key_pem, true);
                WriteFile(dir / "node.crt", node.cert_pem, false);
                std::printf("%s\n", node.node_id.c_str());
            }
            return 0;
        }
        return Serve(std::move(config), open_file_limit);
    } catch (const rainmaker::core::ApiError& e) {
        std::fprintf(stderr, "rainmaker-server: %s\n", e.description().c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rainmaker-server: %s\n", e.what());
        return 1;
    }
}

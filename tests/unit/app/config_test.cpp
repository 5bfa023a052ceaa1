// Settings as read from TOML and the environment: the HTTP hardening limits, and the time-series
// settings (values that would delete points or refuse every query are refused at start).
#include "app/config.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace rainmaker::app {
namespace {

Config Load(const std::string& toml) {
    testing::TempDir dir;
    const auto file = dir.path() / "server.toml";
    std::ofstream(file) << toml;
    Config config;
    LoadConfigFile(file, config);
    return config;
}

TEST(ConfigHttpLimits, ReadsLimitsTimeoutAndTrustedProxies) {
    const auto c = Load(
        "[http]\nmax_connections = 50\nmax_connections_per_address = 5\n"
        "max_pending_body_bytes = 4194304\nmax_pending_body_bytes_per_address = 2097152\n"
        "header_timeout_seconds = 3\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n"
    );
    EXPECT_EQ(c.http.max_connections, 50u);
    EXPECT_EQ(c.http.max_connections_per_address, 5u);
    EXPECT_EQ(c.http.max_pending_body_bytes, 4194304u);
    EXPECT_EQ(c.http.max_pending_body_bytes_per_address, 2097152u);
    EXPECT_EQ(c.http.header_timeout, std::chrono::seconds(3));
    EXPECT_EQ(c.http.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
}

TEST(ConfigHttpLimits, DefaultsStayWithinTheOpenFileLimit) {
    const Config c;
    EXPECT_GE(c.http.max_connections, 1u);
    EXPECT_LE(c.http.max_connections, 10000u);
    EXPECT_EQ(c.http.max_connections_per_address, 256u);
    EXPECT_EQ(c.http.max_pending_body_bytes, 64u * 1024 * 1024);
    EXPECT_EQ(c.http.max_pending_body_bytes_per_address, 8u * 1024 * 1024);
    EXPECT_EQ(c.http.header_timeout, std::chrono::seconds(10));
    EXPECT_TRUE(c.http.trusted_proxies.empty());
}

TEST(ConfigHttpLimits, RefusesTrustedProxiesThatAreNotStrings) {
    EXPECT_THROW(Load("[http]\ntrusted_proxies = [1, 2]\n"), std::runtime_error);
    EXPECT_THROW(Load("[http]\ntrusted_proxies = 5\n"), std::runtime_error);
    EXPECT_EQ(Load("[http]\ntrusted_proxies = \"10.0.0.1\"\n").http.trusted_proxies.size(), 1u);
}

TEST(ConfigHttpLimits, ReadsTrustedProxiesFromTheEnvironment) {
    ::setenv("RAINMAKER_HTTP_TRUSTED_PROXIES", " 10.0.0.0/8, fd00::/8 ,,", 1);
    Config c;
    ApplyEnvironment(c);
    ::unsetenv("RAINMAKER_HTTP_TRUSTED_PROXIES");
    EXPECT_EQ(c.http.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
}

// A negative size used to wrap around to a huge one (review of #14).
TEST(ConfigHttpLimits, RefusesValuesTheSettingCannotHold) {
    EXPECT_THROW(Load("[http]\nmax_pending_body_bytes = -1\n"), std::runtime_error);
    EXPECT_THROW(Load("[http]\nport = 70000\n"), std::runtime_error);
    EXPECT_THROW(Load("[groups]\nmax_per_user = 3000000000\n"), std::runtime_error);
    EXPECT_EQ(Load("[groups]\nmax_per_user = 0\n").groups.max_per_user, 0);
    EXPECT_EQ(Config{}.groups.max_matter_fabrics_per_user, 20);
    EXPECT_EQ(
        Load("[groups]\nmax_matter_fabrics_per_user = 3\n").groups.max_matter_fabrics_per_user, 3
    );
    EXPECT_THROW(Load("[groups]\nmax_matter_fabrics_per_user = 3000000000\n"), std::runtime_error);
}

TEST(ConfigHttps, ReadsTheListenerTheCertificateAndThePublicHost) {
    const Config defaults;
    EXPECT_TRUE(defaults.http.https.enabled);
    EXPECT_EQ(defaults.http.https.port, 8443);
    EXPECT_EQ(defaults.public_host, "localhost");
    const auto c = Load(
        "[http]\nhttps_port = 9443\ntls_cert_file = \"/etc/c.pem\"\ntls_key_file = \"/etc/k.pem\"\n"
        "tls_handshake_timeout_seconds = 3\npublic_host = \"ota.example.com\"\n"
        "public_https_port = 443\n"
    );
    EXPECT_EQ(c.http.https.port, 9443);
    EXPECT_EQ(c.http.https.cert_file, "/etc/c.pem");
    EXPECT_EQ(c.http.https.key_file, "/etc/k.pem");
    EXPECT_EQ(c.http.https.handshake_timeout, std::chrono::seconds(3));
    EXPECT_EQ(c.public_host, "ota.example.com");
    EXPECT_EQ(c.public_https_port, 443);
    EXPECT_NO_THROW(CheckConfig(c));

    ::setenv("RAINMAKER_HTTPS_PORT", "0", 1);
    ::setenv("RAINMAKER_PUBLIC_HOST", "10.1.2.3", 1);
    Config e;
    ApplyEnvironment(e);
    ::unsetenv("RAINMAKER_HTTPS_PORT");
    ::unsetenv("RAINMAKER_PUBLIC_HOST");
    EXPECT_EQ(e.http.https.port, 0);
    EXPECT_EQ(e.public_host, "10.1.2.3");
}

TEST(ConfigHttps, RefusesACertificateWithoutItsKeyAndHostsThatCannotBeInAUrl) {
    EXPECT_THROW(CheckConfig(Load("[http]\ntls_cert_file = \"/c.pem\"\n")), std::runtime_error);
    EXPECT_THROW(CheckConfig(Load("[http]\ntls_key_file = \"/k.pem\"\n")), std::runtime_error);
    for (const char* host : {"", "a b", "evil.com/x?", "a@b", "host#frag", "host:8443"}) {
        Config c;
        c.public_host = host;
        EXPECT_THROW(CheckConfig(c), std::runtime_error) << host;
    }
    EXPECT_THROW(Load("[http]\nhttps_port = 65536\n"), std::runtime_error);
    Config v6;
    v6.public_host = "fd00::1";
    EXPECT_NO_THROW(CheckConfig(v6));
    Config zero;
    zero.http.https.handshake_timeout = std::chrono::seconds(0);
    EXPECT_THROW(CheckConfig(zero), std::runtime_error);
}

TEST(ConfigTimeSeries, ReadsEveryKey) {
    const auto c = Load(
        "[timeseries]\nretention_days = 30\nmax_ttl_days = 90\nmax_message_bytes = 1000\n"
        "max_text_bytes = 100\ncompaction_interval_seconds = 5\nspan_multiplier = 12\n"
    );
    EXPECT_EQ(c.timeseries.retention_days, 30);
    EXPECT_EQ(c.timeseries.max_ttl_days, 90);
    EXPECT_EQ(c.timeseries.max_message_bytes, 1000u);
    EXPECT_EQ(c.timeseries.max_text_bytes, 100u);
    EXPECT_EQ(c.timeseries_compaction_interval, std::chrono::seconds(5));
    EXPECT_EQ(c.timeseries.span_multiplier, 12);
}

TEST(ConfigTimeSeries, RefusesRetentionsAndSpansBelowOne) {
    EXPECT_THROW(Load("[timeseries]\nretention_days = 0\n"), std::runtime_error);
    EXPECT_THROW(Load("[timeseries]\nretention_days = -5\n"), std::runtime_error);
    EXPECT_THROW(Load("[timeseries]\nmax_ttl_days = 0\n"), std::runtime_error);
    EXPECT_THROW(Load("[timeseries]\nspan_multiplier = 0\n"), std::runtime_error);
    EXPECT_THROW(Load("[timeseries]\nspan_multiplier = 101\n"), std::runtime_error);
    EXPECT_NO_THROW(Load("[timeseries]\nspan_multiplier = 100\n"));
}

}  // namespace
}  // namespace rainmaker::app

namespace rainmaker::app {
namespace {

TEST(ConfigOta, ReadsTheBlobDirectoryAndTheInlineImageLimit) {
    const auto defaults = Load("");
    EXPECT_TRUE(defaults.blob_dir.empty());
    EXPECT_EQ(defaults.ota.max_inline_image_bytes, 5U * 1024 * 1024);
    const auto c =
        Load("[storage]\nblob_dir = \"/srv/blobs\"\n[ota]\nmax_inline_image_bytes = 2048\n");
    EXPECT_EQ(c.blob_dir, std::filesystem::path("/srv/blobs"));
    EXPECT_EQ(c.ota.max_inline_image_bytes, 2048U);
    EXPECT_THROW(Load("[ota]\nmax_inline_image_bytes = 0\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\nmax_inline_image_bytes = 1023\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\nmax_inline_image_bytes = 209715201\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\nmax_inline_image_bytes = -1\n"), std::runtime_error);
}

TEST(ConfigOta, ReadsThePushPaceAndTheUrlLifetime) {
    const auto defaults = Load("");
    EXPECT_EQ(defaults.ota_delivery.push_per_second, 100);
    EXPECT_EQ(defaults.ota_delivery.url_valid_for, std::chrono::hours(24));
    const auto c = Load("[ota]\npush_per_second = 5\nurl_valid_seconds = 600\n");
    EXPECT_EQ(c.ota_delivery.push_per_second, 5);
    EXPECT_EQ(c.ota_delivery.url_valid_for, std::chrono::seconds(600));
    EXPECT_THROW(Load("[ota]\npush_per_second = 0\n"), std::runtime_error);
    EXPECT_EQ(Load("[ota]\npush_per_second = 1000\n").ota_delivery.push_per_second, 1000);
    // One transaction offers a second's worth: at most 1000.
    EXPECT_THROW(Load("[ota]\npush_per_second = 1001\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\npush_per_second = \"fast\"\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\nurl_valid_seconds = 299\n"), std::runtime_error);
    EXPECT_THROW(Load("[ota]\nurl_valid_seconds = 604801\n"), std::runtime_error);
}

TEST(ConfigDelivery, ReadsTheWaitingLimitPerDestinationWithinItsRange) {
    EXPECT_EQ(Load("").delivery.max_waiting_per_destination, 10000);
    const auto none = Load("[delivery]\nmax_waiting_per_destination = 0\n");  // no limit
    EXPECT_EQ(none.delivery.max_waiting_per_destination, 0);
    EXPECT_NO_THROW(CheckConfig(none));
    const auto c = Load("[delivery]\nmax_waiting_per_destination = 500\n");
    EXPECT_EQ(c.delivery.max_waiting_per_destination, 500);
    EXPECT_NO_THROW(CheckConfig(c));
    EXPECT_THROW(
        CheckConfig(Load("[delivery]\nmax_waiting_per_destination = -1\n")), std::runtime_error
    );
    EXPECT_THROW(
        CheckConfig(Load("[delivery]\nmax_waiting_per_destination = 100000001\n")),
        std::runtime_error
    );
    EXPECT_THROW(Load("[delivery]\nmax_waiting_per_destination = \"many\"\n"), std::runtime_error);
}

TEST(ConfigAdmin, ReadsTheNodeSearchBudgetWithinItsRange) {
    EXPECT_EQ(Load("").admin_nodes.search_budget, std::chrono::milliseconds(1000));
    EXPECT_EQ(
        Load("[admin]\nnode_search_budget_ms = 250\n").admin_nodes.search_budget,
        std::chrono::milliseconds(250)
    );
    EXPECT_NO_THROW(Load("[admin]\nnode_search_budget_ms = 10\n"));
    EXPECT_NO_THROW(Load("[admin]\nnode_search_budget_ms = 60000\n"));
    EXPECT_THROW(Load("[admin]\nnode_search_budget_ms = 9\n"), std::runtime_error);
    EXPECT_THROW(Load("[admin]\nnode_search_budget_ms = 0\n"), std::runtime_error);
    EXPECT_THROW(Load("[admin]\nnode_search_budget_ms = 60001\n"), std::runtime_error);
    EXPECT_THROW(Load("[admin]\nnode_search_budget_ms = \"1s\"\n"), std::runtime_error);
}

// #13: presence from EMQX's $SYS client events, for an external broker only.
TEST(ConfigMqtt, ReadsThePresenceSourceAndRefusesEmqxWithTheEmbeddedBroker) {
    EXPECT_EQ(Load("").mqtt.presence, mqtt::PresenceSource::kPlugin);
    EXPECT_EQ(Load("[mqtt]\npresence = \"plugin\"\n").mqtt.presence, mqtt::PresenceSource::kPlugin);
    const auto emqx =
        Load("[mqtt]\nembedded = false\nexternal_host = \"emqx.local\"\npresence = \"emqx-sys\"\n");
    EXPECT_EQ(emqx.mqtt.presence, mqtt::PresenceSource::kEmqxSys);
    EXPECT_NO_THROW(CheckConfig(emqx));
    // The embedded Mosquitto never publishes EMQX's events: nothing would come online.
    EXPECT_THROW(CheckConfig(Load("[mqtt]\npresence = \"emqx-sys\"\n")), std::runtime_error);
    for (const char* bad : {"\"emqx\"", "\"\"", "\"EMQX-SYS\"", "1", "true"}) {
        EXPECT_THROW(Load(std::string("[mqtt]\npresence = ") + bad + "\n"), std::runtime_error)
            << bad;
    }
}

}  // namespace
}  // namespace rainmaker::app

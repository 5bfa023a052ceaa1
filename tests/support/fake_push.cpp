// The keys made with openssl, fork/exec of node with fake_push.mjs and its
// "listening <fcm> <apns>" line, and GET /received through libcurl.
#include "support/fake_push.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "support/mosquitto_clients.hpp"

namespace rainmaker::testing {

namespace fs = std::filesystem;

namespace {

void Openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = RunProgram(argv, std::chrono::seconds(60));
    if (r.exit_code != 0) {
        throw std::runtime_error("openssl " + args.front() + " failed: " + r.output);
    }
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::size_t Keep(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

std::string Text(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int Count(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? static_cast<int>(v->as_int64()) : -1;
}

}  // namespace

FakePush::FakePush(ApnsConnections apns_connections) {
    const auto sa_key = dir_.path() / "service-account.key";
    const auto sa_pub = dir_.path() / "service-account.pub";
    apns_key_ = dir_.path() / ("AuthKey_" + std::string(kKeyId) + ".p8");
    const auto apns_pub = dir_.path() / "apns.pub";
    // genpkey writes PKCS#8 ("BEGIN PRIVATE KEY"), as Google's service accounts and Apple's .p8
    // files hold their keys.
    Openssl(
        {"genpkey",
         "-algorithm",
         "RSA",
         "-pkeyopt",
         "rsa_keygen_bits:2048",
         "-out",
         sa_key.string()}
    );
    Openssl({"pkey", "-in", sa_key.string(), "-pubout", "-out", sa_pub.string()});
    Openssl(
        {"genpkey",
         "-algorithm",
         "EC",
         "-pkeyopt",
         "ec_paramgen_curve:P-256",
         "-out",
         apns_key_.string()}
    );
    Openssl({"pkey", "-in", apns_key_.string(), "-pubout", "-out", apns_pub.string()});

    std::vector<std::string> args;
    if (apns_connections == ApnsConnections::kPerPush) {
        args.emplace_back("--apns-connection-per-push");
    }
    args.insert(
        args.end(),
        {sa_pub.string(), kClientEmail, kProjectId, apns_pub.string(), kKeyId, kTeamId, kTopic}
    );
    node_ = std::make_unique<NodeFake>("tests/support/fake_push.mjs", args);
    unsigned fcm = 0;
    unsigned apns = 0;
    if (std::sscanf(node_->first_line().c_str(), "listening %u %u", &fcm, &apns) != 2 || fcm == 0 ||
        fcm > 65535 || apns == 0 || apns > 65535) {
        throw std::runtime_error("fake_push.mjs did not start: " + node_->first_line());
    }
    fcm_port_ = static_cast<std::uint16_t>(fcm);
    apns_port_ = static_cast<std::uint16_t>(apns);

    service_account_ = dir_.path() / "service-account.json";
    std::ofstream(service_account_) << boost::json::serialize(boost::json::object{
        {"type", "service_account"},
        {"project_id", kProjectId},
        {"private_key_id", "0123456789abcdef0123456789abcdef01234567"},
        {"private_key", ReadFile(sa_key)},
        {"client_email", kClientEmail},
        {"client_id", "100000000000000000001"},
        {"auth_uri", "https://accounts.google.com/o/oauth2/auth"},
        {"token_uri", FcmUrl() + "/token"}});
}

FakePush::~FakePush() = default;

std::string FakePush::ConfigToml() const {
    return "[push]\ntimeout_seconds = 2\nallow_private = true\n"
           "[push.fcm]\nservice_account_file = \"" +
           service_account_.string() + "\"\nbase_url = \"" + FcmUrl() +
           "\"\n"
           "[push.apns]\nkey_file = \"" +
           apns_key_.string() + "\"\nkey_id = \"" + kKeyId + "\"\nteam_id = \"" + kTeamId +
           "\"\ntopic = \"" + kTopic + "\"\nbase_url = \"" + ApnsUrl() + "\"\nsandbox_url = \"" +
           ApnsUrl() + "/sandbox\"\n";
}

PushLog FakePush::Received() const {
    PushLog log;
    std::string body;
    CURL* h = curl_easy_init();
    if (h == nullptr) {
        return log;
    }
    const std::string url = FcmUrl() + "/received";
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(h);
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    if (status != 200 || ec || !parsed.is_object()) {
        return log;
    }
    const auto& o = parsed.as_object();
    if (const auto* pushes = o.if_contains("pushes"); pushes != nullptr && pushes->is_array()) {
        for (const auto& item : pushes->as_array()) {
            const auto& p = item.as_object();
            ReceivedPush push;
            push.seq = p.at("seq").as_int64();
            push.platform = Text(p, "platform");
            push.token = Text(p, "token");
            push.title = Text(p, "title");
            push.body = Text(p, "body");
            push.sandbox = p.at("sandbox").as_bool();
            if (const auto* data = p.if_contains("data"); data != nullptr && data->is_object()) {
                push.data = data->as_object();
            }
            log.pushes.push_back(std::move(push));
        }
    }
    if (const auto* rejected = o.if_contains("rejected");
        rejected != nullptr && rejected->is_array()) {
        for (const auto& item : rejected->as_array()) {
            log.rejected.push_back(boost::json::serialize(item));
        }
    }
    if (const auto* gone = o.if_contains("gone"); gone != nullptr && gone->is_array()) {
        for (const auto& item : gone->as_array()) {
            log.gone.push_back(
                Text(item.as_object(), "platform") + " " + Text(item.as_object(), "token")
            );
        }
    }
    log.token_requests = Count(o, "token_requests");
    log.fcm_send_requests = Count(o, "fcm_send_requests");
    log.apns_requests = Count(o, "apns_requests");
    log.apns_connections = Count(o, "apns_connections");
    log.ok = true;
    return log;
}

}  // namespace rainmaker::testing

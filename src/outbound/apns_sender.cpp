// APNs: the provider token and the send.
#include "outbound/apns_sender.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/json.hpp"
#include "crypto/jws.hpp"

namespace rainmaker::outbound {

using domain::events::PostRequest;
using domain::events::SendResult;

namespace {

constexpr auto kTokenLife = std::chrono::minutes(50);

// `token` for a URL path: letters and digits kept (APNs tokens are hex), the rest %XX.
std::string PathSafe(std::string_view token) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : token) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
        }
    }
    return out;
}

}  // namespace

ApnsSender::ApnsSender(ApnsConfig config) : config_(std::move(config)) {
    if (config_.key_id.empty() || config_.team_id.empty() || config_.topic.empty()) {
        throw std::runtime_error("push.apns needs key_id, team_id and topic");
    }
    std::ifstream in(config_.key_file);
    if (!in) {
        throw std::runtime_error("cannot read the APNs key " + config_.key_file.string());
    }
    std::stringstream text;
    text << in.rdbuf();
    key_pem_ = text.str();
    try {
        ProviderToken();  // a key that does not sign fails now, not at the first alert
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error("the APNs key " + config_.key_file.string() + ": " + e.what());
    }
}

std::string ApnsSender::ProviderToken() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (token_.empty() || now >= renew_at_) {
        const auto iat = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()
        )
                             .count();
        token_ = crypto::SignJws(
            key_pem_, {{"kid", config_.key_id}}, {{"iss", config_.team_id}, {"iat", iat}}
        );
        renew_at_ = now + kTokenLife;
    }
    return token_;
}

SendResult ApnsSender::Send(
    domain::events::Poster& poster,
    const storage::PushEndpointRow& endpoint,
    const std::string& notification
) {
    const auto n = core::ParseUntrustedJson(notification, 64);
    if (!n || !n->is_object()) {
        return SendResult{SendResult::Outcome::kFailed, "notification is not a JSON object"};
    }
    const auto& o = n->as_object();
    const auto member = [&](const char* key) {
        const auto* v = o.if_contains(key);
        return v != nullptr ? *v : boost::json::value(nullptr);
    };
    const auto& base = endpoint.platform == "APNS_SANDBOX" ? config_.sandbox_url : config_.base_url;
    const std::string provider_token = ProviderToken();
    PostRequest request;
    request.url = base + "/3/device/" + PathSafe(endpoint.device_token);
    request.headers = {
        {"authorization", "bearer " + provider_token},
        {"apns-topic", config_.topic},
        {"apns-push-type", "alert"},
        {"apns-priority", "10"},
        {"content-type", "application/json"}};
    request.body = core::Serialize(boost::json::object{
        {"aps",
         {{"alert", {{"title", member("title")}, {"body", member("body")}}}, {"sound", "default"}}},
        {"node_id", member("node_id")},
        {"event_type", member("event_type")},
        {"event_id", member("event_id")}});
    request.timeout = config_.timeout;
    request.allow_private = config_.allow_private;
    request.http2 = true;
    const auto answer = poster.Post(request);
    if (answer.status == 200) {
        accepted_once_ = true;
        return SendResult{SendResult::Outcome::kSent, {}};
    }
    // 410: the token is no longer active. BadDeviceToken is also what every token gets with
    // the production and sandbox URLs swapped: believed only once this sender has reached
    // APNs successfully, so that a configuration mistake does not remove every endpoint.
    if (answer.status == 410 || (answer.status == 400 && accepted_once_ &&
                                 answer.body.find("BadDeviceToken") != std::string::npos)) {
        return SendResult{SendResult::Outcome::kGone, "APNs: the device token is not valid"};
    }
    if (answer.status == 403 && answer.body.find("ExpiredProviderToken") != std::string::npos) {
        std::lock_guard lock(mutex_);
        if (provider_token == token_) {
            token_.clear();  // signed again on the next try (unless renewed already)
        }
    }
    return SendResult{
        SendResult::Outcome::kFailed,
        answer.status != 0
            ? "APNs HTTP " + std::to_string(answer.status) + " " + answer.body.substr(0, 200)
            : answer.error};
}

}  // namespace rainmaker::outbound

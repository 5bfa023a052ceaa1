// FCM HTTP v1: the access token exchange and the send.
#include "outbound/fcm_sender.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/json.hpp"
#include "crypto/jws.hpp"

namespace rainmaker::outbound {

using domain::events::PostRequest;
using domain::events::SendResult;

namespace {

constexpr auto kScope = "https://www.googleapis.com/auth/firebase.messaging";
constexpr auto kRenewBefore = std::chrono::seconds(60);

std::string Member(const boost::json::object& o, const char* key, const std::string& file) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string() || v->as_string().empty()) {
        throw std::runtime_error("FCM service account " + file + " has no " + key);
    }
    return std::string(v->as_string());
}

SendResult Failed(std::string error) {
    return SendResult{SendResult::Outcome::kFailed, std::move(error)};
}

}  // namespace

FcmSender::FcmSender(FcmConfig config) : config_(std::move(config)) {
    const auto file = config_.service_account_file.string();
    std::ifstream in(config_.service_account_file);
    if (!in) {
        throw std::runtime_error("cannot read the FCM service account " + file);
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto parsed = core::ParseUntrustedJson(text.str(), 8);
    if (!parsed || !parsed->is_object()) {
        throw std::runtime_error("FCM service account " + file + " is not a JSON object");
    }
    const auto& account = parsed->as_object();
    if (Member(account, "type", file) != "service_account") {
        throw std::runtime_error("FCM service account " + file + " is not of type service_account");
    }
    project_id_ = Member(account, "project_id", file);
    client_email_ = Member(account, "client_email", file);
    private_key_ = Member(account, "private_key", file);
    token_url_ = config_.token_url.empty() ? Member(account, "token_uri", file) : config_.token_url;
    // A key that does not sign fails now, not at the first alert.
    crypto::SignJws(private_key_, {{"typ", "JWT"}}, {{"iss", client_email_}});
}

std::string FcmSender::AccessToken(domain::events::Poster& poster, std::string& error) {
    std::lock_guard lock(mutex_);
    if (!access_token_.empty() && std::chrono::steady_clock::now() < expires_) {
        return access_token_;
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()
    )
                         .count();
    const auto assertion = crypto::SignJws(
        private_key_,
        {{"typ", "JWT"}},
        {{"iss", client_email_},
         {"scope", kScope},
         {"aud", token_url_},
         {"iat", now},
         {"exp", now + 3600}}
    );
    PostRequest request;
    request.url = token_url_;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
    request.timeout = config_.timeout;
    request.allow_private = config_.allow_private;
    const auto answer = poster.Post(request);
    if (answer.status != 200) {
        error = "FCM token: " +
                (answer.status != 0 ? "HTTP " + std::to_string(answer.status) : answer.error);
        return {};
    }
    const auto parsed = core::ParseUntrustedJson(answer.body, 8);
    const auto* o = parsed ? parsed->if_object() : nullptr;
    const auto* token = o != nullptr ? o->if_contains("access_token") : nullptr;
    const auto* ttl = o != nullptr ? o->if_contains("expires_in") : nullptr;
    if (token == nullptr || !token->is_string() || token->as_string().empty()) {
        error = "FCM token: no access_token in the answer";
        return {};
    }
    const std::int64_t seconds = std::clamp<std::int64_t>(
        ttl != nullptr && ttl->is_int64() ? ttl->as_int64() : 3600, 120, 86400
    );
    access_token_ = std::string(token->as_string());
    expires_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds) - kRenewBefore;
    return access_token_;
}

SendResult FcmSender::Send(
    domain::events::Poster& poster,
    const storage::PushEndpointRow& endpoint,
    const std::string& notification
) {
    std::string error;
    const auto token = AccessToken(poster, error);
    if (token.empty()) {
        return Failed(error);
    }
    const auto n = core::ParseUntrustedJson(notification, 64);
    if (!n || !n->is_object()) {
        return Failed("notification is not a JSON object");
    }
    const auto& o = n->as_object();
    const auto text = [&](const char* key) {
        const auto* v = o.if_contains(key);
        return v != nullptr ? (v->is_string() ? std::string(v->as_string()) : core::Serialize(*v))
                            : std::string();
    };
    PostRequest request;
    request.url = config_.base_url + "/v1/projects/" + project_id_ + "/messages:send";
    request.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    // FCM's data values are strings.
    request.body = core::Serialize(boost::json::object{
        {"message",
         {{"token", endpoint.device_token},
          {"notification", {{"title", text("title")}, {"body", text("body")}}},
          {"data",
           {{"node_id", text("node_id")},
            {"event_type", text("event_type")},
            {"event_id", text("event_id")},
            {"data", text("data")}}}}}});
    request.timeout = config_.timeout;
    request.allow_private = config_.allow_private;
    const auto answer = poster.Post(request);
    if (answer.status == 200) {
        return SendResult{SendResult::Outcome::kSent, {}};
    }
    // Only FCM's own words make a token gone: a 404 from a wrong base URL or a proxy must not
    // remove every endpoint.
    if ((answer.status == 404 && answer.body.find("UNREGISTERED") != std::string::npos) ||
        (answer.status == 400 && answer.body.find("registration token") != std::string::npos)) {
        return SendResult{SendResult::Outcome::kGone, "FCM: the device token is not registered"};
    }
    if (answer.status == 401) {
        std::lock_guard lock(mutex_);
        if (access_token_ == token) {
            access_token_.clear();  // fetched again on the next try (unless renewed already)
        }
    }
    return Failed(answer.status != 0 ? "FCM HTTP " + std::to_string(answer.status) : answer.error);
}

}  // namespace rainmaker::outbound

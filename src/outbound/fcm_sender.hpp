// Pushes to Android phones through Firebase Cloud Messaging's HTTP v1 API: the service
// account's key signs an RS256 JWT that its token endpoint exchanges for an OAuth2 access token
// (cached until a minute before it expires), which authorizes
// POST {base_url}/v1/projects/{project_id}/messages:send. A token FCM does not know (404
// UNREGISTERED, or 400 naming the registration token) is gone.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "domain/push/push_sender.hpp"

namespace rainmaker::outbound {

struct FcmConfig {
    std::filesystem::path service_account_file;  // empty: no FCM sender
    std::string base_url = "https://fcm.googleapis.com";
    std::string token_url;  // "" = the service account's token_uri
    std::chrono::seconds timeout{10};
    bool allow_private = false;  // a base or token URL on a private address (tests)
};

class FcmSender final : public domain::push::PushSender {
public:
    // Reads the service account JSON (type service_account, project_id, client_email,
    // private_key, token_uri); throws std::runtime_error saying what is missing.
    explicit FcmSender(FcmConfig config);

    domain::events::SendResult Send(
        domain::events::Poster& poster,
        const storage::PushEndpointRow& endpoint,
        const std::string& notification
    ) override;

private:
    // The cached access token, fetched through `poster` when missing or expiring; "" and
    // `error` set when it could not be.
    std::string AccessToken(domain::events::Poster& poster, std::string& error);

    FcmConfig config_;
    std::string project_id_;
    std::string client_email_;
    std::string private_key_;
    std::string token_url_;
    std::mutex mutex_;
    std::string access_token_;
    std::chrono::steady_clock::time_point expires_;
};

}  // namespace rainmaker::outbound

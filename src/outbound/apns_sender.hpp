// Pushes to Apple devices through APNs over HTTP/2 with token authentication: an ES256 JWT of
// the team's key (kid = key_id, iss = team_id; renewed every 50 minutes, as Apple asks for
// between 20 and 60) authorizes POST {base}/3/device/<token>, the base being the production or
// the sandbox one by the endpoint's platform (APNS, APNS_SANDBOX). A token APNs calls inactive
// (410) is gone, and one it calls bad (400 BadDeviceToken) once APNs has accepted a push from
// this sender (else the URLs may be swapped, which makes every token bad).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "domain/push/push_sender.hpp"

namespace rainmaker::outbound {

struct ApnsConfig {
    std::filesystem::path key_file;  // the .p8 key (PKCS#8 PEM, P-256); empty: no APNs sender
    std::string key_id;
    std::string team_id;
    std::string topic;  // the app's bundle id
    std::string base_url = "https://api.push.apple.com";
    std::string sandbox_url = "https://api.sandbox.push.apple.com";
    std::chrono::seconds timeout{10};
    bool allow_private = false;  // base URLs on a private address (tests)
};

class ApnsSender final : public domain::push::PushSender {
public:
    // Reads the key; throws std::runtime_error when it cannot be read or does not sign, or
    // key_id, team_id or topic is empty.
    explicit ApnsSender(ApnsConfig config);

    domain::events::SendResult Send(
        domain::events::Poster& poster,
        const storage::PushEndpointRow& endpoint,
        const std::string& notification
    ) override;

private:
    std::string ProviderToken();

    ApnsConfig config_;
    std::string key_pem_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point renew_at_;
    std::atomic<bool> accepted_once_{false};  // APNs accepted a push from this sender
};

}  // namespace rainmaker::outbound

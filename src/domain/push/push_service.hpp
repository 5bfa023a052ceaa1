// Push-notification endpoints (#84-#86): the phones a user registers to receive pushes. A
// registration is {platform, device token, platform type}; the server answers with an endpoint
// ARN of its own (arn:rainmaker:push:endpoint/<32 hex>), stable until the endpoint is deleted.
// One device token belongs to one user: registered again by the same user it is a duplicate
// (114016); by another user it moves to them (the phone changed hands, or its user logged out
// and another logged in). Delivery (FCM, APNs) is the next slice of issue 12.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::push {

struct PushConfig {
    int max_endpoints_per_user = 100;       // more → 429 100070
    std::size_t max_token_length = 1024;    // bytes of mobile_device_token; more → 100036
    std::size_t max_endpoint_length = 256;  // bytes of the endpoint query of #86; more → 100036
};

// What #84 reads from the body: each member as given, nullopt when absent or null.
struct EndpointInput {
    std::optional<std::string> platform;
    std::optional<std::string> mobile_device_token;
    std::optional<std::string> platform_type;
};

struct Endpoint {
    std::string endpoint_arn;
    std::string application_arn;  // arn:rainmaker:push:app/<platform>[/<platform_type>]
    std::string platform;
    std::string platform_type;  // "" = none given
    std::string device_token;
    std::int64_t created_at = 0;
};

struct Registration {
    Endpoint endpoint;
    bool moved = false;  // the token was another user's endpoint until now
};

// The platform application ARN of a platform and platform type.
std::string ApplicationArn(std::string_view platform, std::string_view platform_type);

class PushService {
public:
    PushService(storage::Database& db, const core::Clock& clock, PushConfig config = {});

    // #84. Throws kPushInvalidPlatform (missing or not GCM|APNS|APNS_SANDBOX),
    // kPushTokenMissing (missing or empty), kInputTooLarge (token longer than
    // max_token_length), kInvalidBody (token with a character outside printable ASCII, or
    // with spaces), kPushPlatformTypeInvalid (platform_type not in the catalog's enum),
    // kPushEndpointExists (the caller already registered this token), kTooManyRequests (the
    // caller has max_endpoints_per_user endpoints). Nothing changes when it throws.
    Registration Register(const auth::AuthContext& caller, const EndpointInput& input);
    // #85: the caller's endpoints in registration order.
    std::vector<Endpoint> List(const auth::AuthContext& caller);
    // #86: deletes the caller's endpoint of that token and/or ARN (both given: the endpoint
    // must have both). Throws kPushTokenOrEndpointMissing (neither given), kInputTooLarge,
    // kPushEndpointNotFound (the caller has no such endpoint: another user's is not found).
    void Delete(
        const auth::AuthContext& caller,
        std::string_view mobile_device_token,
        std::string_view endpoint_arn
    );

private:
    storage::Database& db_;
    const core::Clock& clock_;
    PushConfig config_;
};

}  // namespace rainmaker::domain::push

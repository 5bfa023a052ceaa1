// Push-notification endpoints in the store: the phones a user registered (#84-#86), found by
// owner, by endpoint ARN and by device token (one token, one row: one device, one user).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct PushEndpointRow {
    std::string endpoint_arn;  // our opaque id: arn:rainmaker:push:endpoint/<32 hex>
    std::string user_id;
    std::string platform;       // GCM | APNS | APNS_SANDBOX
    std::string platform_type;  // "" = none given
    std::string device_token;
    std::int64_t created_at = 0;  // unix seconds
};

class PushStore {
public:
    virtual ~PushStore() = default;

    // Inserts; false when the ARN or the device token exists (nothing changed).
    virtual bool Insert(const PushEndpointRow& endpoint) = 0;
    // The endpoint of that ARN, whoever owns it.
    virtual std::optional<PushEndpointRow> Find(std::string_view endpoint_arn) = 0;
    // The endpoint holding that device token, whoever owns it.
    virtual std::optional<PushEndpointRow> FindByToken(std::string_view device_token) = 0;
    // The user's endpoints in registration order.
    virtual std::vector<PushEndpointRow> ListForUser(std::string_view user_id) = 0;
    virtual int CountForUser(std::string_view user_id) = 0;
    // Deletes the endpoint of that ARN; false when there is none.
    virtual bool Delete(std::string_view endpoint_arn) = 0;
};

}  // namespace rainmaker::storage

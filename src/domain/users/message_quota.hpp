// Limits on the verification messages the server sends (e-mail and SMS cost money and can be
// turned against third parties): per recipient, per client address and in all, each per hour.
#pragma once

#include <mutex>
#include <string_view>

#include "core/clock.hpp"
#include "domain/auth/throttle.hpp"

namespace rainmaker::domain::users {

struct MessageLimits {
    int per_recipient = 5;  // per hour, to one e-mail address or phone number
    int per_address = 20;   // per hour, requested from one client address
    int in_all = 1000;      // per hour, the whole server
};

class MessageQuota {
public:
    MessageQuota(const core::Clock& clock, MessageLimits limits);

    // Throws ApiError(kTooManyRequests) when one more message to `recipient`, asked for from
    // `client`, would pass a limit; counts nothing.
    void Check(std::string_view recipient, std::string_view client);
    // Check, then count the message.
    void CheckAndCount(std::string_view recipient, std::string_view client);

private:
    auth::Throttle recipients_;
    auth::Throttle addresses_;
    auth::Throttle total_;
    std::mutex mutex_;
};

}  // namespace rainmaker::domain::users

// Limits on the verification messages the server sends (e-mail and SMS cost money and can be
// turned against third parties), each per hour:
// - per recipient and purpose: one address cannot be flooded with codes, and a flood of reset
//   codes cannot stop its owner's MFA codes ("a+x@d" counts as "a@d");
// - per client address (IPv6 by its /64): one client cannot mail many recipients;
// - messages to recipients not verified yet (sign-up codes, a new phone number), by the whole
//   server: the budget a spammer could spend across addresses, kept apart from the codes of
//   existing accounts (resets, MFA, logins), which it cannot exhaust.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "domain/auth/throttle.hpp"

namespace rainmaker::domain::users {

struct MessageLimits {
    int per_recipient = 5;      // to one e-mail address or phone number, per purpose
    int per_address = 20;       // asked for from one client address
    int unverified_all = 1000;  // to recipients not verified yet, the whole server
};

struct OutgoingCode {
    std::string_view recipient;  // e-mail address or phone number
    std::string_view purpose;    // "signup", "reset", "mfa", ...
    std::string_view client;     // the address that asked for it
    bool verified = false;       // the recipient is a confirmed account's name or phone
};

class MessageQuota {
public:
    MessageQuota(const core::Clock& clock, MessageLimits limits);

    // Throws ApiError(kTooManyRequests) when one more such message would pass a limit; counts
    // nothing.
    void Check(const OutgoingCode& message);
    // Check, then count the message.
    void CheckAndCount(const OutgoingCode& message);

private:
    struct Keys {
        std::string recipient;
        std::string address;
    };

    static Keys KeysOf(const OutgoingCode& message);
    void CheckKeys(const Keys& keys, bool verified);

    auth::Throttle recipients_;
    auth::Throttle addresses_;
    auth::Throttle unverified_;
    std::mutex mutex_;
};

}  // namespace rainmaker::domain::users

// Three hourly windows in front of every message sent.
#include "domain/users/message_quota.hpp"

#include <algorithm>
#include <chrono>

#include "core/text.hpp"
#include "domain/auth/address_key.hpp"

namespace rainmaker::domain::users {

namespace {
constexpr std::chrono::seconds kHour{3600};

// The recipient as the spam limit counts it: lower case, an e-mail sub-address ("+tag")
// dropped, since it reaches the same mailbox.
std::string RecipientKey(std::string_view recipient) {
    std::string key = core::AsciiLower(recipient);
    const auto at = key.find('@');
    if (at != std::string::npos) {
        const auto plus = key.find('+');
        if (plus != std::string::npos && plus < at) {
            key.erase(plus, at - plus);
        }
    }
    return key;
}
}  // namespace

MessageQuota::MessageQuota(const core::Clock& clock, MessageLimits limits)
    : recipients_(clock, limits.per_recipient, kHour),
      addresses_(clock, limits.per_address, kHour),
      unverified_(clock, limits.unverified_all, kHour) {}

MessageQuota::Keys MessageQuota::KeysOf(const OutgoingCode& message) {
    return Keys{
        RecipientKey(message.recipient) + '\n' + std::string(message.purpose),
        auth::AddressKey(message.client)};
}

void MessageQuota::CheckKeys(const Keys& keys, bool verified) {
    recipients_.Check(keys.recipient);
    addresses_.Check(keys.address);
    if (!verified) {
        unverified_.Check("all");
    }
}

void MessageQuota::Check(const OutgoingCode& message) {
    CheckKeys(KeysOf(message), message.verified);
}

void MessageQuota::CheckAndCount(const OutgoingCode& message) {
    const Keys keys = KeysOf(message);
    // Checked together first, so a refusal by one window counts in none.
    std::lock_guard lock(mutex_);
    CheckKeys(keys, message.verified);
    recipients_.Hit(keys.recipient);
    addresses_.Hit(keys.address);
    if (!message.verified) {
        unverified_.Hit("all");
    }
}

}  // namespace rainmaker::domain::users

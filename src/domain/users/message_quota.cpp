// Three hourly windows in front of every message sent.
#include "domain/users/message_quota.hpp"

#include <chrono>

namespace rainmaker::domain::users {

namespace {
constexpr std::chrono::seconds kHour{3600};
}

MessageQuota::MessageQuota(const core::Clock& clock, MessageLimits limits)
    : recipients_(clock, limits.per_recipient, kHour),
      addresses_(clock, limits.per_address, kHour),
      total_(clock, limits.in_all, kHour) {}

void MessageQuota::Check(std::string_view recipient, std::string_view client) {
    recipients_.Check(recipient);
    addresses_.Check(client);
    total_.Check("all");
}

void MessageQuota::CheckAndCount(std::string_view recipient, std::string_view client) {
    // Checked together first, so a refusal by one window counts in none.
    std::lock_guard lock(mutex_);
    Check(recipient, client);
    recipients_.Hit(recipient);
    addresses_.Hit(client);
    total_.Hit("all");
}

}  // namespace rainmaker::domain::users

// Picks the channel for each code, so the account service sees one MessageSender for mail and SMS.
#pragma once

#include <memory>

#include "domain/users/message_sender.hpp"

namespace rainmaker::outbound {

// SMS messages go to `sms`, all others to `email`; errors from either pass through unchanged.
class RoutingSender final : public domain::users::MessageSender {
public:
    // Throws std::invalid_argument when either sender is null.
    RoutingSender(
        std::unique_ptr<domain::users::MessageSender> email,
        std::unique_ptr<domain::users::MessageSender> sms
    );

    // domain::users::MessageSender
    void Send(const domain::users::OutgoingMessage& message) override;

private:
    std::unique_ptr<domain::users::MessageSender> email_;
    std::unique_ptr<domain::users::MessageSender> sms_;
};

}  // namespace rainmaker::outbound

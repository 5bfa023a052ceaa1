// Picks the channel for each code, so the account service sees one MessageSender for mail and SMS.
#include "outbound/routing_sender.hpp"

#include <stdexcept>
#include <utility>

namespace rainmaker::outbound {

RoutingSender::RoutingSender(
    std::unique_ptr<domain::users::MessageSender> email,
    std::unique_ptr<domain::users::MessageSender> sms
)
    : email_(std::move(email)), sms_(std::move(sms)) {
    if (!email_ || !sms_) {
        throw std::invalid_argument("RoutingSender needs both an e-mail and an SMS sender");
    }
}

void RoutingSender::Send(const domain::users::OutgoingMessage& message) {
    (message.sms ? *sms_ : *email_).Send(message);
}

}  // namespace rainmaker::outbound

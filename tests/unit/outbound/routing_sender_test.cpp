// RoutingSender: each message reaches the sender for its channel, and failures pass through.
#include "outbound/routing_sender.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rainmaker::outbound {
namespace {

using domain::users::MessageSender;
using domain::users::OutgoingMessage;

// Records the recipients it was given; throws instead when `fail` is set.
class RecordingSender final : public MessageSender {
public:
    explicit RecordingSender(std::vector<std::string>* sent, bool fail = false)
        : sent_(sent), fail_(fail) {}

    void Send(const OutgoingMessage& message) override {
        if (fail_) {
            throw std::runtime_error("recording sender told to fail");
        }
        sent_->push_back(message.to);
    }

private:
    std::vector<std::string>* sent_;
    bool fail_;
};

TEST(RoutingSender, SendsSmsToTheSmsSenderAndEverythingElseToEmail) {
    std::vector<std::string> emails;
    std::vector<std::string> texts;
    RoutingSender sender(
        std::make_unique<RecordingSender>(&emails), std::make_unique<RecordingSender>(&texts)
    );

    sender.Send(OutgoingMessage{.to = "user@example.com", .sms = false, .subject = "s", .text = "1"}
    );
    sender.Send(OutgoingMessage{.to = "+15551234567", .sms = true, .subject = "", .text = "2"});
    sender.Send(OutgoingMessage{
        .to = "other@example.com", .sms = false, .subject = "s", .text = "3"});

    EXPECT_EQ(emails, (std::vector<std::string>{"user@example.com", "other@example.com"}));
    EXPECT_EQ(texts, std::vector<std::string>{"+15551234567"});
}

TEST(RoutingSender, PassesTheChosenSendersFailureToTheCaller) {
    std::vector<std::string> emails;
    std::vector<std::string> texts;
    RoutingSender sender(
        std::make_unique<RecordingSender>(&emails),
        std::make_unique<RecordingSender>(&texts, /*fail=*/true)
    );

    EXPECT_THROW(
        sender.Send(OutgoingMessage{.to = "+15551234567", .sms = true, .subject = "", .text = "2"}),
        std::runtime_error
    );
    EXPECT_NO_THROW(sender.Send(OutgoingMessage{
        .to = "a@b.c", .sms = false, .subject = "", .text = "1"}));
    EXPECT_EQ(emails, std::vector<std::string>{"a@b.c"});
    EXPECT_TRUE(texts.empty());
}

TEST(RoutingSender, RejectsAMissingSender) {
    std::vector<std::string> sent;
    EXPECT_THROW(
        RoutingSender(std::make_unique<RecordingSender>(&sent), nullptr), std::invalid_argument
    );
    EXPECT_THROW(
        RoutingSender(nullptr, std::make_unique<RecordingSender>(&sent)), std::invalid_argument
    );
}

}  // namespace
}  // namespace rainmaker::outbound

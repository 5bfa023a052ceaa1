// Delivers codes as files in a directory, for self-hosted boxes with no mail relay or SMS gateway.
#pragma once

#include <filesystem>
#include <mutex>

#include "domain/users/message_sender.hpp"

namespace rainmaker::outbound {

// Writes each message as `<unix-ms>-<6-digit sequence>-<recipient>.txt` in `dir`; the file
// appears atomically (written under a temporary name, synced, then renamed) and is mode 0600
// because it holds a live code.
class MailboxSender final : public domain::users::MessageSender {
public:
    explicit MailboxSender(std::filesystem::path dir);

    // domain::users::MessageSender
    // Throws std::runtime_error when the directory or the file cannot be written.
    void Send(const domain::users::OutgoingMessage& message) override;

private:
    std::filesystem::path dir_;
    std::mutex mutex_;  // serialises directory creation and writes
};

}  // namespace rainmaker::outbound

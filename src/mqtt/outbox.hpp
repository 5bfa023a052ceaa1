// The publishes waiting for the link's network thread, bounded by count and by bytes: past
// either cap a publish is refused (the caller keeps its request for later), so that nothing a
// node or a user triggers can make the server hold messages without bound.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>

namespace rainmaker::mqtt {

struct OutboxLimits {
    std::size_t max_messages = 200000;
    std::size_t max_bytes = 64 * 1024 * 1024;  // topics and payloads
};

class Outbox {
public:
    struct Message {
        std::string topic;
        std::string payload;
    };

    explicit Outbox(OutboxLimits limits = {}) : limits_(limits) {}

    // Queues the message; false (nothing queued) past either cap.
    bool Push(Message message) {
        const std::size_t size = message.topic.size() + message.payload.size();
        std::lock_guard lock(mutex_);
        if (messages_.size() >= limits_.max_messages || bytes_ + size > limits_.max_bytes) {
            return false;
        }
        bytes_ += size;
        messages_.push_back(std::move(message));
        return true;
    }

    // Everything queued, oldest first; the outbox is then empty.
    std::deque<Message> TakeAll() {
        std::deque<Message> taken;
        std::lock_guard lock(mutex_);
        taken.swap(messages_);
        bytes_ = 0;
        return taken;
    }

    std::size_t bytes() const {
        std::lock_guard lock(mutex_);
        return bytes_;
    }

private:
    OutboxLimits limits_;
    mutable std::mutex mutex_;
    std::deque<Message> messages_;
    std::size_t bytes_ = 0;
};

}  // namespace rainmaker::mqtt

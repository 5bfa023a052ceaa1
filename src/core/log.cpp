// spdlog behind core::log: one line per event on stderr, thread-safe. Lines are buffered in
// memory and written in blocks (every second, when 64 KiB are waiting, and at once for
// warnings and errors): a write(2) per access-log line would cost more than the request.
#include "core/log.hpp"

#include <chrono>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

namespace rainmaker::core::log {

namespace {

class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    ~BufferedStderrSink() override { WriteOut(); }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        buffer_.append(formatted.data(), formatted.size());
        if (buffer_.size() >= kFlushBytes) {
            WriteOut();
        }
    }

    void flush_() override { WriteOut(); }

private:
    static constexpr std::size_t kFlushBytes = 64 * 1024;

    void WriteOut() {
        std::size_t done = 0;
        while (done < buffer_.size()) {
            const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
            if (n <= 0) {
                break;  // nowhere to log to: drop rather than block the server
            }
            done += static_cast<std::size_t>(n);
        }
        buffer_.clear();
    }

    std::string buffer_;
};

constexpr spdlog::level::level_enum kMap[] = {
    spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};

spdlog::logger& Logger() {
    static const auto kLogger = [] {
        auto logger =
            std::make_shared<spdlog::logger>("rainmaker", std::make_shared<BufferedStderrSink>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
        logger->flush_on(spdlog::level::warn);
        spdlog::register_logger(logger);
        spdlog::flush_every(std::chrono::seconds(1));
        return logger;
    }();
    return *kLogger;
}

}  // namespace

void SetLevel(std::string_view level) {
    Logger().set_level(spdlog::level::from_str(std::string(level)));
}

void Write(Level level, std::string_view message) {
    Logger().log(kMap[static_cast<int>(level)], message);
}

bool Enabled(Level level) {
    return Logger().should_log(kMap[static_cast<int>(level)]);
}

void Flush() {
    Logger().flush();
}

}  // namespace rainmaker::core::log

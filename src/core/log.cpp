// spdlog behind core::log: one line per event on stderr, thread-safe.
#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace rainmaker::core::log {

namespace {
spdlog::logger& Logger() {
    static const auto kLogger = [] {
        auto logger = spdlog::stderr_logger_mt("rainmaker");
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
        return logger;
    }();
    return *kLogger;
}
}  // namespace

void SetLevel(std::string_view level) {
    Logger().set_level(spdlog::level::from_str(std::string(level)));
}

namespace {
constexpr spdlog::level::level_enum kMap[] = {
    spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
}

void Write(Level level, std::string_view message) {
    Logger().log(kMap[static_cast<int>(level)], message);
}

bool Enabled(Level level) {
    return Logger().should_log(kMap[static_cast<int>(level)]);
}

}  // namespace rainmaker::core::log

// Logging for the whole server; only log.cpp sees spdlog, so the rest compiles fast.
#pragma once

#include <string_view>

namespace rainmaker::core::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets the minimum level written ("debug", "info", "warn", "error").
void SetLevel(std::string_view level);

void Write(Level level, std::string_view message);

// Writes out buffered lines (at exit).
void Flush();

// True when messages of `level` are written (to skip building them otherwise).
bool Enabled(Level level);

inline void Debug(std::string_view m) {
    Write(Level::kDebug, m);
}

inline void Info(std::string_view m) {
    Write(Level::kInfo, m);
}

inline void Warn(std::string_view m) {
    Write(Level::kWarn, m);
}

inline void Error(std::string_view m) {
    Write(Level::kError, m);
}

}  // namespace rainmaker::core::log

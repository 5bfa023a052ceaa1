// The one reader of boolean flags written as text (query strings, string-typed body fields).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace rainmaker::core {

// true / false in any letter case (the CLI sends Python's True / False) or 1 / 0; anything
// else is nullopt, for the caller to refuse with its own error code.
inline std::optional<bool> ParseFlag(std::string_view text) {
    const std::string word = AsciiLower(text);
    if (word == "true" || word == "1") {
        return true;
    }
    if (word == "false" || word == "0") {
        return false;
    }
    return std::nullopt;
}

}  // namespace rainmaker::core

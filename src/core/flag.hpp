// The one reader of boolean flags written as text (query strings, string-typed body fields).
#pragma once

#include <optional>
#include <string_view>

namespace rainmaker::core {

// true / false in any letter case (the CLI sends Python's True / False) or 1 / 0; anything
// else is nullopt, for the caller to refuse with its own error code.
inline std::optional<bool> ParseFlag(std::string_view text) {
    const auto is = [text](std::string_view word) {
        if (text.size() != word.size()) {
            return false;
        }
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c =
                text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
            if (c != word[i]) {
                return false;
            }
        }
        return true;
    };
    if (is("true") || text == "1") {
        return true;
    }
    if (is("false") || text == "0") {
        return false;
    }
    return std::nullopt;
}

}  // namespace rainmaker::core

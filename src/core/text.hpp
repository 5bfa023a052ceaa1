// Small text helpers shared by the layers.
#pragma once

#include <string>
#include <string_view>

namespace rainmaker::core {

// `text` with the ASCII letters in lower case; every other byte (UTF-8 included) as it is.
inline std::string AsciiLower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace rainmaker::core

// Rules the OTA services share for what admins and users send: one length check and one
// "given, else the image's" choice, so that images (#29), uploads (#33, #34, #40, #45), jobs
// (#35) and files (#46-#49) refuse and fill alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace rainmaker::domain::ota {

// Throws kInputTooLarge ("<name> is longer than <max> characters") when `value` is given and
// longer than `max` bytes.
inline void CheckLength(
    const std::optional<std::string>& value, std::size_t max, const char* name
) {
    if (value && value->size() > max) {
        throw core::ApiError(
            core::ErrorCode::kInputTooLarge,
            std::string(name) + " is longer than " + std::to_string(max) + " characters"
        );
    }
}

// Whether `value` was given and is not empty.
inline bool Given(const std::optional<std::string>& value) {
    return value && !value->empty();
}

// The given value when it is not empty, else `fallback` (what the image says).
inline std::string GivenOr(const std::optional<std::string>& given, const std::string& fallback) {
    return given && !given->empty() ? *given : fallback;
}

}  // namespace rainmaker::domain::ota

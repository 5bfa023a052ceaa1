// What the fuzz targets share: the input as text, silent logs, and a rule for expected refusals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"

namespace rainmaker::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// The server logs every refused input; at tens of thousands of inputs a second that is noise.
inline void SilenceLogs() {
    core::log::SetLevel("off");
}

// Runs `step`; an ApiError is the refusal a client gets for bad input, so it is swallowed and
// reported as false. Every other exception escapes and libFuzzer reports it as a crash.
template <typename Step>
bool Refusable(Step&& step) {
    try {
        step();
        return true;
    } catch (const core::ApiError&) {
        return false;
    }
}

}  // namespace rainmaker::fuzz

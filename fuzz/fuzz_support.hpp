// What the fuzz targets share: the input as text, silent logs, a rule for expected refusals and
// a comparison of JSON documents.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

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

// Equal documents, doubles within a relative 1e-15: Boost.JSON 1.81 parses decimal text with a
// fast method that may land one unit in the last place away from the exact double (precise
// parsing came in Boost 1.83), so text the server writes may read back that little different.
inline bool SameJson(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() && b.is_double()) {
        const double x = a.get_double();
        const double y = b.get_double();
        return x == y || std::fabs(x - y) <= 1e-15 * std::fmax(std::fabs(x), std::fabs(y));
    }
    if (a.kind() != b.kind()) {
        return false;
    }
    if (a.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) {
            return false;
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!SameJson(x[i], y[i])) {
                return false;
            }
        }
        return true;
    }
    if (a.is_object()) {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        if (x.size() != y.size()) {
            return false;
        }
        for (const auto& member : x) {
            const auto* other = y.if_contains(member.key());
            if (other == nullptr || !SameJson(member.value(), *other)) {
                return false;
            }
        }
        return true;
    }
    return a == b;
}

}  // namespace rainmaker::fuzz
